"""How the domain's value objects are written into stored events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from types import NoneType
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import JSONTranscoder, Transcoding, UUIDAsHex

from domain.actors import Stamp

# Values both writers write alike by themselves (exact types: a subclass, a float, an int wider
# than 64 bits, a key that is not text — anything else is left to the library's writer).
_AS_IS = frozenset({str, int, bool, NoneType})
# Deeper than any event nests; a deeper (or circular) value goes to the library's writer.
_DEPTH_MAX = 32


class IdWithText(UUID):
    """A UUID that keeps its text. A view writes an event's ids as text, several times per
    event (each view, each table), and `str(UUID)` formats it anew every time; an id a page
    shares (`decode_sharing`) is formatted once. Equal to, hashed and pickled as the UUID."""

    __slots__ = ("_text",)

    def __init__(self, uuid: UUID) -> None:
        object.__setattr__(self, "int", uuid.int)
        object.__setattr__(self, "is_safe", uuid.is_safe)
        object.__setattr__(self, "_text", str(uuid))

    def __str__(self) -> str:
        return self._text  # type: ignore[no-any-return]

    def __reduce__(self) -> tuple[type[UUID], tuple[str]]:
        return UUID, (self._text,)


class IdWithTextAsHex(UUIDAsHex):
    """An id a page shared (IdWithText) is written as the library writes its UUID, should an
    event the views read ever be written again; read back, it is the library's UUID."""

    type = IdWithText


# Transcodings whose decoded values are immutable and equal for equal texts: a page's events may
# share one object for each (the library's UUID, kept with its text, and this module's date).
_SHAREABLE = ("uuid_hex", "date_iso")
# Per shareable transcoding's name: its texts seen so far and the value decoded from each.
SharedValues = dict[str, dict[str, Any]]


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
        return self.decode_sharing(data, None)

    def decode_sharing(self, data: bytes, shared: SharedValues | None) -> Any:
        """As `decode`; with `shared` (from `shared_values()`, one per page of events), an
        id or a day whose text an earlier event of the page held is that same object, not
        parsed again: a page names the same allocations, schools and days over and over. Only
        values that cannot change are shared (UUID, date), so no event can alter another's."""
        obj = orjson.loads(data)
        if type(obj) is dict:
            return self._revive_dict(obj, shared)
        return self._revive_list(obj, shared)

    def _revive_dict(self, obj: dict[str, Any], shared: SharedValues | None) -> Any:
        for key, value in obj.items():
            kind = type(value)
            if kind is dict:
                # Most nested objects are typed leaves ({"_type_": "uuid_hex", ...}): decoded
                # here, without a call for each (they were most of the walk's calls).
                if len(value) == 2 and "_type_" in value and "_data_" in value:
                    obj[key] = self._typed(value, shared)
                else:
                    obj[key] = self._revive_dict(value, shared)
            elif kind is list:
                obj[key] = self._revive_list(value, shared)
        if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
            return self._typed(obj, shared)
        return obj

    def _typed(self, obj: dict[str, Any], shared: SharedValues | None) -> Any:
        data = obj["_data_"]
        kind = type(data)
        if kind is dict:
            data = self._revive_dict(data, shared)
        elif kind is list:
            data = self._revive_list(data, shared)
        elif shared is not None and kind is str:
            known = shared.get(obj["_type_"])
            if known is not None:
                value = known.get(data)
                if value is None:
                    transcoding = self.names.get(obj["_type_"])
                    if transcoding is None:
                        return self._decode_obj(obj)  # the library's own error
                    value = transcoding.decode(data)
                    if type(value) is UUID:
                        value = IdWithText(value)
                    known[data] = value
                return value
        transcoding = self.names.get(obj["_type_"])
        if transcoding is None:
            return self._decode_obj(obj)  # the library's own error
        return transcoding.decode(data)

    def _revive_list(self, obj: list[Any], shared: SharedValues | None) -> list[Any]:
        return [self._revive_dict(v, shared) if type(v) is dict
                else self._revive_list(v, shared) if type(v) is list else v for v in obj]


def shared_values() -> SharedValues:
    """An empty table of the values `decode_sharing` may share, per transcoding name."""
    return {name: {} for name in _SHAREABLE}


def shared_id(shared: SharedValues, uuid: UUID) -> UUID:
    """The page's one object for this id (an event's originator, which the recorder gives
    already parsed), kept with its text."""
    ids = shared["uuid_hex"]
    text = uuid.hex
    known = ids.get(text)
    if known is None:
        known = ids[text] = IdWithText(uuid)
    return known  # type: ignore[no-any-return]
