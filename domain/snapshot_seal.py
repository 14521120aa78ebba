"""Sealed snapshots: a snapshot is derived data, and a command must never be decided on a
forged one. Each stored snapshot carries an HMAC-SHA256 over its aggregate id, version, topic
and state, under a key kept beside the bureau's signing key — outside the database, so write
access to the database alone cannot forge a seal. A snapshot whose seal does not hold (forged,
altered, or written before seals, by v0.1.0) is ignored: the aggregate is replayed from its
events, and the rejection is logged and counted for auditors (`fundledger verify`, /metrics).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from eventsourcing.persistence import EventStore, IntegrityError, StoredEvent

log = logging.getLogger("fundledger.snapshots")

SEAL_PREFIX = b"fl-seal-v1:"
MAC_BYTES = 32
KEY_BYTES = 32
KEY_PATH_ENV = "FUNDLEDGER_SNAPSHOT_KEY_PATH"


def load_or_create_key(path: Path) -> bytes:
    """The seal key at `path` (hex), created 0600 on first use; a race between two processes
    creating it ends with both reading the one that won."""
    path = path.expanduser().resolve()
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(KEY_BYTES)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return bytes.fromhex(path.read_text().strip())
    with os.fdopen(descriptor, "w") as file:
        file.write(key.hex())
    return key


def _message(stored: StoredEvent, state: bytes) -> bytes:
    return b"\x1f".join((str(stored.originator_id).encode(),
                         str(stored.originator_version).encode(), stored.topic.encode(), state))


def seal(key: bytes, stored: StoredEvent) -> StoredEvent:
    mac = hmac.new(key, _message(stored, stored.state), hashlib.sha256).digest()
    return StoredEvent(originator_id=stored.originator_id,
                       originator_version=stored.originator_version, topic=stored.topic,
                       state=SEAL_PREFIX + mac + stored.state)


def unseal(key: bytes, stored: StoredEvent) -> StoredEvent | None:
    """The snapshot as it was sealed, or None when its seal does not hold."""
    state = bytes(stored.state)
    if not state.startswith(SEAL_PREFIX):
        return None
    mac, body = state[len(SEAL_PREFIX):len(SEAL_PREFIX) + MAC_BYTES], state[len(SEAL_PREFIX) + MAC_BYTES:]
    expected = hmac.new(key, _message(stored, body), hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        return None
    return StoredEvent(originator_id=stored.originator_id,
                       originator_version=stored.originator_version, topic=stored.topic,
                       state=body)


class SealedSnapshotStore(EventStore[Any]):
    """The application's snapshot store, sealing what it puts and passing over what fails."""

    def __init__(self, mapper: Any, recorder: Any, key: bytes,
                 on_rejected: Callable[[StoredEvent], None] | None = None) -> None:
        super().__init__(mapper, recorder)
        self.key = key
        self.rejected = 0
        self._reported: set[tuple[str, int]] = set()
        self._lock = threading.Lock()
        self._on_rejected = on_rejected

    def put(self, domain_events: Sequence[Any], **kwargs: Any) -> list[Any]:
        """Seals and stores the snapshots. One of an aggregate at a version already stored is
        passed over: it is that aggregate's state at that version, which the stored one holds.
        The write path and the views' runner (domain/snapshot_keeping.py) may both take it."""
        stored = [seal(self.key, self.mapper.to_stored_event(e)) for e in domain_events]
        try:
            self.recorder.insert_events(stored, **kwargs)
        except IntegrityError:
            for snapshot in stored:
                with suppress(IntegrityError):
                    self.recorder.insert_events([snapshot], **kwargs)
        return []  # snapshots are not notified

    def get(self, originator_id: Any, *, gt: int | None = None, lte: int | None = None,
            desc: bool = False, limit: int | None = None) -> Iterator[Any]:
        stored = self.recorder.select_events(originator_id=originator_id, gt=gt, lte=lte,
                                             desc=desc, limit=limit)
        for opened in self.opened(stored):
            yield self.mapper.to_domain_event(opened)

    def opened(self, stored: Iterable[StoredEvent]) -> list[StoredEvent]:
        """The snapshots whose seals hold, each as it was sealed; the others are reported and
        left out (the aggregate is then replayed from its events)."""
        found = []
        for snapshot in stored:
            opened = unseal(self.key, snapshot)
            if opened is None:
                self.report(snapshot)
            else:
                found.append(opened)
        return found

    def report(self, stored: StoredEvent) -> None:
        with self._lock:
            self.rejected += 1
            first = (str(stored.originator_id), stored.originator_version) not in self._reported
            self._reported.add((str(stored.originator_id), stored.originator_version))
        if first:
            log.warning("snapshot of %s at version %s fails its seal: ignored, the aggregate is "
                        "replayed from its events", stored.originator_id,
                        stored.originator_version)
        if self._on_rejected is not None:
            self._on_rejected(stored)
