"""The collector of the processes that write or rebuild (projections/garbage_collection.py):
start-up objects frozen out of later collections in a process that does nothing else, the
youngest generation collected every GEN0_ALLOCATIONS allocations. Measured, alternated: HTTP
batches of 500 from 8 clients 1,871–2,147 → 2,555–3,725 expenditures/s, a rebuild of 398,587
events 28.0–32.3 → 21.4–27.0 s (docs/benchmarks.md)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.cli import views
from api.cli.server import app_from_environment
from projections.garbage_collection import THRESHOLDS
from projections.runner import ViewRunner


@pytest.fixture
def collector_restored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A store of its own, and the test process's collector as it was afterwards: frozen
    objects are never freed."""
    monkeypatch.setenv("FUNDLEDGER_DATABASE_URL", f"sqlite:///{tmp_path}/fundledger.db")
    monkeypatch.setenv("FUNDLEDGER_SIGNING_KEY_PATH", str(tmp_path / "keys" / "signing.pem"))
    threshold = gc.get_threshold()
    gc.unfreeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_the_served_app_tunes_its_process_collector(collector_restored: None) -> None:
    assert gc.get_threshold() != THRESHOLDS
    app_from_environment()
    assert gc.get_threshold() == THRESHOLDS
    assert gc.get_freeze_count() > 0


def test_a_rebuild_run_in_process_collects_rarely_and_restores_the_collector(
        monkeypatch: pytest.MonkeyPatch, collector_restored: None) -> None:
    """`fundledger rebuild` may run inside another process (a test, a script): it raises the
    thresholds while it rebuilds, freezes nothing, and leaves the collector as it found it."""
    seen: list[tuple[int, int, int]] = []

    def rebuild(_runner: ViewRunner, _progress: object, parts: int | None = None) -> int:
        seen.append(gc.get_threshold())
        return 0

    monkeypatch.setattr(ViewRunner, "rebuild", rebuild)
    before = gc.get_threshold()
    views.rebuild()
    assert seen == [THRESHOLDS]
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
