"""Backdating (both stores, read over HTTP): entries recorded more than `days_max` (30) days
after their effective date are findings naming who recorded them and how late; entries
recorded on time, or exactly 30 days late, are not. Recording times are set the way the
generator sets them (domain.clock.recording_clock)."""

from __future__ import annotations

from datetime import date, timedelta

from domain.clock import office_hours, recording_clock
from tests import factories as f
from tests.api.conftest import Api
from tests.conftest import OFFICER


def test_entries_recorded_long_after_their_date_are_found(stored_api: Api) -> None:
    ledger = stored_api.ledger
    with recording_clock(office_hours(date(2025, 1, 2))):
        f.school(ledger)
        f.fund(ledger)
    with recording_clock(office_hours(f.APPROVED_ON)):
        allocation = f.approved(ledger)
    spent = {}
    for voucher, spent_on, late in (("V-1", date(2025, 3, 2), 0), ("V-2", date(2025, 3, 3), 30),
                                    ("V-3", date(2025, 3, 4), 31), ("V-4", date(2025, 5, 6), 75)):
        with recording_clock(office_hours(spent_on + timedelta(days=late))):
            spent[voucher] = f.expenditure(ledger, allocation, amount=12_345_67, voucher=voucher,
                                           spent_on=spent_on).subject.id
    answer = stored_api.ok(stored_api.get(
        "auditor", "/v1/audit/findings", fiscal_year=2025, rule="backdated_entry",
        min_position=ledger.last_position()))
    found = {item["key"]["entity_id"]: item for item in answer["items"]}
    assert set(found) == {str(spent["V-3"]), str(spent["V-4"])}
    late = found[str(spent["V-4"])]
    assert (late["measure"], late["threshold"], late["measure_unit"]) == (75, 30, "days")
    assert late["key"]["event"] == "Expenditure.Recorded"
    assert late["amount_minor"] == 12_345_67 and late["unit"] == "CNY"
    assert OFFICER.user_id in late["message"] and "75 days later" in late["message"]
    assert "¥12,345.67" in late["message"] or "12,345.67" in late["message"]
    assert "晚 75 天" in late["message_zh"] and OFFICER.user_id in late["message_zh"]
    assert len(late["evidence"]) == 1
    # As of a day before the late entry's date, it is not counted yet.
    earlier = stored_api.ok(stored_api.get(
        "auditor", "/v1/audit/findings", fiscal_year=2025, rule="backdated_entry",
        as_of="2025-04-30"))
    assert [i["key"]["entity_id"] for i in earlier["items"]] == [str(spent["V-3"])]
