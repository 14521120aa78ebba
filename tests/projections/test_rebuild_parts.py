"""A rebuild in parts (projections/view_parts.py): the views split among processes, each part
with its own tracking row, joined at the end. It must give exactly the rows of a rebuild in
one part; while unjoined, no reader may take the views as caught up; an interrupted one is
finished by the next runner, no event applied twice or skipped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eventsourcing.utils import get_topic
from hypothesis import given
from hypothesis import strategies as st

from api.settings import Settings
from api.store import open_view_part, open_view_runner
from domain.allocation import Allocation
from domain.assets import SchoolAssets
from domain.change import PendingChange
from domain.expenditure import Expenditure, VoucherNumber
from domain.ledger import FundLedger
from domain.school import School
from projections import runner as runner_module
from projections.findings import facts_handlers
from projections.page_view import events_wanted
from projections.runner import REGISTERED_VIEWS, ViewRunner
from projections.view_parts import OpenPart, part_name, shared_out, views_of
from scripts.generator import generate
from tests.conftest import TODAY
from tests.projections.conftest import dump
from tests.projections.test_crash import _fill

VIEW_NAMES = sorted(view.name for view in REGISTERED_VIEWS)


class _Named:
    def __init__(self, name: str) -> None:
        self.name = name


@given(names=st.lists(st.sampled_from([*VIEW_NAMES, "other", "more"]), min_size=1, unique=True),
       parts=st.integers(1, 8))
def test_the_parts_share_out_every_view_once_and_none_is_empty(names: list[str], parts: int) -> None:
    groups = shared_out([_Named(n) for n in names], parts)  # type: ignore[list-item]
    assert sorted(n for g in groups for n in g) == sorted(names)
    assert all(groups)
    assert len(groups) == min(parts, len(names))
    for group in groups:
        assert views_of(part_name("FundLedger", group)) == group


def test_two_parts_put_the_costliest_views_apart() -> None:
    views = [view() for view in REGISTERED_VIEWS]
    built = shared_out(views, 2)
    kept = shared_out([v for v in views if v.name != "journal"], 2)
    assert not any({"journal", "books"} <= set(g) for g in built)
    assert not any({"books", "findings_facts"} <= set(g) for g in kept)


def test_a_page_holds_the_events_its_views_read() -> None:
    """The journal reads every event; without it, a voucher number's claim (a third of a
    year's events) is read by no view and never decoded."""
    views = {view.name: view() for view in REGISTERED_VIEWS}
    assert events_wanted(list(views.values())) is None
    wanted = events_wanted([v for name, v in views.items() if name != "journal"])
    assert wanted is not None
    assert not wanted(get_topic(VoucherNumber.Claimed))
    for kind in (Allocation.Spent, Expenditure.Recorded, PendingChange.Approved,
                 SchoolAssets.Received, School.EnrolmentReported):
        assert wanted(get_topic(kind)), kind
    books = events_wanted([views["books"]])
    assert books is not None
    assert not books(get_topic(PendingChange.Approved))


def _filled(settings: Settings) -> Iterator[FundLedger]:
    app = FundLedger(env=settings.eventsourcing_env(), clock=lambda: TODAY)
    _fill(app, rounds=3)
    yield app
    app.close()


@pytest.fixture
def ledger(store_settings: Settings) -> Iterator[FundLedger]:
    yield from _filled(store_settings)


@pytest.fixture
def postgres_ledger(postgres_settings: Settings) -> Iterator[FundLedger]:
    yield from _filled(postgres_settings)


