"""Narrowing a read to one county-level unit and/or one school, or to what was in effect by a
business date: the clauses and their values, the same for every view's queries."""

from __future__ import annotations

from datetime import date
from typing import Any


def scope_where(district: str | None, school: str | None) -> list[str]:
    """The clauses that narrow a read to one county-level unit and/or one school."""
    return ((["district = ?"] if district is not None else [])
            + (["school_code = ?"] if school is not None else []))


def scope_sql(alias: str, district: str | None, school: str | None) -> str:
    """The same clauses on a table's alias, each led by AND."""
    return "".join(f" AND {alias}.{clause}" for clause in scope_where(district, school))


def scope_params(district: str | None, school: str | None) -> list[str]:
    """The clauses' values, in their order."""
    return [v for v in (district, school) if v is not None]


def in_effect_by(where: str, params: list[Any], as_of: date | None, alias: str = "") -> str:
    """`where` narrowed to the rows in effect on or before the business date `as_of` (every
    row when None); the date joins `params`. `alias` is the table's, with its dot (`e.`)."""
    if as_of is None:
        return where
    params.append(as_of.isoformat())
    return f"{where} AND {alias}effective_date <= ?"
