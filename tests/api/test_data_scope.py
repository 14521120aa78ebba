"""Data scope (issue 14): a token limited to schools reads only those schools — another
school's records answer 404 exactly as an unknown one would, lists leave them out silently —
and the payees of personal payments (student aid, salaries) are masked for readers."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from api.auth import scoped_school_filter, visible_payee, visible_to
from api.cli import app
from domain.actors import PERSONAL_DATA_ROLES, Actor, Role
from domain.personal_data import is_personal_payment
from tests.api.conftest import FISCAL_YEAR, Api
from tests.api.workplace_client import log_in

MINE = "XZ-PX-0001"
OTHER = "XZ-PX-0002"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
PERSON = "张三丰"


@pytest.fixture
def two_schools(stored_api: Api) -> dict[str, Any]:
    """Two schools, each with an approved allocation, a utilities bill and a student-aid
    payment to a person; a reader scoped to the first school."""
    api = stored_api
    api.school(MINE)
    api.school(OTHER)
    api.fund(expenditure_classes=["utilities", "teaching", "student_aid"])
    ids: dict[str, Any] = {}
    for school in (MINE, OTHER):
        allocation = api.allocation(school=school)
        bill = api.expenditure(allocation["id"], voucher=f"V-{school}-1")
        aid = api.expenditure(allocation["id"], voucher=f"V-{school}-2", payee=PERSON,
                              economic_class="student_aid", amount=500_00)
        ids[school] = {"allocation": allocation["id"], "bill": bill["id"], "aid": aid["id"],
                       "position": aid["position"]}
    scoped = api.ok(api.post("admin", "/v1/users", {"name": "school.one", "roles": ["reader"],
                                                     "schools": [MINE]}), 201)
    assert scoped["schools"] == [MINE]
    api.tokens["scoped"] = scoped["token"]
    ids["position"] = ids[OTHER]["position"]
    return ids


def _other_schools_reads(ids: dict[str, Any]) -> list[str]:
    other = ids[OTHER]
    return [f"/v1/schools/{OTHER}", f"/v1/schools/{OTHER}/balances",
            f"/v1/schools/{OTHER}/balances?as_of={FISCAL_YEAR}-06-01",
            f"/v1/schools/{OTHER}/posts", f"/v1/schools/{OTHER}/assets",
            f"/v1/schools/{OTHER}/indicators", f"/v1/allocations/{other['allocation']}",
            f"/v1/expenditures/{other['bill']}", f"/v1/expenditures/{other['aid']}"]


def _unknown(path: str, ids: dict[str, Any]) -> str:
    other = ids[OTHER]
    return (path.replace(OTHER, "XZ-PX-9999").replace(other["allocation"], UNKNOWN_ID)
            .replace(other["bill"], UNKNOWN_ID).replace(other["aid"], UNKNOWN_ID))


def test_another_schools_records_answer_as_unknown_ones(two_schools: dict[str, Any],
                                                       stored_api: Api) -> None:
    api = stored_api
    api.ok(api.get("reader", "/v1/schools", min_position=two_schools["position"]))
    for path in _other_schools_reads(two_schools):
        assert api.get("reader", path).status_code == 200, path  # unscoped: there it is
        hidden = api.get("scoped", path)
        unknown = api.get("scoped", _unknown(path, two_schools))
        assert hidden.status_code == 404, (path, hidden.text)
        # Not 403, and the same words as for a code that does not exist: nothing to enumerate.
        assert hidden.json()["code"] == unknown.json()["code"], path
        assert (hidden.json()["detail"].replace(OTHER, "?")
                == unknown.json()["detail"].replace("XZ-PX-9999", "?")
                or UNKNOWN_ID in unknown.json()["detail"]), path
    for path in (f"/v1/schools/{MINE}", f"/v1/schools/{MINE}/balances",
                 f"/v1/allocations/{two_schools[MINE]['allocation']}",
                 f"/v1/expenditures/{two_schools[MINE]['bill']}"):
        assert api.get("scoped", path).status_code == 200, path


def test_lists_and_reports_leave_other_schools_out_silently(two_schools: dict[str, Any],
                                                            stored_api: Api) -> None:
    api = stored_api
    at = two_schools["position"]
    schools = api.ok(api.get("scoped", "/v1/schools", min_position=at))["items"]
    assert [s["code"] for s in schools] == [MINE]
    for path in ("/v1/allocations", "/v1/expenditures"):
        items = api.ok(api.get("scoped", path, min_position=at))["items"]
        assert items and {i["school"] for i in items} == {MINE}, path
        assert {i["school"] for i in api.ok(api.get("reader", path))["items"]} == {MINE, OTHER}
        asked = api.ok(api.get("scoped", path, school=OTHER))["items"]
        assert asked == [], path
    carry = api.ok(api.get("scoped", "/v1/reports/carry-over", fiscal_year=FISCAL_YEAR))
    assert OTHER not in {r["school"] for r in carry["rows"]}
    exported = api.get("scoped", "/v1/reports/carry-over", fiscal_year=FISCAL_YEAR, format="csv")
    assert exported.status_code == 200 and OTHER not in exported.text
    assert api.ok(api.get("scoped", "/v1/changes"))["items"] == []


def test_payees_of_personal_payments_are_masked_for_readers(two_schools: dict[str, Any],
                                                           stored_api: Api) -> None:
    api = stored_api
    aid, bill = two_schools[MINE]["aid"], two_schools[MINE]["bill"]
    api.ok(api.get("reader", "/v1/expenditures", min_position=two_schools["position"]))
    for role in ("reader", "scoped"):
        assert api.ok(api.get(role, f"/v1/expenditures/{aid}"))["payee"] == "张*"
        listed = api.ok(api.get(role, "/v1/expenditures", school=MINE))["items"]
        assert {e["payee"] for e in listed} == {"张*", "徐州供电公司"}, role
        assert api.ok(api.get(role, f"/v1/expenditures/{bill}"))["payee"] == "徐州供电公司"
        # Filtering by a guessed name does not confirm a personal payment either.
        assert api.ok(api.get(role, "/v1/expenditures", payee=PERSON))["items"] == [], role
    for role in ("officer", "approver", "auditor"):
        assert api.ok(api.get(role, f"/v1/expenditures/{aid}"))["payee"] == PERSON, role
        assert len(api.ok(api.get(role, "/v1/expenditures", payee=PERSON))["items"]) == 2, role
        listed = api.ok(api.get(role, "/v1/expenditures", school=MINE))["items"]
        assert PERSON in {e["payee"] for e in listed}, role


def test_the_dashboard_keeps_to_the_scope_and_masks(two_schools: dict[str, Any],
                                                    stored_api: Api) -> None:
    api = stored_api
    api.ok(api.get("reader", "/v1/schools", min_position=two_schools["position"]))
    client = api.client
    try:
        log_in(api, "scoped")
        listed = client.get("/dashboard/schools")
        other = client.get(f"/dashboard/schools/{OTHER}")
        unknown = client.get("/dashboard/schools/XZ-PX-9999")
        mine = client.get(f"/dashboard/schools/{MINE}")
        overview = client.get("/dashboard")
        work = client.get(f"/dashboard/work/allocations/{two_schools[OTHER]['allocation']}")
        log_in(api, "reader")
        aid_page = client.get(f"/dashboard/work/expenditures/{two_schools[MINE]['aid']}")
        guessed = client.get("/dashboard/work/search", params={"q": PERSON})
        log_in(api, "officer")
        officer = client.get(f"/dashboard/schools/{MINE}")
        found = client.get("/dashboard/work/search", params={"q": PERSON})
    finally:
        client.cookies.clear()
    assert MINE in listed.text and OTHER not in listed.text
    assert other.status_code == unknown.status_code == 404
    assert mine.status_code == 200 and "张*" in mine.text and PERSON not in mine.text
    assert 'id="denied"' in overview.text and "生均公用经费" not in overview.text
    assert PERSON in officer.text
    assert 'id="denied"' in work.text and "徐州供电公司" not in work.text
    assert aid_page.status_code == 200 and "张*" in aid_page.text and PERSON not in aid_page.text
    # Search by a guessed name does not confirm a personal payment to a reader.
    assert two_schools[MINE]["aid"] not in guessed.text
    assert two_schools[MINE]["aid"] in found.text


def test_a_scope_is_for_readers_and_names_existing_schools(stored_api: Api) -> None:
    api = stored_api
    api.school(MINE)
    before = api.ledger.last_position()
    officer = api.post("admin", "/v1/users", {"name": "x.o", "roles": ["officer"],
                                              "schools": [MINE]})
    assert (officer.status_code, officer.json()["code"]) == (422, "invalid_input"), officer.text
    unknown = api.post("admin", "/v1/users", {"name": "x.r", "roles": ["reader"],
                                              "schools": ["XZ-PX-9999"]})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "school_not_found")
    assert api.ledger.last_position() == before
    # The scope given replaces the user's: none is every school again, for every token.
    token = api.ok(api.post("admin", "/v1/users", {"name": "x.r", "roles": ["reader"],
                                                   "schools": [MINE]}), 201)["token"]
    api.ok(api.post("admin", "/v1/users", {"name": "x.r", "roles": ["reader"]}), 201)
    api.tokens["x"] = token
    assert api.ledger.authenticate(token).schools is None
    users = {u["name"]: u for u in api.ok(api.get("admin", "/v1/users"))["items"]}
    assert users["x.r"]["schools"] == []


def test_users_add_with_schools_on_the_command_line(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    api.school(MINE)
    settings = api.client.app.state.settings  # type: ignore[attr-defined]
    monkeypatch.setenv("FUNDLEDGER_DATABASE_URL", settings.database_url)
    added = CliRunner().invoke(app, ["users", "add", "cli.scoped", "--role", "reader",
                                     "--school", MINE])
    assert added.exit_code == 0, added.output
    token = added.output.strip().splitlines()[-1]
    assert api.ledger.authenticate(token).schools == frozenset({MINE})
    listed = CliRunner().invoke(app, ["users", "list"])
    assert f"cli.scoped\treader\t1 token(s)\t{MINE}" in listed.output
    refused = CliRunner().invoke(app, ["users", "add", "cli.bad", "--role", "officer",
                                       "--school", MINE])
    assert refused.exit_code != 0


SCHOOL_CODES = st.sampled_from(["XZ-PX-0001", "XZ-PX-0002", "XZ-TS-0042", "XZ-GL-0007"])


@given(scope=st.none() | st.frozensets(SCHOOL_CODES, max_size=3), asked=st.none() | SCHOOL_CODES,
       rows=st.lists(st.none() | SCHOOL_CODES, max_size=12))
def test_a_scope_never_lets_another_school_through(scope: frozenset[str] | None,
                                                   asked: str | None,
                                                   rows: list[str | None]) -> None:
    """Property: whatever the scope, the filter asked for and the rows, a scoped reader keeps
    exactly its schools' rows (and the rows of no school); an unscoped one keeps every row."""
    actor = Actor("p", frozenset({Role.READER}), scope)
    kept = visible_to(actor, rows, lambda row: row)
    assert kept == [r for r in rows if scope is None or r is None or r in scope]
    school, allowed = scoped_school_filter(actor, asked)
    for code in {r for r in rows if r is not None}:
        # A row passes the views' filter when it is the school asked for (if any) and in the set.
        passes = (school is None or code == school) and (allowed is None or code in allowed)
        assert not passes or actor.sees_school(code)
        assert passes == ((asked is None or code == asked) and actor.sees_school(code))


@given(name=st.text(min_size=1, max_size=40),
       economic_class=st.sampled_from(["student_aid", "salaries", "utilities", "office"]),
       roles=st.frozensets(st.sampled_from(list(Role)), min_size=1))
def test_a_reader_never_reads_a_personal_payees_name(name: str, economic_class: str,
                                                     roles: frozenset[Role]) -> None:
    """Property: a personal payment's payee shows at most its first character to whoever
    holds no officer, approver or auditor role; everyone else reads it whole."""
    shown = visible_payee(Actor("p", roles), name, economic_class)
    if is_personal_payment(economic_class) and not roles & PERSONAL_DATA_ROLES:
        assert shown == name[0] + "*"
    else:
        assert shown == name
