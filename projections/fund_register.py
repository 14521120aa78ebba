"""The fund register export (`funds`): every fund of a year with its 政府收支分类 functional
code, the document that issued it (文号), its issuing level and date received, and one row per
source level that pays into it — that level's part of the appropriation, of what was allocated
and of what was spent (pro rata to the fund's shares; docs/classification.md)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from domain.provenance import shares_of
from domain.terms import term
from projections.books_queries import fund_totals
from projections.export_files import Column, Export, Sheet

if TYPE_CHECKING:
    from projections.database import ViewDatabase

FUND_REGISTER_COLUMNS = [
    Column("fund", "资金 fund"), Column("name", "名称 name"),
    Column("function_code", "支出功能分类 functional code"),
    Column("function_name", "功能分类名称 functional class"),
    Column("doc_no", "文号 document no."), Column("issuing_level", "下达级次 issuing level", translate=term),
    Column("received_on", "到账日期 received on"), Column("source", "分担级次 source level", translate=term),
    Column("unit", "单位 unit"),
    Column("appropriated", "预算数 appropriated", money=True),
    Column("allocated", "已分配 allocated", money=True),
    Column("spent", "已支出 spent", money=True),
]


def fund_register_export(db: ViewDatabase, fiscal_year: int, as_of: date | None) -> Export:
    rows: list[dict[str, Any]] = []
    for fund in fund_totals(db, fiscal_year, as_of):
        shares = list(fund.shares)
        figures = {key: shares_of(fund.source, shares, getattr(fund, key))
                   for key in ("appropriated", "allocated", "spent")}
        for level in figures["appropriated"]:
            rows.append({"fund": fund.fund, "name": fund.name, "function_code": fund.function_code,
                         "function_name": fund.function_name("zh"), "doc_no": fund.doc_no,
                         "issuing_level": fund.issuing_level, "received_on": fund.received_on,
                         "source": level, "unit": fund.unit,
                         **{key: parts[level] for key, parts in figures.items()}})
    suffix = f"-as-of-{as_of.isoformat()}" if as_of else ""
    return Export(f"funds-{fiscal_year}{suffix}", [Sheet("funds", FUND_REGISTER_COLUMNS, rows)],
                  rows_expected=len(rows))
