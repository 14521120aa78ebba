"""For random sequences of stock commands, the stock views as of any day equal a replay of
the aggregates' own events up to that day — on SQLite and on PostgreSQL — and the rules
hold on every day: no negative stock, posts distributed within the total, filled within
approved.

The replay shares no code with the views (projections/stocks.py): it folds each aggregate's
events with the library's own `mutate`, keeping those that took effect by the day (a stock's
history is kept in date order, so that is a prefix of its events).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.settings import Settings
from domain.assets import AssetKind, SchoolAssets
from domain.errors import LedgerError
from domain.ledger import FundLedger
from domain.staffing import CountyPosts
from projections.queries import BureauQueries
from projections.runner import ViewRunner
from projections.stock_queries import county_posts, school_assets
from tests.conftest import APPROVER, OFFICER, TODAY

SCHOOLS = ("S0", "S1", "S2")
DAYS = st.integers(0, 200).map(lambda n: date(2025, 1, 10) + timedelta(days=n))
SCHOOL = st.sampled_from(SCHOOLS)
COUNT = st.integers(1, 12)
ASSET = st.sampled_from([k.value for k in AssetKind])
PROBES = [date(2025, 1, 9), date(2025, 3, 1), date(2025, 5, 1), date(2025, 8, 1), TODAY]

OPS = st.one_of(
    st.tuples(st.just("total"), st.integers(0, 40), DAYS),
    st.tuples(st.just("distribute"), SCHOOL, st.integers(0, 20), DAYS),
    st.tuples(st.just("hire"), SCHOOL, COUNT, DAYS),
    st.tuples(st.just("depart"), SCHOOL, COUNT, DAYS),
    st.tuples(st.just("move"), SCHOOL, SCHOOL, COUNT, DAYS),
    st.tuples(st.just("receive"), SCHOOL, ASSET, COUNT, st.integers(0, 900_000), DAYS),
    st.tuples(st.just("dispose"), SCHOOL, ASSET, COUNT, DAYS),
    st.tuples(st.just("transfer"), SCHOOL, SCHOOL, ASSET, COUNT, DAYS),
)


def _apply(ledger: FundLedger, op: tuple[Any, ...]) -> None:
    kind, *args = op
    if kind == "total":
        ledger.approve_post_total(OFFICER, "Pei", total=args[0], document="编办", effective_date=args[1])
    elif kind == "distribute":
        ledger.distribute_posts(OFFICER, args[0], posts=args[1], effective_date=args[2])
    elif kind == "hire":
        ledger.record_hires(OFFICER, args[0], count=args[1], effective_date=args[2])
    elif kind == "depart":
        ledger.record_departures(OFFICER, args[0], count=args[1], effective_date=args[2])
    elif kind == "move":
        move = ledger.propose_post_move(OFFICER, from_school=args[0], to_school=args[1],
                                        count=args[2], reason="轮岗", effective_date=args[3])
        ledger.decide_post_move(APPROVER, move.subject.id, approve=True, effective_date=args[3])
    elif kind == "receive":
        ledger.receive_assets(OFFICER, args[0], asset=args[1], quantity=args[2], value=args[3],
                              effective_date=args[4])
    elif kind == "dispose":
        ledger.dispose_assets(OFFICER, args[0], asset=args[1], quantity=args[2], reason="报废",
                              effective_date=args[3])
    else:
        ledger.transfer_assets(OFFICER, from_school=args[0], to_school=args[1], asset=args[2],
                               quantity=args[3], reason="调剂", effective_date=args[4])


def _as_of(ledger: FundLedger, aggregate_id: Any, day: date) -> Any:
    """The aggregate folded from its own events that took effect by `day`."""
    state = None
    for event in ledger.events.get(aggregate_id):
        stamp = getattr(event, "stamp", None)
        if stamp is not None and stamp.effective_date > day:
            break
        state = event.mutate(state)
    return state


def _check(ledger: FundLedger, queries: BureauQueries) -> None:
    db = queries.stocks_db()
    for day in PROBES:
        posts = _as_of(ledger, CountyPosts.id_for("Pei"), day)
        view = county_posts(db, "Pei", day)
        expected = {c: (posts.approved.get(c, 0), posts.filled.get(c, 0))
                    for c in set(posts.approved) | set(posts.filled)} if posts else {}
        assert {s.school: (s.approved, s.filled) for s in view.schools} == expected
        assert view.total == (posts.total if posts else 0)
        # The rules hold on every day, not only today.
        assert view.distributed <= view.total
        assert all(0 <= s.filled <= s.approved for s in view.schools)
        for code in SCHOOLS:
            assets = _as_of(ledger, SchoolAssets.id_for(code), day)
            held = {h.asset: (h.quantity, h.value) for h in school_assets(db, code, day)}
            for kind in AssetKind:
                want = assets.held(kind.value) if assets else (0, 0)
                assert held[kind.value] == want
                assert want[0] >= 0 and want[1] >= 0


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=st.lists(OPS, min_size=1, max_size=30))
def test_stock_views_equal_a_replay_on_every_day(
        ops: list[tuple[Any, ...]],
        fresh_store: Callable[[], AbstractContextManager[Settings]]) -> None:
    with fresh_store() as store_settings:
        ledger = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
        try:
            for code in SCHOOLS:
                ledger.register_school(OFFICER, code=code, name=code, district="Pei",
                                       level="primary", locale="rural", poverty_area=False,
                                       students=300, effective_date=date(2025, 1, 2))
            for op in ops:
                with contextlib.suppress(LedgerError):  # refused: nothing written
                    _apply(ledger, op)
            with ViewRunner(store_settings, ledger=ledger) as runner:
                runner.run_until_caught_up()
            queries = BureauQueries(store_settings)
            try:
                _check(ledger, queries)
            finally:
                queries.close()
        finally:
            ledger.close()
