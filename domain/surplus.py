"""Recovered surplus (结余): money a closed year gives back to the level that paid it.

One account per fiscal year, source level and unit. A year-end close credits it with the
remainders it recovers; a prior-year adjustment (以前年度盈余调整) — an expenditure of a
closed year reversed afterwards — credits it too, without reopening the closed allocation.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from domain.actors import Stamp
from domain.natural_keys import KeyedAggregate, natural_id


class RecoveredSurplus(KeyedAggregate):
    @staticmethod
    def id_for(fiscal_year: int, source: str, unit: str) -> UUID:
        return natural_id("surplus", fiscal_year, source, unit)

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
