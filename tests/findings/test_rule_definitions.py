"""The expenditure rules take shortcuts over the year's live expenditures (a numbering that
reaches too few schools is never sorted, a fund's category and classes are looked up, not
joined to every row). On random audit facts, as of random days and positions, each rule finds
exactly what its definition, applied plainly to every live expenditure of the year, finds.
The facts are written straight into the view's tables (the rules read nothing else), so
payees, vouchers (Unicode digits among them), amounts near the thresholds, December days,
reversals and a second fiscal year come up in every combination."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projections.database import ViewDatabase
from projections.findings import as_of
from projections.findings.facts import AuditFactsView
from projections.findings.registry import rule_named
from projections.findings.rule import POSITION_UNBOUNDED, Scope

YEAR = 2025
FUNDS = {  # code: (fiscal year, category, allowed classes)
    "PO-2025": (YEAR, "public_operating", "teaching,training,salaries"),
    "EQ-2025": (YEAR, "equipment", "equipment"),
    "PO-2026": (YEAR + 1, "public_operating", "teaching,training"),
}
CLASSES = ("teaching", "training", "salaries", "equipment", "construction")
SCHOOLS = ("GL-P1", "GL-P2", "PZ-P1", "PZ-J1")
PAYEES = ("鸿达", "新华书店", "=cmd")
FORBIDDEN = ("salaries", "construction", "debt_repayment")  # for public operating money

# Few prefixes and small numbers, so runs and repeats are likely; some numbers are written
# with Unicode digits, which Python's `\d` reads as numbers too (１ is 1, ٣ is 3, 1٣ is 13).
vouchers = st.one_of(
    st.builds(lambda prefix, n: f"{prefix}{n}", st.sampled_from(["FP", "FP0", "票", ""]),
              st.sampled_from(["0", "1", "2", "3", "4", "5", "１", "２", "٣", "1٣", "12", "14"])),
    st.sampled_from(["FP", "no number", "A1B"]),
)
amounts = st.one_of(st.integers(1, 30_000_000),
                    st.sampled_from([1_000_000, 2_000_000, 9_000_000, 9_500_000, 9_999_999,
                                     10_000_000, 999_999]))
expenditures = st.lists(st.tuples(
    st.sampled_from(sorted(FUNDS)), st.sampled_from(SCHOOLS), st.sampled_from(PAYEES), vouchers,
    amounts, st.integers(0, 364), st.sampled_from(CLASSES), st.sampled_from(["CNY", "CNY", "BOOK"]),
    st.one_of(st.none(), st.integers(0, 60)),  # reversed this many days later
    st.integers(0, 3),  # which of a school's allocations
), max_size=40)
# One payee's invoices FP1…FP5 at random schools, mixed in: runs across schools come up often.
invoice_pads = st.lists(st.tuples(
    st.sampled_from(sorted(FUNDS)), st.sampled_from(SCHOOLS), st.just("鸿达"),
    st.builds(lambda n: f"FP{n}", st.integers(1, 5)), amounts, st.integers(0, 364),
    st.sampled_from(CLASSES), st.just("CNY"), st.one_of(st.none(), st.integers(0, 60)),
    st.integers(0, 3)), min_size=3, max_size=12)
facts = st.tuples(expenditures, invoice_pads).flatmap(
    lambda both: st.permutations(both[0] + both[1]))


@pytest.fixture(scope="module")
def db() -> Iterator[ViewDatabase]:
    database = ViewDatabase.in_memory()
    AuditFactsView().create_tables(database)
    yield database
    database.close()


def _write(db: ViewDatabase, rows: list[tuple[Any, ...]]) -> int:
    with db.transaction():
        for table in ("findings_expenditures", "findings_funds"):
            db.execute(f"DELETE FROM {table}")
        for code, (year, category, classes) in FUNDS.items():
            db.execute("INSERT INTO findings_funds VALUES (?, ?, ?, 'CNY', 'county', ?, 'none', ?, "
                       "?, 1, 'county')", (code, code, year, category, classes, f"{year}-01-02"))
        position = 10
        for n, (fund, school, payee, voucher, amount, day, klass, unit, reversed_after,
                allocation) in enumerate(rows):
            year = FUNDS[fund][0]
            spent_on = date(year, 1, 1) + timedelta(days=day)
            position += 1 + n % 3
            reversal = (None, None) if reversed_after is None else (
                (spent_on + timedelta(days=reversed_after)).isoformat(), position + 50)
            db.execute("INSERT INTO findings_expenditures VALUES "
                       "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'officer', ?, ?, ?)",
                       (f"x{n}", f"{fund}/{school}/{allocation}", fund, school, year, unit, amount,
                        payee, voucher, spent_on.isoformat(), klass, position, *reversal))
    return position


# ---------------------------------------------------------------- each rule's definition

_NUMBERED = re.compile(r"^(.*?)(\d+)$")


def _duplicates(live: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for x in live:
        groups[(x["payee"], x["voucher"])].append(x["position"])
    return {(key, tuple(p)) for key, p in groups.items() if len(p) > 1}


def _runs(live: list[dict[str, Any]], length_min: int, schools_min: int) -> set[tuple[Any, ...]]:
    numbered: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for x in live:
        if match := _NUMBERED.match(x["voucher"]):
            numbered[(x["payee"], match.group(1))].append((int(match.group(2)), x))
    found = set()
    for items in numbered.values():
        items.sort(key=lambda item: item[0])
        run: list[tuple[int, dict[str, Any]]] = []
        for item in [*items, None]:
            if item is not None and run and item[0] == run[-1][0] + 1:
                run.append(item)
                continue
            if len(run) >= length_min and len({x["school_code"] for _, x in run}) >= schools_min:
                found.add(tuple(x["position"] for _, x in run))
            run = [item] if item is not None else []
    return found


def _surges(live: list[dict[str, Any]], by: str, year: int) -> set[tuple[Any, ...]]:
    total: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    december: dict[str, list[dict[str, Any]]] = defaultdict(list)
    last_days: dict[str, int] = defaultdict(int)
    for x in live:
        if x["unit"] != "CNY":
            continue
        total[x[by]] += x["amount"]
        count[x[by]] += 1
        if x["spent_on"] >= f"{year}-12-01":
            december[x[by]].append(x)
        if x["spent_on"] >= f"{year}-12-22":
            last_days[x[by]] += x["amount"]
    found = set()
    for subject, spent in total.items():
        december_sum = sum(x["amount"] for x in december[subject])
        if count[subject] >= 5 and (december_sum * 10_000 > spent * 5_000
                                    or last_days[subject] * 10_000 > spent * 3_500):
            found.add((subject, tuple(x["position"] for x in december[subject]), december_sum))
    return found


def _found(db: ViewDatabase, rule: str, scope: Scope, **params: Any) -> list[Any]:
    return rule_named(rule).run(db, scope, params)


def _outside_purpose(live: list[dict[str, Any]]) -> set[str]:
    found = set()
    for x in live:
        _, category, classes = FUNDS[x["fund_code"]]
        if x["economic_class"] not in classes.split(",") or (
                category == "public_operating" and x["economic_class"] in FORBIDDEN):
            found.add(x["expenditure_id"])
    return found


@settings(max_examples=150, deadline=None)
@given(facts, st.integers(0, 420), st.integers(0, 60))
def test_each_expenditure_rule_finds_what_its_definition_finds(
        db: ViewDatabase, rows: list[tuple[Any, ...]], day: int, cut: int) -> None:
    last = _write(db, rows)
    for position in (POSITION_UNBOUNDED, max(1, last - cut)):
        scope = Scope(YEAR, date(YEAR, 1, 1) + timedelta(days=day), position)
        live = as_of.expenditures(db, scope)
        assert {(tuple(f.key.values()), f.evidence) for f in _found(db, "duplicate_voucher", scope)} \
            == _duplicates(live)
        for length_min, schools_min in ((3, 2), (2, 1), (2, 3), (1, 0)):
            found = _found(db, "consecutive_invoices", scope, run_length_min=length_min,
                           schools_min=schools_min)
            assert {f.evidence for f in found} == _runs(live, length_min, schools_min)
        for rule, by in (("december_surge", "school_code"), ("december_surge_fund", "fund_code")):
            assert {(next(iter(f.key.values())), f.evidence, f.amount_minor)
                    for f in _found(db, rule, scope)} == _surges(live, by, YEAR)
        assert {f.key["expenditure_id"] for f in _found(db, "round_sum_payment", scope)} == {
            x["expenditure_id"] for x in live
            if x["unit"] == "CNY" and x["amount"] >= 1_000_000 and x["amount"] % 1_000_000 == 0}
        assert {f.key["expenditure_id"] for f in _found(db, "purpose_violation", scope)} \
            == _outside_purpose(live)
