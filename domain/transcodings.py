"""How the domain's value objects are written into stored events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from types import NoneType
from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.actors import Stamp

# Values both writers write alike by themselves (exact types: a subclass, a float, an int wider
# than 64 bits, a key that is not text — anything else is left to the library's writer).
_AS_IS = frozenset({str, int, bool, NoneType})
# Deeper than any event nests; a deeper (or circular) value goes to the library's writer.
_DEPTH_MAX = 32


class _LeftToLibrary(Exception):
    """A value the fast writer does not write byte for byte as the library would."""


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


class FastJSONTranscoder(JSONTranscoder):
    """The library's JSON transcoder, reading and writing with orjson.

    Stored events are parsed by orjson and then walked once for the `{"_type_", "_data_"}`
    objects the transcodings wrote, innermost first, as the standard library's `object_hook`
    does: the same values come out, ~2-3x faster.

    Writing walks the state once, replacing each value of a registered type by the
    `{"_type_", "_data_"}` object the library's encoder would write for it, and hands the
    plain result to orjson, which writes text, integers, lists and objects byte for byte as the
    library's encoder (compact separators, UTF-8 unescaped) does. A state holding anything
    else — a float, a subclass of a JSON type, an unregistered type — is written by the
    library's encoder, so every stored byte is as the library would have written it.
    """

    def __init__(self) -> None:
        super().__init__()
        # Per type: its transcoding's name and encoder when the fast writer may use them, None
        # when it may not.
        self._writers: dict[type, tuple[str, Callable[[Any], Any]] | None] = {}

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        self._writers.clear()

    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(self._plain(obj, 0))
        except (_LeftToLibrary, orjson.JSONEncodeError):
            return super().encode(obj)

    def _plain(self, value: Any, depth: int) -> Any:
        """The value with each value of a registered type replaced by its typed object."""
        kind = type(value)
        if kind in _AS_IS:
            return value
        if depth > _DEPTH_MAX:
            raise _LeftToLibrary
        depth += 1
        if kind is dict:
            plain = {}
            writers = self._writers
            for key, item in value.items():
                if type(key) is not str:
                    raise _LeftToLibrary
                item_kind = type(item)
                if item_kind in _AS_IS:
                    plain[key] = item
                elif (writer := writers.get(item_kind)) is not None:
                    # A typed value (a UUID, a date, a stamp) written here: most of an event's
                    # values, and a call each was most of the walk.
                    data = writer[1](item)
                    plain[key] = {"_type_": writer[0], "_data_": data if type(data) in _AS_IS
                                  else self._plain(data, depth)}
                else:
                    plain[key] = self._plain(item, depth)
            return plain
        if kind is list or kind is tuple:
            return [item if type(item) in _AS_IS else self._plain(item, depth) for item in value]
        try:
            writer = self._writers[kind]
        except KeyError:
            writer = self._writers[kind] = self._writer_for(kind)
        if writer is None:
            raise _LeftToLibrary
        name, encode = writer
        data = encode(value)
        return {"_type_": name, "_data_": data if type(data) in _AS_IS else self._plain(data, depth)}

    def _writer_for(self, kind: type) -> tuple[str, Callable[[Any], Any]] | None:
        """The transcoding the library's encoder would call for a value of this type: none for
        a subclass of a JSON type (the encoder writes it as that type) or an unknown type."""
        if issubclass(kind, str | int | float | list | tuple | dict):
            return None
        transcoding = self.types.get(kind)
        return None if transcoding is None else (transcoding.name, transcoding.encode)

    def decode(self, data: bytes) -> Any:
        obj = orjson.loads(data)
        return self._revive_dict(obj) if type(obj) is dict else self._revive_list(obj)

    def _revive_dict(self, obj: dict[str, Any]) -> Any:
        for key, value in obj.items():
            kind = type(value)
            if kind is dict:
                # Most nested objects are typed leaves ({"_type_": "uuid_hex", ...}): decoded
                # here, without a call for each (they were most of the walk's calls).
                if len(value) == 2 and "_type_" in value and "_data_" in value:
                    obj[key] = self._typed(value)
                else:
                    obj[key] = self._revive_dict(value)
            elif kind is list:
                obj[key] = self._revive_list(value)
        if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
            return self._typed(obj)
        return obj

    def _typed(self, obj: dict[str, Any]) -> Any:
        data = obj["_data_"]
        kind = type(data)
        if kind is dict:
            data = self._revive_dict(data)
        elif kind is list:
            data = self._revive_list(data)
        transcoding = self.names.get(obj["_type_"])
        if transcoding is None:
            return self._decode_obj(obj)  # the library's own error
        return transcoding.decode(data)

    def _revive_list(self, obj: list[Any]) -> list[Any]:
        return [self._revive_dict(v) if type(v) is dict else self._revive_list(v)
                if type(v) is list else v for v in obj]
