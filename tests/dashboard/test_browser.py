"""An auditor's afternoon in the browser: log in, open every page, filter the schools, look at
the books as they stood on a past date, switch language, download evidence; an officer
imports a file; a reader is kept out of the audit page. A screenshot of each page is saved."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import openpyxl

from api.dashboard.i18n import DISTRICTS
from tests.dashboard.conftest import ACTION_TIMEOUT_MS, DemoServer, expect_refusal, log_in, navigate

if TYPE_CHECKING:
    from playwright.sync_api import Page

Shot = Callable[["Page", str], Path]


def _minor(text: str) -> int:
    """`1,234.50` as shown → 123450 fen."""
    return int(Decimal(text.replace(",", "").strip()) * 100)


def _cells(page: Page, selector: str) -> list[list[str]]:
    """The texts of a table's rows (not its "nothing here" row)."""
    return page.eval_on_selector_all(
        f"{selector} tbody tr", "rows => rows.filter(r => !r.querySelector('td.empty'))"
        ".map(r => [...r.cells].map(c => c.innerText.trim()))")


def _first_school(page: Page, server: DemoServer) -> str:
    page.goto(f"{server.url}/dashboard/schools")
    code = page.locator("#schools-table tbody tr").first.get_attribute("data-school")
    assert code
    return code


def _open_fund_of(server: DemoServer, school: str, year: int) -> str:
    """A fund of `year` that already paid `school` (so its earmark and levels admit it), still
    open and with ¥1,000 to spare: the school's first allocation alone may be of a closed or an
    exhausted fund, and allocation ids are random, so "the first" differs between runs."""
    allocations = server.api("/v1/allocations", school=school, status="approved", limit=200)
    for code in dict.fromkeys(a["fund"] for a in allocations["items"]):
        fund = server.api(f"/v1/funds/{code}")
        if (fund["fiscal_year"] == year and not fund["closed"] and fund["unit"] == "CNY"
                and fund["available"] >= 100_000):
            return code
    raise AssertionError(f"no open fund of {year} with ¥1,000 available has paid {school}")


def test_login_refuses_a_bad_token_then_opens_the_overview(page: Page, demo_server: DemoServer,
                                                           screenshot: Shot) -> None:
    page.goto(f"{demo_server.url}/dashboard/rural")
    assert "/dashboard/login" in page.url  # not logged in: sent to the login form
    screenshot(page, "01-login")
    page.fill("#token", "flt_not-a-real-token")
    navigate(page, "#login-submit")
    assert page.locator("#login-error").is_visible()
    page.fill("#token", demo_server.tokens["auditor"])
    navigate(page, "#login-submit")
    assert page.url.endswith("/dashboard/rural")  # back where the auditor was going
    assert page.locator("h1").inner_text().startswith("乡村支持")


