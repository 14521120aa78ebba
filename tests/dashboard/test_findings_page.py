"""The findings page in the browser, over the fixture year with the demo's injected anomalies:
the auditor finds every injected anomaly with its subject and evidence, follows the evidence
into the journal, filters by rule, looks at an earlier day, downloads the list; a reader is
kept out. And a school's page as of a day shows its enrolment and locale of that day."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import openpyxl

from api.dashboard.i18n import DISTRICTS, RULE_NAMES_ZH
from domain.terms import EVENTS
from projections.findings.registry import RULES_BY_NAME
from tests.dashboard.conftest import DemoServer, expect_refusal, log_in, navigate
from tests.dashboard.test_browser import Shot, _cells

if TYPE_CHECKING:
    from playwright.sync_api import Page


def _identity(rule: str, key: dict[str, Any]) -> tuple[str, str]:
    return rule, json.dumps(key, sort_keys=True, ensure_ascii=False)


def _page_findings(page: Page) -> list[tuple[str, str]]:
    """(rule, key) of each finding row on the page."""
    rows = page.eval_on_selector_all(
        "#findings-table tbody tr[data-rule]",
        "rows => rows.map(r => [r.dataset.rule, r.dataset.key])")
    return [_identity(rule, json.loads(key)) for rule, key in rows]


def _api_findings(server: DemoServer, **params: Any) -> list[tuple[str, str]]:
    answer = server.api("/v1/audit/findings", fiscal_year=server.fiscal_year, **params)
    return [_identity(f["rule"], f["key"]) for f in answer["items"]]


def test_the_auditor_finds_every_injected_anomaly(page: Page, demo_server: DemoServer,
                                                  screenshot: Shot) -> None:
    truth = {_identity(t["rule"], t["key"]) for t in demo_server.truth}
    assert len(truth) >= 14  # at least one anomaly of every kind the injector knows
    log_in(page, demo_server)
    navigate(page, 'nav a[data-nav="findings"]')
    assert page.locator("h1").inner_text().startswith(f"审计发现 {demo_server.fiscal_year}")
    shown = _page_findings(page)
    assert truth <= set(shown)  # every injected anomaly is on the page
    assert Counter(shown) == Counter(_api_findings(demo_server))  # the same as the API's
    summary = {row[0].splitlines()[0]: int(row[1]) for row in _cells(page, "#findings-summary")}
    assert summary[RULE_NAMES_ZH["maker_checker"]] == sum(r == "maker_checker" for r, _ in shown)
    screenshot(page, "16-findings")

    # A maker = checker finding: the school by name, the fund, and the proposer's own approval
    # among its evidence in the journal.
    injected = next(t for t in demo_server.truth if t["rule"] == "maker_checker")
    allocation = demo_server.api(f"/v1/allocations/{injected['key']['allocation_id']}")
    school = demo_server.api(f"/v1/schools/{allocation['school']}")
    row = page.locator(f"#findings-table tr[data-key='{json.dumps(injected['key'])}']")
    assert row.locator("a.school").inner_text() == school["name"]
    assert allocation["fund"] in row.locator("td.subject").inner_text()
    assert row.locator("td").first.inner_text() == RULE_NAMES_ZH["maker_checker"]
    evidence = row.locator("td.evidence a[data-position]")
    positions = [int(p) for p in evidence.evaluate_all("links => links.map(a => a.dataset.position)")]
    assert positions
    navigate(page, f"#findings-table tr[data-key='{json.dumps(injected['key'])}'] "
                   "td.evidence a[data-position] >> nth=-1")
    journal = _cells(page, "#journal-table")
    assert int(journal[0][0]) == positions[-1]  # the journal opens at the evidence
    assert journal[0][3] == allocation["proposed_by"]  # approved by its own proposer
    assert journal[0][5] == EVENTS["Allocation.Approved"][0]  # 拨款批准

    # The allocation's whole history, as the API's audit history has it.
    page.go_back()
    navigate(page, f"#findings-table tr[data-key='{json.dumps(injected['key'])}'] td.subject a.history")
    history = demo_server.api(f"/v1/audit/history/{injected['key']['allocation_id']}")["items"]
    assert [int(r[0]) for r in _cells(page, "#journal-table")] == \
        sorted((h["position"] for h in history), reverse=True)


def test_filtering_by_rule_and_looking_at_an_earlier_day(page: Page, demo_server: DemoServer,
                                                         screenshot: Shot) -> None:
    log_in(page, demo_server)
    year = demo_server.fiscal_year
    page.goto(f"{demo_server.url}/dashboard/findings")
    page.select_option("#rule", "duplicate_voucher")
    navigate(page, "#rule-apply")
    shown = _page_findings(page)
    assert shown
    assert {rule for rule, _ in shown} == {"duplicate_voucher"}
    assert Counter(shown) == Counter(_api_findings(demo_server, rule="duplicate_voucher"))
    subject = page.locator("#findings-table td.subject").first.inner_text()
    assert "收款人" in subject and "凭证号" in subject  # the key's parts, labelled
    assert page.locator("#rule").input_value() == "duplicate_voucher"  # the form keeps it

    # As of 30 June: no December surge yet (the injected one is booked in late December);
    # the page agrees with the API for that day.
    page.goto(f"{demo_server.url}/dashboard/findings")
    assert any(rule == "december_surge" for rule, _ in _page_findings(page))
    page.fill("#as-of", f"{year}-06-30")
    navigate(page, "#as-of-apply")
    early = _page_findings(page)
    assert not any(rule.startswith("december_surge") for rule, _ in early)
    assert Counter(early) == Counter(_api_findings(demo_server, as_of=f"{year}-06-30"))
    assert page.locator("h1").inner_text().endswith(f"{year}-06-30")
    screenshot(page, "17-findings-as-of")

    # Asked again, the answer comes from memory: computed once for this (year, day, position).
    computed_at = page.locator("#findings-note").get_attribute("data-computed-at")
    page.reload()
    assert page.locator("#findings-note").get_attribute("data-computed-at") == computed_at
    page.goto(f"{demo_server.url}/dashboard/findings?as_of={year}-06-29")  # another day
    assert page.locator("#findings-note").get_attribute("data-computed-at") != computed_at

    navigate(page, "#lang-switch")
    assert page.locator('nav a[data-nav="findings"]').inner_text() == "Findings"
    titles = {row[0].splitlines()[0] for row in _cells(page, "#findings-summary")}
    assert RULES_BY_NAME["pass_through_late"].title in titles
    navigate(page, "#lang-switch")


def test_downloading_the_findings(page: Page, demo_server: DemoServer, output_dir: Path) -> None:
    log_in(page, demo_server)
    page.goto(f"{demo_server.url}/dashboard/findings")
    shown = _page_findings(page)

    with page.expect_download() as download:
        page.click("#findings-csv")
    saved = output_dir / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == f"findings-{demo_server.fiscal_year}-{demo_server.fiscal_year}-12-31.csv"
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert Counter(_identity(r["规则 rule"], json.loads(r["对象 key"])) for r in rows) == Counter(shown)
    assert all(r["证据 evidence"] for r in rows)

    with page.expect_download() as download:
        page.click("#findings-xlsx")
    saved = output_dir / download.value.suggested_filename
    download.value.save_as(saved)
    sheet = openpyxl.load_workbook(saved, read_only=True)["findings"]
    table = list(sheet.iter_rows(values_only=True))
    assert set(table[0]) == set(rows[0].keys())  # an amount's integer after its yuan in XLSX
    assert len(table) == len(rows) + 1  # the same findings in either format


def test_a_reader_cannot_open_the_findings(page: Page, demo_server: DemoServer) -> None:
    log_in(page, demo_server, "reader")
    expect_refusal(page)
    denied = page.goto(f"{demo_server.url}/dashboard/findings")
    assert denied is not None and denied.status == 403
    assert page.locator("#denied").is_visible()
    assert page.locator("#findings-table").count() == 0
    response = page.request.get(f"{demo_server.url}/dashboard/findings/export?format=csv")
    assert response.status == 403


def _enrolment_change(server: DemoServer) -> tuple[str, date, int, int]:
    """A school whose last enrolment report changed its pupils during the year: (school, day
    of that report, pupils before, pupils from then on)."""
    path = server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        history = db.execute("SELECT school_code, effective_date, students FROM school_history "
                             "WHERE kind = 'students' ORDER BY school_code, effective_date, "
                             "position").fetchall()
    reports: dict[str, list[tuple[str, int]]] = {}
    for code, day, students in history:
        reports.setdefault(code, []).append((day, students))
    for code, dated in sorted(reports.items()):
        if len(dated) >= 2 and dated[-2][1] != dated[-1][1] \
                and dated[-1][0] > f"{server.fiscal_year}-01-31":
            return code, date.fromisoformat(dated[-1][0]), dated[-2][1], dated[-1][1]
    raise AssertionError("no school's enrolment changed in the fixture year")


def test_a_school_as_of_a_day_shows_its_enrolment_then(page: Page, demo_server: DemoServer,
                                                       screenshot: Shot) -> None:
    code, day, before, after = _enrolment_change(demo_server)
    school = demo_server.api(f"/v1/schools/{code}")
    assert school["students"] == after  # no later report: now is what was reported that day
    log_in(page, demo_server)
    page.goto(f"{demo_server.url}/dashboard/schools/{code}?as_of={day - timedelta(days=1)}")
    assert page.locator("#school-students").inner_text() == str(before)
    assert f"现在 {after}" in page.locator("#school-facts").inner_text()
    assert page.locator("#school-locale").inner_text() in ("城区", "镇区", "乡村")
    district = page.locator("#school-facts").inner_text().split(" · ")[0]
    assert district == DISTRICTS[school["district"]]  # 丰县, not Feng
    screenshot(page, "18-school-enrolment-as-of")
    page.fill("#as-of", day.isoformat())
    navigate(page, "#as-of-apply")
    assert page.locator("#school-students").inner_text() == str(after)
    assert "现在" not in page.locator("#school-facts").inner_text()
    page.goto(f"{demo_server.url}/dashboard/schools/{code}")
    assert page.locator("#school-students").inner_text() == str(after)
