"""The auditor's pages in a real browser at a larger scale than the other dashboard tests: the
demo's own default year (scale 0.1, ~60,000 events, five times theirs). Slow-marked: the year
takes a minute or two to generate. How long each page takes is measured by
`fundledger bench --only screens` at full size, not asserted here."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.dashboard.conftest import DemoServer, log_in

pytestmark = pytest.mark.slow


def test_findings_audit_and_rural_pages_load_at_the_demo_size(
        page: Page, large_demo_server: DemoServer) -> None:
    server = large_demo_server
    log_in(page, server)
    year = server.fiscal_year
    page.goto(f"{server.url}/dashboard/findings?year={year}")
    assert page.locator("#findings-table tbody tr").count() > 0
    page.goto(f"{server.url}/dashboard/audit?year={year}")
    assert "✔" in page.locator("#verify-status").inner_text()
    page.goto(f"{server.url}/dashboard/audit?year={year}")  # continues from the checkpoint
    assert page.locator("#verify-continued").is_visible()
    page.goto(f"{server.url}/dashboard/rural?year={year}&as_of={year}-06-30")
    assert page.locator("#per-student-table tbody tr").count() > 0
