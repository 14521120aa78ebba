"""The bureau registry: one parent one level up, no cycles, unknown parents refused; the
same picture after any sequence of additions, refused ones included (property)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.access import new_token, token_bureau
from domain.bureau_registry import BureauLevel, BureauRegistry
from domain.errors import BureauNotFound, BureauParentConflict, InvalidInput


@pytest.fixture
def registry() -> Iterator[BureauRegistry]:
    app = BureauRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield app
    app.close()


def xuzhou(registry: BureauRegistry) -> None:
    registry.add("JS", "江苏省教育厅", "province")
    registry.add("XZ", "徐州市教育局", "city", "JS")
    registry.add("XZ-TS", "铜山区教育局", "county", "XZ")
    registry.add("XZ-PX", "沛县教育局", "county", "XZ")


def test_a_province_reads_down_to_its_county_bureaus(registry: BureauRegistry) -> None:
    xuzhou(registry)
    directory = registry.directory()
    assert [b.code for b in directory.book_keepers_under("JS")] == ["XZ-PX", "XZ-TS"]
    assert [b.code for b in directory.book_keepers_under("XZ-TS")] == ["XZ-TS"]
    assert directory.ancestors("XZ-TS") == ["XZ", "JS"]
    assert directory.supervises("JS", "XZ-PX")
    assert not directory.supervises("XZ-TS", "XZ-PX")
    assert not directory.supervises("XZ-TS", "XZ")


def test_a_second_parent_is_refused(registry: BureauRegistry) -> None:
    xuzhou(registry)
    registry.add("YT", "烟台市教育局", "city")
    with pytest.raises(BureauParentConflict, match="one parent"):
        registry.add("XZ-TS", "铜山区教育局", "county", "YT")
    assert registry.directory().get("XZ-TS").parent == "XZ"


def test_re_adding_a_bureau_as_it_is_changes_nothing(registry: BureauRegistry) -> None:
    xuzhou(registry)
    before = registry.recorder.max_notification_id()
    registry.add("XZ-TS", "铜山区教育局", "county", "XZ")
    assert registry.recorder.max_notification_id() == before


def test_a_cycle_is_refused(registry: BureauRegistry) -> None:
    """A cycle needs a bureau re-parented under its own descendant (refused: one parent) or
    under itself before it exists (refused: the parent must be registered first)."""
    xuzhou(registry)
    with pytest.raises(BureauParentConflict, match="no parent"):
        registry.add("JS", "江苏省教育厅", "province", "XZ")
    with pytest.raises(BureauParentConflict, match="one parent"):
        registry.add("XZ", "徐州市教育局", "city", "XZ-TS")
    with pytest.raises(BureauNotFound):
        registry.add("NEW", "新", "city", "NEW")


@pytest.mark.parametrize(("level", "parent_level"), [("county", "province"), ("city", "county"),
                                                     ("county", "county")])
def test_a_parent_is_one_level_up(registry: BureauRegistry, level: str, parent_level: str) -> None:
    registry.add("P", "parent", parent_level)
    with pytest.raises(BureauParentConflict, match="one level above"):
        registry.add("C", "child", level, "P")


def test_an_unknown_parent_and_bad_codes_are_refused(registry: BureauRegistry) -> None:
    with pytest.raises(BureauNotFound):
        registry.add("XZ-TS", "铜山区教育局", "county", "XZ")
    with pytest.raises(InvalidInput):
        registry.add("XZ.TS", "铜山区教育局", "county")
    with pytest.raises(InvalidInput):
        registry.add("XZ-TS", "铜山区教育局", "district")
    with pytest.raises(BureauNotFound):
        registry.directory().get("NOPE")


def test_a_supervising_bureau_has_only_readers() -> None:
    from domain.bureau_registry import BureauInfo  # noqa: PLC0415

    city = BureauInfo("XZ", "徐州市教育局", BureauLevel.CITY, None)
    city.check_user_roles(["auditor", "reader", "admin"])
    with pytest.raises(InvalidInput, match="officer"):
        city.check_user_roles(["auditor", "officer"])
    BureauInfo("XZ-TS", "铜山", BureauLevel.COUNTY, "XZ").check_user_roles(["officer"])


def test_a_token_names_its_bureau() -> None:
    assert token_bureau(new_token("XZ-TS")) == "XZ-TS"
    assert token_bureau(new_token()) is None
    assert token_bureau("flt_.abc") is None
    assert token_bureau("not-a-token") is None


CODES = ["P1", "P2", "C1", "C2", "C3", "K1", "K2", "K3", "K4"]
LEVELS = list(BureauLevel)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(CODES), st.sampled_from(LEVELS),
                          st.one_of(st.none(), st.sampled_from(CODES))), max_size=25))
def test_the_tree_stays_a_tree_whatever_is_added(
        additions: list[tuple[str, BureauLevel, str | None]]) -> None:
    """Whatever is asked, refused or not: every parent is registered and one level up, no
    bureau is its own ancestor, and a bureau's parent never changes once given."""
    registry = BureauRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    first_parent: dict[str, str | None] = {}
    try:
        for code, level, parent in additions:
            try:
                registry.add(code, code, level.value, parent)
            except (BureauParentConflict, BureauNotFound):
                continue
            first_parent.setdefault(code, parent)
        directory = registry.directory()
        for info in directory:
            assert info.parent == first_parent[info.code]
            if info.parent is not None:
                assert directory.get(info.parent).level.rank == info.level.rank + 1
            assert info.code not in directory.ancestors(info.code)
    finally:
        registry.close()
