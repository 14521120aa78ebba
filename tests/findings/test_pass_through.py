from __future__ import annotations

from datetime import date

from tests.findings.conftest import Bureau


def test_an_allocation_approved_after_the_deadline_is_late_with_its_evidence(bureau: Bureau) -> None:
    received = bureau.open_fund("TR-2025", "equipment", date(2025, 3, 2))
    allocation, (proposed, approved) = bureau.allocate(
        "TR-2025", "GL-P1", 5_000_037, date(2025, 3, 10), date(2025, 6, 1)
    )
    (finding,) = bureau.findings("pass_through_late")
    assert finding.key == {"allocation_id": str(allocation)}
    assert finding.measure == 91
    assert finding.threshold == 60  # a provincial special transfer (预算法 art. 52 ¶4)
    assert finding.evidence == (received, proposed, approved)
    assert "provincial special transfer" in finding.message and "省级专项转移支付" in finding.message_zh
    assert bureau.findings("pass_through_late", provincial_special_days=91) == []


def test_a_proposal_still_waiting_past_the_deadline_is_late_as_of_that_day(bureau: Bureau) -> None:
    bureau.open_fund("TR-2025", "equipment", date(2025, 3, 2))
    allocation, _ = bureau.allocate("TR-2025", "PZ-J1", 5_000_037, date(2025, 3, 10), None)
    assert bureau.findings("pass_through_late", as_of=date(2025, 5, 1)) == []
    (finding,) = bureau.findings("pass_through_late", as_of=date(2025, 5, 2))
    assert finding.key == {"allocation_id": str(allocation)}
    assert finding.measure == 61


def test_each_step_has_its_own_deadline(bureau: Bureau) -> None:
    """The county's own budget reaches its schools within 15 days (art. 52 ¶1); a general
    transfer from the city within 30, a special one within 60 (¶4)."""
    day = date(2025, 3, 3)
    bureau.open_fund("OWN-2025", "public_operating", day, source="county")
    bureau.open_fund("CITY-GEN", "public_operating", day, source="municipal")
    bureau.open_fund("CITY-SPE", "equipment", day, source="municipal")
    for fund in ("OWN-2025", "CITY-GEN", "CITY-SPE"):
        for approved in (date(2025, 3, 18), date(2025, 3, 19), date(2025, 4, 2), date(2025, 4, 3),
                         date(2025, 5, 3)):
            bureau.allocate(fund, "GL-P1", 1_000_00, day, approved)
    late = {(f.message.split()[2], f.measure, f.threshold) for f in bureau.findings("pass_through_late")}
    assert late == {("OWN-2025", 16, 15), ("OWN-2025", 30, 15), ("OWN-2025", 31, 15),
                    ("OWN-2025", 61, 15), ("CITY-GEN", 31, 30), ("CITY-GEN", 61, 30),
                    ("CITY-SPE", 61, 60)}


def test_the_deadline_runs_from_the_day_the_money_was_received(bureau: Bureau) -> None:
    """A fund opened on 20 March for money received on 1 March: 15 days from 1 March."""
    bureau.open_fund("OWN-2025", "public_operating", date(2025, 3, 20), source="county",
                     received_on=date(2025, 3, 1))
    bureau.allocate("OWN-2025", "GL-P1", 1_000_00, date(2025, 3, 20), date(2025, 3, 21))
    (finding,) = bureau.findings("pass_through_late")
    assert (finding.measure, finding.threshold) == (20, 15)
