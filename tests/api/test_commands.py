"""Writes over HTTP: answers per DESIGN §6, positions, ETags, idempotency keys and If-Match."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.api.conftest import FISCAL_YEAR, ROLES, Api
from tests.conftest import TODAY


def test_the_lifecycle_answers_carry_the_contract_fields_and_growing_positions(api: Api) -> None:
    school = api.school()
    fund = api.fund()
    assert {"code", "name", "fiscal_year", "unit", "appropriated", "allocated", "spent",
            "available"} <= fund.keys()
    assert (fund["appropriated"], fund["allocated"], fund["spent"], fund["available"]) == (
        1_000_000_00, 0, 0, 1_000_000_00)
    proposed = api.allocation(approve=False)
    assert {"id", "status", "fund", "school", "amount", "allocated", "spent", "remaining",
            "version", "position"} <= proposed.keys()
    assert (proposed["status"], proposed["allocated"]) == ("proposed", 0)
    approved = api.ok(api.post("approver", f"/v1/allocations/{proposed['id']}/approve",
                               {"effective_date": f"{FISCAL_YEAR}-02-03"}))
    assert (approved["status"], approved["allocated"], approved["remaining"]) == (
        "approved", 50_000_00, 50_000_00)
    spent = api.expenditure(approved["id"], amount=1_200_00)
    assert {"id", "allocation", "amount", "status", "position"} <= spent.keys()
    assert spent["status"] == "recorded"
    positions = [school["position"], fund["position"], proposed["position"],
                 approved["position"], spent["position"]]
    assert positions == sorted(positions) and len(set(positions)) == 5
    assert spent["position"] == api.ledger.last_position()

    allocation = api.ok(api.get("reader", f"/v1/allocations/{approved['id']}"))
    assert (allocation["spent"], allocation["remaining"]) == (1_200_00, 48_800_00)
    reversed_ = api.ok(api.post("officer", f"/v1/expenditures/{spent['id']}/reverse",
                                {"reason": "wrong allocation"}))
    assert reversed_["status"] == "reversed"
    allocation = api.ok(api.get("reader", f"/v1/allocations/{approved['id']}"))
    assert (allocation["spent"], allocation["remaining"]) == (0, 50_000_00)


def test_transfer_answers_both_allocations_and_cancel_releases_to_the_fund(api: Api) -> None:
    api.school()
    api.school("XZ-PX-0002")
    api.fund()
    source = api.allocation()
    moved = api.applied(api.post("officer", f"/v1/allocations/{source['id']}/transfer",
                                 {"to_school": "XZ-PX-0002", "amount": 10_000_00,
                                  "reason": "enrolment moved"}))
    assert moved["status"] == "approved" and moved["decided_by"] == "user.checker"
    source_now, target = moved["changed"]
    assert source_now["allocated"] == 40_000_00
    assert (target["school"], target["allocated"]) == ("XZ-PX-0002", 10_000_00)
    assert target["approved_by"] == "user.checker"
    assert moved["position"] == source_now["position"] == api.ledger.last_position()
    api.applied(api.post("officer", f"/v1/allocations/{source['id']}/cancel",
                         {"reason": "school merged"}))
    fund = api.ok(api.get("reader", "/v1/funds/PUB-1", min_position=api.ledger.last_position()))
    assert fund["allocated"] == 10_000_00


def test_school_and_fund_lifecycle_commands(api: Api) -> None:
    api.school()
    api.fund()
    school = api.ok(api.post("officer", "/v1/schools/XZ-PX-0001/reclassify",
                             {"locale": "town", "reason": "镇区划定",
                              "effective_date": f"{FISCAL_YEAR}-06-01"}))
    assert school["locale"] == "town"
    school = api.ok(api.post("officer", "/v1/schools/XZ-PX-0001/enrolment", {"students": 455}))
    assert school["students"] == 455
    (fund,) = api.applied(api.post("approver", "/v1/funds/PUB-1/adjust",
                                   {"delta": -1_000_00, "reason": "cut"}))["changed"]
    assert fund["appropriated"] == 999_000_00
    (fund,) = api.applied(api.post("approver", "/v1/funds/PUB-1/close",
                                   {"disposition": "lapse"}))["changed"]
    assert fund["closed"] is True
    school = api.ok(api.post("officer", "/v1/schools/XZ-PX-0001/close", {"reason": "merged"}))
    assert school["closed_on"] is not None


def test_same_key_same_body_returns_the_original_and_writes_nothing(api: Api) -> None:
    api.school()
    api.fund()
    body = {"fund": "PUB-1", "school": "XZ-PX-0001", "amount": 7_00, "purpose": "books"}
    first = api.post("officer", "/v1/allocations", body, **{"Idempotency-Key": "k-1"})
    assert first.status_code == 201, first.text
    written = api.ledger.last_position()
    again = api.post("officer", "/v1/allocations", body, **{"Idempotency-Key": "k-1"})
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert api.ledger.last_position() == written
    other = api.post("officer", "/v1/allocations", {**body, "amount": 8_00},
                     **{"Idempotency-Key": "k-1"})
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert api.ledger.last_position() == written


def test_a_repeated_lifecycle_command_under_its_key_is_not_applied_twice(api: Api) -> None:
    api.school()
    api.fund()
    allocation = api.allocation()
    path = f"/v1/allocations/{allocation['id']}/adjust"
    body = {"delta": 1_000_00, "reason": "more pupils"}
    first = api.ok(api.post("approver", path, body, **{"Idempotency-Key": "adj-1"}), 202)
    second = api.ok(api.post("approver", path, body, **{"Idempotency-Key": "adj-1"}), 202)
    assert first["change"] == second["change"]
    api.applied(api.post("approver", path, body, **{"Idempotency-Key": "adj-1"}))
    assert api.ok(api.get("reader", f"/v1/allocations/{allocation['id']}"))["allocated"] == 51_000_00


def test_if_match_with_the_current_version_passes_and_a_stale_one_is_412(api: Api) -> None:
    api.school()
    api.fund()
    allocation = api.allocation(approve=False)
    read = api.get("reader", f"/v1/allocations/{allocation['id']}")
    assert read.headers["ETag"] == '"1"'
    path = f"/v1/allocations/{allocation['id']}/approve"
    before = api.ledger.last_position()
    stale = api.post("approver", path, {}, **{"If-Match": '"7"'})
    assert stale.status_code == 412
    assert stale.json()["code"] == "version_mismatch"
    assert api.ledger.last_position() == before
    malformed = api.post("approver", path, {}, **{"If-Match": "yesterday"})
    assert malformed.status_code == 400
    assert malformed.json()["code"] == "invalid_header"
    done = api.post("approver", path, {}, **{"If-Match": read.headers["ETag"]})
    assert done.status_code == 200, done.text
    assert done.headers["ETag"] == '"2"'


@pytest.mark.parametrize(("role", "path", "body", "code"), [
    ("approver", "approve", {}, "not_proposed"),
    ("approver", "adjust", {"delta": -60_000_00, "reason": "x"}, "below_spent"),
])
def test_rules_of_the_books_are_409(funded: dict[str, Any], api: Api, role: str, path: str,
                                    body: dict[str, Any], code: str) -> None:
    response = api.post(role, f"/v1/allocations/{funded['allocation']['id']}/{path}", body)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == code
    assert response.headers["content-type"] == "application/problem+json"


def test_overspend_and_duplicate_voucher_are_409(funded: dict[str, Any], api: Api) -> None:
    allocation = funded["allocation"]["id"]
    body = {"allocation": allocation, "amount": 50_000_00, "payee": "p", "voucher": "V-9",
            "spent_on": f"{FISCAL_YEAR}-04-01"}
    over = api.post("officer", "/v1/expenditures", body)
    assert (over.status_code, over.json()["code"]) == (409, "overspend")
    twice = api.post("officer", "/v1/expenditures", {**body, "amount": 1, "voucher": "V-0001"})
    assert (twice.status_code, twice.json()["code"]) == (409, "duplicate_voucher")


def test_a_pending_change_that_no_longer_fits_is_409_at_approval_and_stays_pending(
        funded: dict[str, Any], api: Api) -> None:
    allocation = funded["allocation"]["id"]
    made = api.ok(api.post("approver", f"/v1/allocations/{allocation}/adjust",
                           {"delta": -48_000_00, "reason": "less"}), 202)
    api.expenditure(allocation, amount=2_000_00, voucher="V-0002")
    before = api.ledger.last_position()
    late = api.post("checker", f"/v1/changes/{made['change']}/approve", {})
    assert (late.status_code, late.json()["code"]) == (409, "below_spent")
    assert api.ledger.last_position() == before
    assert api.ok(api.get("reader", f"/v1/changes/{made['change']}"))["status"] == "pending"
    rejected = api.ok(api.post("checker", f"/v1/changes/{made['change']}/reject",
                               {"reason": "spent meanwhile"}))
    assert (rejected["status"], rejected["decided_by"]) == ("rejected", "user.checker")
    again = api.post("approver", f"/v1/changes/{made['change']}/approve", {})
    assert (again.status_code, again.json()["code"]) == (409, "change_not_pending")


def test_changes_are_listed_by_status_and_kind(funded: dict[str, Any], api: Api) -> None:
    allocation = funded["allocation"]["id"]
    adjust = api.ok(api.post("approver", f"/v1/allocations/{allocation}/adjust",
                             {"delta": 1_00, "reason": "more"}), 202)
    assert set(adjust) >= {"change", "status", "kind", "maker"}
    assert (adjust["status"], adjust["kind"], adjust["maker"]) == (
        "pending", "allocation_adjust", "user.approver")
    api.applied(api.post("approver", "/v1/funds/PUB-1/adjust", {"delta": 1_00, "reason": "r"}))
    position = api.ledger.last_position()
    waiting = api.ok(api.get("auditor", "/v1/changes", status="pending", min_position=position))
    assert [c["change"] for c in waiting["items"]] == [adjust["change"]]
    assert waiting["items"][0]["subjects"] == [f"allocation:{allocation}"]
    funds = api.ok(api.get("reader", "/v1/changes", kind="fund_adjust", min_position=position))
    assert [(c["status"], c["decided_by"]) for c in funds["items"]] == [
        ("approved", "user.checker")]
    both = api.ok(api.get("reader", "/v1/changes", limit=1, min_position=position))
    assert len(both["items"]) == 1 and both["next"]
    by_subject = api.ok(api.get("reader", "/v1/changes", subject="fund:PUB-1"))
    assert len(by_subject["items"]) == 1
    unknown = api.get("reader", "/v1/changes/00000000-0000-0000-0000-000000000001")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "change_not_found")


def test_the_proposer_cannot_raise_their_own_allocation_over_http(api: Api) -> None:
    """Issue 14, defect 1, as it was found: officer+approver proposes, another approves, the
    proposer then adjusts. The adjustment now waits, and neither the proposer nor the maker
    may approve it."""
    api.tokens["both"] = api.ledger.add_user("both.roles", ["officer", "approver"])
    api.school()
    api.fund()
    body = {"fund": "PUB-1", "school": "XZ-PX-0001", "amount": 5_000_00, "purpose": "x"}
    allocation = api.ok(api.post("both", "/v1/allocations", body), 201)
    api.ok(api.post("approver", f"/v1/allocations/{allocation['id']}/approve", {}))
    made = api.ok(api.post("both", f"/v1/allocations/{allocation['id']}/adjust",
                           {"delta": 900_000_00, "reason": "mine"}), 202)
    now = api.ok(api.get("reader", f"/v1/allocations/{allocation['id']}"))
    assert now["allocated"] == 5_000_00
    own = api.post("both", f"/v1/changes/{made['change']}/approve", {})
    assert (own.status_code, own.json()["code"]) == (403, "maker_checker")
    other = api.post("approver", f"/v1/allocations/{allocation['id']}/adjust",
                     {"delta": 1_00, "reason": "r"})
    proposer = api.post("both", f"/v1/changes/{other.json()['change']}/approve", {})
    assert (proposer.status_code, proposer.json()["code"]) == (403, "maker_checker")


def test_an_officer_alone_cannot_move_approved_money_over_http(funded: dict[str, Any],
                                                               api: Api) -> None:
    """Issue 14, defect 2: an officer's transfer opened an approved allocation with
    approved_by null, spendable at once. Now it waits; approved, it names its approver."""
    api.school("XZ-PX-0002")
    allocation = funded["allocation"]["id"]
    made = api.ok(api.post("officer", f"/v1/allocations/{allocation}/transfer",
                           {"to_school": "XZ-PX-0002", "amount": 40_000_00, "reason": "r"}), 202)
    listed = api.ok(api.get("reader", "/v1/allocations", school="XZ-PX-0002",
                            min_position=api.ledger.last_position()))
    assert listed["items"] == []
    officer = api.post("officer", f"/v1/changes/{made['change']}/approve", {})
    assert (officer.status_code, officer.json()["code"]) == (403, "role_not_allowed")
    done = api.ok(api.post("approver", f"/v1/changes/{made['change']}/approve", {}))
    target = done["changed"][1]
    assert (target["status"], target["approved_by"]) == ("approved", "user.approver")


def test_maker_checker_is_403(api: Api) -> None:
    api.tokens["both"] = api.ledger.add_user("both.roles", ["officer", "approver"])
    api.school()
    api.fund()
    body = {"fund": "PUB-1", "school": "XZ-PX-0001", "amount": 5_00, "purpose": "x"}
    allocation = api.ok(api.post("both", "/v1/allocations", body), 201)
    refused = api.post("both", f"/v1/allocations/{allocation['id']}/approve", {})
    assert (refused.status_code, refused.json()["code"]) == (403, "maker_checker")


def test_racing_repeats_of_one_key_write_once(funded: dict[str, Any], api: Api) -> None:
    body = {"allocation": funded["allocation"]["id"], "amount": 10_00, "payee": "p",
            "voucher": "V-RACE", "spent_on": f"{FISCAL_YEAR}-05-01"}
    before = api.ledger.last_position()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: api.post("officer", "/v1/expenditures", body,
                                                   **{"Idempotency-Key": "race-1"}), range(8)))
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    # One expenditure: its event, the allocation's, the voucher register's, the key's record.
    assert api.ledger.last_position() - before == 4
    allocation = api.ok(api.get("reader", f"/v1/allocations/{funded['allocation']['id']}"))
    assert allocation["spent"] == funded["expenditure"]["amount"] + 10_00


# Every lifecycle command (a POST on an existing aggregate): path, role, body. {a} is the
# approved allocation, {p} a proposal, {e} the expenditure.
LIFECYCLE = [
    ("/v1/schools/XZ-PX-0001/reclassify", "officer", {"locale": "town", "reason": "r"}),
    ("/v1/schools/XZ-PX-0001/enrolment", "officer", {"students": 430}),
    ("/v1/schools/XZ-PX-0002/close", "officer", {"reason": "merged"}),
    ("/v1/funds/PUB-1/adjust", "approver", {"delta": 1_00, "reason": "r"}),
    ("/v1/funds/PUB-2/close", "approver", {"disposition": "lapse"}),
    ("/v1/allocations/{p}/approve", "approver", {}),
    ("/v1/allocations/{p}/reject", "approver", {"reason": "r"}),
    ("/v1/allocations/{a}/adjust", "approver", {"delta": 1_00, "reason": "r"}),
    ("/v1/allocations/{a}/cancel", "officer", {"reason": "r"}),
    ("/v1/allocations/{a}/transfer", "officer", {"to_school": "XZ-PX-0001", "amount": 1_00,
                                                 "reason": "r"}),
    ("/v1/expenditures/{e}/reverse", "officer", {"reason": "r"}),
]


@pytest.fixture
def subjects(funded: dict[str, Any], api: Api) -> dict[str, str]:
    api.school("XZ-PX-0002")
    api.fund("PUB-2")
    proposal = api.allocation(approve=False)
    return {"a": funded["allocation"]["id"], "p": proposal["id"], "e": funded["expenditure"]["id"]}


@pytest.mark.parametrize(("template", "role", "body"), LIFECYCLE, ids=[p for p, _, _ in LIFECYCLE])
def test_every_lifecycle_command_honours_if_match_and_answers_its_position(
        subjects: dict[str, str], api: Api, template: str, role: str, body: dict[str, Any]) -> None:
    path = template.format(**subjects)
    subject = path.rsplit("/", 1)[0]
    current = api.get("reader", subject, min_position=api.ledger.last_position())
    assert current.status_code == 200, current.text
    etag = current.headers["ETag"]
    before = api.ledger.last_position()
    stale = api.post(role, path, body, **{"If-Match": f'"{int(etag.strip(chr(34))) + 5}"'})
    assert stale.status_code == 412, stale.text
    assert stale.json()["code"] == "version_mismatch"
    assert stale.headers["content-type"] == "application/problem+json"
    assert api.ledger.last_position() == before
    done = api.post(role, path, body, **{"If-Match": etag})
    if done.status_code == 202:  # a two-person change: applied when another approves it
        assert done.json()["position"] == api.ledger.last_position() > before
        change = done.json()["change"]
        done = api.post("checker", f"/v1/changes/{change}/approve", {}, **{"If-Match": '"1"'})
        assert done.status_code == 200, done.text
        assert done.json()["position"] == api.ledger.last_position() > before
        now = api.get("reader", subject, min_position=api.ledger.last_position())
        assert int(now.headers["ETag"].strip('"')) > int(etag.strip('"'))
        return
    assert done.status_code == 200, done.text
    assert done.json()["position"] == api.ledger.last_position() > before
    assert int(done.headers["ETag"].strip('"')) > int(etag.strip('"'))


def test_a_fund_write_is_answered_even_when_the_views_have_not_reached_the_fund(
        sqlite_settings: Settings) -> None:
    # The views run elsewhere (or lag): a committed adjustment must not be answered 404 because
    # the views do not know the fund yet. Seen under load as a flaky fund_not_found.
    settings = sqlite_settings.model_copy(update={"read_wait_seconds_max": 0.1})
    app = create_app(settings, clock=lambda: TODAY, run_views=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        api = Api(client, {role: app.state.ledger.add_user(f"user.{role}", [role]) for role in ROLES})
        api.tokens["checker"] = app.state.ledger.add_user("user.checker", ["approver"])
        api.fund()
        (fund,) = api.applied(api.post("approver", "/v1/funds/PUB-1/adjust",
                                       {"delta": -1_000_00, "reason": "cut"}))["changed"]
        assert (fund["appropriated"], fund["spent"]) == (999_000_00, 0)
        assert fund["position"] == api.ledger.last_position()
