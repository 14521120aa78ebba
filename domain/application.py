"""An event-sourced application whose commands are idempotent, retried and batchable.

A command is a `decide()` function: it loads the aggregates it needs, lets them check their
rules, and returns a `Decision`. `run()` saves everything the decision changed in one atomic
`save()`. A concurrent write to the same aggregates makes the store refuse the save
(optimistic concurrency); the command then starts again from fresh state, a bounded number
of times, before it reports a conflict. A request key makes a repeat answer what the first
request did instead of doing it twice. Nothing here knows what the aggregates mean.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    project_aggregate,
)
from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording, Transcoder

from domain.actors import Actor, Role, Stamp
from domain.errors import ConcurrencyConflict, LedgerError
from domain.event_reading import read_aggregate, read_aggregates
from domain.idempotency import IdempotencyRecord
from domain.limits import (
    COMMAND_ATTEMPTS_MAX,
    COMMAND_RETRY_WAIT_SECONDS_MAX,
    IDEMPOTENCY_KEY_LENGTH_MAX,
)
from domain.recent import RecentAggregates
from domain.rules import check_not_future, check_text
from domain.snapshot_seal import (
    KEY_BYTES,
    KEY_PATH_ENV,
    SealedSnapshotStore,
    load_or_create_key,
)
from domain.terms import ERRORS_ZH
from domain.transcodings import DateAsISO, FastJSONTranscoder, IdWithTextAsHex, StampAsDict
from domain.unit_of_work import (
    A,
    Batch,
    Decision,
    Outcome,
    check_version,
    current_batch,
    fingerprint,
    optimistic_kind,
    working_copy,
    working_set,
)


class CommandApplication(Application[UUID]):
    """The write machinery every command of a subclass shares."""

    snapshotting_intervals: ClassVar[dict[type[Aggregate], int]] = {}
    # Kinds snapshotted more often by the views' runner, off the write path
    # (domain/snapshot_keeping.py): every this many events.
    snapshots_kept_every: ClassVar[dict[type[Aggregate], int]] = {}
    # Kinds a group commit creates without reading first (the store refuses a duplicate).
    created_unread: ClassVar[tuple[type[Aggregate], ...]] = (IdempotencyRecord,)

    def __init__(self, env: dict[str, str] | None, clock: Callable[[], date]) -> None:
        super().__init__(env)
        self.today = clock
        # Aggregates as this process last wrote (or consulted) them, for batches to start from
        # without a read (domain/recent.py).
        self._recent = RecentAggregates()
        self._saved_listeners: list[Callable[[list[Recording[UUID]]], None]] = []

    def on_saved(self, listener: Callable[[list[Recording[UUID]]], None]) -> None:
        """Calls `listener` with each save's recordings once they are committed, in the
        thread that saved them (a server forgets the tokens it knew when a user's roles
        change through it: api/known_tokens.py)."""
        self._saved_listeners.append(listener)

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        super()._notify(recordings)
        for listener in self._saved_listeners:
            listener(recordings)

    def construct_snapshot_store(self) -> SealedSnapshotStore:
        """Snapshots sealed under a key outside the database (domain/snapshot_seal.py). With no
        key path configured (in-memory tests) the key lives as long as the process."""
        path = self.env.get(KEY_PATH_ENV)
        key = load_or_create_key(Path(path)) if path else secrets.token_bytes(KEY_BYTES)
        return SealedSnapshotStore(self.mapper, self.factory.aggregate_recorder(purpose="snapshots"),
                                   key)

    def construct_transcoder(self) -> Transcoder:
        """The library's JSON transcoder reading with orjson (domain/transcodings.py), unless
        the environment names another transcoder."""
        transcoder = self.factory.transcoder()
        if type(transcoder) is JSONTranscoder:
            transcoder = FastJSONTranscoder()
        if isinstance(transcoder, JSONTranscoder):
            self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(StampAsDict())
        transcoder.register(IdWithTextAsHex())

    def save(self, *objs: Aggregate | DomainEventProtocol[UUID] | None,
             **kwargs: Any) -> list[Recording[UUID]]:
        """As `Application.save`, telling aggregates from events by class: the library asks
        `isinstance` of a runtime protocol for each object, which cost ~8 % of a bulk import."""
        processing: ProcessingEvent[UUID] = ProcessingEvent()
        for obj in objs:
            if obj is None:
                continue
            if isinstance(obj, Aggregate):
                processing.events.extend(obj.collect_events())
                processing.aggregates[obj.id] = obj
            else:
                processing.events.append(obj)
        processing.saved_kwargs.update(kwargs)
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        return recordings

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """One snapshot of each saved aggregate whose events reach a multiple of its kind's
        interval, taken of the aggregate as saved. The library reads the aggregate back from
        the store at each multiple; a batch of 500 spends on one allocation crosses five, and
        those reads were a third of the batch's save."""
        assert self.snapshots is not None
        due: dict[UUID, Aggregate] = {}
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            interval = self.snapshotting_intervals.get(type(aggregate)) if aggregate else None
            if interval is None or event.originator_version % interval:
                continue
            assert aggregate is not None
            if aggregate.version >= event.originator_version:
                due[aggregate.id] = aggregate
            else:  # an aggregate saved behind its own events: as the library does
                self.take_snapshot(event.originator_id, version=event.originator_version)
        for aggregate in due.values():
            self.snapshots.put([type(aggregate).Snapshot.take(aggregate)])

    def last_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    # --------------------------------------------------------------- commands

    @staticmethod
    def request_key(actor: Actor, idempotency_key: str | None, params: dict[str, Any]
                    ) -> tuple[UUID | None, str]:
        """The idempotency record a keyed request is kept under and the fingerprint of what it
        asked, which a repeat must match; (None, "") without a key: nothing keeps or compares a
        fingerprint then, and computing it was ~4 % of a bulk import's commands."""
        if idempotency_key is None:
            return None, ""
        idempotency_key = check_text(idempotency_key, "idempotency key",
                                     IDEMPOTENCY_KEY_LENGTH_MAX)
        return IdempotencyRecord.id_for(actor.user_id, idempotency_key), fingerprint(params)

    def run(self, actor: Actor, command: str, params: dict[str, Any],
            idempotency_key: str | None, decide: Callable[[], Decision]) -> Outcome:
        """Decides and saves atomically; retries on a concurrent write, bounded."""
        record_id, request = self.request_key(actor, idempotency_key, params)
        batch = current_batch.get()
        if batch is not None:
            return self._run_in_batch(batch, command, request, record_id, decide)
        for attempt in range(COMMAND_ATTEMPTS_MAX):
            decision = self._decide_or_replay(decide, command, request, record_id,
                                              lambda i: self.find(IdempotencyRecord, i))
            if isinstance(decision, Outcome):
                return decision
            try:
                recordings = self.save(*decision.changed)
            except IntegrityError:
                self._forget_recent()
                time.sleep(random.uniform(0, COMMAND_RETRY_WAIT_SECONDS_MAX) * (attempt + 1))  # noqa: S311
                continue
            self._remember(decision.changed)
            return Outcome(decision.subjects, recordings[-1].notification.id)
        msg = f"{command} met concurrent updates {COMMAND_ATTEMPTS_MAX} times; retry the request"
        raise ConcurrencyConflict(msg)

    def check_decision(self, changed: Iterable[Aggregate]) -> None:
        """A last look at what a decided command would save, before it is saved (a rule that
        holds for every command, such as closed periods); raises the refusal. None here."""

    def _decide_or_replay(self, decide: Callable[[], Decision], command: str, request: str,
                          record_id: UUID | None,
                          stored: Callable[[UUID], IdempotencyRecord | None]) -> Decision | Outcome:
        """The decision, checked (`check_decision`) and with the idempotency record it saves
        too, or the answer of an earlier request with the same key.

        A twin of this request with the same key may have saved between the first look and
        decide(), which then sees its effect (voucher taken, allocation approved…): that is a
        repeat to answer, not a refusal. `stored` looks the record up again after a refusal.
        """
        if record_id is not None:
            record = self.find(IdempotencyRecord, record_id)
            if record is not None:
                return self._replay(record, command, request)
        try:
            decision = decide()
        except LedgerError:
            record = stored(record_id) if record_id is not None else None
            if record is not None:
                return self._replay(record, command, request)
            raise
        self.check_decision(decision.changed)
        return Decision(decision.subjects,
                        [*decision.changed, *self._record_of(record_id, command, request, decision)])

    @staticmethod
    def _record_of(record_id: UUID | None, command: str, request: str,
                   decision: Decision) -> list[IdempotencyRecord]:
        if record_id is None:
            return []
        return [IdempotencyRecord(id=record_id, command=command, fingerprint=request,
                                  results=[(s.id, s.version) for s in decision.subjects])]

    def _replay(self, record: IdempotencyRecord, command: str, request: str) -> Outcome:
        record.check_same_request(command, request)
        batch = current_batch.get()
        subjects = [
            batch.aggregates[UUID(str(i))] if batch and UUID(str(i)) in batch.aggregates
            else self.repository.get(UUID(str(i)), version=v)
            for i, v in record.results
        ]
        outcome = Outcome(subjects, self.last_position(), replayed=True)
        if batch is not None and any(e.originator_id == record.id for e in batch.events):
            # The twin that took this key rides the same unsaved batch: its position, known
            # once the batch is saved, is this answer's (the head now lies before it).
            batch.tickets.append((outcome, record.id, record.version))
        return outcome

    # ---------------------------------------------------------------- batches

    @contextmanager
    def batch(self, *, optimistic: bool = False) -> Iterator[Batch]:
        """Commands taken inside apply one after another to in-memory aggregates, so each
        sees the ones before it, and are saved together in one atomic write at the end.

        A refused command raises as usual and leaves the batch as it was before it; the
        caller decides whether to go on. If the block raises, nothing is written. If the
        final save meets a concurrent write, nothing is written and ConcurrencyConflict
        is raised: the caller may run the batch again.
        """
        if current_batch.get() is not None:
            msg = "batches do not nest"
            raise RuntimeError(msg)
        batch = Batch(optimistic=optimistic)
        token = current_batch.set(batch)
        try:
            yield batch
        finally:
            current_batch.reset(token)
        self._save_batch(batch)

    def _run_in_batch(self, batch: Batch, command: str, request: str,
                      record_id: UUID | None, decide: Callable[[], Decision]) -> Outcome:
        working: dict[UUID, Aggregate] = {}
        token = working_set.set(working)
        try:
            # After a refusal the store is read: the batch's optimistic first look assumed no
            # record, and an earlier request whose answer was lost may have saved one.
            decision = self._decide_or_replay(decide, command, request, record_id,
                                              self._stored_record)
            if isinstance(decision, Outcome):
                return decision
        finally:
            working_set.reset(token)
        events = [e for aggregate in decision.changed for e in aggregate.collect_events()]
        for aggregate in decision.changed:
            batch.aggregates[aggregate.id] = aggregate
        batch.events.extend(events)
        outcome = Outcome(decision.subjects, 0)
        if events:
            batch.tickets.append((outcome, events[-1].originator_id, events[-1].originator_version))
        return outcome

    def _stored_record(self, record_id: UUID) -> IdempotencyRecord | None:
        """The idempotency record as the store holds it, whatever the batch assumed."""
        try:
            record = self.repository.get(record_id)
        except AggregateNotFoundError:
            return None
        return record if isinstance(record, IdempotencyRecord) else None

    def _save_batch(self, batch: Batch) -> None:
        if not batch.events:
            return
        unchanged = {} if not self._store_checks_consulted() else {
            i: a.version if a is not None else 0 for i, a in batch.consulted.items()
            if i not in batch.aggregates}
        try:
            # Events first, in the order the commands raised them; then the aggregates
            # themselves (now without pending events) so that snapshots can be taken.
            recordings = self.save(*batch.events, *batch.aggregates.values(),
                                   **({"consulted": unchanged} if unchanged else {}))
        except IntegrityError:
            self._forget_recent()
            msg = "a concurrent write touched this batch's aggregates; nothing was written"
            raise ConcurrencyConflict(msg) from None
        self._remember(batch.aggregates.values())
        positions = {(r.domain_event.originator_id, r.domain_event.originator_version):
                     r.notification.id for r in recordings}
        for outcome, originator_id, version in batch.tickets:
            outcome.position = positions[(originator_id, version)]
        batch.position = recordings[-1].notification.id

    # ----------------------------------------------------------------- loading

    def load(self, aggregate_id: UUID, kind: type[Aggregate] | None = None) -> Any:
        """Reads an aggregate; inside a batch, as the batch's earlier commands left it."""
        working = working_set.get()
        if working is None:
            return self._read(aggregate_id, kind)
        if aggregate_id not in working:
            batch = current_batch.get()
            assert batch is not None
            known = (batch.aggregates.get(aggregate_id) or self._recall(aggregate_id)
                     or batch.read.get(aggregate_id))
            if known is not None:
                # A copy, so that a refused command leaves the batch's state untouched.
                working[aggregate_id] = working_copy(known)
            elif batch.optimistic and optimistic_kind.get():
                raise AggregateNotFoundError(aggregate_id)
            else:
                working[aggregate_id] = self._read(aggregate_id, kind)
        return working[aggregate_id]

    def read_ahead(self, aggregate_ids: Iterable[UUID]) -> None:
        """Inside a batch: those of `aggregate_ids` that neither the command, the batch nor
        this process's memory holds are read together (domain/event_reading.py), for `load` to
        start from instead of a read each. A batch of 500 expenditures on a server that had not
        yet written to their allocations read them one by one, two round trips each; a close in
        a freshly started server, ~140 allocations/s."""
        batch = current_batch.get()
        assert batch is not None
        working = working_set.get() or {}
        unknown = [i for i in dict.fromkeys(aggregate_ids)
                   if i not in working and i not in batch.aggregates and i not in batch.read
                   and self._recall(i) is None]
        if unknown:
            batch.read.update(read_aggregates(self, unknown))

    def _read(self, aggregate_id: UUID, kind: type[Aggregate] | None) -> Any:
        """Reads an aggregate from the store in one query. A kind that is never snapshotted
        (a token, a voucher number, an expenditure) is read from its events: the library first
        asks the snapshot table, a second round trip on every request's token check. Another
        kind, from its latest snapshot and the events after it together (event_reading)."""
        if kind is None or kind in self.snapshotting_intervals:
            return read_aggregate(self, aggregate_id)
        aggregate = project_aggregate(None, self.events.get(aggregate_id))
        if aggregate is None:
            raise AggregateNotFoundError(aggregate_id)
        return aggregate

    def find(self, kind: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate of this kind with this id, or None."""
        if kind in self.created_unread:
            optimistic_kind.set(True)
        try:
            aggregate = self.load(aggregate_id, kind)
        except AggregateNotFoundError:
            return None
        finally:
            optimistic_kind.set(False)
        # An id of another kind is as good as unknown (e.g. a fund's id passed as an allocation).
        return aggregate if isinstance(aggregate, kind) else None

    def require(self, kind: type[A], aggregate_id: UUID, error: type[LedgerError], what: str,
                expected_version: int | None = None) -> A:
        """The aggregate of this kind with this id (at this version if one is expected), or
        the refusal `error` naming `what`."""
        found = self.find(kind, aggregate_id)
        if found is None:
            msg = f"{what} not found"
            # e.g. 资金不存在：PUB-1 (what is "fund PUB-1")
            named = what.partition(" ")[2] or what
            raise error(msg, f"{ERRORS_ZH.get(error.code, error.title)}：{named}")
        check_version(found, expected_version)
        return found

    def consult(self, aggregate_id: UUID, read: Callable[[], Aggregate | None]
                ) -> Aggregate | None:
        """An aggregate this batch's commands consult without changing it (the closed months),
        once per batch: from memory where the store checks at the save that it is still at the
        version consulted (a stale one fails the save as a clash), else read."""
        batch = current_batch.get()
        assert batch is not None
        if aggregate_id not in batch.consulted:
            batch.consulted[aggregate_id] = (self._recent.consulted(aggregate_id, read)
                                             if self._store_checks_consulted() else read())
        return batch.consulted[aggregate_id]

    def _store_checks_consulted(self) -> bool:
        return bool(getattr(self.recorder, "checks_consulted", False))

    def _remember(self, aggregates: Iterable[Aggregate]) -> None:
        self._recent.remember(aggregates)

    def _recall(self, aggregate_id: UUID) -> Aggregate | None:
        return self._recent.recall(aggregate_id)

    def _forget_recent(self) -> None:
        self._recent.forget()

    # ---------------------------------------------------------------- stamping

    def stamp(self, actor: Actor, role: Role, day: date | None,
              idempotency_key: str | None, reason: str = "") -> Stamp:
        """Who, as what, on which business date (today unless given; never in the future)."""
        today = self.today()
        day = check_not_future(day or today, today, "effective_date")
        return Stamp(actor.user_id, role.value, day, idempotency_key, reason)
