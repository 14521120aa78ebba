"""POST /v1/imports over HTTP: applied with a position, or refused with every bad row."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api

HEADER = "学校代码,资金代码,金额(元),用途,生效日期"


def _upload(api: Api, role: str, text: str, **headers: str) -> Any:
    return api.client.post("/v1/imports", files={"file": ("march.csv", text.encode(), "text/csv")},
                           headers=api.headers(role, **headers))


def test_an_applied_import_answers_201_with_its_position_and_can_be_read_back(api: Api) -> None:
    api.school()
    api.fund()
    text = f"{HEADER}\nXZ-PX-0001,PUB-1,1000.50,春季公用经费,2025-03-01\n"
    result = api.ok(_upload(api, "officer", text, **{"Idempotency-Key": "k1"}), 201)
    assert (result["status"], result["rows"], result["applied"]) == ("applied", 1, 1)
    assert result["position"] == api.ledger.last_position()
    assert result["filename"] == "march.csv"
    again = _upload(api, "officer", text, **{"Idempotency-Key": "k1"})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert api.ok(api.get("auditor", f"/v1/imports/{result['id']}"))["applied"] == 1
    balances = api.ok(api.get("reader", "/v1/allocations", school="XZ-PX-0001",
                              min_position=result["position"]))
    assert [a["amount"] for a in balances["items"]] == [100_050]


def test_a_file_with_a_bad_row_is_refused_as_a_problem_listing_it(api: Api) -> None:
    api.school()
    api.fund()
    before = api.ledger.last_position()
    text = (f"{HEADER}\nXZ-PX-0001,PUB-1,10,a,2025-03-01\nXZ-PX-0001,PUB-1,ten,b,2025-03-01\n"
            "XZ-PX-0001,NOPE,10,c,2025-03-01\n")
    response = _upload(api, "officer", text)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "import_rejected"
    assert [(e["line"], e["code"]) for e in body["import"]["errors"]] == [
        (3, "invalid_input"), (4, "fund_not_found")]
    assert api.ledger.last_position() == before
    recorded = api.ok(api.get("officer", f"/v1/imports/{body['import']['id']}"))
    assert recorded["status"] == "rejected" and recorded["bad_rows"] == 2


def test_a_raw_csv_body_is_accepted_too(api: Api) -> None:
    api.school()
    api.fund()
    response = api.client.post(
        "/v1/imports", content=f"{HEADER}\nXZ-PX-0001,PUB-1,1,a,2025-03-01\n".encode(),
        headers=api.headers("officer", **{"Content-Type": "text/csv"}))
    assert api.ok(response, 201)["applied"] == 1


def test_only_officers_import_and_readers_cannot_read_imports(api: Api) -> None:
    assert _upload(api, "approver", HEADER).status_code == 403
    assert _upload(api, "auditor", HEADER).status_code == 403
    assert api.client.post("/v1/imports", content=b"x").status_code == 401
    assert api.get("reader", "/v1/imports/00000000-0000-0000-0000-000000000000").status_code == 403
    assert api.get("auditor", "/v1/imports/00000000-0000-0000-0000-000000000000").status_code == 404


def test_a_file_whose_columns_are_wrong_is_a_422_problem(api: Api) -> None:
    response = _upload(api, "officer", "学校代码,金额\nX,1\n")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


def test_the_template_downloads_as_csv_and_imports_as_is(api: Api) -> None:
    response = api.get("reader", "/v1/imports/template", kind="expenditures", lang="zh")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    assert "凭证号" in response.content.decode("utf-8-sig").splitlines()[0]


def test_the_imports_so_far_are_listed_newest_first_in_pages(api: Api) -> None:
    api.school()
    api.fund()
    assert api.ok(api.get("auditor", "/v1/imports"))["items"] == []
    first = api.ok(_upload(api, "officer", f"{HEADER}\nXZ-PX-0001,PUB-1,10,a,2025-03-01\n"), 201)
    refused = _upload(api, "officer", f"{HEADER}\nXZ-PX-0001,NOPE,10,a,2025-03-01\n").json()["import"]
    third = api.ok(_upload(api, "officer", f"{HEADER}\nXZ-PX-0001,PUB-1,20,b,2025-03-02\n"), 201)
    listed = api.ok(api.get("auditor", "/v1/imports"))["items"]
    assert {i["id"] for i in listed} == {first["id"], refused["id"], third["id"]}
    assert [i["started_at"] for i in listed] == sorted((i["started_at"] for i in listed), reverse=True)
    assert {i["id"]: i["status"] for i in listed}[refused["id"]] == "rejected"
    page = api.ok(api.get("auditor", "/v1/imports", limit=2))
    assert len(page["items"]) == 2 and page["next"]
    rest = api.ok(api.client.get(page["next"], headers=api.headers("auditor")))
    assert [i["id"] for i in page["items"] + rest["items"]] == [i["id"] for i in listed]
    assert api.get("reader", "/v1/imports").status_code == 403


def test_row_errors_speak_the_users_language(api: Api) -> None:
    """Codes stay codes; titles and reasons follow `lang`, else Accept-Language, else English."""
    api.school()
    api.fund()
    text = (f"{HEADER}\nXZ-PX-0001,PUB-1,ten,a,2025-03-01\nXZ-PX-0001,NOPE,10,c,2025-03-01\n"
            "XZ-PX-0001,PUB-1,99999999.00,d,2025-03-01\n")
    chinese = _upload(api, "officer", text, **{"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}).json()
    errors = chinese["import"]["errors"]
    assert [(e["line"], e["code"]) for e in errors] == [
        (2, "invalid_input"), (3, "fund_not_found"), (4, "over_allocation")]
    assert [e["title"] for e in errors] == ["输入无效", "资金不存在", "拨款超过资金预算"]
    assert errors[0]["detail"] == "金额 'ten' 不是以元为单位的数字（如 1234.50）"
    assert errors[1]["detail"] == "资金不存在：NOPE"
    assert errors[2]["detail"] == "资金 PUB-1 未分配余额 1,000,000.00 元，申请 99,999,999.00 元"
    assert "金额 'ten'" in chinese["detail"]
    english = _upload(api, "officer", text, **{"Accept-Language": "en-GB, zh;q=0.5"}).json()
    assert [e["title"] for e in english["import"]["errors"]][:2] == ["Invalid input", "Fund not found"]
    assert "was asked" in english["import"]["errors"][2]["detail"]
    recorded = f"/v1/imports/{chinese['import']['id']}"
    assert api.ok(api.get("officer", recorded))["errors"][1]["detail"] == "fund NOPE not found"
    assert api.ok(api.get("officer", recorded, lang="zh"))["errors"][1]["detail"] == "资金不存在：NOPE"
    assert _upload_lang(api, text, "fr").status_code == 422  # an unknown language is refused
    assert _upload_lang(api, text, "fr").json()["code"] == "validation_error"
    assert api.get("officer", recorded, lang="fr").status_code == 422


def _upload_lang(api: Api, text: str, lang: str) -> Any:
    return api.client.post(f"/v1/imports?lang={lang}",
                           files={"file": ("march.csv", text.encode(), "text/csv")},
                           headers=api.headers("officer"))
