"""Where the views are: the tracking recorder of the view runner.

The eventsourcing library's `TrackingRecorder` records, atomically with a view's rows, the
position of the last event of an upstream application that the view has processed. This one
keeps that position for all the runner's views in one row per upstream application, in the
views' own database, and writes it in the same transaction as a page's rows.

While a rebuild runs in parts (projections/view_parts.py), each part (some of the views, in a
process of its own) has a row of its own, named after the application and its views. The
application's row then stays at 0 until every part has reached the same position and the parts
are joined into it, in one transaction: a reader never sees views that are partly built as
caught up.
"""

from __future__ import annotations

from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder

from projections.database import ViewDatabase

TRACKING_TABLE = "view_tracking"
PART_MARK = "|part:"
# Part rows are named `<application><PART_MARK><views>` and found by that prefix: compared
# with `substr`, not a range or LIKE, which collations and wildcards could bend.
_IS_PART = "substr(application_name, 1, ?) = ?"


class ViewTrackingRecorder(TrackingRecorder):
    def __init__(self, db: ViewDatabase) -> None:
        self.db = db

    def create_table(self) -> None:
        with self.db.creating_tables():
            self.db.execute(
                f"CREATE TABLE IF NOT EXISTS {TRACKING_TABLE} ("
                "application_name TEXT PRIMARY KEY, notification_id BIGINT NOT NULL)"
            )

    def drop_table(self) -> None:
        with self.db.transaction():
            self.db.execute(f"DROP TABLE IF EXISTS {TRACKING_TABLE}")

    def max_tracking_id(self, application_name: str) -> int | None:
        found = self.db.scalar(
            f"SELECT notification_id FROM {TRACKING_TABLE} WHERE application_name = ?",  # noqa: S608
            (application_name,),
        )
        return None if found is None else int(found)

    def locked_tracking_id(self, application_name: str) -> int:
        """Inside a transaction: the position, locked until commit so that two runners never
        apply the same page (the second waits, then sees the first's position)."""
        found = self.db.scalar(
            f"SELECT notification_id FROM {TRACKING_TABLE} WHERE application_name = ?"  # noqa: S608
            f"{self.db.dialect.for_update}",
            (application_name,),
        )
        return 0 if found is None else int(found)

    def locked_part_position(self, part: str) -> int | None:
        """Inside a transaction: a rebuild part's position, locked; None once the parts are
        joined (their rows deleted)."""
        found = self.db.rows(
            f"SELECT notification_id FROM {TRACKING_TABLE} WHERE application_name = ?"  # noqa: S608
            f"{self.db.dialect.for_update}",
            (part,),
        )
        return int(found[0][0]) if found else None

    def locked_position_and_parts(self, application_name: str) -> tuple[int, bool]:
        """Inside a transaction: the application's position, locked as `locked_tracking_id`
        locks it, and whether a rebuild in parts is still to be joined into it (one statement:
        the runner asks it for every page)."""
        found = self.db.rows(
            f"SELECT application_name, notification_id FROM {TRACKING_TABLE} "  # noqa: S608
            f"WHERE application_name = ? OR {_IS_PART}{self.db.dialect.for_update}",
            (application_name, *_part_prefix(application_name)),
        )
        position = next((int(p) for name, p in found if name == application_name), 0)
        return position, any(name != application_name for name, _ in found)

    def parts(self, application_name: str) -> dict[str, int]:
        """The rebuild's parts still to be joined, with each one's position."""
        found = self.db.rows(
            f"SELECT application_name, notification_id FROM {TRACKING_TABLE} "  # noqa: S608
            f"WHERE {_IS_PART}",
            _part_prefix(application_name),
        )
        return {name: int(position) for name, position in found}

    def start_parts(self, application_name: str, part_names: list[str]) -> None:
        """Inside the rebuild's first transaction: the application at 0, each part at 0."""
        for name in [application_name, *part_names]:
            self.advance(name, 0)

    def join_parts(self, application_name: str, position: int) -> bool:
        """Moves the application to `position` and forgets the parts, if every part is there;
        False if one is not (yet). True if there was nothing left to join."""
        with self.db.transaction():
            self.locked_tracking_id(application_name)
            found = self.db.rows(
                f"SELECT notification_id FROM {TRACKING_TABLE} "  # noqa: S608
                f"WHERE {_IS_PART}{self.db.dialect.for_update}",
                _part_prefix(application_name),
            )
            if not found:
                return True
            if any(int(p) != position for (p,) in found):
                return False
            self.db.execute(
                f"DELETE FROM {TRACKING_TABLE} WHERE {_IS_PART}",  # noqa: S608
                _part_prefix(application_name),
            )
            self.advance(application_name, position)
            return True

    def insert_tracking(self, tracking: Tracking) -> None:
        """Moves the position forward; refuses to move it back or to stay (as the library's
        single-row tracking does), which would mean a page applied twice."""
        with self.db.transaction():
            before = self.locked_tracking_id(tracking.application_name)
            if tracking.notification_id <= before:
                msg = (f"tracking of {tracking.application_name} is at {before}; "
                       f"{tracking.notification_id} was recorded again")
                raise IntegrityError(msg)
            self.advance(tracking.application_name, tracking.notification_id)

    def advance(self, application_name: str, notification_id: int) -> None:
        """Inside the page's transaction: records the position of the page's last event."""
        self.db.execute(
            f"INSERT INTO {TRACKING_TABLE} (application_name, notification_id) VALUES (?, ?) "  # noqa: S608
            "ON CONFLICT (application_name) DO UPDATE SET notification_id = excluded.notification_id",
            (application_name, notification_id),
        )


def _part_prefix(application_name: str) -> tuple[int, str]:
    """The parameters of `_IS_PART` for this application's parts."""
    prefix = application_name + PART_MARK
    return len(prefix), prefix
