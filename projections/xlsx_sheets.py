"""XLSX written directly: each worksheet's XML streamed into the zip a few thousand rows at a
time, one `<row>` string a row, text as inline strings, numbers as `<v>`.

A year's journal is 600,000 rows; through openpyxl's write-only mode (a cell object, a style
lookup and an XML element for each of 15 cells) it cost ~100 µs of CPU a row. The file is the
same as that mode wrote — the same sheets, header titles in bold, the header row frozen, the
column widths, text as inline strings, amounts with their number format (`0.00` for yuan,
`0` for minor units and counts), a text cell that starts like a formula marked as text (`@`) —
and is valid SpreadsheetML (ECMA-376): the package's content types and relationships, the
workbook, one worksheet part per sheet, and the styles those number formats need. Text keeps
what XML 1.0 cannot carry as OOXML's `_xHHHH_` escape (control characters other than tab and
line breaks; openpyxl refused such a cell and the whole export with it).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable
from decimal import Decimal
from functools import cache
from itertools import islice
from typing import IO, Any
from xml.sax.saxutils import quoteattr

from projections.export_files import (
    BATCH_ROWS,
    FORMULA_LEADS,
    Column,
    Known,
    Progress,
    Sheet,
    headings,
    row_tuples,
    shown,
    steps,
    unit_label,
    units,
)

TEXT_LENGTH_MAX = 32_767  # what a cell holds; longer text is cut, as openpyxl did
# A zip entry's sizes must be declared 64-bit (Zip64) before it is written if it may pass 2 GiB.
# Only then: Zip64 is less widely read, and a journal row's XML is ~0.8 KB (so a sheet of the
# most rows an export allows stays under 2 GiB unless its rows average over 2 KB).
ROW_BYTES_ASSUMED = 2_000
_EPOCH = (1980, 1, 1, 0, 0, 0)  # the zip entries' date: the same rows give the same file

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "@": 49}
_BOLD = "bold"

# Characters XML text cannot hold as they are: markup, a carriage return (a parser reads it as
# a line feed), and the control characters XML 1.0 forbids.
_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f]")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    return _ENTITIES.get(char) or f"_x{ord(char):04X}_"


def xml_text(text: str) -> str:
    return _SPECIAL.sub(_escaped, text) if _SPECIAL.search(text) else text


class Styles:
    """The workbook's cell formats, numbered as they are first asked for: 0 is plain, 1 the bold
    header; then one per number format. Written after the sheets, so a format first met on the
    last row still gets its entry."""

    def __init__(self) -> None:
        self.formats: list[str] = ["General", _BOLD]

    def of(self, number_format: str) -> str:
        """The ` s="…"` attribute of a cell with this number format."""
        if number_format not in self.formats:
            self.formats.append(number_format)
        return f' s="{self.formats.index(number_format)}"'

    def xml(self) -> str:
        custom = [f for f in self.formats[2:] if f not in _BUILTIN_FORMATS]
        ids = {**_BUILTIN_FORMATS, **{f: 164 + i for i, f in enumerate(custom)}}
        formats = "".join(f'<numFmt numFmtId="{ids[f]}" formatCode={quoteattr(f)}/>' for f in custom)
        xfs = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',
               '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>']
        xfs += [f'<xf numFmtId="{ids[f]}" fontId="0" fillId="0" borderId="0" xfId="0" '
                'applyNumberFormat="1"/>' for f in self.formats[2:]]
        font = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
        return (f'{DECLARATION}<styleSheet xmlns="{MAIN}">'
                + (f'<numFmts count="{len(custom)}">{formats}</numFmts>' if custom else "")
                + f'<fonts count="2"><font>{font}</font><font><b/>{font}</font></fonts>'
                '<fills count="2"><fill><patternFill patternType="none"/></fill>'
                '<fill><patternFill patternType="gray125"/></fill></fills>'
                '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
                '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
                f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
                '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
                "</styleSheet>")


def text_cell(text: str, style: str = "") -> str:
    """The rest of a `<c r="…"` element holding text ("" for no text: no cell)."""
    if not text:
        return ""
    if len(text) > TEXT_LENGTH_MAX:
        text = text[:TEXT_LENGTH_MAX]
    space = ' xml:space="preserve"' if text.strip() != text else ""
    return f'{style} t="inlineStr"><is><t{space}>{xml_text(text)}</t></is></c>'


def value_cell(value: Any, styles: Styles) -> str:
    """A value as openpyxl wrote it: text as text (marked `@` when it starts like a formula),
    an integer exactly, any other number to 16 significant digits; None no cell."""
    if value is None:
        return ""
    if value.__class__ is str:
        return text_cell(value, styles.of("@") if value.startswith(FORMULA_LEADS) else "")
    if value.__class__ is int:
        return f"><v>{value}</v></c>"
    if isinstance(value, float | int | Decimal):
        figure = "%.16g" % value  # noqa: UP031  (openpyxl's own rendering of a number)
        return f"><v>{figure}</v></c>" if figure not in ("nan", "inf", "-inf") else ""
    return text_cell(str(value))


def _cell(column: Column, language: str, styles: Styles) -> Callable[[Any], str]:
    if column.key == "unit":
        return Known(lambda code: text_cell(unit_label(code))).__getitem__
    translate = column.translate
    if translate is not None:
        return Known(lambda value: value_cell(shown(value, translate, language), styles)).__getitem__
    return lambda value: value_cell(value if value.__class__ is str else shown(value, None, language),
                                    styles)


def _worksheet_rows(sheet: Sheet, language: str, styles: Styles,
                    progress: Progress | None) -> Iterable[str]:
    """The sheet's `<row>` elements, a few thousand joined at a time."""
    header = headings(sheet.columns, minor_first=False)
    letters = [_letter(index) for index in range(len(header))]
    bold = styles.of(_BOLD)
    yield '<row r="1">' + "".join(f'<c r="{letter}1"{text_cell(title, bold)}'
                                  for letter, title in zip(letters, header, strict=True)) + "</row>"
    plan, unit_at = steps(sheet, lambda column: _cell(column, language, styles))
    known_units = units()
    formats = cache(lambda places: (styles.of(f"0.{'0' * places}" if places else "0"), styles.of("0")))
    count = known_units[None]
    starts = [f'<c r="{letter}' for letter in letters]
    rows = row_tuples(sheet)
    number = 1
    while batch := list(islice(rows, BATCH_ROWS)):
        lines = []
        for row in batch:
            number += 1
            at = str(number)
            unit = count if unit_at is None else known_units[row[unit_at]]
            cells = [f'<row r="{at}">']
            column = 0
            for step in plan:
                value = row[step.at]
                if step.money:
                    if value is not None:
                        major, minor = formats(unit.decimal_places)
                        cells.append(f'{starts[column]}{at}"{major}><v>{unit.format(value)}</v></c>'
                                     f'{starts[column + 1]}{at}"{minor}><v>{value}</v></c>')
                    column += 2
                else:
                    made = step.make(value)
                    if made:
                        cells.append(f'{starts[column]}{at}"{made}')
                    column += 1
            cells.append("</row>")
            lines.append("".join(cells))
        yield "".join(lines)
        if progress is not None:
            progress(number - 1)
    if progress is not None and number == 1:
        progress(0)