def test_every_page_shows_the_year(page: Page, demo_server: DemoServer, screenshot: Shot) -> None:
    log_in(page, demo_server)
    year = demo_server.fiscal_year

    page.goto(f"{demo_server.url}/dashboard")
    assert page.locator("h1").inner_text() == f"本年度资金 {year}"
    assert page.locator("#funds-chart svg").count() == 1
    assert page.locator("#burn-down svg").count() == 1
    funds = _cells(page, "#funds-table")
    assert len(funds) >= 5
    assert all(_minor(row[4]) > 0 for row in funds if row[2] == "元")  # every yuan fund allocated
    screenshot(page, "02-overview")

    page.goto(f"{demo_server.url}/dashboard/schools")
    schools = _cells(page, "#schools-table")
    assert len(schools) >= 30
    assert {row[4] for row in schools} == {"城区", "镇区", "乡村"}
    assert {row[2] for row in schools} <= set(DISTRICTS.values())  # 丰县, not Feng
    screenshot(page, "03-schools")

    navigate(page, "#schools-table tbody tr:first-child a")
    assert page.locator("#school-balances tbody tr").count() >= 1
    assert page.locator("#school-allocations tbody tr").count() >= 1
    assert page.locator("#school-expenditures tbody tr").count() >= 1
    assert page.locator("#timeline li").count() >= 3
    screenshot(page, "04-school")

    page.goto(f"{demo_server.url}/dashboard/rural")
    assert page.locator("#per-student-chart svg").count() == 1
    ratio = page.locator("#ratio b").inner_text()
    assert float(ratio) > 0
    assert len(_cells(page, "#per-student-table")) >= 5
    assert page.locator("#counties-table").count() == 0  # no allocation-based 差异系数
    assert page.locator("#balanced-link a").count() == 1
    districts = {row[0] for row in _cells(page, "#per-student-table")}
    assert districts <= set(DISTRICTS.values())
    chart = page.locator("#per-student-chart svg").inner_html()
    assert all(name in chart for name in districts)  # the chart's axis in Chinese too
    screenshot(page, "05-rural")

    navigate(page, "#balanced-link a")
    assert page.locator("h1").inner_text().startswith("优质均衡评估")
    summary = _cells(page, "#counties-summary")
    assert len(summary) >= 5
    assert {row[0] for row in summary} <= set(DISTRICTS.values())
    assert any(row[5] == "达标" for row in summary) and any("未达标" in row[5] for row in summary)
    assert page.locator("table.indicators tbody tr").count() >= 7
    assert page.locator("table.failing tbody tr").count() >= 1  # which schools fail, and why
    screenshot(page, "05b-balanced-development")

    page.goto(f"{demo_server.url}/dashboard/audit")
    assert "完整" in page.locator("#verify-status").inner_text()
    # A digest is signed when asked, never by looking at the page; the page lists them.
    signed = page.locator("#signed-digests tr[data-position]").count()
    page.reload()
    assert page.locator("#signed-digests tr[data-position]").count() == signed
    navigate(page, "#sign-digest")
    assert page.locator("#signed-digests tr[data-position]").count() == min(signed + 1, 10)
    listed = demo_server.api("/v1/audit/digests")["items"]
    assert listed[0]["signed_by"] == "dash.auditor"
    journal = _cells(page, "#journal-table")
    assert len(journal) == 50
    positions = [int(row[0]) for row in journal]
    assert positions == sorted(positions, reverse=True)  # newest first
    screenshot(page, "06-audit")

    page.goto(f"{demo_server.url}/dashboard/imports")
    assert page.locator("#template-allocations").is_visible()
    screenshot(page, "07-imports")


def test_filtering_the_schools(page: Page, demo_server: DemoServer, screenshot: Shot) -> None:
    log_in(page, demo_server)
    page.goto(f"{demo_server.url}/dashboard/schools")
    everyone = _cells(page, "#schools-table")
    district = next(row[2] for row in everyone if row[4] == "乡村")
    page.select_option("#district", district)
    navigate(page, "#filter-apply")
    in_district = _cells(page, "#schools-table")
    assert in_district
    assert {row[2] for row in in_district} == {district}
    if len(everyone) < 50:  # one page held every school
        assert len(in_district) == sum(row[2] == district for row in everyone)

    page.select_option("#locale", "rural")
    navigate(page, "#filter-apply")
    rural = _cells(page, "#schools-table")
    assert rural
    assert all(row[2] == district and row[4] == "乡村" for row in rural)
    # The form keeps its filters: the option's value is the district as stored (pinyin).
    assert DISTRICTS[page.locator("#district").input_value()] == district

    code = everyone[3][0]
    page.goto(f"{demo_server.url}/dashboard/schools")
    page.fill("#q", code.lower())
    navigate(page, "#filter-apply")
    assert [row[0] for row in _cells(page, "#schools-table")] == [code]
    screenshot(page, "08-schools-search")


