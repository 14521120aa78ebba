"""The resource stocks, kept from the ledger's events: one row per change, with its business
date and position, so that a stock as of any day is an indexed SUM (never a replay).

- `post_entries`: the county total (school_code ''), and each school's approved and filled
  posts (编制), one row per event of `CountyPosts`;
- `asset_entries`: quantity and value (fen) of each kind of asset a school holds, one row per
  receipt, disposal or transfer (a transfer is two rows, out and in);
- `indicator_reports`: every report of the figures the ledger does not hold, with who made it;
- `post_moves`: proposed rotations of posts and how they were decided;
- `stock_owners`: which county or school each stock aggregate belongs to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from domain.assets import SchoolAssets
from domain.indicator_reports import IndicatorReports
from domain.staffing import CountyPosts, PostMove
from projections.books_schema import insert_statement, upsert_statement
from projections.page_view import OwnTables

if TYPE_CHECKING:
    from projections.database import ViewDatabase
    from projections.page_view import PageEvent

# Every stock's entries start with these: the event's position, the county and school whose
# stock it changes (school_code '' for a county's own total) and its business date.
ENTRY_KEYS = ("position", "district", "school_code", "effective_date")
POST_COLUMNS = (*ENTRY_KEYS, "kind", "total_delta", "approved_delta", "filled_delta", "reference",
                "actor")
ASSET_COLUMNS = (*ENTRY_KEYS, "kind", "asset", "quantity_delta", "value_delta", "reference", "actor")
REPORT_COLUMNS = (*ENTRY_KEYS, "reported_by", "qualified_teachers", "key_teachers",
                  "pe_arts_teachers", "teaching_area_m2", "sports_area_m2", "junior_pupils")
MOVE_COLUMNS = ("move_id", "district", "from_school", "to_school", "count", "status", "maker",
                "checker", "effective_date", "position")
OWNER_COLUMNS = ("originator_id", "district", "school_code")

TABLES = ("post_entries", "asset_entries", "indicator_reports", "post_moves", "stock_owners")


def _entries_table(table: str, columns: str, indexed_by: Sequence[str]) -> list[str]:
    """A stock's entries, one row per change: ENTRY_KEYS, then the stock's own `columns`;
    indexed by `indexed_by` (district, school_code) each with the date, so that a county's or
    a school's stock as of a day is an indexed sum."""
    index_names = {"district": "district", "school_code": "school"}
    return [
        f"CREATE TABLE IF NOT EXISTS {table} ( position BIGINT PRIMARY KEY, "
        f"district TEXT NOT NULL, school_code TEXT NOT NULL, effective_date TEXT NOT NULL, {columns})",
        *(f"CREATE INDEX IF NOT EXISTS {table}_by_{index_names[key]} ON {table} ({key}, effective_date)"
          for key in indexed_by),
    ]


CREATE_STATEMENTS = (
    *_entries_table("post_entries", "kind TEXT NOT NULL, total_delta BIGINT NOT NULL, "
                    "approved_delta BIGINT NOT NULL, filled_delta BIGINT NOT NULL, "
                    "reference TEXT NOT NULL, actor TEXT NOT NULL", ("district", "school_code")),
    *_entries_table("asset_entries", "kind TEXT NOT NULL, asset TEXT NOT NULL, "
                    "quantity_delta BIGINT NOT NULL, value_delta BIGINT NOT NULL, "
                    "reference TEXT NOT NULL, actor TEXT NOT NULL", ("school_code", "district")),
    *_entries_table("indicator_reports", "reported_by TEXT NOT NULL, "
                    "qualified_teachers BIGINT NOT NULL, key_teachers BIGINT NOT NULL, "
                    "pe_arts_teachers BIGINT NOT NULL, teaching_area_m2 BIGINT NOT NULL, "
                    "sports_area_m2 BIGINT NOT NULL, junior_pupils BIGINT",
                    ("school_code", "district")),
    """CREATE TABLE IF NOT EXISTS post_moves (
        move_id TEXT PRIMARY KEY, district TEXT NOT NULL, from_school TEXT NOT NULL,
        to_school TEXT NOT NULL, count BIGINT NOT NULL, status TEXT NOT NULL,
        maker TEXT NOT NULL, checker TEXT, effective_date TEXT NOT NULL,
        position BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS stock_owners (
        originator_id TEXT PRIMARY KEY, district TEXT NOT NULL, school_code TEXT NOT NULL)""",
)

INSERT_POST = insert_statement("post_entries", POST_COLUMNS)
INSERT_ASSET = insert_statement("asset_entries", ASSET_COLUMNS)
INSERT_REPORT = insert_statement("indicator_reports", REPORT_COLUMNS)
UPSERT_MOVE = upsert_statement("post_moves", MOVE_COLUMNS, ("move_id",))
INSERT_OWNER = insert_statement("stock_owners", OWNER_COLUMNS)

_OPENINGS = (CountyPosts.Opened, SchoolAssets.Opened, IndicatorReports.Opened)
_OWNED = (CountyPosts.Event, SchoolAssets.Event, IndicatorReports.Event)


