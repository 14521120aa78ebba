"""The injector reading the store's own views (as `fundledger demo` hands it its view runner)
plants exactly what it plants on audit facts of its own, built from the whole log."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from api.settings import Settings
from api.store import open_ledger, open_view_runner
from scripts.anomalies import inject
from scripts.generator import generate

YEAR = 2025
SEED = 11
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _injected(home: Path, *, through_views: bool) -> tuple[str, int]:
    """The ground truth (the injector's random ids masked) and the log's length after it."""
    settings = Settings(database_url=f"sqlite:///{home}/fundledger.db")
    ledger = open_ledger(settings)
    try:
        generate(ledger, preset="xuzhou", seed=SEED, fiscal_year=YEAR, scale=0.01)
        truth: list[dict[str, Any]]
        if through_views:
            with open_view_runner(settings) as runner:
                runner.run_until_caught_up()
                truth = inject(ledger, YEAR, seed=SEED, views=runner)
        else:
            truth = inject(ledger, YEAR, seed=SEED)
        assert truth
        text = json.dumps(truth, ensure_ascii=False, sort_keys=True)
        return UUID_TEXT.sub("…", text), ledger.last_position()
    finally:
        ledger.close()


def test_the_views_runner_plants_the_same_anomalies(tmp_path: Path) -> None:
    private = _injected(tmp_path / "private", through_views=False)
    shared = _injected(tmp_path / "views", through_views=True)
    assert shared == private
