"""Exports for auditors: the journal, school balances, the rural-support report and the
carry-over statement, for a fiscal year or as of a date, as sheets that
projections/export_files.py writes as CSV or XLSX (amounts as integers in minor units, with
their unit named)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.terms import event_name, term
from projections import books_queries, journal_queries
from projections.export_files import EXPORT_ROWS_MAX, Column, Export, ExportTooLarge, Sheet, _check_size
from projections.fund_register import fund_register_export
from projections.journal import journal_head

if TYPE_CHECKING:
    from projections.carry_over_statement import CarryOverStatement
    from projections.database import ViewDatabase
    from projections.queries import BureauQueries
    from projections.replay import ReplayedBooks
    from projections.rural_support import RuralSupportReport

KINDS = ("balances", "journal", "rural", "carry-over", "funds")


# ----------------------------------------------------------------------------- rendering


# ----------------------------------------------------------------------------- balances

BALANCE_COLUMNS = [
    Column("school_code", "学校代码 school"), Column("school_name", "学校名称 name"),
    Column("district", "区县 district", translate=term), Column("fiscal_year", "年度 fiscal year"),
    Column("fund_code", "资金 fund"), Column("unit", "单位 unit"),
    Column("allocated", "已分配 allocated", money=True), Column("spent", "已支出 spent", money=True),
    Column("remaining", "结余 remaining", money=True),
    Column("allocations", "分配笔数 allocations"), Column("expenditures", "支出笔数 expenditures"),
]
TOTAL_COLUMNS = [
    Column("unit", "单位 unit"), Column("allocated", "已分配 allocated", money=True),
    Column("spent", "已支出 spent", money=True), Column("remaining", "结余 remaining", money=True),
]


def balance_rows_from_views(db: ViewDatabase, fiscal_year: int, as_of: date | None = None,
                            position: int | None = None) -> list[dict[str, Any]]:
    """Every school's per-fund balance in a year, from the views' ledger entries: now, or as
    of a business date and/or a position."""
    return _check_size(books_queries.balance_rows(db, fiscal_year, as_of, position))


def balance_rows_from_replay(books: ReplayedBooks, fiscal_year: int,
                             names: dict[str, tuple[str, str]] | None = None) -> list[dict[str, Any]]:
    """The same rows from an independent replay (names: school code → (name, district))."""
    names = names or {}
    rows = []
    for school in books.schools_with_balances(fiscal_year):
        name, district = names.get(school, ("", books.schools[school].district
                                            if school in books.schools else ""))
        for b in books.school_balances(school, fiscal_year):
            rows.append({"school_code": school, "school_name": name, "district": district,
                         "fiscal_year": fiscal_year, "fund_code": b.fund, "unit": b.unit,
                         "allocated": b.allocated, "spent": b.spent, "remaining": b.remaining,
                         "allocations": b.allocations, "expenditures": b.expenditures})
    return _check_size(rows)


def totals_by_unit(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    totals: dict[str, dict[str, Any]] = defaultdict(dict)
    for row in rows:
        total = totals[row["unit"]]
        total["unit"] = row["unit"]
        for key in ("allocated", "spent", "remaining"):
            total[key] = total.get(key, 0) + row[key]
    return [totals[unit] for unit in sorted(totals)]


def balances_export(rows: list[dict[str, Any]], fiscal_year: int, as_of: date | None) -> Export:
    suffix = f"-as-of-{as_of.isoformat()}" if as_of else ""
    return Export(f"balances-{fiscal_year}{suffix}", [
        Sheet("balances", BALANCE_COLUMNS, rows),
        Sheet("totals", TOTAL_COLUMNS, totals_by_unit(rows)),
    ])


# ----------------------------------------------------------------------------- rural support

RURAL_COLUMNS = [
    Column("district", "区县 district", translate=term),
    Column("locale", "城乡 locale", translate=term), Column("unit", "单位 unit"),
    Column("schools", "学校数 schools"), Column("students", "学生数 students"),
    Column("allocated", "已分配 allocated", money=True), Column("spent", "已支出 spent", money=True),
    Column("per_student_allocated", "生均分配 per student allocated", money=True),
    Column("per_student_spent", "生均支出 per student spent", money=True),
]
COUNTY_COLUMNS = [
    Column("district", "区县 district", translate=term), Column("level", "学段 level", translate=term),
    Column("indicator", "指标 indicator", translate=term),
    Column("schools", "学校数 schools"), Column("students", "学生数 students"),
    Column("difference_coefficient", "差异系数 difference coefficient (优质均衡)"),
    Column("threshold", "国家标准 threshold"), Column("within_threshold", "达标 within threshold"),
]
SUMMARY_COLUMNS = [Column("item", "项目 item"), Column("value", "值 value", translate=term)]


def rural_export(report: RuralSupportReport) -> Export:
    suffix = f"-as-of-{report.as_of.isoformat()}" if report.as_of else ""
    rows = [dict(vars(row)) for row in report.rows]
    summary = [
        {"item": "fiscal_year 年度", "value": report.fiscal_year},
        {"item": "as_of 截至", "value": report.as_of.isoformat() if report.as_of else "year_end"},
        {"item": "position 事件位置", "value": report.position},
        {"item": "rural_to_urban_per_student_ratio 乡村/城区生均比",
         "value": report.rural_to_urban_per_student_ratio},
    ]
    return Export(f"rural-support-{report.fiscal_year}{suffix}", [
        Sheet("rural_support", RURAL_COLUMNS, rows),
        Sheet("counties", COUNTY_COLUMNS, [dict(vars(c)) for c in report.counties]),
        Sheet("totals", TOTAL_COLUMNS, totals_by_unit(
            {**row, "remaining": row["allocated"] - row["spent"]} for row in rows)),
        Sheet("summary", SUMMARY_COLUMNS, summary),
    ])


# ----------------------------------------------------------------------------- journal

JOURNAL_COLUMNS = [
    Column("position", "位置 position"), Column("recorded_at", "记录时间 recorded at (UTC)"),
    Column("effective_date", "业务日期 effective date"), Column("actor", "操作人 actor"),
    Column("actor_role", "角色 role", translate=term), Column("event", "事件 event", translate=event_name),
    Column("entity_type", "对象类型 entity type", translate=event_name),
    Column("entity_id", "对象 entity id"),
    Column("amount", "金额 amount", money=True), Column("unit", "单位 unit"),
    Column("reason", "事由 reason"), Column("idempotency_key", "幂等键 idempotency key"),
    Column("hash", "哈希链 chain hash"),
]


def journal_stream(db: ViewDatabase, fiscal_year: int, as_of: date | None = None,
                   stop: int | None = None) -> Iterator[tuple[Any, ...]]:
    """The journal rows of the year in position order, as tuples in JOURNAL_COLUMNS' order,
    read as they are written (up to position `stop`)."""
    return journal_queries.journal_year_rows(db, [c.key for c in JOURNAL_COLUMNS], fiscal_year,
                                             as_of, stop)


def journal_export(db: ViewDatabase, fiscal_year: int, as_of: date | None = None) -> Export:
    """The journal rows of a fiscal year: events whose business date falls in it (events
    without one, such as user changes, by the day they were recorded). Counted first (one
    indexless pass, a fraction of writing them), so a sheet too large is refused before
    anything is written and a job can show its progress; then streamed."""
    stop = journal_head(db)
    count = journal_queries.journal_year_count(db, fiscal_year, as_of, stop)
    if count > EXPORT_ROWS_MAX:
        msg = f"the export has more than {EXPORT_ROWS_MAX} rows; ask for a narrower one"
        raise ExportTooLarge(msg)
    suffix = f"-as-of-{as_of.isoformat()}" if as_of else ""
    return Export(f"journal-{fiscal_year}{suffix}",
                  [Sheet("journal", JOURNAL_COLUMNS, journal_stream(db, fiscal_year, as_of, stop),
                         tuples=True)],
                  rows_expected=count)


def build_export(kind: str, db: ViewDatabase, queries: BureauQueries, fiscal_year: int,
                 as_of: date | None = None) -> Export:
    """One of the auditor's exports (`balances`, `journal`, `rural`) from the stored views."""
    if kind == "balances":
        return balances_export(balance_rows_from_views(db, fiscal_year, as_of), fiscal_year, as_of)
    if kind == "journal":
        return journal_export(db, fiscal_year, as_of)
    if kind == "rural":
        return rural_export(queries.rural_support(fiscal_year, as_of=as_of))
    if kind == "carry-over":
        return carry_over_export(queries.carry_over(fiscal_year, as_of=as_of))
    if kind == "funds":  # the fund register: codes, 文号, each level's part (issue 19)
        return fund_register_export(db, fiscal_year, as_of)
    msg = f"export must be one of {', '.join(KINDS)}, not {kind!r}"
    raise ValueError(msg)


