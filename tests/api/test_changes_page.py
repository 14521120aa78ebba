"""The two-person changes' page says what a change asks as a person reads it: its kind named
in the page's language and its amounts in yuan, never the fen the change stores."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.dashboard_login import page_in_both_languages


def test_a_pending_appropriation_change_shows_its_delta_in_yuan_and_its_kind_in_chinese(
        api: Api) -> None:
    api.school()
    fund = api.fund()
    made = api.ok(api.post("approver", f"/v1/funds/{fund['code']}/adjust",
                           {"delta": -45_519_50, "reason": "按中标价调减"}), 202)
    api.ok(api.get("reader", "/v1/changes", min_position=made["position"]))
    page, english = page_in_both_languages(api.client, api.tokens["approver"], "/dashboard/changes")
    row = page[page.index(made["change"]):]
    row = row[:row.index("</tr>")]
    assert "-4551950" not in row and "-45,519.50" in row, row
    assert "调整预算" in row and "fund_adjust" not in row, row
    assert "调整额=" in row and "原因=按中标价调减" in row, row
    assert "Adjust an appropriation" in english and "-4551950" not in english