def test_as_of_a_date_the_pages_show_the_books_of_that_date(page: Page, demo_server: DemoServer,
                                                            screenshot: Shot) -> None:
    """An approval is the known event: the day before it the school's allocated total lacks
    its amount, on the day it has it. The page agrees with the API's as-of balances."""
    log_in(page, demo_server)
    code = _first_school(page, demo_server)
    year = demo_server.fiscal_year
    allocations = demo_server.api("/v1/allocations", school=code, limit=200)["items"]
    approved = sorted((a for a in allocations if a["unit"] == "CNY" and a["approved_on"]
                       and a["approved_on"] > f"{year}-01-01"), key=lambda a: a["approved_on"])
    event = approved[0]
    day = date.fromisoformat(event["approved_on"])

    def api_allocated(as_of: date) -> int:
        balances = demo_server.api(f"/v1/schools/{code}/balances", fiscal_year=year,
                                   as_of=as_of.isoformat())["balances"]
        return sum(b["allocated"] for b in balances if b["unit"] == "CNY")

    def page_allocated(as_of: date) -> int:
        page.fill("#as-of", as_of.isoformat())
        navigate(page, "#as-of-apply")
        assert page.locator("#as-of-banner").inner_text().find(as_of.isoformat()) >= 0
        row = page.locator(f'#schools-table tr[data-school="{code}"] td').nth(6)
        return _minor(row.inner_text())

    page.fill("#q", code)
    navigate(page, "#filter-apply")
    before, after = page_allocated(day - timedelta(days=1)), page_allocated(day)
    assert before == api_allocated(day - timedelta(days=1))
    assert after == api_allocated(day)
    assert after > before  # the approval is in the books from its day on, not before
    screenshot(page, "09-schools-as-of")

    # The school's own page, as of the day before: the approved allocation is not yet in force.
    navigate(page, f'#schools-table tr[data-school="{code}"] a')
    page.fill("#as-of", (day - timedelta(days=1)).isoformat())
    navigate(page, "#as-of-apply")
    shown = _cells(page, "#school-balances")
    assert sum(_minor(r[2]) for r in shown if r[1] == "元") == before
    pending = page.locator(f'#school-allocations tr[data-allocation="{event["id"]}"] td')
    if event["effective_date"] < event["approved_on"]:  # proposed by then, not yet approved
        assert pending.nth(3).inner_text() == "待审批"
        assert _minor(pending.nth(5).inner_text()) == 0
    else:
        assert pending.count() == 0
    screenshot(page, "10-school-as-of")
    page.fill("#as-of", day.isoformat())
    navigate(page, "#as-of-apply")
    assert pending.nth(3).inner_text() == "已批准"
    assert _minor(pending.nth(5).inner_text()) > 0

    # The overview early in the year allocates less than the overview of the whole year.
    page.goto(f"{demo_server.url}/dashboard")
    whole_year = sum(_minor(r[4]) for r in _cells(page, "#funds-table") if r[2] == "元")
    page.fill("#as-of", f"{year}-02-28")
    navigate(page, "#as-of-apply")
    february = sum(_minor(r[4]) for r in _cells(page, "#funds-table") if r[2] == "元")
    assert 0 < february < whole_year
    assert page.locator("#burn-down svg").count() == 1
    screenshot(page, "11-overview-as-of")
    # Moving to another page keeps the date.
    navigate(page, 'nav a[data-nav="rural"]')
    assert f"{year}-02-28" in page.locator("#as-of-banner").inner_text()


def test_switching_language(page: Page, demo_server: DemoServer, screenshot: Shot) -> None:
    log_in(page, demo_server)
    page.goto(f"{demo_server.url}/dashboard/schools")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator('nav a[data-nav="overview"]').inner_text() == "概览"
    navigate(page, "#lang-switch")
    assert page.url.endswith("/dashboard/schools")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator('nav a[data-nav="overview"]').inner_text() == "Overview"
    english = _cells(page, "#schools-table")
    assert {row[4] for row in english} <= {"urban", "town", "rural"}
    assert {row[2] for row in english} <= set(DISTRICTS)  # English shows the pinyin
    navigate(page, 'nav a[data-nav="overview"]')
    assert page.locator("h1").inner_text().startswith("Funds of the year")
    screenshot(page, "12-overview-en")
    navigate(page, 'nav a[data-nav="rural"]')
    screenshot(page, "13-rural-en")
    navigate(page, "#lang-switch")
    assert page.locator('nav a[data-nav="overview"]').inner_text() == "概览"


