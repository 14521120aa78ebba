"""The officer's forms in the dashboard (zh-CN by default): checked by the API's own schemas,
refusals beside their fields in yuan, nothing written on any refusal, one write per form
however often it is sent, and no write without the session's CSRF token."""

from __future__ import annotations

import re

from domain.classification import ExpenditureClass
from domain.limits import AMOUNT_MINOR_MAX
from domain.units import money_text
from tests.api.conftest import FISCAL_YEAR, Api
from tests.api.workplace_client import (
    field_error,
    hidden,
    log_in,
    open_form,
    submit,
    written_position,
)

SCHOOL = {"code": "XZ-PX-0101", "name": "沛县实验小学", "district": "Pei", "level": "primary",
          "locale": "rural", "students": "420", "effective_date": f"{FISCAL_YEAR}-01-01"}


def _events(api: Api) -> int:
    return api.ledger.last_position()


def test_an_officer_registers_a_school_once_however_often_the_form_is_sent(api: Api) -> None:
    log_in(api, "officer")
    guard = open_form(api, "/dashboard/work/register-school")
    first = submit(api, "/dashboard/work/register-school", SCHOOL, guard)
    assert first.status_code == 200, first.text
    position = written_position(first.text)
    assert position == _events(api)
    assert f'href="/dashboard/work/journal/{position}?key=form-' in first.text
    again = submit(api, "/dashboard/work/register-school", SCHOOL, guard)  # a double click
    assert written_position(again.text) == position
    assert 'data-replayed="true"' in again.text and "未重复写入" in again.text
    assert _events(api) == position
    assert api.ok(api.get("reader", "/v1/schools/XZ-PX-0101"))["name"] == "沛县实验小学"
    entry = api.client.get(f"/dashboard/work/journal/{position}",
                           params={"key": guard["idempotency_key"]})
    assert entry.status_code == 200
    assert 'data-event="School.Registered"' in entry.text and "user.officer" in entry.text


def test_refusals_show_beside_their_fields_and_write_nothing(api: Api) -> None:
    api.school()
    api.fund()
    log_in(api, "officer")
    before = _events(api)
    bad = submit(api, "/dashboard/work/register-school",
                 {**SCHOOL, "code": "坏 代码", "students": "-3", "name": ""})
    assert bad.status_code == 422
    assert field_error(bad.text, "code").startswith("只能用字母")
    assert field_error(bad.text, "students") == "至少 0"
    assert field_error(bad.text, "name") == "必填"
    too_much = submit(api, "/dashboard/work/propose-allocation",
                      {"fund": "PUB-1", "school": "XZ-PX-0001", "amount": "2,000,000.00",
                       "purpose": "春季公用经费"})
    assert too_much.status_code == 409
    assert field_error(too_much.text, "amount") == "拨款超过资金预算"
    assert money_text(1_000_000_00, "CNY", "zh") in too_much.text  # the Chinese detail, in yuan
    decimals = submit(api, "/dashboard/work/propose-allocation",
                      {"fund": "PUB-1", "school": "XZ-PX-0001", "amount": "12.345",
                       "purpose": "春季公用经费"})
    assert field_error(decimals.text, "amount") == "最多 2 位小数"
    assert _events(api) == before


def test_english_messages_and_amount_limits_in_yuan(api: Api) -> None:
    api.school()
    api.fund()
    log_in(api, "officer")
    api.client.cookies.set("fundledger_lang", "en", path="/dashboard")
    huge = submit(api, "/dashboard/work/propose-allocation",
                  {"fund": "PUB-1", "school": "XZ-PX-0001", "amount": "99999999999999.99",
                   "purpose": "x"})
    assert huge.status_code == 422
    assert field_error(huge.text, "amount") == f"At most {money_text(AMOUNT_MINOR_MAX, 'CNY', 'en')}"
    empty = submit(api, "/dashboard/work/propose-allocation", {"fund": "PUB-1", "amount": "abc"})
    assert field_error(empty.text, "school") == "Required"
    assert field_error(empty.text, "amount") == "Enter an amount such as 1234.50"


def test_a_post_without_the_sessions_csrf_token_is_refused(api: Api) -> None:
    log_in(api, "officer")
    guard = open_form(api, "/dashboard/work/register-school")
    before = _events(api)
    for forged in ({}, {"csrf_token": "0" * 64}, {"csrf_token": guard["csrf_token"][:-1] + "x"}):
        answer = api.client.post("/dashboard/work/register-school",
                                 data={**SCHOOL, "idempotency_key": guard["idempotency_key"],
                                       **forged})
        assert answer.status_code == 403
        assert 'data-refusal="csrf_refused"' in answer.text
    assert _events(api) == before


def test_a_token_cookie_without_a_live_session_may_not_work(api: Api) -> None:
    api.client.cookies.clear()
    api.client.cookies.set("fundledger_token", api.tokens["officer"], path="/dashboard")
    answer = api.client.get("/dashboard/work/register-school", follow_redirects=False)
    assert answer.status_code == 303
    assert "expired=1" in answer.headers["location"]


