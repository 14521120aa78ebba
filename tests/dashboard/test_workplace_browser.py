"""The workplace in Debian's Chromium: an officer registers a school, opens a fund, proposes,
records and reverses; an approver approves from the queue one by one and in bulk; a double
submit writes once; an approver sees no approve button for their own change and a forged
POST is refused; a POST without the CSRF token is refused; a spreadsheet with errors shows
them beside its rows and writes nothing; an approver previews the year end (carried over,
recovered as surplus) in zh-CN; zh-CN and English. Every page visited is checked
for the basics of accessibility, and the officer's and approver's pages are photographed."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from domain.ledger import bureau_today
from tests.dashboard.conftest import navigate
from tests.dashboard.test_screenshots import _target
from tests.dashboard.workplace_server import Bureau, bureau  # noqa: F401  (a fixture)

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(e => !((e.id && document.querySelector(`label[for="${e.id}"]`)) || e.closest('label')
                 || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby')))
  .map(e => e.outerHTML.slice(0, 80))"""
HEADINGS = "() => [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => +h.tagName[1])"
FOCUSED = ("() => document.activeElement && (document.activeElement.id "
           "|| document.activeElement.outerHTML.slice(0, 60))")
BUTTON_IDS = "() => [...document.querySelectorAll('main button')].filter(b => b.offsetParent).map(b => b.id)"
TWICE = """async ([selector]) => {
  const form = document.querySelector(selector);
  const send = () => fetch(form.action, {method: 'POST', body: new FormData(form)})
    .then(async r => [r.status, await r.text()]);
  return Promise.all([send(), send()]);
}"""
POST = """async ([action, fields]) => {
  const body = new FormData();
  for (const [k, v] of Object.entries(fields)) body.append(k, v);
  const r = await fetch(action, {method: 'POST', body});
  return [r.status, await r.text()];
}"""


@pytest.fixture
def work_page(context: BrowserContext) -> Iterator[Page]:
    """A page whose script errors fail the test; a refusal's 4xx status is expected here."""
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error"
              and "status of 4" not in m.text else None)
    yield opened
    assert not problems, problems


def _log_in(page: Page, bureau: Bureau, user: str) -> None:  # noqa: F811
    page.context.clear_cookies()
    page.goto(f"{bureau.url}/dashboard/login?next=/dashboard/work")
    page.fill("#token", bureau.tokens[user])
    navigate(page, "#login-submit")
    page.wait_for_selector("#everyone-work")


def _accessible(page: Page) -> None:
    """Every input labelled, headings in order from one h1, every button reached by Tab."""
    assert page.evaluate(UNLABELLED) == [], page.url
    levels = page.evaluate(HEADINGS)
    assert levels and levels[0] == 1 and levels.count(1) == 1, levels
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), levels
    wanted = set(page.evaluate(BUTTON_IDS))
    assert "" not in wanted
    page.locator("body").focus()
    reached: set[str] = set()
    for _ in range(200):
        page.keyboard.press("Tab")
        reached.add(page.evaluate(FOCUSED))
        if wanted <= reached:
            break
    assert wanted <= reached, (page.url, wanted - reached)


def _written(page: Page) -> int:
    page.wait_for_selector("#written")
    return int(page.locator("#written").get_attribute("data-position") or 0)


def _school(page: Page, bureau: Bureau, code: str) -> int:  # noqa: F811
    page.goto(f"{bureau.url}/dashboard/work/register-school")
    page.fill("#f-code", code)
    page.fill("#f-name", f"沛县{code}小学")
    page.fill("#f-district", "Pei")
    page.select_option("#f-level", "primary")
    page.select_option("#f-locale", "rural")
    page.fill("#f-students", "380")
    page.fill("#f-effective_date", f"{bureau.year}-01-02")
    navigate(page, "#submit")
    return _written(page)