def _letter(index: int) -> str:
    """A column's letters (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _worksheet_top(sheet: Sheet) -> str:
    header = headings(sheet.columns, minor_first=False)
    widths = "".join(f'<col min="{i}" max="{i}" width="{max(10, min(40, len(title) + 4))}" customWidth="1"/>'
                     for i, title in enumerate(header, start=1))
    return (f'{DECLARATION}<worksheet xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}">'
            '<sheetViews><sheetView workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{widths}</cols><sheetData>')


def _entry(name: str) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(name, _EPOCH)
    entry.compress_type = zipfile.ZIP_DEFLATED
    return entry


def write_workbook(sheets: Iterable[Sheet], out: IO[bytes], progress: Progress | None = None,
                   language: str = "en", rows_expected: int | None = None) -> None:
    """The workbook into `out` as the rows are read (only the first sheet reports progress)."""
    styles = Styles()
    titles: list[str] = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:  # zlib's default level, as openpyxl
        for number, sheet in enumerate(sheets, start=1):
            titles.append(sheet.title)
            rows = rows_expected if number == 1 and rows_expected is not None else _length(sheet)
            zip64 = rows is not None and rows * ROW_BYTES_ASSUMED > zipfile.ZIP64_LIMIT
            with book.open(_entry(f"xl/worksheets/sheet{number}.xml"), "w", force_zip64=zip64) as part:
                part.write(_worksheet_top(sheet).encode())
                for chunk in _worksheet_rows(sheet, language, styles, progress if number == 1 else None):
                    part.write(chunk.encode())
                part.write(b"</sheetData></worksheet>")
        book.writestr(_entry("xl/styles.xml"), styles.xml())
        for name, xml in _package(titles).items():
            book.writestr(_entry(name), xml)


def _length(sheet: Sheet) -> int | None:
    return len(sheet.rows) if isinstance(sheet.rows, list | tuple) else None


def _package(titles: list[str]) -> dict[str, str]:
    """The parts that tie the sheets together: content types, relationships, the workbook."""
    sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{sheet_type}"/>'
                        for n in range(1, len(titles) + 1))
    worksheet = f"{RELATIONSHIPS}/worksheet"
    sheet_links = "".join(f'<Relationship Id="rId{n}" Type="{worksheet}" Target="worksheets/sheet{n}.xml"/>'
                          for n in range(1, len(titles) + 1))
    sheets = "".join(f'<sheet name={quoteattr(title)} sheetId="{n}" r:id="rId{n}"/>'
                     for n, title in enumerate(titles, start=1))
    return {
        "[Content_Types].xml": (
            f'{DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{overrides}</Types>"),
        "_rels/.rels": (
            f'{DECLARATION}<Relationships xmlns="{PACKAGE_RELATIONSHIPS}">'
            f'<Relationship Id="rId1" Type="{RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"),
        "xl/workbook.xml": (
            f'{DECLARATION}<workbook xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}">'
            f"<bookViews><workbookView/></bookViews><sheets>{sheets}</sheets></workbook>"),
        "xl/_rels/workbook.xml.rels": (
            f'{DECLARATION}<Relationships xmlns="{PACKAGE_RELATIONSHIPS}">{sheet_links}'
            f'<Relationship Id="rId{len(titles) + 1}" Type="{RELATIONSHIPS}/styles" Target="styles.xml"/>'
            "</Relationships>"),
    }
