"""The inputs of formula funding: per-pupil standards (set, then approved by a second
person), teaching points linked to their parent schools, and enrolment snapshots (from the
schools' history or from rows). The tranches that use them: domain/formula_funding.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from domain.actors import Actor, Role
from domain.classification import Category, Level
from domain.enrolment_snapshot import EnrolmentCount, EnrolmentSnapshot, check_rows
from domain.errors import AlreadyExists, InvalidInput, NotFound
from domain.funding_standard import (
    SMALL_SCHOOL_FLOOR_DEFAULT,
    FundingStandard,
    Rates,
    check_rates,
)
from domain.ledger import FundLedger
from domain.limits import CODE_LENGTH_MAX, NAME_LENGTH_MAX
from domain.rules import check_choice, check_code, check_not_future, check_text, reason_text
from domain.school import School
from domain.tranche import (
    SnapshotNotFound,
)
from domain.unit_of_work import Decision, Outcome


class StandardNotFound(NotFound, code="standard_not_found"):
    """No funding standard has this id."""


class SnapshotExists(AlreadyExists, code="snapshot_exists"):
    """A snapshot's name is its identity: a corrected count is a snapshot of another name."""


class FundingInputs:
    """Standards, teaching points and snapshots over one bureau's ledger."""

    def __init__(self, ledger: FundLedger) -> None:
        self.ledger = ledger

    # ------------------------------------------------------------- standards

    def set_standard(
        self, actor: Actor, *, fiscal_year: int, level: str, category: str, rate: int,
        document: str, boarder_addition: int = 0, special_needs_addition: int = 0,
        small_school_floor: int = SMALL_SCHOOL_FLOOR_DEFAULT, reason: str = "",
        effective_date: date | None = None, idempotency_key: str | None = None,
    ) -> Outcome:
        """Proposes a standard (or a revision of one); it holds once a second person approves."""
        ledger = self.ledger
        role = actor.acting_as(Role.OFFICER)
        level = check_choice(level, Level, "level").value
        category = check_choice(category, Category, "category").value
        check_rates(rate, boarder_addition, special_needs_addition, small_school_floor)
        document = check_text(document, "document (文号)", NAME_LENGTH_MAX)
        reason = reason_text(reason, required=False)
        rates = Rates(rate, boarder_addition, special_needs_addition, small_school_floor, document)
        params = {"fiscal_year": fiscal_year, "level": level, "category": category,
                  "rates": rates.__dict__, "reason": reason, "effective_date": effective_date}

        def decide() -> Decision:
            stamp = ledger.stamp(actor, role, effective_date, idempotency_key, reason)
            standard_id = FundingStandard.id_for(fiscal_year, level, category)
            standard = ledger.find(FundingStandard, standard_id)
            if standard is None:
                standard = FundingStandard(fiscal_year=fiscal_year, level=level,
                                           category=category, rates=rates.__dict__, stamp=stamp)
            else:
                standard.revise(rates, stamp)
            return Decision([standard])

        return ledger.run(actor, "set_standard", params, idempotency_key, decide)

    def decide_standard(
        self, actor: Actor, standard_id: UUID, *, approve: bool, reason: str = "",
        effective_date: date | None = None, idempotency_key: str | None = None,
    ) -> Outcome:
        ledger = self.ledger
        role = actor.acting_as(Role.APPROVER)
        reason = reason_text(reason, required=not approve)
        params = {"standard": str(standard_id), "approve": approve, "reason": reason,
                  "effective_date": effective_date}

        def decide() -> Decision:
            standard = self.standard(standard_id)
            stamp = ledger.stamp(actor, role, effective_date, idempotency_key, reason)
            if approve:
                standard.approve(stamp)
            else:
                standard.reject(stamp)
            return Decision([standard])

        command = "approve_standard" if approve else "reject_standard"
        return ledger.run(actor, command, params, idempotency_key, decide)

    def standard(self, standard_id: UUID) -> FundingStandard:
        return self.ledger.require(FundingStandard, standard_id, StandardNotFound,
                                f"funding standard {standard_id}")

    def standards(self, fiscal_year: int) -> list[FundingStandard]:
        """Every standard of a fiscal year; their ids follow from year, level and category."""
        found = (self.ledger.find(FundingStandard, FundingStandard.id_for(fiscal_year, lv, c))
                 for lv in Level for c in Category)
        return [s for s in found if s is not None]

    def mark_formula_funded(self, actor: Actor, fund: str, *, effective_date: date | None = None,
                            idempotency_key: str | None = None) -> Outcome:
        """From now on the fund refuses a hand-proposed allocation below the per-pupil standard
        for an eligible school unless the proposal gives its reason."""
        ledger = self.ledger
        role = actor.acting_as(Role.OFFICER)
        params = {"fund": fund, "effective_date": effective_date}

        def decide() -> Decision:
            fund_ = ledger._fund(fund)
            fund_.mark_formula_funded(ledger._stamp_in_year(actor, role, fund_, effective_date,
                                                            idempotency_key))
            return Decision([fund_])

        return ledger.run(actor, "mark_formula_funded", params, idempotency_key, decide)

    # ------------------------------------------------------- teaching points

    def link_parent(self, actor: Actor, code: str, *, parent: str,
                    effective_date: date | None = None,
                    idempotency_key: str | None = None) -> Outcome:
        """Makes a school a teaching point (教学点) budgeted inside its parent school."""
        ledger = self.ledger
        role = actor.acting_as(Role.OFFICER)
        parent = check_code(parent, "parent", CODE_LENGTH_MAX)
        params = {"code": code, "parent": parent, "effective_date": effective_date}

        def decide() -> Decision:
            school = ledger._school(code)
            parent_school = ledger._school(parent)
            if parent_school.parent_code is not None:
                msg = f"school {parent} is itself a teaching point of {parent_school.parent_code}"
                raise InvalidInput(msg)
            school.link_parent(parent, ledger.stamp(actor, role, effective_date, idempotency_key))
            return Decision([school])

        return ledger.run(actor, "link_parent", params, idempotency_key, decide)

    # ------------------------------------------------------ enrolment snapshots

    def snapshot_from_history(self, actor: Actor, *, name: str, as_of: date,
                              schools: Sequence[str],
                              idempotency_key: str | None = None) -> Outcome:
        """Freezes the counts each school had reported as of a date; closed schools and schools
        registered later are left out. Each row names the report it came from."""
        ledger = self.ledger
        role = actor.acting_as(Role.OFFICER)
        name = check_text(name, "name", NAME_LENGTH_MAX)
        check_not_future(as_of, ledger.today(), "as_of")
        params = {"name": name, "as_of": as_of, "schools": sorted(schools)}

        def decide() -> Decision:
            rows = []
            for code in schools:
                school = ledger.find(School, School.id_for(code))
                if school is None or (school.closed_on is not None and school.closed_on <= as_of):
                    continue
                report = school.enrolment_report_on(as_of)
                if report.since > as_of:
                    continue  # registered after the snapshot's date
                rows.append(EnrolmentCount.checked(
                    code, report.students, report.boarders or 0, report.special_needs or 0,
                    {"kind": "enrolment_report", "date": report.since.isoformat()},
                    f"school {code}"))
            check_rows(rows, {r.school for r in rows})
            return self._snapshot(actor, role, name, as_of, "history", rows, idempotency_key)

        return ledger.run(actor, "snapshot_from_history", params, idempotency_key, decide)

    def snapshot_from_rows(self, actor: Actor, *, name: str, as_of: date, file_name: str,
                           rows: Sequence[dict[str, Any]],
                           idempotency_key: str | None = None) -> Outcome:
        """Freezes counts imported from the school register's export; every school must be
        registered and named once, every count a whole number of pupils."""
        ledger = self.ledger
        role = actor.acting_as(Role.OFFICER)
        name = check_text(name, "name", NAME_LENGTH_MAX)
        check_not_future(as_of, ledger.today(), "as_of")
        counts = []
        for index, row in enumerate(rows):
            line = int(row.get("line", index + 2))
            school = row.get("school")
            if not isinstance(school, str) or not school.strip():
                msg = f"line {line}: school code is missing"
                raise InvalidInput(msg)
            counts.append(EnrolmentCount.checked(
                school.strip(), row.get("total"), row.get("boarders", 0),
                row.get("special_needs", 0), {"kind": "csv", "file": file_name, "line": line},
                f"line {line} ({school.strip()})"))
        params = {"name": name, "as_of": as_of, "file": file_name,
                  "rows": [c.__dict__ for c in counts]}

        def decide() -> Decision:
            known = {c.school for c in counts
                     if ledger.find(School, School.id_for(c.school)) is not None}
            check_rows(counts, known)
            return self._snapshot(actor, role, name, as_of, "csv", counts, idempotency_key)

        return ledger.run(actor, "snapshot_from_rows", params, idempotency_key, decide)

    def _snapshot(self, actor: Actor, role: Role, name: str, as_of: date, origin: str,
                  rows: list[EnrolmentCount], idempotency_key: str | None) -> Decision:
        if self.ledger.find(EnrolmentSnapshot, EnrolmentSnapshot.id_for(name)) is not None:
            msg = f"an enrolment snapshot named {name!r} already exists"
            raise SnapshotExists(msg)
        stamp = self.ledger.stamp(actor, role, as_of, idempotency_key)
        snapshot = EnrolmentSnapshot.take(name, as_of, origin, rows, stamp)
        return Decision([snapshot])

    def snapshot(self, snapshot_id: UUID) -> EnrolmentSnapshot:
        return self.ledger.require(EnrolmentSnapshot, snapshot_id, SnapshotNotFound,
                                f"enrolment snapshot {snapshot_id}")