def test_an_officer_registers_opens_proposes_records_and_reverses(
        work_page: Page, bureau: Bureau) -> None:  # noqa: F811
    page = work_page
    _log_in(page, bureau, "officer")
    _accessible(page)
    page.goto(f"{bureau.url}/dashboard/work/register-school")
    assert page.locator("h1").inner_text() == "登记学校"
    _accessible(page)
    _school(page, bureau, "PX-W-01")
    navigate(page, "#written a.position")  # the journal entry of that write
    assert page.locator('#journal-entry td[data-event="School.Registered"]').count() == 1
    _accessible(page)

    page.goto(f"{bureau.url}/dashboard/work/open-fund")
    page.fill("#f-code", "W-PUB")
    page.fill("#f-name", "生均公用经费")
    page.fill("#f-fiscal_year", str(bureau.year))
    page.fill("#f-amount", "abc")  # refused beside the field, nothing written
    page.select_option("#f-source", "county")
    page.select_option("#f-category", "public_operating")
    before = bureau.position()
    navigate(page, "#submit")
    assert page.locator("#amount-error").inner_text() == "请填写金额，如 1234.50"
    assert page.locator("#f-amount").get_attribute("aria-invalid") == "true"
    assert bureau.position() == before
    _accessible(page)
    page.fill("#f-amount", "500,000.00")
    page.fill("#f-effective_date", f"{bureau.year}-01-02")
    navigate(page, "#submit")
    _written(page)
    assert bureau.get("/v1/funds/W-PUB")["appropriated"] == 500_000_00

    _wait_views(page, bureau)  # the form offers the funds and schools the views know
    page.goto(f"{bureau.url}/dashboard/work/propose-allocation?fund=W-PUB&school=PX-W-01")
    page.fill("#f-amount", "600000")
    page.fill("#f-purpose", "春季公用经费")
    page.fill("#f-effective_date", f"{bureau.year}-02-01")
    navigate(page, "#submit")
    assert "拨款超过资金预算" in page.locator("#amount-error").inner_text()
    page.fill("#f-amount", "120,000.00")
    navigate(page, "#submit")
    _written(page)
    _target_shot(page, "zh-work-officer-written")
    allocation = page.locator("#written-links a").first.get_attribute("href") or ""
    assert allocation.startswith("/dashboard/work/allocations/")
    bureau.post("approver", f"/v1/allocations/{allocation.rsplit('/', 1)[1]}/approve",
                {"effective_date": f"{bureau.year}-02-02"})

    page.goto(f"{bureau.url}{allocation}")
    navigate(page, "#go-record")
    page.fill("#f-amount", "1,234.50")
    page.fill("#f-payee", "徐州供电公司")
    page.fill("#f-voucher", "记-02-0001")
    page.fill("#f-spent_on", f"{bureau.year}-02-10")
    page.select_option("#f-economic_class", "utilities")
    _accessible(page)
    _target_shot(page, "zh-work-officer-expenditure")
    navigate(page, "#submit")
    _written(page)
    navigate(page, "#written-links a >> nth=0")
    assert page.locator("#expenditure-status").get_attribute("data-status") == "recorded"
    _accessible(page)
    page.fill("#f-reverse-reason", "凭证重复")
    navigate(page, "#reverse-submit")
    _written(page)
    navigate(page, "#written-links a >> nth=1")  # the allocation: its remainder restored
    assert page.locator("#allocation-remaining").inner_text() == "120,000.00 元"
    assert page.locator("#allocation-expenditures tbody tr").count() == 1
    _accessible(page)


def _target_shot(page: Page, name: str) -> None:
    shot = _target() / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000, name


def _proposal(bureau: Bureau, school: str, amount: int, user: str = "officer") -> str:  # noqa: F811
    return str(bureau.post(user, "/v1/allocations", {
        "fund": "W-PUB", "school": school, "amount": amount, "purpose": "秋季公用经费",
        "effective_date": f"{bureau.year}-02-05"})["id"])


def _wait_views(page: Page, bureau: Bureau, written: int = 0) -> int:  # noqa: F811
    """Until the views have applied the store's head (and at least `written`); that position.
    Polled from here: Playwright's wait_for_function took the promise a fetch returns for a
    truthy answer and never waited, so pages were read before the views had the write."""
    target = max(bureau.position(), written)
    bureau.wait_for_views(target)
    return target


def test_an_approver_approves_from_the_queue_one_and_in_bulk(work_page: Page,
                                                             bureau: Bureau) -> None:  # noqa: F811
    page = work_page
    _log_in(page, bureau, "officer")
    _school(page, bureau, "PX-W-02")
    ids = [_proposal(bureau, "PX-W-02", 1_000_00 * n) for n in (1, 2, 3)]
    _log_in(page, bureau, "approver")
    _wait_views(page, bureau)
    page.goto(f"{bureau.url}/dashboard/work/queue?school=PX-W-02")
    assert page.locator("#queue-table tbody tr").count() == 3
    _accessible(page)
    _target_shot(page, "zh-work-approver-queue")
    navigate(page, f'tr[data-item="allocation:{ids[0]}"] button.approve')
    assert page.locator('#decided-table tr[data-result="ok"]').count() == 1
    _accessible(page)
    navigate(page, "#back-to-queue")
    page.goto(f"{bureau.url}/dashboard/work/queue?school=PX-W-02")
    for allocation in ids[1:]:
        page.check(f'tr[data-item="allocation:{allocation}"] input[type=checkbox]')
    navigate(page, "#bulk-approve")
    assert page.locator('#decided-table tr[data-result="ok"]').count() == 2
    for allocation in ids:
        assert bureau.get(f"/v1/allocations/{allocation}")["status"] == "approved"


