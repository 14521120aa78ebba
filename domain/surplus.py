"""Recovered surplus (结余): money a closed year gives back to the level that paid it.

One account per fiscal year, source level and unit. A year-end close credits it with the
remainders it recovers; a prior-year adjustment (以前年度盈余调整) — an expenditure of a
closed year reversed afterwards — credits it too, without reopening the closed allocation.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actors import Stamp


class RecoveredSurplus(Aggregate):
    @staticmethod
    def id_for(fiscal_year: int, source: str, unit: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"fundledger:surplus:{fiscal_year}:{source}:{unit}")

    @staticmethod
    def create_id(fiscal_year: int, source: str, unit: str, **_: object) -> UUID:
        return RecoveredSurplus.id_for(fiscal_year, source, unit)

    @event("Opened")
    def __init__(self, fiscal_year: int, source: str, unit: str) -> None:
        self.fiscal_year = fiscal_year
        self.source = source
        self.unit = unit
        self.recovered = 0
        self.prior_year_adjustments = 0

    @property
    def balance(self) -> int:
        return self.recovered + self.prior_year_adjustments

    def recover(self, fund_code: str, amount: int, stamp: Stamp) -> None:
        assert amount > 0
        self._recover(fund_code=fund_code, amount=amount, stamp=stamp)

    @event("Recovered")
    def _recover(self, fund_code: str, amount: int, stamp: Stamp) -> None:
        self.recovered += amount

    def adjust_prior_year(self, expenditure_id: UUID, fund_code: str, school_code: str,
                          amount: int, stamp: Stamp) -> None:
        assert amount > 0
        self._adjust_prior_year(expenditure_id=expenditure_id, fund_code=fund_code,
                                school_code=school_code, amount=amount, stamp=stamp)

    @event("PriorYearAdjusted")
    def _adjust_prior_year(self, expenditure_id: UUID, fund_code: str, school_code: str,
                           amount: int, stamp: Stamp) -> None:
        self.prior_year_adjustments += amount
