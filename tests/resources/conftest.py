"""A small county for the stocks' tests: three schools of Pei, one of Feng."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.ledger import FundLedger
from tests.conftest import OFFICER


def register(ledger: FundLedger, code: str, *, district: str = "Pei", level: str = "primary",
             locale: str = "rural", students: int = 400, day: date = date(2025, 1, 2)) -> Any:
    return ledger.register_school(OFFICER, code=code, name=f"{code} 小学", district=district,
                                  level=level, locale=locale, poverty_area=False,
                                  students=students, effective_date=day)


@pytest.fixture
def county(ledger: FundLedger) -> FundLedger:
    register(ledger, "PX-1", locale="urban", students=1200)
    register(ledger, "PX-2", students=300)
    register(ledger, "PX-9", level="nine_year", students=900)
    register(ledger, "FX-1", district="Feng")
    return ledger


from tests.api.conftest import api, stored_api  # noqa: E402, F401  (the API fixtures, here too)
