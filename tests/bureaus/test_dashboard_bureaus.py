"""The dashboard's city page and bureau switch (issue 15), on both stores: a supervisor sees
its county-level bureaus side by side and steps into one; a county's token never enters
another county's books."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.bureaus.conftest import PEI, TONGSHAN, YEAR, City
from tests.dashboard_login import dashboard_login


def _as(city: City, user: str) -> TestClient:
    client = city.client
    dashboard_login(client, city.tokens[user])
    client.cookies.set("fundledger_lang", "en")
    return client


def test_a_supervisor_sees_its_counties_and_steps_into_one(city: City) -> None:
    books = {TONGSHAN: city.books(TONGSHAN, "XZ-TS-0001", "Tongshan", "rural", 400, 80_000_00, 1_500_00),
             PEI: city.books(PEI, "XZ-PX-0001", "Pei", "urban", 1_000, 100_000_00, 2_000_00)}
    for bureau in (TONGSHAN, PEI):
        city.ok(city.get("xz.auditor", f"/v1/bureaus/{bureau}/schools",
                         min_position=books[bureau]["position"]))
    client = _as(city, "xz.auditor")
    page = client.get("/dashboard/bureaus")
    assert page.status_code == 200, page.text
    assert 'data-bureau="XZ-TS"' in page.text and 'data-bureau="XZ-PX"' in page.text
    # Tongshan's ¥80,000.00 over 400 pupils and Pei's ¥100,000.00 over 1,000, per pupil.
    assert "200.00" in page.text and "100.00" in page.text
    entered = client.get(f"/dashboard/bureaus/enter/{TONGSHAN}", follow_redirects=False)
    assert entered.status_code == 303
    schools = client.get("/dashboard/schools")
    assert "XZ-TS-0001" in schools.text and "XZ-PX-0001" not in schools.text
    refused = client.post("/dashboard/imports", files={"file": ("a.csv", b"x")}, follow_redirects=False)
    # A supervisor never writes: refused (CSRF first, else sent back to the login).
    assert refused.status_code in (303, 403)


def test_a_county_token_stays_in_its_own_books(city: City) -> None:
    city.books(TONGSHAN, "XZ-TS-0001", "Tongshan", "rural", 400, 80_000_00, 1_500_00)
    city.books(PEI, "XZ-PX-0001", "Pei", "urban", 1_000, 100_000_00, 2_000_00)
    client = _as(city, "ts.auditor")
    client.get(f"/dashboard/bureaus/enter/{PEI}", follow_redirects=False)
    assert "fundledger_bureau" not in client.cookies
    page = client.get("/dashboard/schools")
    assert "XZ-PX-0001" not in page.text
    # A bureau cookie forged by hand: the pages refuse the token there (back to the login).
    client.cookies.set("fundledger_bureau", PEI)
    forged = client.get("/dashboard/schools", follow_redirects=False)
    assert forged.status_code == 303
    assert "/dashboard/login" in forged.headers["location"]


def test_the_city_page_consolidates_the_year_asked_for(city: City) -> None:
    books = city.books(TONGSHAN, "XZ-TS-0001", "Tongshan", "rural", 400, 80_000_00, 1_500_00)
    city.ok(city.get("xz.auditor", f"/v1/bureaus/{TONGSHAN}/schools",
                     min_position=books["position"]))
    client = _as(city, "xz.auditor")
    this_year = client.get("/dashboard/bureaus", params={"year": YEAR}).text
    last_year = client.get("/dashboard/bureaus", params={"year": YEAR - 1}).text
    as_of_last_year = client.get("/dashboard/bureaus", params={"as_of": f"{YEAR - 1}-06-30"}).text
    assert "80,000.00" in this_year
    for page in (last_year, as_of_last_year):  # the books hold nothing before this year
        assert "80,000.00" not in page
        assert f'<option value="{YEAR - 1}" selected>' in page
