"""The screens bench measures only the rows asked for, and refuses a row it does not know
before it opens any store."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.bench import screens


def test_an_unknown_screen_is_refused_before_any_store_is_opened(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no_such_screen"):
        screens.run(["sqlite:///does/not/exist.sqlite"], "after", tmp_path / "b.md",
                    only=frozenset({"findings_api_cold", "no_such_screen"}))
    assert not (tmp_path / "benchmarks-screens.json").exists()


def test_the_section_shows_a_column_measured_in_parts() -> None:
    data = {"after": {"sqlite": {"_store": {"events": 10, "measured_on": "2026-12-02"},
                                 "findings_api_cold": {"seconds": 2.5, "note": "200"},
                                 "rural_page": {"seconds": 0.05, "note": "200"}}}}
    text = screens.section(data)
    assert "| `GET /v1/audit/findings` (year end), cold | ≤ 3 s | 2.50 s |" in text
    assert "| dashboard rural-support page | ≤ 1 s | 50 ms |" in text
    assert "audit page" not in text  # rows never measured are left out
