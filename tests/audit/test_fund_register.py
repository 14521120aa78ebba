"""The fund register export: each fund's functional code, 文号 and issuing level, one row per
source level with its part of the appropriation, of what was allocated and what was spent."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from projections.exports import build_export
from projections.queries import BureauQueries
from tests.audit.conftest import AuditedStore

YEAR = 2025


def test_the_register_shows_codes_documents_and_each_levels_part(sqlite_audited: AuditedStore) -> None:
    queries = BureauQueries(sqlite_audited.settings)
    try:
        data = build_export("funds", sqlite_audited.db, queries, YEAR).render("xlsx")
    finally:
        queries.close()
    sheet = load_workbook(io.BytesIO(data))["funds"]
    header = [cell.value for cell in sheet[1]]
    assert header[:8] == ["资金 fund", "名称 name", "支出功能分类 functional code",
                          "功能分类名称 functional class", "文号 document no.",
                          "下达级次 issuing level", "到账日期 received on", "分担级次 source level"]
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    shared = [r for r in rows if r["资金 fund"] == f"PO-{YEAR}"]
    assert [r["分担级次 source level"] for r in shared] == ["central", "provincial", "county"]
    assert {(r["支出功能分类 functional code"], r["功能分类名称 functional class"],
             r["文号 document no."]) for r in shared} == {("2050202", "小学教育", "苏财教〔2025〕31号")}
    assert [r["appropriated_minor"] for r in shared] == [25_000_000, 15_000_000, 10_000_000]
    assert sum(r["allocated_minor"] for r in shared) == 6_000_000  # the fund's whole allocation
    (rural,) = [r for r in rows if r["资金 fund"] == f"RS-{YEAR}"]
    assert (rural["分担级次 source level"], rural["appropriated_minor"]) == ("central", 20_000_000)
