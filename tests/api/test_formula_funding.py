"""Formula funding over HTTP on both stores: standards (two-person), enrolment snapshots,
semester tranches proposed and approved as one batch, and every refusal."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import FISCAL_YEAR, Api

STANDARDS = "/v1/funding-standards"
SNAPSHOTS = "/v1/enrolment-snapshots"
TRANCHES = "/v1/tranches"


def _standard(api: Api, level: str = "primary", rate: int = 800_00, approve: bool = True,
              **fields: Any) -> dict[str, Any]:
    body = {"fiscal_year": FISCAL_YEAR, "level": level, "category": "public_operating",
            "rate": rate, "boarder_addition": 200_00, "special_needs_addition": 6_000_00,
            "document": "徐财教〔2025〕12号", **fields}
    standard = api.ok(api.post("officer", STANDARDS, body), 202)
    if approve:
        standard = api.ok(api.post("approver", f"{STANDARDS}/{standard['id']}/approve", {}))
    return standard


def _bureau(api: Api, fund_amount: int = 1_000_000_00) -> dict[str, Any]:
    """Three primary schools (one a teaching point of another) and a junior school."""
    api.school("XZ-P-1", students=420)
    api.school("XZ-P-2", students=35)
    api.school("XZ-P-3", students=12)
    api.school("XZ-J-1", level="junior", students=600)
    api.ok(api.post("officer", "/v1/schools/XZ-P-1/enrolment",
                    {"students": 431, "boarders": 40, "special_needs": 3,
                     "effective_date": f"{FISCAL_YEAR}-02-20"}))
    api.ok(api.post("officer", "/v1/schools/XZ-P-3/parent", {"parent": "XZ-P-2"}))
    api.fund(amount=fund_amount)
    _standard(api, "primary")
    _standard(api, "junior", rate=1_000_00)
    return api.ok(api.post("officer", SNAPSHOTS, {"name": f"{FISCAL_YEAR}春季", "as_of":
                                                   f"{FISCAL_YEAR}-03-01"}), 201)


def _tranche(snapshot: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"fund": "PUB-1", "snapshot": snapshot["id"], "semester": "spring",
            "effective_date": f"{FISCAL_YEAR}-03-05", **fields}


def test_a_standard_is_a_pending_change_until_another_person_approves_it(stored_api: Api) -> None:
    api = stored_api
    pending = _standard(api, approve=False)
    assert (pending["status"], pending["maker"], pending["in_force"]) == (
        "pending", "user.officer", None)
    assert pending["change"] == pending["id"] and pending["kind"] == "funding_standard"
    listed = api.ok(api.get("reader", STANDARDS, fiscal_year=FISCAL_YEAR))["items"]
    assert [s["status"] for s in listed] == ["pending"]
    approved = api.ok(api.post("approver", f"{STANDARDS}/{pending['id']}/approve", {}))
    assert approved["in_force"]["rate"] == 800_00
    assert approved["in_force"]["small_school_floor"] == 100
    assert approved["in_force"]["document"] == "徐财教〔2025〕12号"
    assert approved["in_force"]["approved_by"] == "user.approver"
    revised = _standard(api, rate=850_00, approve=False)
    assert (revised["status"], revised["in_force"]["rate"], revised["pending"]["rate"]) == (
        "pending", 800_00, 850_00)
    again = api.post("officer", STANDARDS, {"fiscal_year": FISCAL_YEAR, "level": "primary",
                                            "rate": 900_00, "document": "x"})
    assert (again.status_code, again.json()["code"]) == (409, "standard_pending")
    rejected = api.ok(api.post("approver", f"{STANDARDS}/{pending['id']}/reject",
                               {"reason": "文号未生效"}))
    assert rejected["in_force"]["rate"] == 800_00
    assert [h["status"] for h in rejected["history"]] == ["approved", "rejected"]


def test_the_officer_who_set_a_standard_cannot_approve_it(stored_api: Api) -> None:
    api = stored_api
    api.tokens["both"] = api.ledger.add_user("user.both", ["officer", "approver"])
    body = {"fiscal_year": FISCAL_YEAR, "level": "junior", "rate": 1_000_00, "document": "x"}
    pending = api.ok(api.post("both", STANDARDS, body), 202)
    refused = api.post("both", f"{STANDARDS}/{pending['id']}/approve", {})
    assert (refused.status_code, refused.json()["code"]) == (403, "maker_checker")
    bad = api.post("officer", STANDARDS, {**body, "rate": -5})
    assert bad.status_code == 422
    missing = api.post("approver", f"{STANDARDS}/{'0' * 8}-0000-0000-0000-{'0' * 12}/approve", {})
    assert missing.status_code == 404


def test_a_snapshot_freezes_reported_counts_and_names_the_report_of_each(stored_api: Api) -> None:
    api = stored_api
    snapshot = _bureau(api)
    assert (snapshot["origin"], snapshot["schools"]) == ("history", 4)
    found = api.ok(api.get("reader", f"{SNAPSHOTS}/{snapshot['id']}"))
    rows = {r["school"]: r for r in found["rows"]}
    assert (rows["XZ-P-1"]["total"], rows["XZ-P-1"]["boarders"],
            rows["XZ-P-1"]["special_needs"]) == (431, 40, 3)
    assert rows["XZ-P-1"]["source"] == {"kind": "enrolment_report", "date": f"{FISCAL_YEAR}-02-20"}
    assert rows["XZ-P-2"]["source"]["date"] == f"{FISCAL_YEAR}-01-01"
    # A later report does not change the frozen snapshot.
    api.ok(api.post("officer", "/v1/schools/XZ-P-1/enrolment", {"students": 500}))
    assert api.ok(api.get("reader", f"{SNAPSHOTS}/{snapshot['id']}"))["rows"] == found["rows"]
    twice = api.post("officer", SNAPSHOTS, {"name": f"{FISCAL_YEAR}春季",
                                            "as_of": f"{FISCAL_YEAR}-03-01"})
    assert (twice.status_code, twice.json()["code"]) == (409, "snapshot_exists")


def test_a_snapshot_imported_from_csv_keeps_its_lines_and_refuses_bad_rows(stored_api: Api) -> None:
    api = stored_api
    api.school("XZ-P-1")
    api.school("XZ-P-2")
    headers = api.headers("officer", **{"Content-Type": "text/csv"})
    params = {"name": "register-2025", "as_of": f"{FISCAL_YEAR}-09-01"}
    csv = "学校代码,在校生数,寄宿生数,特殊需要学生数\r\nXZ-P-1,410,12,1\r\nXZ-P-2,88,0,0\r\n"
    made = api.client.post(SNAPSHOTS, content=csv.encode(), params=params, headers=headers)
    assert made.status_code == 201, made.text
    rows = made.json()["rows"]
    assert [(r["school"], r["total"], r["source"]["line"]) for r in rows] == [
        ("XZ-P-1", 410, 2), ("XZ-P-2", 88, 3)]
    last = api.ledger.last_position()
    for bad, code in (
        ("school,total\r\nXZ-P-1,10\r\nXZ-NOPE,5\r\n", "unknown_schools"),
        ("school,total\r\nXZ-P-1,10\r\nXZ-P-1,5\r\n", "duplicate_schools"),
        ("school,total\r\nXZ-P-1,-3\r\n", "invalid_input"),
        ("school,total\r\nXZ-P-1,12.5\r\n", "invalid_input"),
        ("school,total,boarders\r\nXZ-P-1,10,11\r\n", "invalid_input"),
    ):
        refused = api.client.post(SNAPSHOTS, content=bad.encode(),
                                  params={**params, "name": code + bad[-6:].strip()},
                                  headers=headers)  # a name holds no line breaks
        assert (refused.status_code, refused.json()["code"]) == (422, code), bad
    for rows_in in ([{"school": "XZ-P-1", "total": -1}], [{"school": "XZ-P-1", "total": 1.5}]):
        refused = api.post("officer", SNAPSHOTS, {**params, "name": "json", "rows": rows_in})
        assert refused.status_code == 422
    assert api.ledger.last_position() == last


def test_a_tranche_previews_then_proposes_and_approves_as_one_batch(stored_api: Api) -> None:
    api = stored_api
    snapshot = _bureau(api)
    last = api.ledger.last_position()
    preview = api.ok(api.post("officer", TRANCHES, _tranche(snapshot)))
    assert api.ledger.last_position() == last  # a preview writes nothing
    lines = {line["school"]: line for line in preview["lines"]}
    assert set(lines) == {"XZ-P-1", "XZ-P-2", "XZ-J-1"}  # XZ-P-3 counts with XZ-P-2
    big = lines["XZ-P-1"]
    assert (big["pupils"], big["counted_pupils"], big["annual"], big["amount"]) == (
        431, 431, 431 * 800_00 + 40 * 200_00 + 3 * 6_000_00, 18_540_000)
    small = lines["XZ-P-2"]
    assert (small["pupils"], small["teaching_points"], small["counted_pupils"],
            small["amount"]) == (47, ["XZ-P-3"], 100, 40_000_00)
    assert lines["XZ-J-1"]["amount"] == 600 * 1_000_00 // 2
    assert preview["total"] == sum(line["amount"] for line in preview["lines"])
    assert (preview["available"], preview["shortfall"]) == (1_000_000_00, 0)
    assert preview["total_text"] == "525,400.00 元"

    proposed = api.ok(api.post("officer", TRANCHES, _tranche(snapshot, preview=False,
                                                              plan=preview["plan"])), 201)
    assert proposed["status"] == "proposed" and proposed["total"] == preview["total"]
    assert proposed["position"] == api.ledger.last_position()
    allocation = api.ok(api.get("reader", f"/v1/allocations/{lines_of(proposed)['XZ-P-2']}"))
    assert (allocation["status"], allocation["amount"]) == ("proposed", 40_000_00)
    formula = allocation["formula"]
    assert (formula["tranche"], formula["snapshot"], formula["counted_pupils"],
            formula["rate"], formula["semester"]) == (
        proposed["id"], snapshot["id"], 100, 800_00, "spring")

    self_approval = api.post("officer", f"{TRANCHES}/{proposed['id']}/approve", {})
    assert self_approval.status_code == 403
    approved = api.ok(api.post("approver", f"{TRANCHES}/{proposed['id']}/approve", {
        "exclude": [{"school": "XZ-J-1", "reason": "在校生数待核实"}],
        "effective_date": f"{FISCAL_YEAR}-03-10"}))
    assert approved["status"] == "approved"
    assert approved["excluded"] == [{"school": "XZ-J-1", "reason": "在校生数待核实"}]
    ids = lines_of(approved)
    statuses = {s: api.ok(api.get("reader", f"/v1/allocations/{i}"))["status"]
                for s, i in ids.items()}
    assert statuses == {"XZ-P-1": "approved", "XZ-P-2": "approved", "XZ-J-1": "proposed"}
    fund = api.ok(api.get("reader", "/v1/funds/PUB-1"))
    assert fund["allocated"] == 18_540_000 + 40_000_00
    listed = api.ok(api.get("reader", "/v1/funds", fiscal_year=FISCAL_YEAR,
                            min_position=approved["position"]))["items"]
    assert listed[0]["allocated"] == 18_540_000 + 40_000_00  # the views agree
    balances = api.ok(api.get("reader", "/v1/schools/XZ-P-1/balances", fiscal_year=FISCAL_YEAR,
                              min_position=approved["position"]))["balances"]
    assert [(b["fund"], b["allocated"]) for b in balances] == [("PUB-1", 18_540_000)]
    again = api.post("approver", f"{TRANCHES}/{proposed['id']}/approve", {})
    assert (again.status_code, again.json()["code"]) == (409, "not_proposed")
    second = api.post("officer", TRANCHES, _tranche(snapshot, preview=False))
    assert (second.status_code, second.json()["code"]) == (409, "tranche_exists")


def lines_of(tranche: dict[str, Any]) -> dict[str, str]:
    return {line["school"]: line["allocation"] for line in tranche["lines"]}


def test_a_rejected_tranche_frees_its_semester_and_rejects_every_allocation(stored_api: Api) -> None:
    api = stored_api
    snapshot = _bureau(api)
    proposed = api.ok(api.post("officer", TRANCHES, _tranche(snapshot, preview=False)), 201)
    rejected = api.ok(api.post("approver", f"{TRANCHES}/{proposed['id']}/reject",
                               {"reason": "标准文号有误"}))
    assert rejected["status"] == "rejected"
    for allocation_id in lines_of(proposed).values():
        assert api.ok(api.get("reader", f"/v1/allocations/{allocation_id}"))["status"] == "rejected"
    again = api.ok(api.post("officer", TRANCHES, _tranche(snapshot, preview=False)), 201)
    assert again["id"] != proposed["id"]


def test_a_tranche_beyond_the_fund_is_refused_naming_the_shortfall(stored_api: Api) -> None:
    api = stored_api
    snapshot = _bureau(api, fund_amount=500_000_00)
    last = api.ledger.last_position()
    preview = api.ok(api.post("officer", TRANCHES, _tranche(snapshot)))
    assert preview["shortfall"] == preview["total"] - 500_000_00
    refused = api.post("officer", TRANCHES, _tranche(snapshot, preview=False))
    assert (refused.status_code, refused.json()["code"]) == (409, "tranche_exceeds_available")
    assert "short by ¥25,400.00" in refused.json()["detail"]
    assert api.ledger.last_position() == last


def test_levels_without_a_standard_are_listed_and_block_the_proposal(stored_api: Api) -> None:
    api = stored_api
    snapshot = _bureau(api)
    api.school("XZ-K-1", level="kindergarten", students=90)
    api.school("XZ-S-1", level="special", students=40)
    later = api.ok(api.post("officer", SNAPSHOTS, {"name": "all", "as_of": f"{FISCAL_YEAR}-03-01"}),
                   201)
    assert later["schools"] == snapshot["schools"] + 2
    preview = api.ok(api.post("officer", TRANCHES, _tranche(later)))
    assert preview["missing_standards"] == [{"level": "kindergarten", "schools": 1},
                                            {"level": "special", "schools": 1}]
    refused = api.post("officer", TRANCHES, _tranche(later, preview=False))
    assert (refused.status_code, refused.json()["code"]) == (409, "standard_missing")
    assert "kindergarten" in refused.json()["detail"]


def test_a_school_closed_after_the_preview_fails_the_proposal_by_name(stored_api: Api) -> None:
    api = stored_api
    snapshot = _bureau(api)
    preview = api.ok(api.post("officer", TRANCHES, _tranche(snapshot)))
    api.ok(api.post("officer", "/v1/schools/XZ-J-1/close",
                    {"reason": "撤并", "effective_date": f"{FISCAL_YEAR}-03-02"}))
    last = api.ledger.last_position()
    refused = api.post("officer", TRANCHES, _tranche(snapshot, preview=False, plan=preview["plan"]))
    assert (refused.status_code, refused.json()["code"]) == (409, "plan_changed")
    assert "XZ-J-1" in refused.json()["detail"]
    assert api.ledger.last_position() == last
    fresh = api.ok(api.post("officer", TRANCHES, _tranche(snapshot)))
    assert {e["school"] for e in fresh["excluded"]} == {"XZ-J-1"}


def test_tranche_input_is_checked(api: Api) -> None:
    snapshot = _bureau(api)
    for body, status in (
        (_tranche(snapshot, semester="summer"), 422),
        (_tranche(snapshot, share=1.5), 422),
        (_tranche(snapshot, share=0), 422),
        (_tranche(snapshot, fund="NOPE"), 404),
        (_tranche({"id": "00000000-0000-0000-0000-000000000000"}), 404),
    ):
        refused = api.post("officer", TRANCHES, body)
        assert refused.status_code == status, (body, refused.text)
    assert api.post("reader", TRANCHES, _tranche(snapshot)).status_code == 403
    assert api.get("reader", f"{TRANCHES}/00000000-0000-0000-0000-000000000000").status_code == 404


def test_a_formula_funded_fund_refuses_a_hand_amount_below_the_standard_without_a_reason(
        stored_api: Api) -> None:
    api = stored_api
    _bureau(api)
    marked = api.ok(api.post("officer", "/v1/funds/PUB-1/formula-funded", {}))
    assert marked["formula_funded"] is True
    body = {"fund": "PUB-1", "school": "XZ-P-2", "amount": 30_000_00, "purpose": "春季公用经费",
            "effective_date": f"{FISCAL_YEAR}-03-05"}
    last = api.ledger.last_position()
    refused = api.post("officer", "/v1/allocations", body)
    assert (refused.status_code, refused.json()["code"]) == (409, "below_standard")
    assert "¥40,000.00 a semester" in refused.json()["detail"]
    assert api.ledger.last_position() == last
    at_standard = api.ok(api.post("officer", "/v1/allocations", {**body, "amount": 40_000_00}), 201)
    assert at_standard["amount"] == 40_000_00
    reason = "与教学点合并核算，另行拨付"
    accepted = api.ok(api.post("officer", "/v1/allocations",
                               {**body, "below_standard_reason": reason}), 201)
    findings = api.ok(api.get("auditor", "/v1/audit/findings", fiscal_year=FISCAL_YEAR,
                              rule="below_standard_accepted", min_position=accepted["position"]))
    listed = findings["items"]
    assert [f["key"] for f in listed] == [{"allocation": accepted["id"]}]
    assert reason in listed[0]["message"] and listed[0]["amount_minor"] == 10_000_00