def test_downloading_exports(page: Page, demo_server: DemoServer, output_dir: Path) -> None:
    log_in(page, demo_server)
    year = demo_server.fiscal_year
    page.goto(f"{demo_server.url}/dashboard/audit")

    with page.expect_download() as download:
        page.click("#export-balances-csv")
    saved = output_dir / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".csv"
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert len(rows) > 30
    assert any(str(year) in cell for row in rows[1:4] for cell in row)

    navigate(page, "#export-journal-csv")  # a job: its page shows progress, then the file
    page.wait_for_selector("#export-download", timeout=ACTION_TIMEOUT_MS)
    with page.expect_download() as download:
        page.click("#export-download")
    journal = download.value.path().read_text(encoding="utf-8-sig").splitlines()
    assert len(journal) > 1000
    page.goto(f"{demo_server.url}/dashboard/audit")

    with page.expect_download() as download:
        page.click("#export-balances-xlsx")
    saved = output_dir / download.value.suggested_filename
    download.value.save_as(saved)
    sheet = openpyxl.load_workbook(saved, read_only=True).active
    assert sheet is not None
    # Counted row by row: a write-only workbook records no dimensions (max_row is None).
    assert sum(1 for _ in sheet.iter_rows()) == len(rows)  # the same books in either format

    navigate(page, "#sign-digest")
    with page.expect_download() as download:
        page.click("#download-digest")
    assert '"signature"' in Path(download.value.path()).read_text()

    page.goto(f"{demo_server.url}/dashboard/imports")
    with page.expect_download() as download:
        page.click("#template-expenditures")
    header = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()[0]
    assert "凭证号" in header


def test_an_officer_imports_a_file_with_a_bad_row(page: Page, demo_server: DemoServer,
                                                  screenshot: Shot, tmp_path: Path) -> None:
    log_in(page, demo_server, "officer")
    school = _first_school(page, demo_server)
    year = demo_server.fiscal_year
    fund = _open_fund_of(demo_server, school, year)
    upload = tmp_path / "allocations.csv"
    upload.write_text(
        "学校代码,资金代码,金额(元),用途,生效日期\n"
        f"{school},{fund},1000.00,追加 1,{year}-12-01\n"
        f"XZ-NO-9999,{fund},1000.00,追加 2,{year}-12-01\n", encoding="utf-8")
    page.goto(f"{demo_server.url}/dashboard/imports")
    page.set_input_files("#import-file", str(upload))
    navigate(page, "#import-submit")
    assert "✘" in page.locator("#import-result").inner_text()
    errors = _cells(page, "#import-errors")
    assert [row[0] for row in errors] == ["3"]  # the header is line 1
    assert "XZ-NO-9999" in errors[0][2]
    screenshot(page, "14-import-refused")

    good = tmp_path / "good.csv"
    good.write_text("学校代码,资金代码,金额(元),用途,生效日期\n"
                    f"{school},{fund},1000.00,追加 1,{year}-12-01\n", encoding="utf-8")
    page.set_input_files("#import-file", str(good))
    navigate(page, "#import-submit")
    assert "✔" in page.locator("#import-result").inner_text()
    position = page.locator("#import-result").get_attribute("data-position")
    proposed = demo_server.api("/v1/allocations", school=school, status="proposed", limit=200,
                               min_position=position)
    assert any(a["purpose"] == "追加 1" for a in proposed["items"])
    screenshot(page, "15-import-applied")


def test_a_reader_cannot_open_the_audit_page(page: Page, demo_server: DemoServer) -> None:
    log_in(page, demo_server, "reader")
    expect_refusal(page)
    denied = page.goto(f"{demo_server.url}/dashboard/audit")
    assert denied is not None and denied.status == 403
    assert page.locator("#denied").is_visible()
    response = page.request.get(f"{demo_server.url}/dashboard/audit/export/journal?format=csv")
    assert response.status == 403
