"""The hash chain over the application's event sequence: what makes the journal tamper-evident.

Each event's link is SHA-256 over the previous link and a canonical encoding of the event as
it is stored: its position (notification id), originator id (16 bytes), originator version,
topic and state bytes. The journal keeps every link beside the event's flattened row, written
in the same transaction as the rest of the page. `verify` recomputes the chain from the event
store itself and names the first position where history was altered, removed or inserted.

The stored bytes are hashed as they are, never decoded: a decoding that forgives a changed
byte would hide exactly the change an auditor is looking for, and it would be slow.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from projections.read_ahead import read_ahead

GENESIS = bytes(32)  # the link before the first event
CHAIN_ALGORITHM = "sha256-chain-v1"  # named in digests, so a later encoding can coexist
VERIFY_PAGE_SIZE = 20_000  # rows per read while verifying: large pages, bounded memory

# position, originator version, topic length, state length; all big-endian, fixed width.
_HEADER = struct.Struct(">QQII")

# (position, originator id as 16 bytes, originator version, topic, state bytes)
StoredRow = tuple[int, bytes, int, str, bytes]


def link(previous: bytes, position: int, originator_id: bytes, version: int, topic: str,
         state: bytes) -> bytes:
    """The chain's link for one stored event: it covers the event's bytes and every earlier link."""
    topic_bytes = topic.encode()
    return hashlib.sha256(
        b"".join((previous, _HEADER.pack(position, version, len(topic_bytes), len(state)),
                  originator_id, topic_bytes, state))
    ).digest()


def extend(previous: bytes, rows: Iterable[StoredRow]) -> list[tuple[int, bytes]]:
    """Links for consecutive stored rows following `previous`: (position, link) pairs."""
    links = []
    for position, originator_id, version, topic, state in rows:
        previous = link(previous, position, originator_id, version, topic, state)
        links.append((position, previous))
    return links


@dataclass(frozen=True)
class EventTable:
    """Where the application's events are stored, read raw over a DB-API connection.

    The table and its columns are the eventsourcing library's own: `stored_events` keyed by
    `rowid` on SQLite, `<application>_events` with a `notification_id` on PostgreSQL.
    """

    connection: Any
    name: str
    is_sqlite: bool

    def _select(self) -> str:
        # Only a lower bound and LIMIT: the planner then walks the position index in order
        # even before the table has statistics; the upper bound is applied while reading.
        if self.is_sqlite:
            return (f"SELECT rowid, originator_id, originator_version, topic, state "  # noqa: S608
                    f"FROM {self.name} WHERE rowid > ? ORDER BY rowid LIMIT ?")
        return (f"SELECT notification_id, uuid_send(originator_id), originator_version, topic, "  # noqa: S608
                f"state FROM {self.name} WHERE notification_id > %s "
                f"ORDER BY notification_id LIMIT %s")

    def pages(self, after: int = 0, stop: int | None = None,
              page_size: int = VERIFY_PAGE_SIZE) -> Iterator[list[StoredRow]]:
        """Stored events after a position (up to `stop`), a page at a time: bounded memory."""
        statement = self._select()
        while True:
            page = self._fetch(statement, (after, page_size))
            if stop is not None and page and page[-1][0] > stop:
                page = [row for row in page if row[0] <= stop]
                if page:
                    yield page
                return
            if not page:
                return
            yield page
            after = page[-1][0]
            if len(page) < page_size:
                return

    def max_position(self) -> int:
        column = "rowid" if self.is_sqlite else "notification_id"
        cursor = self.connection.execute(f"SELECT MAX({column}) FROM {self.name}")  # noqa: S608
        return int(cursor.fetchone()[0] or 0)

    def _fetch(self, statement: str, params: tuple[int, int]) -> list[StoredRow]:
        if self.is_sqlite:
            rows = self.connection.execute(statement, params).fetchall()
            # SQLite keeps the UUID as 32 hex digits; the chain hashes its 16 bytes.
            return [(p, bytes.fromhex(o), v, t, s) for p, o, v, t, s in rows]
        with self.connection.cursor(binary=True) as cursor:
            cursor.execute(statement, params)
            # Binary results: bytea columns arrive as bytes already, no copy needed.
            return cursor.fetchall()

    def pages_read_ahead(self, after: int = 0, stop: int | None = None) -> Iterator[list[StoredRow]]:
        """As `pages`, reading the next page in a thread while the caller works on the current
        one: on PostgreSQL the server sends a page while Python hashes the one before. SQLite
        reads in-process, where a thread would only contend for the GIL."""
        if self.is_sqlite:
            return self.pages(after, stop)
        return read_ahead(self.pages(after, stop))


# (position, link as hex) pages of what the journal recorded, in position order.
RecordedPages = Iterable[Sequence[tuple[int, str]]]


@dataclass(frozen=True)
class Verification:
    """The answer of `verify`: ok, how many events matched, the head link, the first bad place.

    `problem` is `altered` (the event's bytes changed), `removed` (a recorded event is gone),
    or `inserted` (an event no recorded link vouches for, or one out of its recorded place).
    `pending` counts events stored after the journal's last row: not yet journaled, so not
    yet vouched for either way.
    """

    ok: bool
    checked: int
    head_position: int
    head_hash: str
    first_bad_position: int | None = None
    problem: str | None = None
    pending: int = 0


Progress = Callable[[int], None]  # called with the number of events checked so far
# The (originator id as 16 bytes, version) the journal recorded at a position, if any.
RecordedIdentity = Callable[[int], "tuple[bytes, int] | None"]


def verify(events: EventTable, recorded: RecordedPages, recorded_head: int,
           identify: RecordedIdentity | None = None,
           progress: Progress | None = None, after: int = 0,
           previous: bytes = GENESIS) -> Verification:
    """Recomputes the chain from the stored events and compares it with the recorded links.

    Walks both sequences in position order: a recorded position with no stored event was
    removed, a stored event at a position with no recorded link was inserted, a link that
    differs means the event (or its place in the sequence) was altered. The first difference
    is reported; everything after it is unproven.

    From the start of the log, or continuing after position `after` whose link was
    `previous` (a checkpoint of an earlier verification): `recorded` then starts after it too,
    and `checked` counts only the events checked now.
    """
    recorded_rows = _flatten(recorded)
    checked = 0
    head_position = after
    # `link`, inlined: this loop is the cost of verifying, a few microseconds per event.
    sha256, pack, join = hashlib.sha256, _HEADER.pack, b"".join
    for page in events.pages_read_ahead(after=after, stop=recorded_head):
        for position, originator_id, version, topic, state in page:
            expected = next(recorded_rows, None)
            if expected is None or expected[0] > position:
                return _bad(checked, head_position, previous, position, "inserted")
            if expected[0] < position:
                return _bad(checked, head_position, previous, expected[0], "removed")
            topic_bytes = topic.encode()
            current = sha256(join((previous, pack(position, version, len(topic_bytes), len(state)),
                                   originator_id, topic_bytes, state))).digest()
            if current.hex() != expected[1]:
                problem = _mismatch(identify, position, (originator_id, version))
                return _bad(checked, head_position, previous, position, problem)
            previous = current
            head_position = position
            checked += 1
        if progress is not None:
            progress(checked)
    leftover = next(recorded_rows, None)
    if leftover is not None:
        return _bad(checked, head_position, previous, leftover[0], "removed")
    pending = sum(len(page) for page in events.pages(after=recorded_head))
    return Verification(True, checked, head_position, previous.hex(), pending=pending)


def chain_head(events: EventTable, stop: int, progress: Progress | None = None) -> tuple[int, int, str]:
    """Recomputes the chain from the first stored event up to `stop`, using nothing else.

    Returns (events hashed, position of the last one, its link as hex): what a digest of
    position `stop` must match if history up to it is unchanged.
    """
    previous = GENESIS
    count = 0
    last = 0
    for page in events.pages_read_ahead(stop=stop):
        for position, originator_id, version, topic, state in page:
            previous = link(previous, position, originator_id, version, topic, state)
        count += len(page)
        last = page[-1][0]
        if progress is not None:
            progress(count)
    return count, last, previous.hex()


def _mismatch(identify: RecordedIdentity | None, position: int,
              stored: tuple[bytes, int]) -> str:
    """Tells an altered event from one that moved: a different event standing at a recorded
    position came from the next recorded place (one was removed) or from nowhere (inserted)."""
    if identify is None or identify(position) == stored:
        return "altered"
    return "removed" if identify(position + 1) == stored else "inserted"


def _flatten(pages: RecordedPages) -> Iterator[tuple[int, str]]:
    for page in pages:
        yield from page


def _bad(checked: int, head_position: int, previous: bytes, position: int,
         problem: str) -> Verification:
    return Verification(False, checked, head_position, previous.hex(), position, problem)
