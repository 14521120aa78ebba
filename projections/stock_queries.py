"""What the API asks of the stock views: posts per county and school, assets per school, the
seven indicators per school, and the balanced-development evaluation — each as of a day.

A stock as of day D is the SUM of its entries that took effect on or before D; a reported
figure is the latest report on or before D. The evaluation itself is the domain's
(domain/balanced_development.py): this module only gathers what each school held.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from domain.assets import AssetKind
from domain.balanced_development import (
    CountyEvaluation,
    Indicator,
    SchoolOnDay,
    SchoolStocks,
    evaluate_county,
)
from projections.books_queries import schools_on
from projections.read_scope import scope_params, scope_sql, scope_where

if TYPE_CHECKING:
    from projections.database import ViewDatabase


@dataclass(frozen=True)
class SchoolPosts:
    school: str
    approved: int
    filled: int
    vacant: int


@dataclass(frozen=True)
class CountyPostsView:
    district: str
    as_of: date
    total: int
    distributed: int
    undistributed: int
    filled: int
    vacant: int
    schools: list[SchoolPosts]


@dataclass(frozen=True)
class AssetHolding:
    asset: str
    quantity: int
    value: int


@dataclass(frozen=True)
class ReportedFigures:
    school: str
    as_of: date
    reported_by: str
    position: int
    figures: dict[str, int]
    junior_pupils: int | None


def county_posts(db: ViewDatabase, district: str, as_of: date) -> CountyPostsView:
    day = as_of.isoformat()
    total = db.scalar("SELECT COALESCE(SUM(total_delta), 0) FROM post_entries "
                      "WHERE district = ? AND effective_date <= ?", (district, day))
    schools = [
        SchoolPosts(code, int(approved), int(filled), int(approved) - int(filled))
        for code, approved, filled in db.rows(
            "SELECT school_code, SUM(approved_delta), SUM(filled_delta) FROM post_entries "
            "WHERE district = ? AND effective_date <= ? AND school_code <> '' "
            "GROUP BY school_code ORDER BY school_code", (district, day))
    ]
    distributed = sum(s.approved for s in schools)
    filled = sum(s.filled for s in schools)
    return CountyPostsView(district, as_of, int(total), distributed, int(total) - distributed,
                           filled, distributed - filled, schools)


def school_posts(db: ViewDatabase, school_code: str, as_of: date) -> SchoolPosts:
    approved, filled = db.rows(
        "SELECT COALESCE(SUM(approved_delta), 0), COALESCE(SUM(filled_delta), 0) "
        "FROM post_entries WHERE school_code = ? AND effective_date <= ?",
        (school_code, as_of.isoformat()))[0]
    return SchoolPosts(school_code, int(approved), int(filled), int(approved) - int(filled))


def school_assets(db: ViewDatabase, school_code: str, as_of: date) -> list[AssetHolding]:
    held = {asset: (int(q), int(v)) for asset, q, v in db.rows(
        "SELECT asset, SUM(quantity_delta), SUM(value_delta) FROM asset_entries "
        "WHERE school_code = ? AND effective_date <= ? GROUP BY asset",
        (school_code, as_of.isoformat()))}
    return [AssetHolding(kind.value, *held.get(kind.value, (0, 0))) for kind in AssetKind]


def latest_reports(db: ViewDatabase, as_of: date, district: str | None = None,
                   school: str | None = None) -> dict[str, ReportedFigures]:
    """Each school's latest report on or before the day (on one day, the later event)."""
    clauses = ["effective_date <= ?", *scope_where(district, school)]
    params = [as_of.isoformat(), *scope_params(district, school)]
    latest: dict[str, ReportedFigures] = {}
    for row in db.dicts(f"SELECT * FROM indicator_reports WHERE {' AND '.join(clauses)} "  # noqa: S608
                        "ORDER BY effective_date, position", params):
        latest[row["school_code"]] = ReportedFigures(
            row["school_code"], date.fromisoformat(row["effective_date"]), row["reported_by"],
            int(row["position"]),
            {name: int(row[name]) for name in ("qualified_teachers", "key_teachers",
                                               "pe_arts_teachers", "teaching_area_m2",
                                               "sports_area_m2")},
            None if row["junior_pupils"] is None else int(row["junior_pupils"]))
    return latest


