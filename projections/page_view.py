"""The contract between the view runner and each view it keeps.

A page view is the batched form of the eventsourcing library's `Projection`: instead of one
`process_event(event, tracking)` per event it is handed a whole page of decoded events, inside
the runner's transaction, and writes its rows through the given database. The runner writes
the tracking position in that same transaction, so a page is applied exactly once or not at
all. A view must not commit, and must not keep state between pages that the database does not
also hold (a rolled-back page would leave such state wrong).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

from domain.event_reading import decode_page, event_class

if TYPE_CHECKING:
    from uuid import UUID

    from eventsourcing.persistence import Mapper, Notification

    from projections.database import ViewDatabase

S = TypeVar("S")  # a view's state for one page


class PageEvent(NamedTuple):
    """One event of the application's notification log: its position (notification id), the
    decoded domain event, and the stored notification (topic and stored bytes, for hashing)."""

    position: int
    event: Any
    notification: Notification

    @property
    def kind(self) -> str:
        """`School.Registered`, `Allocation.Spent`, …: the event class's qualified name."""
        return type(self.event).__qualname__


class PageView(Protocol):
    """A view kept by the runner. `name` is unique; tables are the view's own.

    A view may name, in a class attribute `event_bases`, the event classes it reads (each
    with its subclasses); a page then holds only those events for it when none of the other
    views of its runner wants more, and the rest are never decoded. Without it (the journal,
    which links every event) a view is handed every event."""

    name: str

    def create_tables(self, db: ViewDatabase) -> None:
        """Creates the view's tables and indexes if they do not exist (idempotent)."""

    def drop_tables(self, db: ViewDatabase) -> None:
        """Drops the view's tables (for a rebuild)."""

    def apply_page(self, db: ViewDatabase, page: Sequence[PageEvent]) -> None:
        """Applies a page of events, in position order, inside the runner's open transaction."""


class OwnTables:
    """What a view with its own tables does like every other: creates them from its statements
    (idempotent) and drops them by name for a rebuild. A view names them in `create_statements`
    and `tables`."""

    create_statements: Sequence[str] = ()
    tables: Sequence[str] = ()

    def create_tables(self, db: ViewDatabase) -> None:
        for statement in self.create_statements:
            db.execute(statement)

    def drop_tables(self, db: ViewDatabase) -> None:
        for table in self.tables:
            db.execute(f"DROP TABLE IF EXISTS {table}")


def rows_in(db: ViewDatabase, table: str, column: str,
            values: Iterable[str]) -> list[dict[str, Any]]:
    """The rows of one of a view's own tables whose `column` is one of `values`: what a
    page's events will change, read before they are applied (in chunks: dicts_in)."""
    return db.dicts_in(f"SELECT * FROM {table} WHERE {column} IN ({{marks}})", values)  # noqa: S608


def apply_handlers(handlers: Mapping[type, Callable[[S, Any, int], None]], state: S,
                   page: Sequence[PageEvent]) -> S:
    """Each event of the page to the view's handler for its class (the domain's event
    classes are the one vocabulary of the views), in order; events it has none for pass.
    Returns the state, changed."""
    for item in page:
        handler = handlers.get(type(item.event))
        if handler is not None:
            handler(state, item.event, item.position)
    return state


def decoded_page(mapper: Mapper[UUID], notifications: Sequence[Notification],
                 stored: Sequence[Notification] | None = None,
                 wanted: Callable[[str], bool] | None = None) -> list[PageEvent]:
    """A page of the log with each event decoded once, for every view (the ids and days a
    page repeats parsed once: domain/event_reading.py). `stored`: the notifications as they
    are to be decoded, when that differs from what the page links (storable_text.py).
    `wanted`: of a stored topic, whether any view reads its events (`events_wanted`); the
    others are left out, not decoded."""
    pairs = list(zip(notifications, notifications if stored is None else stored, strict=True))
    if wanted is not None:
        pairs = [(n, s) for n, s in pairs if wanted(n.topic)]
    events = decode_page(mapper, [s for _, s in pairs])
    return [PageEvent(n.id, e, n) for (n, _), e in zip(pairs, events, strict=True)]


def events_wanted(views: Sequence[PageView]) -> Callable[[str], bool] | None:
    """Whether some view reads the events of a stored topic, when every view names the event
    classes it reads (`event_bases`); None when one reads them all."""
    bases: list[type] = []
    for view in views:
        named = getattr(view, "event_bases", None)
        if named is None:
            return None
        bases.extend(named)
    read = tuple(bases)
    known: dict[str, bool] = {}

    def wanted(topic: str) -> bool:
        found = known.get(topic)
        if found is None:
            found = known[topic] = issubclass(event_class(topic), read)
        return found

    return wanted


def log_pages(ledger: Any, stop: int | None = None, page_size: int = 2_000
              ) -> Iterator[list[PageEvent]]:
    """The application's notification log from the first event up to position `stop` (all
    when None), a page at a time, each event decoded: for the replays that fold the whole
    store outside the runner."""
    start = 1
    while True:
        notifications = ledger.recorder.select_notifications(start=start, limit=page_size,
                                                             stop=stop)
        if not notifications:
            return
        yield decoded_page(ledger.mapper, notifications)
        start = notifications[-1].id + 1
