"""Tokens this server has already checked, forgotten the moment any token or user changes.

Checking a bearer token reads the token's events from the store: a round trip and ~10 % of
the server's time per request under load (docs/benchmarks.md). On PostgreSQL this server
remembers who a token belongs to, and a trigger on the events table makes every transaction
that stores an access event (a token issued or revoked, a user's roles set) notify the
`fundledger_access` channel when it commits. A listener thread forgets everything remembered
on each notification. A revocation by any process therefore reaches every server when it
commits, within the milliseconds the notification takes to arrive.

Fail closed: while the listener is not connected (starting, database restarting), nothing is
remembered and every request reads its token from the store, as without this module. The app
makes one only on PostgreSQL: SQLite reads a token in-process, cheaply.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import Recording
from psycopg import sql

from api.settings import Settings
from domain.access import token_hash
from domain.actors import Actor
from projections.database import postgres_connection

log = logging.getLogger(__name__)

CHANNEL = "fundledger_access"
ACCESS_TOPIC_PREFIX = "domain.access:"
LISTEN_CONNECT_SECONDS = 2
LISTEN_RETRY_SECONDS_MAX = 5.0
TOKENS_REMEMBERED_MAX = 10_000  # a bureau has hundreds of users; past this, start afresh
# Serialises concurrent servers installing the trigger (an arbitrary, fixed advisory lock key).
_INSTALL_LOCK_KEY = 0x46_4C_41_43  # "FLAC"


def install_trigger(connection: psycopg.Connection[Any], events_table: str, schema: str) -> None:
    """Makes every commit that stores an access event notify CHANNEL (idempotent), naming
    the schema: the channel is the database's, and each bureau's books are a schema of it."""
    qualified = sql.Identifier(schema, events_table)
    function = sql.Identifier(schema, "fundledger_access_changed")
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (_INSTALL_LOCK_KEY,))
        connection.execute(sql.SQL(
            "CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN PERFORM pg_notify({channel}, {schema}); RETURN NULL; END $$"
        ).format(function=function, channel=sql.Literal(CHANNEL), schema=sql.Literal(schema)))
        connection.execute(sql.SQL(
            "CREATE OR REPLACE TRIGGER fundledger_access_changed AFTER INSERT ON {table} "
            "FOR EACH ROW WHEN (NEW.topic LIKE {prefix}) EXECUTE FUNCTION {function}()"
        ).format(table=qualified, prefix=sql.Literal(ACCESS_TOPIC_PREFIX + "%"),
                 function=function))


class KnownTokens:
    """Who each checked token belongs to, while the access-change listener is connected."""

    def __init__(self, settings: Settings, events_table: str) -> None:
        self.settings = settings
        self.events_table = events_table
        self.generation = 0  # bumped on every forgetting; tests wait on it
        self._listening = False
        self._known: dict[str, tuple[int, Actor]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def listening(self) -> bool:
        return self._listening

    def start(self) -> None:
        self._thread = threading.Thread(target=self._listen_forever, name="access-listener",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(LISTEN_RETRY_SECONDS_MAX)

    def remembered(self, token: str) -> Actor | None:
        """The token's actor if remembered now, without touching the store."""
        if not self._listening:
            return None
        known = self._known.get(token_hash(token))
        return known[1] if known is not None and known[0] == self.generation else None

    def actor(self, token: str, check: Callable[[str], Actor]) -> Actor:
        """The token's actor: remembered, or checked against the store (`check` raises for an
        unknown or revoked token, which is never remembered)."""
        generation = self.generation
        remembered = self.remembered(token)
        if remembered is not None:
            return remembered
        actor = check(token)
        with self._lock:
            # A change notified while the store was read makes this answer stale: not kept.
            if self._listening and self.generation == generation:
                if len(self._known) >= TOKENS_REMEMBERED_MAX:
                    self._known.clear()
                self._known[token_hash(token)] = (generation, actor)
        return actor

    def forget(self) -> None:
        with self._lock:
            self.generation += 1
            self._known.clear()

    def forget_on_access_change(self, recordings: Sequence[Recording[Any]]) -> None:
        """After a save of this server's own: an access event in it forgets every token at
        once. The notification arrives a few milliseconds after the commit, and under load a
        request in between was still answered with the roles the user no longer has."""
        if any(r.notification.topic.startswith(ACCESS_TOPIC_PREFIX) for r in recordings):
            self.forget()

    def _listen_forever(self) -> None:
        wait = 0.5
        own_schema = self.settings.postgres_schema or "public"
        while not self._stop.is_set():
            try:
                with self._connect() as connection:
                    install_trigger(connection, self.events_table, own_schema)
                    connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                    # Anything remembered before now may predate a change we did not hear.
                    self.forget()
                    self._listening = True
                    wait = 0.5
                    while not self._stop.is_set():
                        for notice in connection.notifies(timeout=1.0, stop_after=1):
                            # Another schema's (bureau's) users are not this server's; an
                            # empty payload is a trigger an earlier release installed.
                            if notice.payload in ("", own_schema):
                                self.forget()
            except Exception:
                log.warning("access listener: disconnected; checking every token in the store "
                            "until it reconnects", exc_info=True)
            finally:
                self._listening = False
                self.forget()
            if self._stop.wait(wait):
                return
            wait = min(wait * 2, LISTEN_RETRY_SECONDS_MAX)

    def _connect(self) -> psycopg.Connection[Any]:
        connection: psycopg.Connection[Any] = postgres_connection(
            self.settings, "fundledger-access-listener", LISTEN_CONNECT_SECONDS)
        return connection
