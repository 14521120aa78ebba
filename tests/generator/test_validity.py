"""Every planned command is one the ledger accepts; amounts stay integers and add up."""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.ledger import FundLedger
from scripts.generator import generate
from scripts.generator.__main__ import main
from scripts.generator.spending import (
    PROCUREMENT_BAND_FEN,
    ROUND_SUM_FEN,
    _apportion,
    _without_round_sums,
)
from tests.generator.conftest import domain_events, new_ledger

SECONDS_MAX_SMALL_SCALE = 20  # about 3 s on the development machine; room for a busy CI


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32),
       preset=st.sampled_from(["xuzhou", "laishan"]),
       per_school_month=st.sampled_from([1.0, 3.0, 6.0]))
def test_any_seed_gives_a_year_the_ledger_accepts(seed: int, preset: str, per_school_month: float) -> None:
    """The generator relies on no refusal: a refused command raises GenerationRefused."""
    ledger = new_ledger()
    try:
        scale = 0.01 if preset == "xuzhou" else 0.3
        summary = generate(ledger, preset=preset, seed=seed, scale=scale,
                           expenditures_per_school_month=per_school_month)
        assert summary.expenditures > 0
        assert summary.events == ledger.last_position()
    finally:
        ledger.close()


def test_small_scale_runs_in_a_few_seconds(ledger: FundLedger) -> None:
    seen: list[tuple[int, int, str]] = []
    summary = generate(ledger, preset="xuzhou", seed=1, scale=0.02,
                       progress=lambda done, total, label: seen.append((done, total, label)))
    assert summary.elapsed_seconds < SECONDS_MAX_SMALL_SCALE
    assert summary.events > 5_000
    assert seen[-1][0] == seen[-1][1] == summary.commands
    assert [done for done, _, _ in seen] == sorted(done for done, _, _ in seen)


def test_a_year_still_running_stops_at_today() -> None:
    today = date(2025, 6, 30)
    ledger = new_ledger(today)
    try:
        summary = generate(ledger, preset="laishan", seed=3, scale=0.5)
        events = domain_events(ledger)
        assert summary.expenditures > 0
        assert max(e.stamp.effective_date for e in events if hasattr(e, "stamp")) <= today
    finally:
        ledger.close()


def test_bad_arguments_are_refused_before_anything_is_written(ledger: FundLedger) -> None:
    with pytest.raises(ValueError, match="unknown preset"):
        generate(ledger, preset="atlantis")
    with pytest.raises(ValueError, match="scale"):
        generate(ledger, scale=0)
    assert ledger.last_position() == 0


def test_the_command_line_prints_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--preset", "laishan", "--scale", "0.3", "--seed", "5", "--database-url", "memory"]) == 0
    out = capsys.readouterr().out
    assert "preset laishan, seed 5, fiscal year 2025" in out
    assert "events" in out


@given(amount=st.integers(min_value=0, max_value=10**15),
       weights=st.lists(st.floats(min_value=0.0, max_value=1e6), min_size=1, max_size=12))
def test_apportioning_keeps_every_fen(amount: int, weights: list[float]) -> None:
    shares = _apportion(amount, dict(enumerate(weights)))
    assert sum(shares.values()) == amount
    assert all(type(v) is int and v >= 0 for v in shares.values())
    total = sum(weights)
    if total > 0:
        for k, w in enumerate(weights):
            assert abs(shares[k] - amount * w / total) <= 1 + amount * 1e-12


@given(pieces=st.lists(st.integers(min_value=1, max_value=10**12), min_size=1, max_size=20),
       seed=st.integers())
def test_no_round_sums_nor_splits_just_under_the_threshold(pieces: list[int], seed: int) -> None:
    out = _without_round_sums(pieces, random.Random(seed))
    assert sum(out) == sum(pieces)
    assert all(p > 0 for p in out)
    assert not any(p >= ROUND_SUM_FEN and p % ROUND_SUM_FEN == 0 for p in out)
    assert not any(PROCUREMENT_BAND_FEN[0] <= p < PROCUREMENT_BAND_FEN[1] for p in out)
