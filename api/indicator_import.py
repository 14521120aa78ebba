"""CSV import of indicator reports: one row per school, all rows in one atomic batch or none.

Header (English or Chinese names): school/学校代码, as_of/填报日期, qualified_teachers/高于规定学历
教师数, key_teachers/县级以上骨干教师数, pe_arts_teachers/体育艺术专任教师数,
teaching_area_m2/教学及辅助用房面积, sports_area_m2/体育运动场馆面积, junior_pupils/初中学段学生数
(optional; nine-year and complete schools).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from domain.actors import Actor
from domain.errors import InvalidInput, LedgerError
from domain.import_sheet import decode
from domain.indicator_reports import REPORTED_FIGURES
from domain.ledger import FundLedger

ROWS_MAX = 20_000
HEADER_NAMES = {
    "school": "school", "学校代码": "school",
    "as_of": "as_of", "填报日期": "as_of",
    "qualified_teachers": "qualified_teachers", "高于规定学历教师数": "qualified_teachers",
    "key_teachers": "key_teachers", "县级以上骨干教师数": "key_teachers",
    "pe_arts_teachers": "pe_arts_teachers", "体育艺术专任教师数": "pe_arts_teachers",
    "teaching_area_m2": "teaching_area_m2", "教学及辅助用房面积": "teaching_area_m2",
    "sports_area_m2": "sports_area_m2", "体育运动场馆面积": "sports_area_m2",
    "junior_pupils": "junior_pupils", "初中学段学生数": "junior_pupils",
}
REQUIRED = ("school", "as_of", *REPORTED_FIGURES)


@dataclass(frozen=True)
class RowError:
    line: int
    code: str
    detail: str


@dataclass(frozen=True)
class IndicatorImport:
    rows: int
    errors: list[RowError]
    position: int


def _whole(text: str, name: str) -> int:
    text = text.strip().replace(",", "")
    if not text.lstrip("-").isdigit():
        msg = f"{name} must be a whole number, not {text!r}"
        raise InvalidInput(msg)
    return int(text)


def import_reports(ledger: FundLedger, actor: Actor, data: bytes,
                   idempotency_key: str | None = None) -> IndicatorImport:
    """Applies every row or none; the answer names each bad row by its line in the file."""
    try:
        lines = list(csv.reader(io.StringIO(decode(data))))
    except csv.Error as error:
        return IndicatorImport(0, [RowError(1, "invalid_input", f"not a CSV file: {error}")], 0)
    reader = iter(lines)
    header = next(reader, None)
    if header is None:
        return IndicatorImport(0, [RowError(1, "invalid_input", "the file is empty")], 0)
    names = [HEADER_NAMES.get(h.strip().lower(), HEADER_NAMES.get(h.strip())) for h in header]
    missing = [n for n in REQUIRED if n not in names]
    if missing:
        return IndicatorImport(0, [RowError(1, "invalid_input",
                                            f"missing columns: {', '.join(missing)}")], 0)
    errors: list[RowError] = []
    rows = 0
    try:
        with ledger.batch() as batch:
            for line, cells in enumerate(reader, start=2):
                if not any(c.strip() for c in cells):
                    continue
                rows += 1
                if rows > ROWS_MAX:
                    errors.append(RowError(line, "invalid_input", f"at most {ROWS_MAX} rows"))
                    break
                row = {n: c for n, c in zip(names, cells, strict=False) if n}
                try:
                    day = date.fromisoformat(row.get("as_of", "").strip())
                except ValueError:
                    errors.append(RowError(line, "invalid_input",
                                           f"as_of {row.get('as_of')!r} is not a date (YYYY-MM-DD)"))
                    continue
                try:
                    figures = {n: _whole(row.get(n, ""), n) for n in REPORTED_FIGURES}
                    junior = row.get("junior_pupils", "").strip()
                    ledger.report_indicators(
                        actor, row.get("school", "").strip(), figures=figures,
                        junior_pupils=_whole(junior, "junior_pupils") if junior else None,
                        effective_date=day,
                        idempotency_key=f"{idempotency_key}:{line}" if idempotency_key else None)
                except LedgerError as error:
                    errors.append(RowError(line, error.code, error.detail))
            if errors:
                raise _Abandon
    except _Abandon:
        return IndicatorImport(rows, errors, 0)
    return IndicatorImport(rows, [], batch.position)


class _Abandon(Exception):
    """Leaves the batch unsaved: one bad row refuses the whole file."""
