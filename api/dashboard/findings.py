"""The findings page's reads: what each finding is about (school and fund names, the entity
behind each evidence position). The findings themselves come from the cache the API shares
(projections/findings/cache.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from projections import books_queries, journal_queries
from projections.findings.cache import FINDINGS, FindingsAnswer
from projections.findings.registry import RULES_BY_NAME

if TYPE_CHECKING:
    from projections.database import ViewDatabase
    from projections.findings.rule import Finding

CACHE = FINDINGS  # the name the dashboard's tests know
__all__ = ["CACHE", "FindingsAnswer", "describe", "rule_params"]


@dataclass(frozen=True)
class Subject:
    """What a finding is about, for reading: the school and fund (code and name) and the
    other parts of its key (payee, voucher, district, level, …)."""

    school: str | None
    school_name: str | None
    fund: str | None
    fund_name: str | None
    district: str | None
    others: tuple[tuple[str, str], ...]
    entity: str | None  # an allocation or expenditure id: its history in the journal


@dataclass(frozen=True)
class Evidence:
    position: int
    entity_id: str | None
    entity_type: str | None
    event: str | None


@dataclass(frozen=True)
class FindingRow:
    finding: Finding
    subject: Subject
    evidence: tuple[Evidence, ...]


def describe(db: ViewDatabase, findings: list[Finding]) -> list[FindingRow]:
    """Each finding with its subject's names and its evidence's entities, in a few queries."""
    allocation_ids = {str(f.key["allocation_id"]) for f in findings if "allocation_id" in f.key}
    expenditure_ids = {str(f.key["expenditure_id"]) for f in findings if "expenditure_id" in f.key}
    allocations = books_queries.allocation_places(db, allocation_ids)
    expenditures = books_queries.expenditure_places(db, expenditure_ids)
    schools: set[str] = set()
    funds: set[str] = set()
    subjects: list[tuple[str | None, str | None, Finding]] = []
    for f in findings:
        school = f.key.get("school")
        fund = f.key.get("fund")
        if "allocation_id" in f.key:
            school, fund = allocations.get(str(f.key["allocation_id"]), (None, None))
        elif "expenditure_id" in f.key:
            school, fund = expenditures.get(str(f.key["expenditure_id"]), (None, None))[:2]
        schools.update([school] if school else [])
        funds.update([fund] if fund else [])
        subjects.append((school, fund, f))
    school_rows = books_queries.names_of_schools(db, schools)
    fund_names = books_queries.names_of_funds(db, funds)
    events = journal_queries.events_at(db, {int(p) for f in findings for p in f.evidence})
    described = []
    for school, fund, f in subjects:
        name, district = school_rows.get(school, (None, f.key.get("district"))) if school \
            else (None, f.key.get("district"))
        others = tuple((k, str(v)) for k, v in f.key.items()
                       if k not in ("school", "fund", "district", "allocation_id",
                                    "expenditure_id"))
        if "expenditure_id" in f.key and str(f.key["expenditure_id"]) in expenditures:
            voucher, payee = expenditures[str(f.key["expenditure_id"])][2:]
            others += (("payee", str(payee)), ("voucher", str(voucher)))
        entity = f.key.get("allocation_id") or f.key.get("expenditure_id")
        subject = Subject(school, name, fund, fund_names.get(fund) if fund else None, district,
                          others, str(entity) if entity else None)
        evidence = tuple(Evidence(p, *events.get(p, (None, None, None))) for p in f.evidence)
        described.append(FindingRow(f, subject, evidence))
    return described


def rule_params(rule: str) -> dict[str, Any]:
    found = RULES_BY_NAME.get(rule)
    return dict(found.params) if found is not None else {}
