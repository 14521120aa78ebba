"""Where the views are: the tracking recorder of the view runner.

The eventsourcing library's `TrackingRecorder` records, atomically with a view's rows, the
position of the last event of an upstream application that the view has processed. This one
keeps that position for all the runner's views in one row per upstream application, in the
views' own database, and writes it in the same transaction as a page's rows.
"""

from __future__ import annotations

from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder

from projections.database import ViewDatabase

TRACKING_TABLE = "view_tracking"


class ViewTrackingRecorder(TrackingRecorder):
    def __init__(self, db: ViewDatabase) -> None:
        self.db = db

    def create_table(self) -> None:
        with self.db.transaction():
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
