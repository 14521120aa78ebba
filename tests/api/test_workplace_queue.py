"""The approver's queue in the dashboard: proposals and pending changes made by others, one by
one or in bulk; no approve button on one's own item, and a forged approval of it is refused
403 maker_checker with nothing written; a resubmitted bulk form writes nothing twice."""

from __future__ import annotations

import re

from tests.api.conftest import FISCAL_YEAR, Api
from tests.api.workplace_client import hidden, log_in, open_form, submit, written_position


def _proposed(api: Api, school: str, amount: int = 10_000_00) -> str:
    body = {"fund": "PUB-1", "school": school, "amount": amount, "purpose": "春季公用经费",
            "effective_date": f"{FISCAL_YEAR}-02-01"}
    return str(api.ok(api.post("officer", "/v1/allocations", body), 201)["id"])


def _queue(api: Api, **filters: str) -> str:
    page = api.client.get("/dashboard/work/queue", params=filters)
    assert page.status_code == 200, page.text
    return page.text


def _wait_views(api: Api) -> None:
    queries = api.client.app.state.queries  # type: ignore[attr-defined]
    assert queries.wait_for(api.ledger.last_position(), 10)


def test_an_approver_approves_one_and_then_several_from_the_queue(api: Api) -> None:
    api.school()
    api.school("XZ-PX-0002")
    api.fund()
    first, second, third = (_proposed(api, s) for s in ("XZ-PX-0001", "XZ-PX-0002", "XZ-PX-0001"))
    _wait_views(api)
    log_in(api, "approver")
    page = _queue(api)
    assert all(f'data-item="allocation:{a}"' in page for a in (first, second, third))
    guard = {"csrf_token": hidden(page, "csrf_token"), "idempotency_key": hidden(page, "idempotency_key")}
    one = api.client.post(f"/dashboard/work/queue/allocation/{first}/approve", data=guard)
    assert one.status_code == 200 and 'data-result="ok"' in one.text
    assert api.ok(api.get("reader", f"/v1/allocations/{first}"))["status"] == "approved"
    _wait_views(api)
    page = _queue(api, school="XZ-PX-0001")
    assert f"allocation:{third}" in page and f"allocation:{second}" not in page
    assert f"allocation:{third}" not in _queue(api, older_than="1")  # proposed today
    assert f"allocation:{third}" not in _queue(api, maker="someone.else")
    assert f"allocation:{third}" in _queue(api, maker="user.officer", fund="PUB-1")
    guard = {"csrf_token": hidden(page, "csrf_token"), "idempotency_key": hidden(page, "idempotency_key")}
    bulk = {**guard, "decision": "approve", "item": [f"allocation:{second}", f"allocation:{third}"]}
    many = api.client.post("/dashboard/work/queue/bulk", data=bulk)
    assert many.text.count('data-result="ok"') == 2
    written = api.ledger.last_position()
    again = api.client.post("/dashboard/work/queue/bulk", data=bulk)  # resubmitted
    assert again.text.count("未重复写入") == 2
    assert api.ledger.last_position() == written
    for allocation in (second, third):
        assert api.ok(api.get("reader", f"/v1/allocations/{allocation}"))["status"] == "approved"


def test_no_approve_button_for_ones_own_item_and_a_forged_post_is_refused(api: Api) -> None:
    api.school()
    api.fund()
    allocation = api.allocation()
    change = api.ok(api.post("approver", f"/v1/allocations/{allocation['id']}/adjust",
                             {"delta": 5_000_00, "reason": "追加"}), 202)
    _wait_views(api)
    log_in(api, "approver")
    page = _queue(api)
    row = re.search(rf'<tr data-item="change:{change["change"]}" data-mine="true">.*?</tr>', page, re.S)
    assert row, page
    assert 'class="approve"' not in row.group(0)
    assert 'type="checkbox"' not in row.group(0)
    guard = {"csrf_token": hidden(page, "csrf_token"), "idempotency_key": hidden(page, "idempotency_key")}
    before = api.ledger.last_position()
    forged = api.client.post(f"/dashboard/work/queue/change/{change['change']}/approve", data=guard)
    assert forged.status_code == 403
    assert 'data-result="maker_checker"' in forged.text and "审批人不得为申请人本人" in forged.text
    assert "user.approver 是申请人，不得审批本人提交的事项" in forged.text  # its detail, in Chinese
    assert "cannot also decide on it" not in forged.text
    assert api.ledger.last_position() == before
    log_in(api, "checker")  # another approver decides it
    page = _queue(api)
    assert f'data-item="change:{change["change"]}" data-mine="false"' in page
    guard = {"csrf_token": hidden(page, "csrf_token"), "idempotency_key": hidden(page, "idempotency_key")}
    done = api.client.post(f"/dashboard/work/queue/change/{change['change']}/approve", data=guard)
    assert 'data-result="ok"' in done.text
    assert api.ok(api.get("reader", f"/v1/allocations/{allocation['id']}"))["allocated"] == 55_000_00


