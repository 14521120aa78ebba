"""Balances and the rural-support report as the API answers them."""

from __future__ import annotations

from datetime import date

from pydantic import (
    BaseModel,
    Field,
)


class BalanceRow(BaseModel):
    fund: str
    unit: str
    allocated: int
    spent: int
    remaining: int
    fund_name: str | None = None


class BalanceTotal(BaseModel):
    """The school's funds of one unit added up (yuan with yuan, teacher posts with posts)."""

    unit: str
    allocated: int
    spent: int
    remaining: int


class SchoolBalances(BaseModel):
    school: str
    fiscal_year: int
    as_of: date | None
    position: int
    balances: list[BalanceRow]
    totals: list[BalanceTotal] = []


class RuralSupportRow(BaseModel):
    district: str
    locale: str
    unit: str
    schools: int
    students: int
    allocated: int
    spent: int
    per_student_allocated: int | None = Field(description="Minor units per student")
    per_student_spent: int | None = None


class CountyEquity(BaseModel):
    """One indicator of the balanced-development evaluation (教督〔2017〕6号) in one county-level
    unit and stage: its pupil-weighted CV over resource stocks, not over allocations."""

    district: str
    level: str
    indicator: str | None = None
    schools: int | None = None
    students: int | None = None
    difference_coefficient: float | None
    threshold: float
    within_threshold: bool | None


class RuralSupportReport(BaseModel):
    fiscal_year: int
    as_of: date | None
    position: int
    rows: list[RuralSupportRow]
    rural_to_urban_per_student_ratio: float | None
    counties: list[CountyEquity]
