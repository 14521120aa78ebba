"""A following year generated onto a store that holds the previous one, closed (issue 23:
findings of a year measured with a second year present): the schools registered once, the
close's carry-over target funds reused and never opened twice, the books reconciled, and the
first year's findings unchanged by the second year's events."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.settings import Settings
from api.store import open_ledger, open_view_runner
from domain.fund import Fund
from domain.ledger import FundLedger
from projections.findings.registry import run_findings
from projections.findings.rule import Scope
from projections.queries import APPLICATION_NAME
from projections.reconcile import reconcile
from projections.tracking import ViewTrackingRecorder
from scripts.bench.findings_rules import digest
from scripts.generator import GenerationRefused, generate
from scripts.generator.__main__ import main
from scripts.generator.year_end import close_generated_year
from tests.generator.conftest import SEED, new_ledger

TINY = 0.005  # one school a district or so
YEAR = 2025


def findings_digest(settings: Settings, year: int) -> tuple[int, str]:
    """How many findings the year has as of its end, with the views caught up, and their digest."""
    with open_view_runner(settings) as runner:
        runner.run_until_caught_up()
        position = ViewTrackingRecorder(runner.db).max_tracking_id(APPLICATION_NAME) or 0
        findings = run_findings(runner.db, Scope.year_end(year, None, position))
        return len(findings), digest(findings)


def test_a_following_year_reuses_the_schools_and_the_funds_the_close_opened(
        sqlite_settings: Settings) -> None:
    ledger = open_ledger(sqlite_settings, clock=lambda: date(YEAR + 1, 12, 31))
    try:
        first = generate(ledger, seed=SEED, fiscal_year=YEAR, scale=TINY, anomalies=True)
        closed = close_generated_year(ledger, YEAR, first.fund_codes, seed=SEED)
        before = findings_digest(sqlite_settings, YEAR)
        assert before[0] > 0  # the injected anomalies: something to compare
        second = generate(ledger, seed=SEED, fiscal_year=YEAR + 1, scale=TINY, following=True)
        assert second.schools == 0 and first.schools > 0  # registered once
        assert second.enrolment_reports > 0 and second.expenditures > 0
        assert 0 < second.funds < len(second.fund_codes)  # some lines were the close's
        assert closed.next_year_funds > 0
        by_close = _funds_opened(ledger, first.last_position + 1, second.first_position)
        by_second = _funds_opened(ledger, second.first_position, second.last_position + 1)
        reused = set(second.fund_codes) & set(by_close)
        assert reused and not reused & set(by_second)  # the close's lines, not opened again
        assert set(second.fund_codes) == reused | set(by_second)
        with open_view_runner(sqlite_settings) as runner:
            runner.run_until_caught_up()
            _, lines = reconcile(ledger, runner.db)
        assert lines == []
        # As of its own year's end, the first year's findings ignore the later year's events.
        assert findings_digest(sqlite_settings, YEAR) == before
        head = ledger.last_position()
        with pytest.raises(GenerationRefused, match="generated before"):
            generate(ledger, seed=SEED, fiscal_year=YEAR + 1, scale=TINY, following=True)
        with pytest.raises(GenerationRefused, match="seed"):
            generate(ledger, seed=SEED + 1, fiscal_year=YEAR + 2, scale=TINY, following=True)
        assert ledger.last_position() == head  # refused before anything was written
    finally:
        ledger.close()


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32), preset=st.sampled_from(["xuzhou", "laishan"]),
       closed=st.booleans())
def test_any_seed_gives_a_following_year_the_ledger_accepts(seed: int, preset: str,
                                                           closed: bool) -> None:
    """Closed or not, the previous year leaves nothing the following year's plan trips on
    (a refused command raises GenerationRefused): no school registered, no fund opened twice."""
    ledger = new_ledger(today=date(YEAR + 1, 12, 31))
    try:
        scale = TINY if preset == "xuzhou" else 0.1
        first = generate(ledger, preset=preset, seed=seed, fiscal_year=YEAR, scale=scale)
        if closed:
            close_generated_year(ledger, YEAR, first.fund_codes, seed=seed)
        second = generate(ledger, preset=preset, seed=seed, fiscal_year=YEAR + 1, scale=scale,
                          following=True)
        assert second.schools == 0 and second.expenditures > 0
        assert (second.funds < len(second.fund_codes)) == closed  # the close's lines reused
    finally:
        ledger.close()


def test_a_following_year_needs_the_first() -> None:
    ledger = new_ledger(today=date(YEAR, 12, 31))
    try:
        with pytest.raises(GenerationRefused, match="first year"):
            generate(ledger, seed=SEED, fiscal_year=YEAR, scale=TINY, following=True)
        generate(ledger, seed=SEED, fiscal_year=YEAR, scale=TINY)
        with pytest.raises(GenerationRefused, match="must come after"):
            generate(ledger, seed=SEED, fiscal_year=YEAR, scale=TINY, following=True)
    finally:
        ledger.close()


def _funds_opened(ledger: FundLedger, start: int, stop: int) -> list[str]:
    """The codes of the funds opened at positions start ≤ p < stop."""
    notifications = ledger.recorder.select_notifications(start=start, limit=stop - start)
    events = (ledger.mapper.to_domain_event(n) for n in notifications)
    return [event.code for event in events if isinstance(event, Fund.Opened)]


def test_the_command_line_refuses_a_following_year_on_an_empty_store(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database-url", "memory", "--scale", str(TINY), "--following-year"]) == 1
    assert "generate its first year" in capsys.readouterr().err
