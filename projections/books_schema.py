"""The books view's tables (projections/books.py): their layout, and the statements that
write a page's rows. One DDL for SQLite and PostgreSQL: dates are ISO text, money BIGINT minor
units. `projections/view_schema.py` fingerprints what `create_tables` runs from here."""

from __future__ import annotations

from collections.abc import Sequence

SCHOOL_COLUMNS = ("school_code", "school_id", "name", "district", "level", "locale",
                  "locale_since", "poverty_area", "students", "students_since", "status",
                  "registered_on", "closed_on", "version", "position")
FUND_COLUMNS = ("fund_code", "fund_id", "name", "fiscal_year", "unit", "source", "category",
                "earmark", "levels", "expenditure_classes", "status", "appropriated",
                "proposed", "allocated", "spent", "opened_on", "closed_on", "version", "position",
                "function_code", "doc_no", "issuing_level", "received_on", "shares")
ALLOCATION_COLUMNS = ("allocation_id", "fund_code", "school_code", "fiscal_year", "unit",
                      "category", "purpose", "origin", "status", "amount", "allocated", "spent",
                      "effective_date", "proposed_by", "approved_by", "approved_on",
                      "opened_position", "version", "position", "last_entry_on")
EXPENDITURE_COLUMNS = ("expenditure_id", "allocation_id", "fund_code", "school_code",
                       "fiscal_year", "unit", "amount", "payee", "voucher", "spent_on",
                       "description", "economic_class", "status", "recorded_by",
                       "reversed_on", "version", "position")
HISTORY_COLUMNS = ("school_code", "kind", "effective_date", "position", "locale", "students")
ENTRY_COLUMNS = ("position", "kind", "effective_date", "school_code", "fund_code",
                 "fiscal_year", "unit", "delta", "count_delta", "allocation_id",
                 "expenditure_id")
BALANCE_COLUMNS = ("school_code", "fiscal_year", "fund_code", "unit", "allocated", "spent",
                   "allocations", "expenditures", "position")

TABLES = ("schools", "school_history", "funds", "allocations", "expenditures",
          "ledger_entries", "school_balances")

