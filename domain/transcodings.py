"""How the domain's value objects are written into stored events."""

from __future__ import annotations

from datetime import date

from eventsourcing.persistence import Transcoding

from domain.actors import Stamp


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class StampAsDict(Transcoding):
    type = Stamp
    name = "stamp"

    def encode(self, obj: Stamp) -> dict[str, object]:
        return {
            "actor_id": obj.actor_id,
            "actor_role": obj.actor_role,
            "effective_date": obj.effective_date,
            "idempotency_key": obj.idempotency_key,
            "reason": obj.reason,
        }

    def decode(self, data: dict[str, object]) -> Stamp:
        return Stamp(**data)  # type: ignore[arg-type]
