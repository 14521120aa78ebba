"""Narrowing a read to one county-level unit and/or one school: the clauses and their values,
the same for every view's queries that take `district` and `school`."""

from __future__ import annotations


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