CREATE_STATEMENTS = (
    """CREATE TABLE IF NOT EXISTS schools (
        school_code TEXT PRIMARY KEY, school_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
        district TEXT NOT NULL, level TEXT NOT NULL, locale TEXT NOT NULL,
        locale_since TEXT NOT NULL, poverty_area INTEGER NOT NULL, students BIGINT NOT NULL,
        students_since TEXT NOT NULL, status TEXT NOT NULL, registered_on TEXT NOT NULL,
        closed_on TEXT, version INTEGER NOT NULL, position BIGINT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS schools_by_district ON schools (district, school_code)",
    """CREATE TABLE IF NOT EXISTS school_history (
        school_code TEXT NOT NULL, kind TEXT NOT NULL, effective_date TEXT NOT NULL,
        position BIGINT NOT NULL, locale TEXT, students BIGINT,
        PRIMARY KEY (school_code, kind, position))""",
    """CREATE TABLE IF NOT EXISTS funds (
        fund_code TEXT PRIMARY KEY, fund_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
        fiscal_year INTEGER NOT NULL, unit TEXT NOT NULL, source TEXT NOT NULL,
        category TEXT NOT NULL, earmark TEXT NOT NULL, levels TEXT NOT NULL,
        expenditure_classes TEXT NOT NULL, status TEXT NOT NULL, appropriated BIGINT NOT NULL,
        proposed BIGINT NOT NULL, allocated BIGINT NOT NULL, spent BIGINT NOT NULL,
        opened_on TEXT NOT NULL, closed_on TEXT, version INTEGER NOT NULL,
        position BIGINT NOT NULL, function_code TEXT NOT NULL, doc_no TEXT NOT NULL,
        issuing_level TEXT NOT NULL, received_on TEXT NOT NULL, shares TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS funds_by_year ON funds (fiscal_year, fund_code)",
    """CREATE TABLE IF NOT EXISTS allocations (
        allocation_id TEXT PRIMARY KEY, fund_code TEXT NOT NULL, school_code TEXT NOT NULL,
        fiscal_year INTEGER NOT NULL, unit TEXT NOT NULL, category TEXT NOT NULL,
        purpose TEXT NOT NULL, origin TEXT NOT NULL, status TEXT NOT NULL,
        amount BIGINT NOT NULL, allocated BIGINT NOT NULL, spent BIGINT NOT NULL,
        effective_date TEXT NOT NULL, proposed_by TEXT NOT NULL, approved_by TEXT,
        approved_on TEXT, opened_position BIGINT NOT NULL, version INTEGER NOT NULL,
        position BIGINT NOT NULL, last_entry_on TEXT)""",
    "CREATE INDEX IF NOT EXISTS allocations_by_school ON allocations (school_code, allocation_id)",
    "CREATE INDEX IF NOT EXISTS allocations_by_fund ON allocations (fund_code, allocation_id)",
    "CREATE INDEX IF NOT EXISTS allocations_by_year ON allocations (fiscal_year, allocation_id)",
    """CREATE TABLE IF NOT EXISTS expenditures (
        expenditure_id TEXT PRIMARY KEY, allocation_id TEXT NOT NULL, fund_code TEXT NOT NULL,
        school_code TEXT NOT NULL, fiscal_year INTEGER NOT NULL, unit TEXT NOT NULL,
        amount BIGINT NOT NULL, payee TEXT NOT NULL, voucher TEXT NOT NULL,
        spent_on TEXT NOT NULL, description TEXT NOT NULL, economic_class TEXT NOT NULL,
        status TEXT NOT NULL, recorded_by TEXT NOT NULL, reversed_on TEXT,
        version INTEGER NOT NULL, position BIGINT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS expenditures_by_allocation "
    "ON expenditures (allocation_id, expenditure_id)",
    "CREATE INDEX IF NOT EXISTS expenditures_by_school ON expenditures (school_code, expenditure_id)",
    "CREATE INDEX IF NOT EXISTS expenditures_by_fund ON expenditures (fund_code, expenditure_id)",
    """CREATE TABLE IF NOT EXISTS ledger_entries (
        position BIGINT NOT NULL, kind TEXT NOT NULL, effective_date TEXT NOT NULL,
        school_code TEXT NOT NULL, fund_code TEXT NOT NULL, fiscal_year INTEGER NOT NULL,
        unit TEXT NOT NULL, delta BIGINT NOT NULL, count_delta INTEGER NOT NULL,
        allocation_id TEXT NOT NULL, expenditure_id TEXT,
        PRIMARY KEY (position, kind))""",
    "CREATE INDEX IF NOT EXISTS ledger_entries_by_school "
    "ON ledger_entries (school_code, fiscal_year, effective_date)",
    "CREATE INDEX IF NOT EXISTS ledger_entries_by_year ON ledger_entries (fiscal_year, effective_date)",
    """CREATE TABLE IF NOT EXISTS school_balances (
        school_code TEXT NOT NULL, fiscal_year INTEGER NOT NULL, fund_code TEXT NOT NULL,
        unit TEXT NOT NULL, allocated BIGINT NOT NULL, spent BIGINT NOT NULL,
        allocations INTEGER NOT NULL, expenditures INTEGER NOT NULL, position BIGINT NOT NULL,
        PRIMARY KEY (school_code, fiscal_year, fund_code))""",
)



def upsert_statement(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    """INSERT … ON CONFLICT (key) DO UPDATE: the same spelling works on SQLite and PostgreSQL."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "  # noqa: S608
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}")


def insert_statement(table: str, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608


UPSERT_SCHOOL = upsert_statement("schools", SCHOOL_COLUMNS, ("school_code",))
UPSERT_FUND = upsert_statement("funds", FUND_COLUMNS, ("fund_code",))
UPSERT_ALLOCATION = upsert_statement("allocations", ALLOCATION_COLUMNS, ("allocation_id",))
UPSERT_EXPENDITURE = upsert_statement("expenditures", EXPENDITURE_COLUMNS, ("expenditure_id",))
INSERT_HISTORY = insert_statement("school_history", HISTORY_COLUMNS)
INSERT_ENTRY = insert_statement("ledger_entries", ENTRY_COLUMNS)
ADD_TO_BALANCE = (
    insert_statement("school_balances", BALANCE_COLUMNS)
    + " ON CONFLICT (school_code, fiscal_year, fund_code) DO UPDATE SET "
    "allocated = school_balances.allocated + excluded.allocated, "
    "spent = school_balances.spent + excluded.spent, "
    "allocations = school_balances.allocations + excluded.allocations, "
    "expenditures = school_balances.expenditures + excluded.expenditures, "
    "position = excluded.position"
)