def test_the_queue_needs_a_csrf_token_and_the_approver_role(api: Api) -> None:
    api.school()
    api.fund()
    allocation = _proposed(api, "XZ-PX-0001")
    log_in(api, "approver")
    refused = api.client.post(f"/dashboard/work/queue/allocation/{allocation}/approve",
                              data={"idempotency_key": "form-1"})
    assert refused.status_code == 403 and 'data-refusal="csrf_refused"' in refused.text
    log_in(api, "officer")
    assert api.client.get("/dashboard/work/queue").status_code == 403
    assert api.ok(api.get("reader", f"/v1/allocations/{allocation}"))["status"] == "proposed"


def test_an_officer_reverses_an_expenditure_and_proposes_a_cancellation(funded: dict, api: Api) -> None:
    expenditure, allocation = funded["expenditure"]["id"], funded["allocation"]["id"]
    log_in(api, "officer")
    path = f"/dashboard/work/expenditures/{expenditure}"
    guard = open_form(api, path)
    empty = api.client.post(f"{path}/reverse", data={**guard, "reason": ""})
    assert empty.status_code == 422 and 'id="reverse-reason-error"' in empty.text
    reversed_ = api.client.post(f"{path}/reverse", data={**guard, "reason": "重复登记"})
    assert reversed_.status_code == 200, reversed_.text
    written_position(reversed_.text)
    assert api.ok(api.get("reader", f"/v1/expenditures/{expenditure}"))["status"] == "reversed"
    cancel = submit(api, f"/dashboard/work/allocations/{allocation}/cancel", {"reason": "学校撤并"},
                    open_form(api, f"/dashboard/work/allocations/{allocation}"))
    assert cancel.status_code == 200 and "等待另一位审批人批准" in cancel.text
    changes = api.ok(api.get("reader", "/v1/changes", status="pending",
                               min_position=api.ledger.last_position()))["items"]
    assert [c["kind"] for c in changes] == ["allocation_cancel"]


def test_every_change_kind_is_named_in_both_languages() -> None:
    import api.app  # noqa: F401, PLC0415  (every kind registered)
    from api.dashboard.i18n import LABELS  # noqa: PLC0415
    from domain.change import CHANGE_KINDS  # noqa: PLC0415

    missing = sorted(kind for kind in CHANGE_KINDS if kind not in LABELS)
    assert not missing
    assert all(LABELS[kind][0] != LABELS[kind][1] for kind in CHANGE_KINDS)


def test_the_year_end_page_previews_carry_over_and_surplus_and_proposes_the_close(
        funded: dict, api: Api) -> None:
    """Operating money's remainder is carried over (结转), a project's recovered (结余): the
    page shows each allocation's fate before anyone closes; the close itself is pending."""
    api.fund("FAC-1", category="facilities", expenditure_classes=["construction"])
    project = api.allocation(fund="FAC-1", amount=20_000_00)
    _wait_views(api)
    log_in(api, "approver")
    page = api.client.get("/dashboard/work/year-end", params={"fund": "PUB-1"}).text
    assert re.findall(r'data-disposition="(\w+)"', page) == ["carry_over"]
    assert "48,800.00 元" in page  # 50,000.00 allocated, 1,200.00 spent
    assert 'href="/dashboard/periods"' in page
    page = api.client.get("/dashboard/work/year-end", params={"fund": "FAC-1"}).text
    assert re.findall(r'data-disposition="(\w+)"', page) == ["surplus"]
    assert project["id"] in page
    guard = {"csrf_token": hidden(page, "csrf_token"), "idempotency_key": hidden(page, "idempotency_key")}
    before = api.ledger.last_position()
    proposed = api.client.post("/dashboard/work/year-end/FAC-1/close", data={**guard, "reason": "年终"})
    assert proposed.status_code == 200 and "等待另一位审批人批准" in proposed.text
    assert api.ledger.last_position() > before
    pending = api.ok(api.get("reader", "/v1/changes", status="pending",
                             min_position=api.ledger.last_position()))["items"]
    assert [c["kind"] for c in pending] == ["fund_close"]  # applied only when another approves
    page = api.client.get("/dashboard/work/year-end").text
    guard = {"csrf_token": hidden(page, "csrf_token"), "idempotency_key": hidden(page, "idempotency_key")}
    early = api.client.post("/dashboard/work/year-end/month-close",
                            data={**guard, "month": f"{FISCAL_YEAR + 1}-01"})
    assert early.status_code == 409 and "未写入" in early.text  # the month is not over
    month = api.client.post("/dashboard/work/year-end/month-close",
                            data={**guard, "month": f"{FISCAL_YEAR - 1}-12"})
    assert month.status_code == 200 and "等待另一位审批人批准" in month.text