def test_a_double_submit_writes_once(work_page: Page, bureau: Bureau) -> None:  # noqa: F811
    page = work_page
    _log_in(page, bureau, "officer")
    page.goto(f"{bureau.url}/dashboard/work/register-school")
    for field, value in (("#f-code", "PX-W-03"), ("#f-name", "双击小学"), ("#f-district", "Pei"),
                         ("#f-students", "90")):
        page.fill(field, value)
    page.select_option("#f-level", "primary")
    page.select_option("#f-locale", "town")
    before = bureau.position()
    answers = page.evaluate(TWICE, ["#register-school-form"])
    assert [status for status, _ in answers] == [200, 200]
    assert sum('data-replayed="true"' in text for _, text in answers) == 1
    written, replayed = sorted(
        ('data-replayed="true"' in text, int(text.split('data-position="')[1].split('"')[0]))
        for _, text in answers)
    # The write names its own position. The replay names one that shows it: the same when
    # both rode one group-commit batch, the store's head when the second came after the first
    # was saved (docs/api.md, Idempotency: read-your-writes holds either way).
    assert before < written[1] <= replayed[1] <= bureau.position()
    assert bureau.get("/v1/schools/PX-W-03")["name"] == "双击小学"


def test_no_approve_button_for_ones_own_change_a_forged_post_and_no_csrf_are_refused(
        work_page: Page, bureau: Bureau) -> None:  # noqa: F811
    page = work_page
    _log_in(page, bureau, "officer")
    _school(page, bureau, "PX-W-04")
    allocation = _proposal(bureau, "PX-W-04", 5_000_00)
    bureau.post("approver2", f"/v1/allocations/{allocation}/approve", {})
    _log_in(page, bureau, "approver")
    page.goto(f"{bureau.url}/dashboard/work/allocations/{allocation}")
    page.fill("#f-adjust-delta", "-1,000.00")
    page.fill("#f-adjust-reason", "学生减少")
    navigate(page, "#adjust-submit")
    assert "等待另一位审批人批准" in page.locator("#written").inner_text()
    target = _wait_views(page, bureau, _written(page))
    page.goto(f"{bureau.url}/dashboard/work/queue?maker=work.approver")
    own = page.locator('#queue-table tr[data-mine="true"]')
    assert own.count() == 1, (target, page.locator("footer").inner_text())
    assert own.locator("button").count() == 0 and own.locator("input[type=checkbox]").count() == 0
    change = (own.get_attribute("data-item") or "").split(":", 1)[1]
    csrf = page.locator('#bulk-form input[name="csrf_token"]').get_attribute("value")
    before = bureau.position()
    status, text = page.evaluate(POST, [f"/dashboard/work/queue/change/{change}/approve",
                                        {"csrf_token": csrf, "idempotency_key": "form-forged"}])
    assert status == 403 and 'data-result="maker_checker"' in text
    status, text = page.evaluate(POST, [f"/dashboard/work/queue/change/{change}/approve",
                                        {"idempotency_key": "form-no-csrf"}])
    assert status == 403 and 'data-refusal="csrf_refused"' in text
    assert bureau.position() == before
    _log_in(page, bureau, "approver2")
    _wait_views(page, bureau)
    page.goto(f"{bureau.url}/dashboard/work/queue")
    navigate(page, f'tr[data-item="change:{change}"] button.approve')
    assert page.locator('#decided-table tr[data-result="ok"]').count() == 1
    assert bureau.get(f"/v1/allocations/{allocation}")["allocated"] == 4_000_00


