"""The same seed gives the same year: the same commands, the same events, the same summary."""

from __future__ import annotations

from dataclasses import asdict

from scripts.generator import generate, plan_year
from tests.generator.conftest import SEED, SMALL_SCALE, event_contents, new_ledger

FIRST_EVENTS = 3_000


def _plan_signature(**kwargs: object) -> list[tuple[object, ...]]:
    plan = plan_year(**kwargs)  # type: ignore[arg-type]
    return [(c.day, c.kind, sorted(c.args.items(), key=lambda kv: kv[0]), c.key) for c in plan.commands]


def test_same_seed_gives_the_same_commands() -> None:
    first = _plan_signature(preset="laishan", seed=7, scale=1.0)
    again = _plan_signature(preset="laishan", seed=7, scale=1.0)
    assert first == again
    assert len(first) > 1_000


def test_another_seed_gives_another_year() -> None:
    assert _plan_signature(preset="laishan", seed=7) != _plan_signature(preset="laishan", seed=8)


def test_same_seed_gives_the_same_events_and_summary() -> None:
    runs = []
    for _ in range(2):
        ledger = new_ledger()
        try:
            summary = generate(ledger, preset="xuzhou", seed=SEED, scale=SMALL_SCALE)
            runs.append((summary, event_contents(ledger, FIRST_EVENTS)))
        finally:
            ledger.close()
    (first, first_events), (again, again_events) = runs
    assert {**asdict(first), "elapsed_seconds": 0} == {**asdict(again), "elapsed_seconds": 0}
    assert len(first_events) == FIRST_EVENTS
    assert first_events == again_events
