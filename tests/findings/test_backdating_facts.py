"""The backdating rule reads the few late book entries the audit facts keep (each entry's
lateness counted in Python as the page applies) instead of computing every journal entry's
lateness in SQL. Both must count a day alike: the bureau's calendar day of the UTC record
time less the effective date, across the bureau's midnight (16:00 UTC) and in any time zone
the record time was written in; and the rule must find what the journal's scan finds."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.clock import recording_clock
from projections.database import ViewDatabase
from projections.findings.backdating import BOOK_ENTRIES
from projections.findings.rule import Scope
from projections.journal import days_late, late_entries
from tests.findings.conftest import YEAR, Bureau

zones = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5)),
                         timezone(timedelta(hours=5, minutes=45))])
# Record times bunched around the bureau's midnight (16:00 UTC), where a day turns.
record_times = st.builds(
    lambda day, seconds, zone: (datetime.combine(day, time(16), tzinfo=UTC)
                                + timedelta(seconds=seconds)).astimezone(zone),
    st.dates(date(2024, 1, 1), date(2027, 12, 31)), st.integers(-90_000, 90_000), zones)


@settings(max_examples=300)
@given(record_times, st.dates(date(2024, 1, 1), date(2027, 12, 31)))
def test_python_counts_days_late_as_the_journals_sql_does(recorded_at: datetime, day: date) -> None:
    db = ViewDatabase.in_memory()
    in_sql = db.scalar("SELECT CAST(julianday(date(?, '+8 hours')) - julianday(?) AS INTEGER)",
                       (recorded_at.isoformat(), day.isoformat()))
    assert days_late(recorded_at, day) == in_sql


def test_the_rule_finds_what_the_journals_scan_finds(bureau: Bureau) -> None:
    allocation = bureau.allocations["GL-P1"]
    # Recorded 0, 1, 29, 30, 31 and 75 days after the date, on either side of the bureau's
    # midnight (15:59:59 UTC is still the day before in Xuzhou; 16:00 is the next day).
    for n, (days, utc_time) in enumerate((
            (0, time(15, 59, 59)), (0, time(16)), (1, time(15, 59, 59)), (29, time(16)),
            (30, time(15, 59, 59)), (30, time(16)), (31, time(1)), (75, time(20)))):
        spent_on = date(YEAR, 4, 1) + timedelta(days=n)
        moment = datetime.combine(spent_on + timedelta(days=days), utc_time, tzinfo=UTC)
        with recording_clock(lambda moment=moment: moment):
            bureau.spend(allocation, 1_000 + n, spent_on)
    facts = bureau.facts()
    for days_max in (-1, 0, 1, 30, 40):
        for as_of in (date(YEAR, 4, 5), date(YEAR, 12, 31)):
            found = bureau.findings("backdated_entry", as_of=as_of, days_max=days_max)
            scanned = late_entries(facts, sorted(BOOK_ENTRIES), date(YEAR, 1, 1), as_of,
                                   Scope.year_end(YEAR).position_max, days_max)
            assert [(f.evidence[0], f.measure) for f in found] == [
                (row["position"], row["days_late"]) for row in scanned]
    assert len(bureau.findings("backdated_entry", days_max=0)) == 7
