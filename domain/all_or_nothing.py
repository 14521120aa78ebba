"""Many commands as one request: all of them are written, or none.

A batch request (`POST /v1/expenditures/batch`) is a list of commands under one idempotency
key. Each is tried in turn inside one unit of work, each against the books as the ones before
it left them; every refused command is named by its index, and if there is any, nothing is
written. One `IdempotencyRecord` for the whole request, saved in the same write, holds its
fingerprint and every result, so a repeat answers exactly what the first did and a different
request under the same key is refused. Inside a group commit's batch the request runs as one
part of that batch and, when refused, leaves it as it found it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from domain.actors import Actor
from domain.application import CommandApplication
from domain.errors import BatchRejected, ConcurrencyConflict, LedgerError
from domain.idempotency import IdempotencyRecord
from domain.limits import (
    COMMAND_ATTEMPTS_MAX,
    COMMAND_RETRY_WAIT_SECONDS_MAX,
)
from domain.unit_of_work import Batch, Decision, Outcome, current_batch

# A command of the batch: its decide(), or the refusal its plain input already met.
Prepared = Callable[[], Decision] | LedgerError


def item_key(idempotency_key: str | None, index: int) -> str | None:
    """The key each item's events carry (and its new ids follow from): the request's and the
    item's place in it, as the CSV import's rows carry `import:<id>:<line>`."""
    return None if idempotency_key is None else f"batch:{idempotency_key}:{index}"


class AllOrNothing(CommandApplication):
    def run_all(self, actor: Actor, command: str, params: dict[str, Any],
                idempotency_key: str | None, prepared: Sequence[Prepared],
                reads: Sequence[UUID] = ()) -> Outcome:
        """Decides every prepared command and saves them in one atomic write, or raises
        `BatchRejected` naming each refused one; retries on a concurrent write, bounded.
        `reads`: the aggregates the commands will change, read together first."""
        record_id, request = self.request_key(actor, idempotency_key, params)
        outer = current_batch.get()
        if outer is not None:
            return self._all_in(outer, command, request, record_id, prepared, reads)
        for attempt in range(COMMAND_ATTEMPTS_MAX):
            # The first attempt assumes its voucher numbers are new (no read for each); the
            # store refuses a duplicate, and the next attempt reads them to name the item.
            try:
                with self.batch(optimistic=attempt == 0) as batch:
                    outcome = self._all_in(batch, command, request, record_id, prepared, reads)
            except ConcurrencyConflict:
                time.sleep(random.uniform(0, COMMAND_RETRY_WAIT_SECONDS_MAX) * attempt)  # noqa: S311
                continue
            return outcome
        msg = f"{command} met concurrent updates {COMMAND_ATTEMPTS_MAX} times; retry the request"
        raise ConcurrencyConflict(msg)

    def _all_in(self, batch: Batch, command: str, request: str, record_id: UUID | None,
                prepared: Sequence[Prepared], reads: Sequence[UUID] = ()) -> Outcome:
        if record_id is not None:
            # A twin in the same group commit, or an earlier request whose answer was lost.
            record = batch.aggregates.get(record_id) or self._stored_record(record_id)
            if isinstance(record, IdempotencyRecord):
                return self._replay(record, command, request)
        aggregates, events, tickets = dict(batch.aggregates), len(batch.events), len(batch.tickets)
        self.read_ahead(reads)
        outcomes, errors = self._each(batch, command, prepared)
        if errors and batch.optimistic:
            # An optimistic batch took voucher numbers unread: to name every refused item,
            # look again with reads (a refusal is the rare case).
            self._restore(batch, aggregates, events, tickets)
            batch.optimistic = False
            try:
                outcomes, errors = self._each(batch, command, prepared)
            finally:
                batch.optimistic = True
        if errors:
            # Leave the batch as it was: a group commit's other requests go on without these.
            self._restore(batch, aggregates, events, tickets)
            raise BatchRejected(errors, len(prepared))
        subjects = [subject for outcome in outcomes for subject in outcome.subjects]
        if record_id is not None:
            record = IdempotencyRecord(id=record_id, command=command, fingerprint=request,
                                       results=[(s.id, s.version) for s in subjects])
            batch.aggregates[record.id] = record
            batch.events.extend(record.collect_events())
        outcome = Outcome(subjects, 0)
        if len(batch.events) > events:  # its position: that of its last event, once saved
            last = batch.events[-1]
            batch.tickets.append((outcome, last.originator_id, last.originator_version))
        return outcome

    def _each(self, batch: Batch, command: str,
              prepared: Sequence[Prepared]) -> tuple[list[Outcome], list[tuple[int, str, str]]]:
        outcomes: list[Outcome] = []
        errors: list[tuple[int, str, str]] = []
        for index, item in enumerate(prepared):
            try:
                if isinstance(item, LedgerError):
                    raise item
                outcomes.append(self._run_in_batch(batch, command, "", None, item))
            except LedgerError as error:
                errors.append((index, error.code, error.detail))
        return outcomes, errors

    @staticmethod
    def _restore(batch: Batch, aggregates: dict[UUID, Any], events: int, tickets: int) -> None:
        batch.aggregates = dict(aggregates)  # a copy: a second pass may restore again
        del batch.events[events:], batch.tickets[tickets:]