# ----------------------------------------------------------------------------- carry-over

CARRY_OVER_COLUMNS = [
    Column("fund", "资金 fund"), Column("source", "来源级次 source level", translate=term),
    Column("school", "学校 school"), Column("unit", "单位 unit"),
    Column("carry_in", "年初结转 opening carry-in", money=True),
    Column("appropriation", "本年预算 appropriation", money=True),
    Column("adjustments", "预算调整 adjustments", money=True),
    Column("allocated", "已分配 allocated", money=True),
    Column("spent", "已支出 spent", money=True),
    Column("carried_forward", "结转下年 carried forward", money=True),
    Column("surplus_recovered", "结余收回 surplus recovered", money=True),
    Column("prior_year_adjustments", "以前年度盈余调整 prior-year adjustments", money=True),
    Column("closing", "年末余额 closing", money=True),
]
SURPLUS_COLUMNS = [
    Column("source", "来源级次 source level", translate=term), Column("unit", "单位 unit"),
    Column("recovered", "结余收回 recovered", money=True),
    Column("prior_year_adjustments", "以前年度盈余调整 prior-year adjustments", money=True),
    Column("balance", "结余合计 balance", money=True),
]


def carry_over_export(statement: CarryOverStatement) -> Export:
    """The 结转结余 statement: its rows (the fund's own row has no school), then the recovered
    surplus by source level."""
    suffix = f"-as-of-{statement.as_of.isoformat()}" if statement.as_of else ""
    rows = [{**vars(row), "school": row.school or "（未分配 unallocated）", "unit": statement.unit,
             "closing": row.closing} for row in statement.rows]
    surplus = [{**vars(s), "unit": statement.unit, "balance": s.balance} for s in statement.surplus]
    return Export(f"carry-over-{statement.fiscal_year}{suffix}", [
        Sheet("carry_over", CARRY_OVER_COLUMNS, rows),
        Sheet("surplus", SURPLUS_COLUMNS, surplus),
    ])