class StocksView(OwnTables):
    """Posts, assets and indicator reports as dated entries."""

    name = "stocks"
    create_statements = CREATE_STATEMENTS
    tables = TABLES
    event_bases = (*_OWNED, PostMove.Event)

    def apply_page(self, db: ViewDatabase, page: Sequence[PageEvent]) -> None:
        owners: dict[str, tuple[str, str]] = {}
        new_owners: list[tuple[str, str, str]] = []
        wanted = set()
        for item in page:
            e = item.event
            if isinstance(e, _OPENINGS):
                owner = (e.district, getattr(e, "school", ""))
                owners[str(e.originator_id)] = owner
                new_owners.append((str(e.originator_id), *owner))
            elif isinstance(e, _OWNED):
                wanted.add(str(e.originator_id))
        wanted -= owners.keys()
        for row in db.dicts_in("SELECT originator_id, district, school_code FROM stock_owners "
                               "WHERE originator_id IN ({marks})", wanted):
            owners[row["originator_id"]] = (row["district"], row["school_code"])
        posts: list[tuple[Any, ...]] = []
        assets: list[tuple[Any, ...]] = []
        reports: list[tuple[Any, ...]] = []
        moves: dict[str, tuple[Any, ...]] = {}
        for item in page:
            e, position = item.event, item.position
            if isinstance(e, _OWNED) and not isinstance(e, _OPENINGS):
                district, school = owners[str(e.originator_id)]
                row = _entry(e, district, school, position)
                if row is None:
                    continue
                table, values = row
                {"posts": posts, "assets": assets, "reports": reports}[table].append(values)
            elif isinstance(e, PostMove.Event):
                moves[str(e.originator_id)] = _move(e, position, moves.get(str(e.originator_id)), db)
        db.executemany(INSERT_OWNER, new_owners)
        db.executemany(INSERT_POST, posts)
        db.executemany(INSERT_ASSET, assets)
        db.executemany(INSERT_REPORT, reports)
        db.executemany(UPSERT_MOVE, list(moves.values()))


def _entry(e: Any, district: str, school: str,  # noqa: PLR0911  (one answer per event)
           position: int) -> tuple[str, tuple[Any, ...]] | None:
    day = e.stamp.effective_date.isoformat()
    actor = e.stamp.actor_id
    event = type(e).__name__  # the entry's kind as stored: `Hired`, `Received`, …
    if isinstance(e, CountyPosts.TotalApproved):
        return "posts", (position, district, "", day, event, e.delta, 0, 0, e.document, actor)
    if isinstance(e, CountyPosts.PostsDistributed):
        return "posts", (position, district, e.school, day, event, 0, e.delta, 0, "", actor)
    if isinstance(e, (CountyPosts.Hired, CountyPosts.Departed)):
        sign = 1 if isinstance(e, CountyPosts.Hired) else -1
        return "posts", (position, district, e.school, day, event, 0, 0, sign * e.count, "", actor)
    if isinstance(e, (CountyPosts.MovedOut, CountyPosts.MovedIn)):
        sign = 1 if isinstance(e, CountyPosts.MovedIn) else -1
        return "posts", (position, district, e.school, day, event, 0, sign * e.count,
                         sign * e.count, e.move_id, actor)
    if isinstance(e, SchoolAssets.Received):
        return "assets", (position, district, school, day, event, e.kind, e.quantity, e.value,
                          e.expenditure_id or e.document, actor)
    if isinstance(e, (SchoolAssets.Disposed, SchoolAssets.TransferredOut)):
        reference = getattr(e, "to_school", "") or e.stamp.reason
        return "assets", (position, district, school, day, event, e.kind, -e.quantity,
                          -e.value, reference, actor)
    if isinstance(e, SchoolAssets.TransferredIn):
        return "assets", (position, district, school, day, event, e.kind, e.quantity, e.value,
                          e.from_school, actor)
    if isinstance(e, IndicatorReports.Reported):
        f = e.figures
        return "reports", (position, district, school, day, actor, f["qualified_teachers"],
                           f["key_teachers"], f["pe_arts_teachers"], f["teaching_area_m2"],
                           f["sports_area_m2"], e.junior_pupils)
    return None


def _move(e: Any, position: int, known: tuple[Any, ...] | None,
          db: ViewDatabase) -> tuple[Any, ...]:
    if isinstance(e, PostMove.Proposed):
        return (str(e.originator_id), e.district, e.from_school, e.to_school, e.count, "pending",
                e.stamp.actor_id, None, e.stamp.effective_date.isoformat(), position)
    if known is None:
        found = db.rows(f"SELECT {', '.join(MOVE_COLUMNS)} FROM post_moves WHERE move_id = ?",  # noqa: S608
                        (str(e.originator_id),))
        known = found[0]
    status = "approved" if isinstance(e, PostMove.Approved) else "rejected"
    return (*known[:5], status, known[6], e.stamp.actor_id, known[8], position)
