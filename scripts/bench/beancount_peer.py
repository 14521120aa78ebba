"""The peer for replay: the same year's balance movements written as a beancount ledger.

Every row of the views' `ledger_entries` (an allocation's amount, an expenditure, their
adjustments and reversals) becomes one beancount transaction between a fund's equity, the
school's allocation and the school's spending, so that loading the file and computing its
balances does the work a view rebuild does.
"""

from __future__ import annotations

import re
from pathlib import Path

from domain.units import unit_of
from projections.database import ViewDatabase

OPEN_DATE = "2000-01-01"
FETCH_ROWS = 10_000
_NOT_IN_ACCOUNT = re.compile(r"[^A-Za-z0-9-]")


def component(code: str) -> str:
    """A beancount account component: starts with a capital letter or a digit."""
    text = _NOT_IN_ACCOUNT.sub("-", code.upper())
    return text if text[:1].isalnum() else f"X{text}"


def write_ledger(db: ViewDatabase, path: Path) -> int:
    """Writes the file; returns how many transactions it holds."""
    opened: set[str] = set()
    body: list[str] = []
    cursor = db.connection.cursor()
    cursor.execute("SELECT kind, effective_date, school_code, fund_code, unit, delta, position "
                   "FROM ledger_entries ORDER BY position, kind")
    transactions = 0
    while rows := cursor.fetchmany(FETCH_ROWS):
        for kind, day, school, fund, unit, delta, position in rows:
            school_, fund_ = component(school), component(fund)
            allocation = f"Assets:Schools:{school_}:{fund_}"
            other = (f"Equity:Funds:{fund_}" if kind == "allocated"
                     else f"Expenses:Schools:{school_}:{fund_}")
            opened.update((allocation, other))
            amount = unit_of(unit).format(int(delta))
            negated = unit_of(unit).format(-int(delta))
            sign = 1 if kind == "allocated" else -1
            first, second = (amount, negated) if sign > 0 else (negated, amount)
            body.append(f'{day} * "{kind} {position}"\n  {allocation}  {first} {unit}\n'
                        f"  {other}  {second} {unit}\n")
            transactions += 1
    cursor.close()
    with path.open("w", encoding="utf-8") as file:
        file.write('option "operating_currency" "CNY"\n')
        file.writelines(f"{OPEN_DATE} open {account}\n" for account in sorted(opened))
        file.write("\n")
        file.writelines(body)
    return transactions