def test_unknown_records_and_actions_answer_404(api: Api) -> None:
    nobody = "00000000-0000-0000-0000-000000000000"
    log_in(api, "approver")
    for path in (f"/dashboard/work/allocations/{nobody}", f"/dashboard/work/expenditures/{nobody}",
                 "/dashboard/work/funds/NOPE", "/dashboard/work/journal/999999"):
        assert api.client.get(path).status_code == 404, path
    page = _queue(api)
    guard = {"csrf_token": hidden(page, "csrf_token"), "idempotency_key": "form-x"}
    for path in (f"/dashboard/work/queue/ledger/{nobody}/approve",
                 f"/dashboard/work/queue/allocation/{nobody}/ignore",
                 f"/dashboard/work/allocations/{nobody}/spend"):
        assert api.client.post(path, data=guard).status_code == 404, path
    missing = api.client.post(f"/dashboard/work/queue/allocation/{nobody}/approve", data=guard)
    assert missing.status_code == 404 and 'data-result="allocation_not_found"' in missing.text


def test_a_proposed_tranche_waits_in_the_queue_as_one_item_and_is_approved_there(api: Api) -> None:
    from tests.api.test_formula_funding import TRANCHES, _bureau, _tranche  # noqa: PLC0415

    snapshot = _bureau(api)
    preview = api.ok(api.post("officer", TRANCHES, _tranche(snapshot)))
    tranche = api.ok(api.post("officer", TRANCHES, _tranche(snapshot, preview=False,
                                                             plan=preview["plan"])), 201)
    _wait_views(api)
    log_in(api, "approver")
    page = _queue(api)
    assert f'data-item="tranche:{tranche["id"]}"' in page
    assert 'data-item="allocation:' not in page  # its lines wait with it, not one by one
    guard = {"csrf_token": hidden(page, "csrf_token"), "idempotency_key": hidden(page, "idempotency_key")}
    done = api.client.post(f"/dashboard/work/queue/tranche/{tranche['id']}/approve", data=guard)
    assert 'data-result="ok"' in done.text, done.text
    assert api.ok(api.get("reader", f"{TRANCHES}/{tranche['id']}"))["status"] == "approved"


def test_every_balance_leads_to_the_allocations_and_expenditures_behind_it(funded: dict,
                                                                          api: Api) -> None:
    allocation, expenditure = funded["allocation"]["id"], funded["expenditure"]["id"]
    _wait_views(api)
    log_in(api, "reader")
    overview = api.client.get("/dashboard", params={"year": FISCAL_YEAR}).text
    assert 'href="/dashboard/work/funds/PUB-1"' in overview
    school = api.client.get("/dashboard/schools/XZ-PX-0001", params={"year": FISCAL_YEAR}).text
    assert 'href="/dashboard/work/funds/PUB-1"' in school
    assert f'href="/dashboard/work/allocations/{allocation}"' in school
    assert f'href="/dashboard/work/expenditures/{expenditure}"' in school
    fund = api.client.get("/dashboard/work/funds/PUB-1").text
    assert f'href="/dashboard/work/allocations/{allocation}"' in fund
    spent = api.client.get(f"/dashboard/work/allocations/{allocation}").text
    assert f'href="/dashboard/work/expenditures/{expenditure}"' in spent
    assert "1,200.00 元" in spent