def test_the_session_expires(api: Api) -> None:
    log_in(api, "officer")
    assert api.client.get("/dashboard/work", follow_redirects=False).status_code == 200
    api.client.app.state.settings.dashboard_session_seconds_max = 1  # type: ignore[attr-defined]
    import time  # noqa: PLC0415

    time.sleep(1.1)
    answer = api.client.get("/dashboard/work", follow_redirects=False)
    assert answer.status_code == 303 and "expired=1" in answer.headers["location"]
    login = api.client.get(answer.headers["location"])
    assert "会话已过期" in login.text


def test_only_an_officer_may_use_the_officers_forms(api: Api) -> None:
    log_in(api, "approver")
    answer = api.client.get("/dashboard/work/register-school")
    assert answer.status_code == 403 and 'data-refusal="needs_officer"' in answer.text


def _csv(*rows: str) -> bytes:
    return ("school,fund,amount_major,purpose,effective_date,unit\n" + "\n".join(rows) + "\n"
            ).encode()


def test_a_spreadsheet_with_errors_shows_them_beside_its_rows_and_writes_nothing(api: Api) -> None:
    api.school()
    api.fund()
    log_in(api, "officer")
    guard = open_form(api, "/dashboard/work/import")
    before = _events(api)
    bad = _csv(f"XZ-PX-0001,PUB-1,1000.00,春季,{FISCAL_YEAR}-02-20,CNY",
               f"XZ-NOPE,PUB-1,1000.00,春季,{FISCAL_YEAR}-02-20,CNY",
               f"XZ-PX-0001,PUB-1,12.345,春季,{FISCAL_YEAR}-02-20,CNY")
    answer = api.client.post("/dashboard/work/import", data=guard,
                             files={"file": ("april.csv", bad, "text/csv")})
    assert answer.status_code == 422
    rows = dict(re.findall(r'<tr data-line="(\d+)" class="(over|)">', answer.text))
    assert rows == {"2": "", "3": "over", "4": "over"}
    third = answer.text.split('data-line="3"')[1].split("</tr>")[0]
    assert "XZ-NOPE" in third and 'data-code="school_not_found"' in third
    heading = answer.text.split('<table id="import-rows">')[1].split("</thead>")[0]
    assert "<th>学校代码</th>" in heading and "<th>金额(元)</th>" in heading, heading
    assert "amount_major" not in heading and "<th>school</th>" not in heading, heading
    assert _events(api) == before
    good = _csv(f"XZ-PX-0001,PUB-1,1000.00,春季,{FISCAL_YEAR}-02-20,CNY")
    fresh = open_form(api, "/dashboard/work/import")
    applied = api.client.post("/dashboard/work/import", data=fresh,
                              files={"file": ("may.csv", good, "text/csv")})
    assert applied.status_code == 200
    position = written_position(applied.text)
    again = api.client.post("/dashboard/work/import", data=fresh,
                            files={"file": ("may.csv", good, "text/csv")})
    assert written_position(again.text) == position and _events(api) == position