def _one_part(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    with open_view_runner(settings, page_size=50) as runner:
        runner.rebuild(parts=1)
        assert runner.position() == runner.log_position()
        return dump(runner.db)


@pytest.mark.postgres
def test_a_rebuild_in_parts_equals_a_rebuild_in_one(postgres_settings: Settings) -> None:
    """On a generated year (posts, assets, changes, vouchers: every view has rows), with the
    journal built by the parts, then kept."""
    app = FundLedger(env=postgres_settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        generate(app, preset="xuzhou", seed=20250101, scale=0.005)
    finally:
        app.close()
    expected = {**_one_part(postgres_settings), **_other_views(postgres_settings)}
    with open_view_runner(postgres_settings, page_size=50) as runner:
        with runner.db.transaction():
            runner.db.execute("DROP TABLE audit_journal")
            runner.db.execute("DROP TABLE audit_journal_entities")
        for _ in ("journal built", "journal kept"):
            seen: list[tuple[int, int]] = []
            applied = runner.rebuild(lambda done, end, seen=seen: seen.append((done, end)), parts=2)
            assert applied == runner.log_position() == runner.position()
            assert runner.tracking.parts(runner.application_name) == {}
            assert {**dump(runner.db), **_other_views(postgres_settings)} == expected
            assert seen, "the rebuild reported no progress"


def _other_views(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of the views conftest's dump leaves out (stocks, changes, carry-over)."""
    from projections.database import ViewDatabase  # noqa: PLC0415

    db = ViewDatabase.open(settings)
    try:
        tables = [t for v in REGISTERED_VIEWS for t in getattr(v, "tables", ())]
        found = {t: sorted(map(repr, db.rows(f"SELECT * FROM {t}"))) for t in tables}
    finally:
        db.close()
    assert any(found[t] for t in ("post_entries", "changes", "asset_entries")), "a view is empty"
    return found


def test_on_sqlite_a_rebuild_is_one_part(tmp_path: Any) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'store.db'}")
    app = FundLedger(env=settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        _fill(app, rounds=1)
        started: list[object] = []
        with open_view_runner(settings, page_size=50) as runner:
            original = runner_module.build_in_processes
            runner_module.build_in_processes = lambda *a: started.append(a) or original(*a)  # type: ignore[assignment]
            try:
                assert runner.rebuild(parts=2) == runner.log_position()
            finally:
                runner_module.build_in_processes = original
            assert started == []
            assert runner.position() == runner.log_position()
    finally:
        app.close()


@pytest.mark.postgres
def test_an_interrupted_rebuild_is_finished_by_the_next_runner(
        postgres_settings: Settings, postgres_ledger: FundLedger,
        monkeypatch: pytest.MonkeyPatch) -> None:
    store_settings, ledger = postgres_settings, postgres_ledger
    expected = _one_part(store_settings)
    end = ledger.last_position()

    def interrupted(runner: ViewRunner, open_part: OpenPart, groups: list[list[str]],
                    until: int, progress: object) -> int:
        """The first part gets halfway, the second never starts: then the process dies."""
        with open_part(groups[0], part_name(runner.application_name, groups[0])) as part:
            part.catch_up_to(until // 2)
        raise KeyboardInterrupt

    monkeypatch.setattr(runner_module, "build_in_processes", interrupted)
    with open_view_runner(store_settings, page_size=50) as runner, pytest.raises(KeyboardInterrupt):
        runner.rebuild(parts=2)
    monkeypatch.undo()

    with ViewRunner(store_settings, ledger=ledger, page_size=50) as after:
        parts = after.tracking.parts(after.application_name)
        assert len(parts) == 2
        assert 0 in parts.values()
        assert any(0 < p < end for p in parts.values())
        # Half-built views are not caught up for any reader, not even to the first event.
        assert after.position() == 0
        after.process_page()  # the next page of any runner finishes the parts first
        assert after.tracking.parts(after.application_name) == {}
        assert after.position() == end
        assert dump(after.db) == expected


@pytest.mark.postgres
def test_a_part_finished_after_the_join_applies_nothing(
        postgres_settings: Settings, postgres_ledger: FundLedger) -> None:
    """A server's runner helping to finish a part can come after the rebuild has joined the
    parts (their rows deleted): it must not read the missing row as position 0 and apply the
    whole log to the part's views again (a duplicate key, once, in the full suite)."""
    with open_view_runner(postgres_settings, page_size=50) as runner:
        runner.rebuild(parts=2)
        expected = dump(runner.db)
        late = runner._part(part_name(runner.application_name, ["books", "findings_facts"]))
        with late:
            assert late.catch_up_to(runner.log_position()) == 0
        assert dump(runner.db) == expected


def test_the_audit_facts_read_nothing_in_the_middle_of_a_page(
        store_settings: Settings, ledger: FundLedger, monkeypatch: pytest.MonkeyPatch) -> None:
    """Approvals of proposals of earlier pages, enrolment reports of schools registered
    earlier: their reads are made before the page's writes (a read in between sent the
    page's batches so far, once per approval)."""

    def refused(*args: object) -> list[tuple[Any, ...]]:
        raise AssertionError("the audit facts read in the middle of a page")

    expected = _one_part(store_settings)
    monkeypatch.setattr(facts_handlers._PageWrites, "rows", refused)
    with ViewRunner(store_settings, ledger=ledger, page_size=37) as runner:
        runner.rebuild()
        assert dump(runner.db) == expected


def test_a_part_opened_in_a_worker_keeps_only_its_views(store_settings: Settings,
                                                        ledger: FundLedger) -> None:
    name = part_name(ledger.name, ["books", "stocks"])
    with open_view_part(store_settings, ["books", "stocks"], name) as part:
        assert sorted(v.name for v in part.views) == ["books", "stocks"]
        assert part.catch_up_to(ledger.last_position()) == 0, "no row: the parts were joined"
        with part.db.transaction():
            part.tracking.start_parts(ledger.name, [name])
        assert part.catch_up_to(ledger.last_position()) == ledger.last_position()
        assert part.tracking.max_tracking_id(name) == ledger.last_position()
        assert part.tracking.max_tracking_id(ledger.name) == 0  # the application waits for the join