# The indicators the ledger holds as stocks, and which reported figure gives each of the others.
_REPORTED = {Indicator.QUALIFIED_TEACHERS: "qualified_teachers",
             Indicator.KEY_TEACHERS: "key_teachers",
             Indicator.PE_ARTS_TEACHERS: "pe_arts_teachers",
             Indicator.TEACHING_AREA: "teaching_area_m2",
             Indicator.SPORTS_AREA: "sports_area_m2"}


def stocks_of(db: ViewDatabase, as_of: date, schools: list[SchoolOnDay],
              district: str | None = None) -> dict[str, SchoolStocks]:
    """What each school held on the day: equipment value and multimedia classrooms from the
    asset stocks, the other five indicators from its latest report on or before the day."""
    day = as_of.isoformat()
    school = schools[0].code if len(schools) == 1 else None
    held: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for code, asset, quantity, value in db.rows(
            "SELECT a.school_code, a.asset, SUM(a.quantity_delta), SUM(a.value_delta) "  # noqa: S608
            f"FROM asset_entries a WHERE a.effective_date <= ?{scope_sql('a', district, school)} "
            "GROUP BY a.school_code, a.asset", [day, *scope_params(district, school)]):
        held[code][asset] = (int(quantity), int(value))
    reports = latest_reports(db, as_of, district, school)
    found = {}
    for row in schools:
        report = reports.get(row.code)
        assets = held.get(row.code, {})
        stocks: dict[Indicator, int | None] = {
            indicator: (report.figures[figure] if report else None)
            for indicator, figure in _REPORTED.items()}
        # A school with no asset entries holds nothing the ledger knows of: zero, not unknown.
        stocks[Indicator.EQUIPMENT_VALUE] = sum(v for _, v in assets.values())
        stocks[Indicator.MULTIMEDIA_CLASSROOMS] = assets.get(
            AssetKind.MULTIMEDIA_CLASSROOM.value, (0, 0))[0]
        found[row.code] = SchoolStocks(row.code, row.name, row.district, row.level, row.locale,
                                       row.pupils, stocks,
                                       report.junior_pupils if report else None)
    return found


def school_stocks(db: ViewDatabase, as_of: date, district: str | None = None,
                  school: str | None = None) -> dict[str, SchoolStocks]:
    """The stocks of the schools open on the day (of one county, or one school)."""
    return stocks_of(db, as_of, schools_on(db, as_of, district, school), district)


def evaluate(db: ViewDatabase, as_of: date, district: str | None = None,
             schools: list[SchoolOnDay] | None = None) -> list[CountyEvaluation]:
    """The balanced-development evaluation of each county-level unit (or the one named), over
    the schools open on the day (from the books' catalogue unless given)."""
    if schools is None:
        schools = schools_on(db, as_of, district)
    by_district: dict[str, list[SchoolStocks]] = defaultdict(list)
    for stocks in stocks_of(db, as_of, schools, district).values():
        by_district[stocks.district].append(stocks)
    return [evaluate_county(name, schools) for name, schools in sorted(by_district.items())]


def evidence_positions(db: ViewDatabase, as_of: date, schools: list[str],
                       indicator: Indicator) -> list[int]:
    """The events an indicator's figures rest on: the asset entries (equipment value,
    multimedia classrooms) or the reports in force, of the given schools, by the day."""
    day = as_of.isoformat()
    if indicator not in (Indicator.EQUIPMENT_VALUE, Indicator.MULTIMEDIA_CLASSROOMS):
        wanted = set(schools)
        return sorted(r.position for r in latest_reports(db, as_of).values() if r.school in wanted)
    positions: list[int] = []
    for start in range(0, len(schools), 500):
        chunk = schools[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        asset = ("" if indicator is Indicator.EQUIPMENT_VALUE
                 else f" AND asset = '{AssetKind.MULTIMEDIA_CLASSROOM.value}'")
        positions += [int(p) for (p,) in db.rows(
            f"SELECT position FROM asset_entries WHERE school_code IN ({marks}) "  # noqa: S608
            f"AND effective_date <= ?{asset}", [*chunk, day])]
    return sorted(positions)
