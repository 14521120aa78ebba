"""The screenshots in docs/screenshots/ (overview, a school, rural support, audit, findings;
zh-CN, as the auditor sees them) are taken by this test, so they show the dashboard as it is.
`make screenshots` (FUNDLEDGER_SCREENSHOTS_TO_DOCS=1) writes them into docs/; otherwise they go
to test-output/ with the other screenshots, and the repository is left alone."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from tests.dashboard.conftest import OUTPUT_DIR, REPO, DemoServer, log_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

DOCS_DIR = REPO / "docs" / "screenshots"


def _target() -> Path:
    chosen = DOCS_DIR if os.environ.get("FUNDLEDGER_SCREENSHOTS_TO_DOCS") == "1" else OUTPUT_DIR / "docs"
    chosen.mkdir(parents=True, exist_ok=True)
    return chosen


def test_the_documented_pages_in_chinese(page: Page, demo_server: DemoServer) -> None:
    log_in(page, demo_server)
    school = demo_server.api("/v1/schools", limit=1)["items"][0]["code"]
    year = demo_server.fiscal_year
    target = _target()
    for name, path in (("overview", "/dashboard"), ("school", f"/dashboard/schools/{school}"),
                       ("rural", "/dashboard/rural"), ("audit", "/dashboard/audit"),
                       ("findings", "/dashboard/findings")):
        page.goto(f"{demo_server.url}{path}?year={year}")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        shot = target / f"zh-{name}.png"
        page.screenshot(path=str(shot), full_page=name != "school")
        assert shot.stat().st_size > 10_000, name
