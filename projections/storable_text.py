"""Text PostgreSQL cannot store (issue 14): an event written before the text validator existed
may hold a NUL (`"School\\u0000Zero"`); PostgreSQL's text columns refuse it, and the views
once stopped at such an event for good (rebuild and verify ended in a traceback).

Events are immutable and the hash chain covers their stored bytes, so the event stays as it
is; the PostgreSQL views show each NUL as U+FFFD (the replacement character) instead, the
runner logs the event's position, and `fundledger verify` names every such event. SQLite
holds NUL, so its views keep the text exactly.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from eventsourcing.persistence import Notification

NUL = "\x00"
SHOWN_FOR_NUL = "\ufffd"
# How a NUL appears in an event's stored JSON (JSON always escapes control characters).
_STORED_NUL = b"\\u0000"
_STORED_SHOWN = b"\\ufffd"


def holds_nul(notification: Notification) -> bool:
    return _STORED_NUL in notification.state


def storable(notification: Notification) -> Notification:
    """The notification as PostgreSQL views can hold it: every NUL in its text as U+FFFD."""
    return replace(notification, state=notification.state.replace(_STORED_NUL, _STORED_SHOWN))


def storable_value(value: Any) -> Any:
    """A view cell as PostgreSQL holds it (for comparing a replay with the views)."""
    return value.replace(NUL, SHOWN_FOR_NUL) if isinstance(value, str) else value


def nul_note(position: int) -> str:
    return (f"event at position {position} holds a NUL character in its text (written before "
            f"text was validated); the event is kept as written and verified, the PostgreSQL "
            f"views show the character as U+FFFD")


def nul_positions(db: Any, events_table: str) -> list[int]:
    """Positions of the stored events holding a NUL in their text, read in the database
    (one scan of the events table: `verify` reads every event anyway)."""
    if db.is_postgres:
        statement = (f"SELECT notification_id FROM {events_table} "  # noqa: S608
                     "WHERE position(? IN state) > 0 ORDER BY notification_id")
    else:
        statement = (f"SELECT rowid FROM {events_table} "  # noqa: S608
                     "WHERE instr(state, ?) > 0 ORDER BY rowid")
    return [int(row[0]) for row in db.rows(statement, (_STORED_NUL,))]