def test_a_spreadsheet_with_errors_shows_them_per_row_and_writes_nothing(
        work_page: Page, bureau: Bureau, tmp_path: Any) -> None:  # noqa: F811
    page = work_page
    _log_in(page, bureau, "officer")
    _school(page, bureau, "PX-W-05")
    sheet = tmp_path / "march.csv"
    sheet.write_text("school,fund,amount_major,purpose,effective_date,unit\n"
                     f"PX-W-05,W-PUB,100.00,三月,{bureau.year}-03-01,CNY\n"
                     f"PX-NONE,W-PUB,100.00,三月,{bureau.year}-03-01,CNY\n"
                     f"PX-W-05,W-PUB,1.005,三月,{bureau.year}-03-01,CNY\n", encoding="utf-8")
    page.goto(f"{bureau.url}/dashboard/work/import")
    _accessible(page)
    page.set_input_files("#f-file", str(sheet))
    before = bureau.position()
    navigate(page, "#import-submit")
    assert page.locator("#import-rejected").is_visible()
    assert page.locator("#import-rows tr.over").count() == 2
    assert page.locator('#import-rows tr[data-line="3"] [data-code="school_not_found"]').count() == 1
    assert page.locator('#import-rows tr[data-line="2"] .ok').count() == 1
    assert bureau.position() == before
    _target_shot(page, "zh-work-import-errors")


def test_the_workplace_in_english(work_page: Page, bureau: Bureau) -> None:  # noqa: F811
    page = work_page
    _log_in(page, bureau, "officer")
    page.goto(f"{bureau.url}/dashboard/lang/en?next=/dashboard/work/register-school")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Register a school"
    assert page.locator('label[for="f-students"]').inner_text() == "Students"
    page.fill("#f-code", "bad code!")
    navigate(page, "#submit")
    assert page.locator("#name-error").inner_text() == "Required"
    assert page.locator("#code-error").inner_text().startswith("Letters, digits")
    _accessible(page)
    page.goto(f"{bureau.url}/dashboard/lang/zh?next=/dashboard/work")


def _funded(bureau: Bureau, fund: str, category: str, school: str, amount: int) -> str:  # noqa: F811
    """A fund of the year in `category` and one approved allocation of `amount` from it."""
    bureau.post("officer", "/v1/funds", {
        "code": fund, "name": f"{fund}经费", "fiscal_year": bureau.year, "unit": "CNY",
        "amount": 100_000_00, "source": "county", "category": category,
        "effective_date": f"{bureau.year}-01-02"})
    allocation = str(bureau.post("officer", "/v1/allocations", {
        "fund": fund, "school": school, "amount": amount, "purpose": "年终结转测试",
        "effective_date": f"{bureau.year}-02-05"})["id"])
    bureau.post("approver2", f"/v1/allocations/{allocation}/approve", {})
    return allocation


def test_an_approver_previews_the_year_end_in_chinese(work_page: Page,
                                                      bureau: Bureau) -> None:  # noqa: F811
    page = work_page
    _log_in(page, bureau, "officer")
    _school(page, bureau, "PX-W-06")
    # Basic expenditure (公用经费) carries its remainder over; a project (设备) is recovered.
    basic = _funded(bureau, "W-YE-PUB", "public_operating", "PX-W-06", 5_000_00)
    bureau.post("officer", "/v1/expenditures", {
        "allocation": basic, "amount": 1_200_00, "payee": "徐州供电公司", "voucher": "YE-1",
        "spent_on": bureau_today().isoformat(), "description": "电费"})  # approved today
    project = _funded(bureau, "W-YE-EQP", "equipment", "PX-W-06", 2_000_00)
    _log_in(page, bureau, "approver")
    _wait_views(page, bureau)
    page.goto(f"{bureau.url}/dashboard/work/year-end")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("h1").inner_text() == "年终结转预览"
    page.select_option("#ye-fund", "W-YE-PUB")
    navigate(page, "#year-end-show")
    assert page.locator("#year-end-totals").inner_text().count("结转下年") == 1
    assert page.locator("#total-carry").inner_text().startswith("3,800.00")
    assert page.locator("#total-surplus").inner_text().startswith("0.00")
    row = page.locator('#year-end-rows tr[data-disposition="carry_over"]')
    assert row.count() == 1 and "结转下年" in row.inner_text() and "3,800.00" in row.inner_text()
    assert row.locator("a").get_attribute("href") == f"/dashboard/work/allocations/{basic}"
    assert page.locator("#close-submit").is_visible()  # an approver may propose the close
    _accessible(page)
    page.select_option("#ye-fund", "W-YE-EQP")
    navigate(page, "#year-end-show")
    assert page.locator("#total-surplus").inner_text().startswith("2,000.00")
    assert page.locator("#total-carry").inner_text().startswith("0.00")
    row = page.locator('#year-end-rows tr[data-disposition="surplus"]')
    assert row.count() == 1 and "结余收回" in row.inner_text() and "2,000.00" in row.inner_text()
    assert row.locator("a").get_attribute("href") == f"/dashboard/work/allocations/{project}"
    _accessible(page)
    _target_shot(page, "zh-work-year-end")
