"""Two-person changes as a list: what waits for an approver, and what was decided.

One row per `PendingChange` (domain/change.py), in the order the changes were made. Changes
are made by people, a few a day, so each event is written with its own statement.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from domain.change import ChangeStatus, PendingChange
from projections.page_view import OwnTables

if TYPE_CHECKING:
    from projections.database import ViewDatabase
    from projections.page_view import PageEvent

CHANGES_TABLE = "changes"

CREATE_STATEMENTS = (
    f"""CREATE TABLE IF NOT EXISTS {CHANGES_TABLE} (
        change_id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL,
        maker TEXT NOT NULL, maker_role TEXT NOT NULL, subjects TEXT NOT NULL,
        params TEXT NOT NULL, reason TEXT, proposed_on TEXT NOT NULL,
        proposed_position BIGINT NOT NULL, decided_by TEXT, decided_on TEXT,
        decision_reason TEXT, version BIGINT NOT NULL, position BIGINT NOT NULL)""",
    f"CREATE INDEX IF NOT EXISTS {CHANGES_TABLE}_by_status ON {CHANGES_TABLE} "
    "(status, proposed_position)",
)


@dataclass(frozen=True)
class ChangeRow:
    change: str
    kind: str
    status: str
    maker: str
    maker_role: str
    subjects: list[str]
    params: dict[str, Any]
    reason: str
    proposed_on: str
    decided_by: str | None
    decided_on: str | None
    decision_reason: str | None
    version: int
    position: int


class ChangesView(OwnTables):
    name = "changes"
    create_statements = CREATE_STATEMENTS
    tables = (CHANGES_TABLE,)
    event_bases = (PendingChange.Event,)

    def apply_page(self, db: ViewDatabase, page: Sequence[PageEvent]) -> None:
        for item in page:
            e = item.event
            if not isinstance(e, PendingChange.Event):
                continue
            change_id = str(e.originator_id)
            if isinstance(e, PendingChange.Proposed):
                db.execute(
                    f"INSERT INTO {CHANGES_TABLE} (change_id, kind, status, maker, maker_role, "  # noqa: S608
                    "subjects, params, reason, proposed_on, proposed_position, version, position) "
                    "VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (change_id) DO NOTHING",
                    (change_id, e.kind, e.stamp.actor_id, e.stamp.actor_role,
                     json.dumps(e.subjects), json.dumps(e.params, default=str, sort_keys=True),
                     e.stamp.reason, e.stamp.effective_date.isoformat(), item.position,
                     e.originator_version, item.position))
            else:
                status = (ChangeStatus.APPROVED if isinstance(e, PendingChange.Approved)
                          else ChangeStatus.REJECTED).value
                db.execute(
                    f"UPDATE {CHANGES_TABLE} SET status = ?, decided_by = ?, decided_on = ?, "  # noqa: S608
                    "decision_reason = ?, version = ?, position = ? WHERE change_id = ?",
                    (status, e.stamp.actor_id, e.stamp.effective_date.isoformat(),
                     e.stamp.reason, e.originator_version, item.position, change_id))


def list_changes(db: ViewDatabase, *, status: str | None, kind: str | None,
                 subject: str | None, after: int | None,
                 limit: int) -> tuple[list[ChangeRow], int | None]:
    """Changes in the order they were made; the cursor is the last one's position."""
    clauses, params = [], []
    for column, value in (("status", status), ("kind", kind)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if subject is not None:
        clauses.append("subjects LIKE ?")
        params.append(f'%"{subject}"%')
    if after is not None:
        clauses.append("proposed_position > ?")
        params.append(after)
    where = f"WHERE {' AND '.join(clauses)} " if clauses else ""
    rows = db.dicts(f"SELECT * FROM {CHANGES_TABLE} {where}"  # noqa: S608
                    f"ORDER BY proposed_position LIMIT {int(limit) + 1}", params)
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = int(rows[-1]["proposed_position"]) if more else None
    return [change_row(r) for r in rows], cursor


def change_row(row: dict[str, Any]) -> ChangeRow:
    return ChangeRow(
        change=row["change_id"], kind=row["kind"], status=row["status"], maker=row["maker"],
        maker_role=row["maker_role"], subjects=json.loads(row["subjects"]),
        params=json.loads(row["params"]), reason=row["reason"] or "",
        proposed_on=row["proposed_on"], decided_by=row["decided_by"],
        decided_on=row["decided_on"], decision_reason=row["decision_reason"],
        version=int(row["version"]), position=int(row["position"]))
