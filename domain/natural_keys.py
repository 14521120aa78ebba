"""Ids that follow from what a thing is known by: a school from its code, a voucher number
from its school, year and number.

Such an id is uuid5 of "fundledger:<kind>:<key>", the same on every machine, every retry and
every release. Since the id follows from the key, the store's uniqueness of ids refuses a
second school of one code even under races, and a reader finds a thing by its key alone.
Stores hold these ids: a kind's text and the order of its key's parts never change.
"""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import NAMESPACE_URL, UUID

from eventsourcing.domain import Aggregate

_NAMESPACE = NAMESPACE_URL.bytes
# RFC 9562's version 5 and variant bits, set over the first 16 bytes of the SHA-1 digest.
_VERSION_AND_VARIANT_CLEARED = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_5_VARIANT_RFC = (0x5000 << 64) | (0x8000 << 48)


def natural_id(kind: str, *key: object) -> UUID:
    """The id of the `kind` thing known by `key`: uuid5 of "fundledger:<kind>:<part>:…".

    Computed as the standard library's `uuid5` does, bit for bit (tests/domain/test_natural_ids.py),
    but built from an integer: `UUID(bytes=…, version=5)` checked its arguments for half of the
    ~7 µs each id took, and a write names three (its expenditure's, its voucher number's)."""
    name = ":".join(["fundledger", kind, *map(str, key)])
    digest = hashlib.sha1(_NAMESPACE + name.encode(), usedforsecurity=False).digest()
    value = int.from_bytes(digest[:16], "big") & _VERSION_AND_VARIANT_CLEARED
    return UUID(int=value | _VERSION_5_VARIANT_RFC)


class KeyedAggregate(Aggregate):
    """An aggregate known by a natural key. A subclass states its typed `id_for(key…)`; that
    is also its `create_id`, which the library calls with the creating event's fields of the
    same names, so creating one needs no id and a second creation of one key collides."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Before the library's own __init_subclass__, which reads create_id's parameter names.
        if "id_for" in cls.__dict__:
            cls.create_id = cls.__dict__["id_for"]  # type: ignore[method-assign]
        super().__init_subclass__(**kwargs)
