"""The hash chain over the application's event sequence: what makes the journal tamper-evident.

Each event's link is SHA-256 over the previous link and a canonical encoding of the event as
it is stored: its position (notification id), originator id (16 bytes), originator version,
topic and state bytes. The journal keeps every link beside the event's flattened row, written
in the same transaction as the rest of the page. `verify` recomputes the chain from the event
store itself and names the first position where history was altered, removed or inserted.

The stored bytes are hashed as they are, never decoded: a decoding that forgives a changed
byte would hide exactly the change an auditor is looking for, and it would be slow.

`verify_beside` is how the journal is verified: each page of stored events is read beside
the links recorded for its positions (one join), so that the loop over a page only hashes
and compares. Any difference in a page sends the check back to `verify`, the event-by-event
walk, from the page's start: it names the first bad position exactly as before.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
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

    @property
    def _position(self) -> str:
        return "rowid" if self.is_sqlite else "notification_id"

    @property
    def _mark(self) -> str:
        return "?" if self.is_sqlite else "%s"

    def max_position(self) -> int:
        return self._scalar(f"SELECT MAX({self._position}) FROM {self.name}", ())  # noqa: S608

    def _fetch(self, statement: str, params: tuple[int, int]) -> list[StoredRow]:
        rows = self._fetch_raw(statement, params)
        if self.is_sqlite:
            # SQLite keeps the UUID as 32 hex digits; the chain hashes its 16 bytes.
            return [(p, bytes.fromhex(o), v, t, s) for p, o, v, t, s in rows]
        return rows

    def _select_beside(self, recorded: str) -> str:
        # One row per stored event and the link `recorded` holds for its position (NULL when
        # none). SQLite: the raw columns (it has no binary packing; building hex text in SQL
        # costs more than Python's struct). PostgreSQL: the bytes the link hashes after the
        # previous link, built by the server on its own core (NULL where `link` would refuse
        # the row: a negative position or version), so Python only hashes and compares. The
        # merge join costs the server about 0.4 µs an event more than two scans; it saves
        # Python more (the events read apart and merged in Python measured slower).
        if self.is_sqlite:
            return (f"SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state, "  # noqa: S608
                    f"r.hash FROM {self.name} e LEFT JOIN {recorded} r ON r.position = e.rowid "
                    f"WHERE e.rowid > ? ORDER BY e.rowid LIMIT ?")
        return ("SELECT e.notification_id, CASE WHEN e.notification_id >= 0 "  # noqa: S608
                "AND e.originator_version >= 0 THEN int8send(e.notification_id) "
                "|| int8send(e.originator_version) || int4send(octet_length(convert_to(e.topic, 'UTF8'))) "
                "|| int4send(octet_length(e.state)) || uuid_send(e.originator_id) "
                "|| convert_to(e.topic, 'UTF8') || e.state END, r.hash "
                f"FROM {self.name} e LEFT JOIN {recorded} r "
                # The bound on r as well: a merge join then starts both index scans at `after`.
                "ON r.position = e.notification_id AND r.position > %s "
                "WHERE e.notification_id > %s ORDER BY e.notification_id LIMIT %s")

    def pages_beside(self, recorded: str, after: int, stop: int,
                     page_size: int) -> Iterator[tuple[list[Any], int]]:
        """Stored events after a position up to `stop`, each beside the link the table
        `recorded` (position, hash) holds for it, a page at a time; with each page, how many
        links `recorded` holds over the page's positions (more than the page's events means a
        link whose event is gone). Read ahead in a thread on PostgreSQL, as `pages_read_ahead`."""
        pages = self._pages_beside(recorded, after, stop, page_size)
        return pages if self.is_sqlite else read_ahead(pages)

    def _pages_beside(self, recorded: str, after: int, stop: int,
                      page_size: int) -> Iterator[tuple[list[Any], int]]:
        statement = self._select_beside(recorded)
        count = (f"SELECT COUNT(*) FROM {recorded} WHERE position > {self._mark} "  # noqa: S608
                 f"AND position <= {self._mark}")
        while True:
            page = self._fetch_raw(statement, (after, page_size) if self.is_sqlite
                                   else (after, after, page_size))
            full = len(page) == page_size
            if page and page[-1][0] > stop:
                page = [row for row in page if row[0] <= stop]
                full = False
            if not page:
                return
            last = page[-1][0]
            yield page, self._scalar(count, (after, last))
            if not full:
                return
            after = last

    def count_after(self, position: int) -> int:
        """How many events are stored after a position."""
        return self._scalar(f"SELECT COUNT(*) FROM {self.name} "  # noqa: S608
                            f"WHERE {self._position} > {self._mark}", (position,))

    def _scalar(self, statement: str, params: tuple[int, ...]) -> int:
        return int(self.connection.execute(statement, params).fetchone()[0] or 0)

    def _fetch_raw(self, statement: str, params: tuple[int, ...]) -> list[Any]:
        if self.is_sqlite:
            return self.connection.execute(statement, params).fetchall()
        # Binary results: bytea columns arrive as bytes already, no copy needed.
        with self.connection.cursor(binary=True) as cursor:
            cursor.execute(statement, params)
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


def verify_beside(events: EventTable, recorded_table: str, recorded_head: int,
                  recorded: Callable[[int], RecordedPages], identify: RecordedIdentity | None = None,
                  progress: Progress | None = None, after: int = 0,
                  previous: bytes = GENESIS) -> Verification:
    """`verify`, reading each page of stored events beside its recorded links (`recorded_table`
    holds position and hash): the same answer, faster. A page whose every event has its
    recorded link, whose links all match and over whose positions no other link is recorded
    is proven as `verify` would prove it; at the first page that is not, or when recorded
    links remain after the last stored event, `verify` itself walks on from the last proven
    page (`recorded(position)`: the recorded links after that position) and names the first
    difference."""
    checked = 0
    chain_page = _chain_sqlite_page if events.is_sqlite else _chain_postgres_page
    proven = True
    with closing(events.pages_beside(recorded_table, after, recorded_head, VERIFY_PAGE_SIZE)) as pages:
        for page, links_recorded in pages:
            head = chain_page(page, previous)
            if head is None or links_recorded != len(page):
                proven = False
                break
            previous, after, checked = head, page[-1][0], checked + len(page)
            if progress is not None:
                progress(checked)
    if proven and after >= recorded_head:
        return Verification(True, checked, after, previous.hex(),
                            pending=events.count_after(recorded_head))
    done = checked
    rest = verify(events, recorded(after), recorded_head, identify,
                  None if progress is None else lambda count: progress(done + count), after, previous)
    return replace(rest, checked=done + rest.checked)


def _chain_sqlite_page(page: list[Any], previous: bytes) -> bytes | None:
    """The last link of a page of (position, originator id as hex, version, topic, state,
    recorded link as hex) rows following `previous`; None at the first link that differs
    from the recorded one, or a row `link` cannot encode (`verify` then says why)."""
    # `link`, inlined: this loop is the cost of verifying, about a microsecond per event.
    sha256, pack, join, from_hex = hashlib.sha256, _HEADER.pack, b"".join, bytes.fromhex
    try:
        for position, originator_id, version, topic, state, recorded_link in page:
            topic_bytes = topic.encode()
            current = sha256(join((previous, pack(position, version, len(topic_bytes), len(state)),
                                   from_hex(originator_id), topic_bytes, state))).digest()
            if current.hex() != recorded_link:
                return None
            previous = current
    except (AttributeError, TypeError, ValueError, struct.error):
        return None
    return previous


def _chain_postgres_page(page: list[Any], previous: bytes) -> bytes | None:
    """As `_chain_sqlite_page`, for rows of (position, the bytes the link hashes after the
    previous link as the server built them, recorded link as hex)."""
    sha256 = hashlib.sha256
    try:
        for _position, hashed, recorded_link in page:
            current = sha256(previous + hashed).digest()
            if current.hex() != recorded_link:
                return None
            previous = current
    except TypeError:  # NULL: a row `link` would refuse
        return None
    return previous


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
