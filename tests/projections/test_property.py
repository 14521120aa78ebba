"""For random command sequences the stored views equal an independent in-memory replay, and a
rebuild gives the same rows as following the log live (page by page, between commands) — on
SQLite and on PostgreSQL.

Every example runs on a store of its own, so an example's outcome depends on nothing but the
example: a failure replays and shrinks exactly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.settings import Settings
from domain.errors import LedgerError
from domain.ledger import FundLedger
from projections.journal import verify_journal
from projections.queries import BureauQueries
from projections.reconcile import reconcile
from projections.replay import differences, replay
from projections.runner import ViewRunner
from tests.conftest import APPROVER, OFFICER, TODAY, fresh_sqlite_store
from tests.factories import applied
from tests.projections.conftest import dump

PAGE_SIZE = 7  # small pages: live following stops in the middle of commands' events
MIDDLE_DAY = date(2025, 6, 1)
DAYS = st.integers(0, 300).map(lambda n: date(2025, 1, 10) + timedelta(days=n))
AMOUNTS = st.integers(1, 2_000)
LOCALES = st.sampled_from(["urban", "town", "rural"])
INDEX = st.integers(0, 5)
SCHOOL = st.integers(0, 3)
FUND = st.integers(0, 2)

OPS = st.one_of(
    st.tuples(st.just("school"), SCHOOL, LOCALES, st.integers(0, 900),
              st.sampled_from(["primary", "junior"])),
    st.tuples(st.just("fund"), FUND, st.sampled_from(["CNY", "TEACHER_POST"])),
    st.tuples(st.just("propose"), FUND, SCHOOL, AMOUNTS, DAYS),
    st.tuples(st.just("propose"), FUND, SCHOOL, AMOUNTS, DAYS),
    st.tuples(st.just("approve"), INDEX, DAYS),
    st.tuples(st.just("approve"), INDEX, DAYS),
    st.tuples(st.just("spend"), INDEX, AMOUNTS, DAYS),
    st.tuples(st.just("reject"), INDEX),
    st.tuples(st.just("adjust"), INDEX, st.integers(-500, 500).filter(bool)),
    st.tuples(st.just("cancel"), INDEX),
    st.tuples(st.just("transfer"), INDEX, SCHOOL, AMOUNTS),
    st.tuples(st.just("spend"), INDEX, AMOUNTS, DAYS),
    st.tuples(st.just("reverse"), INDEX),
    st.tuples(st.just("reclassify"), SCHOOL, LOCALES, DAYS),
    st.tuples(st.just("enrol"), SCHOOL, st.integers(0, 900), DAYS),
    st.tuples(st.just("close"), FUND, st.booleans()),
    st.tuples(st.just("follow"),),
)


def _apply(ledger: FundLedger, runner: ViewRunner, op: tuple[Any, ...],
           allocations: list[Any], expenditures: list[Any]) -> None:
    kind, *args = op
    school = lambda i: f"S{i}"  # noqa: E731
    fund = lambda i: f"F{i}"  # noqa: E731

    def pick(items: list[Any], i: int) -> Any:
        return items[i % len(items)] if items else None

    if kind == "school":
        i, locale, students, level = args
        ledger.register_school(OFFICER, code=school(i), name="s", district=f"D{i % 2}",
                               level=level, locale=locale, poverty_area=i == 3,
                               students=students, effective_date=date(2025, 1, 1))
    elif kind == "fund":
        i, unit = args
        ledger.open_fund(OFFICER, code=fund(i), name="f", fiscal_year=2025, unit=unit,
                         amount=5_000, source="county", category="other",
                         effective_date=date(2025, 1, 2))
    elif kind == "propose":
        f, s, amount, day = args
        allocations.append(ledger.propose_allocation(
            OFFICER, fund=fund(f), school=school(s), amount=amount, purpose="p",
            effective_date=day).subject.id)
    elif kind in ("approve", "reject", "adjust", "cancel", "transfer", "spend"):
        target = pick(allocations, args[0])
        if target is None:
            return
        if kind == "approve":
            day = max(args[1], ledger.get_allocation(target).effective_date)
            ledger.approve_allocation(APPROVER, target, effective_date=day)
        elif kind == "reject":
            ledger.reject_allocation(APPROVER, target, reason="no")
        elif kind == "adjust":
            applied(ledger, ledger.adjust_allocation(APPROVER, target, delta=args[1], reason="r"))
        elif kind == "cancel":
            applied(ledger, ledger.cancel_allocation(OFFICER, target, reason="r"))
        elif kind == "transfer":
            outcome = applied(ledger, ledger.transfer_allocation(OFFICER, target, amount=args[2], reason="r",
                                                 to_school=school(args[1])))
            allocations.append(outcome.subjects[1].id)
        else:
            expenditures.append(ledger.record_expenditure(
                OFFICER, allocation=target, amount=args[1], payee="p",
                voucher=f"V{len(expenditures)}", spent_on=args[2]).subject.id)
    elif kind == "reverse":
        target = pick(expenditures, args[0])
        if target is not None:
            ledger.reverse_expenditure(OFFICER, target, reason="r")
    elif kind == "reclassify":
        ledger.reclassify_school(OFFICER, school(args[0]), locale=args[1], reason="r",
                                 effective_date=args[2])
    elif kind == "enrol":
        ledger.report_enrolment(OFFICER, school(args[0]), students=args[1], effective_date=args[2])
    elif kind == "close":
        carry_to = None
        if args[1]:
            carry_to = f"{fund(args[0])}-next"
            try:
                unit = ledger.get_fund(fund(args[0])).unit
                ledger.open_fund(OFFICER, code=carry_to, name="n", fiscal_year=2026, unit=unit,
                                 amount=1, source="county", category="other")
            except LedgerError:
                pass
        applied(ledger, ledger.close_fund(
            APPROVER, fund(args[0]), disposition="carry_over" if carry_to else "surplus",
            carry_to=carry_to, reason="项目延续" if carry_to else ""))
    elif kind == "follow":
        runner.process_page()


def _run_examples(store: Callable[[], AbstractContextManager[Settings]], examples: int) -> None:
    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(ops=st.lists(OPS, min_size=25, max_size=80))
    def views_equal_replay_and_rebuild_equals_live(ops: list[tuple[Any, ...]]) -> None:
        with store() as settings_:
            ledger = FundLedger(env=settings_.eventsourcing_env(), clock=lambda: TODAY)
            try:
                with ViewRunner(settings_, ledger=ledger, page_size=PAGE_SIZE) as runner:
                    _check_views(ledger, runner, ops)
            finally:
                ledger.close()

    views_equal_replay_and_rebuild_equals_live()


def test_views_equal_replay_and_rebuild_equals_live(
        fresh_store: Callable[[], AbstractContextManager[Settings]]) -> None:
    # A fresh PostgreSQL schema and its tables cost about a second: fewer examples there.
    _run_examples(fresh_store, examples=15 if fresh_store is fresh_sqlite_store else 8)


@pytest.mark.slow
@pytest.mark.timeout(2400)  # hundreds of fresh PostgreSQL schemas on a busy 2-core machine
def test_many_command_sequences_keep_the_views_equal_to_a_replay(
        fresh_store: Callable[[], AbstractContextManager[Settings]]) -> None:
    _run_examples(fresh_store, examples=200)


def _check_views(ledger: FundLedger, runner: ViewRunner, ops: list[tuple[Any, ...]]) -> None:
    allocations: list[Any] = []
    expenditures: list[Any] = []
    # A small bureau to start from, so that most generated commands have something to act on.
    preamble: list[tuple[Any, ...]] = [("school", 0, "rural", 300, "primary"),
                                       ("school", 1, "urban", 500, "junior"),
                                       ("school", 2, "town", 80, "primary"),
                                       ("fund", 0, "CNY"), ("fund", 1, "TEACHER_POST")]
    for op in preamble + ops:
        # A refused command writes nothing; the views must not notice it either.
        with contextlib.suppress(LedgerError):
            _apply(ledger, runner, op, allocations, expenditures)
    runner.run_until_caught_up()
    assert runner.position() == ledger.last_position()
    position, lines = reconcile(ledger, runner.db)
    assert position == ledger.last_position()
    assert lines == []
    verified = verify_journal(runner.db)
    assert verified.ok, verified
    assert verified.checked == position
    # The as-of queries (ledger entries, school history, rural support) against the auditor's
    # replay, today and as of a day in the middle of the generated dates.
    queries = BureauQueries(runner.settings)
    try:
        for day in (None, MIDDLE_DAY):
            for year in (2025, 2026):
                assert differences(replay(ledger, as_of=day), queries, year) == [], (day, year)
    finally:
        queries.close()
    live = dump(runner.db)
    runner.rebuild()
    assert dump(runner.db) == live
