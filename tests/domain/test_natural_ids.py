"""A natural id is uuid5 of its key, bit for bit as the standard library computes it: stores
hold these ids, and a school or voucher number must be found by its key in every release."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from hypothesis import given
from hypothesis import strategies as st

from domain.natural_keys import natural_id

KEY_PARTS = st.one_of(st.text(), st.integers(), st.dates())


@given(st.text(min_size=1), st.lists(KEY_PARTS, max_size=4))
def test_a_natural_id_is_the_uuid5_of_its_key(kind: str, key: list[object]) -> None:
    name = ":".join(["fundledger", kind, *map(str, key)])
    assert natural_id(kind, *key) == uuid5(NAMESPACE_URL, name)


def test_a_stored_id_stays_what_it_was() -> None:
    # A voucher number's id as stores written by earlier releases hold it.
    assert natural_id("voucher", "S-0001", 2025, "V-1") == UUID(
        str(uuid5(NAMESPACE_URL, "fundledger:voucher:S-0001:2025:V-1")))
    assert natural_id("voucher", "S-0001", 2025, "V-1").version == 5