def test_every_state_changing_dashboard_request_needs_the_sessions_csrf_token(api: Api) -> None:
    """Not only the workplace's: the import, the digest, the export job, a tranche's decision
    and logout are refused 403 without the token, before anything runs."""
    log_in(api, "officer")
    page = api.client.get("/dashboard/imports").text
    csrf = hidden(page, "csrf_token")
    before = _events(api)
    for path in ("/dashboard/imports", "/dashboard/audit/digests", "/dashboard/audit/jobs",
                 f"/dashboard/tranches/{'0' * 8}-0000-0000-0000-{'0' * 12}/approve",
                 "/dashboard/tranches", "/dashboard/logout"):
        refused = api.client.post(path, data={"csrf_token": "forged"}, follow_redirects=False)
        assert refused.status_code == 403, path
        assert "csrf_refused" in refused.text
    assert _events(api) == before
    out = api.client.post("/dashboard/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    # With no live session a POST is refused too: an expired session writes nothing.
    api.client.cookies.set("fundledger_token", api.tokens["officer"], path="/dashboard")
    assert api.client.post("/dashboard/imports", data={"csrf_token": csrf}).status_code == 403


def test_every_workplace_page_has_every_label_in_both_languages(funded: dict, api: Api) -> None:
    allocation, expenditure = funded["allocation"]["id"], funded["expenditure"]["id"]
    paths = ["/dashboard/work", "/dashboard/work/register-school", "/dashboard/work/open-fund",
             "/dashboard/work/propose-allocation", "/dashboard/work/record-expenditure",
             "/dashboard/work/import", f"/dashboard/work/allocations/{allocation}",
             f"/dashboard/work/expenditures/{expenditure}", "/dashboard/work/funds/PUB-1",
             "/dashboard/work/search?q=V-0001"]
    approver_paths = ["/dashboard/work/queue", "/dashboard/work/year-end?fund=PUB-1"]
    for role, shown in (("officer", paths), ("approver", approver_paths)):
        log_in(api, role)
        for language in ("zh", "en"):
            api.client.cookies.set("fundledger_lang", language, path="/dashboard")
            for path in shown:
                page = api.client.get(path)
                assert page.status_code == 200, (path, page.status_code)
                assert "⟦" not in page.text, (path, re.findall(r"⟦\w+⟧", page.text))
                assert f'lang="{"zh-CN" if language == "zh" else "en"}"' in page.text


def test_a_read_page_needs_a_live_session_too(api: Api) -> None:
    log_in(api, "reader")
    assert api.client.get("/dashboard/schools", follow_redirects=False).status_code == 200
    api.client.app.state.settings.dashboard_session_seconds_max = 1  # type: ignore[attr-defined]
    import time  # noqa: PLC0415

    time.sleep(1.1)
    expired = api.client.get("/dashboard/schools", follow_redirects=False)
    assert expired.status_code == 303 and "expired=1" in expired.headers["location"]


def _class_options(page: str) -> list[str]:
    chosen = re.search(r'<select id="f-economic_class".*?</select>', page, re.S)
    assert chosen, "no economic class field"
    return [v for v in re.findall(r'<option value="([^"]*)"', chosen.group(0)) if v]


def test_the_expenditure_form_offers_the_classes_the_allocations_fund_allows(api: Api) -> None:
    api.school()
    api.fund(expenditure_classes=["utilities", "teaching"])
    allocation = api.allocation()["id"]
    log_in(api, "officer")
    chosen = api.client.get("/dashboard/work/record-expenditure", params={"allocation": allocation})
    assert sorted(_class_options(chosen.text)) == ["teaching", "utilities"]
    # No allocation chosen yet (or one that is not there): every class, the ledger checks.
    every = {c.value for c in ExpenditureClass}
    unchosen = api.client.get("/dashboard/work/record-expenditure")
    assert set(_class_options(unchosen.text)) == every
    unknown = api.client.get("/dashboard/work/record-expenditure",
                             params={"allocation": "00000000-0000-4000-8000-000000000000"})
    assert set(_class_options(unknown.text)) == every
    # A class the form no longer offers, posted anyway, is still refused and writes nothing.
    before = _events(api)
    forged = submit(api, "/dashboard/work/record-expenditure",
                    {"allocation": allocation, "amount": "12.00", "payee": "徐州供电公司",
                     "voucher": "V-9", "spent_on": f"{FISCAL_YEAR}-03-02",
                     "economic_class": "student_aid"})
    assert forged.status_code == 409
    assert field_error(forged.text, "economic_class") == "该资金不得列支此经济分类"
    assert _class_options(forged.text) == _class_options(chosen.text)
    assert _events(api) == before


def test_an_overspend_on_a_chinese_page_reads_in_chinese_only(api: Api) -> None:
    """Issue 19: the refusal's detail beside its Chinese title is the rule's Chinese sentence
    in yuan, never the English problem detail (the English page keeps the English)."""
    api.school()
    api.fund()
    allocation = api.allocation(amount=5_000_00)["id"]
    log_in(api, "officer")
    fields = {"allocation": allocation, "amount": "45,519.50", "payee": "徐州供电公司",
              "voucher": "V-9", "spent_on": f"{FISCAL_YEAR}-03-02", "description": "电费"}
    before = _events(api)
    over = submit(api, "/dashboard/work/record-expenditure", fields)
    assert over.status_code == 409
    assert field_error(over.text, "amount") == "支出超过拨款余额"
    assert (f"拨款余额 {money_text(5_000_00, 'CNY', 'zh')}，本次支出 "
            f"{money_text(45_519_50, 'CNY', 'zh')}") in over.text
    assert "remaining" not in over.text and "was asked" not in over.text
    api.client.cookies.set("fundledger_lang", "en", path="/dashboard")
    english = submit(api, "/dashboard/work/record-expenditure", fields)
    assert "¥5,000.00 remaining; ¥45,519.50 was asked" in english.text
    assert _events(api) == before


def test_a_chinese_import_shows_each_rows_chinese_reason_only(api: Api) -> None:
    api.school()
    api.fund()
    log_in(api, "officer")
    guard = open_form(api, "/dashboard/work/import")
    bad = _csv(f"XZ-PX-0001,PUB-1,12.345,春季,{FISCAL_YEAR}-02-20,CNY",
               f"XZ-NOPE,PUB-1,1000.00,春季,{FISCAL_YEAR}-02-20,CNY")
    answer = api.client.post("/dashboard/work/import", data=guard,
                             files={"file": ("april.csv", bad, "text/csv")})
    assert answer.status_code == 422
    rows = answer.text.split('<table id="import-rows">')[1].split("</table>")[0]
    assert "金额 12.345 的小数位超过 CNY 允许的 2 位" in rows
    assert "学校不存在：XZ-NOPE" in rows
    assert "decimal places" not in rows and "not found" not in rows
