"""What one command, or one batch of commands, changes before it is saved.

A command decides on the aggregates it loads and hands back a `Decision`: the aggregates
the caller asked about and every aggregate it changed. Inside a `Batch` the commands work on
copies of the batch's aggregates, so a refused command leaves the batch as it was.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from types import NoneType
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import VersionMismatch

A = TypeVar("A", bound=Aggregate)

# What an aggregate's state holds: containers a working copy copies, and values it shares.
_CONTAINERS = (list, dict, set)
_IMMUTABLE = frozenset({str, int, bool, NoneType, UUID, date, datetime, tuple, frozenset})


@dataclass
class Outcome:
    """What a command did: the aggregates it was about, and the position of its last event.

    `replayed` is true when an idempotency key matched an earlier request: nothing was
    written and the subjects are as that request left them. Inside a batch the position
    is known only once the batch is saved.
    """

    subjects: list[Any]
    position: int
    replayed: bool = False

    @property
    def subject(self) -> Any:
        return self.subjects[0]


@dataclass
class Decision:
    """A command's answer before it is saved: its subjects, and all it changed (by default
    the subjects themselves)."""

    subjects: list[Aggregate]
    changed: list[Aggregate] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.changed:
            self.changed = list(self.subjects)


@dataclass
class Batch:
    """The unit of work of `batch()`: aggregates as its commands left them."""

    aggregates: dict[UUID, Aggregate] = field(default_factory=dict)
    events: list[Any] = field(default_factory=list)
    # Group commit creates register entries and idempotency records without looking first:
    # the store refuses a duplicate, and the group then runs its commands one by one.
    optimistic: bool = False
    tickets: list[tuple[Outcome, UUID, int]] = field(default_factory=list)
    position: int = 0
    # Aggregates the batch's commands only consult (not change): read from the store once per
    # batch, or taken from the process's memory where the save checks they are still so
    # (CommandApplication.consult), since another process may have outdated them.
    consulted: dict[UUID, Aggregate | None] = field(default_factory=dict)
    # Aggregates read together before the commands that will change them ran
    # (CommandApplication.read_ahead), as the store held them: a command starts from a copy.
    read: dict[UUID, Aggregate] = field(default_factory=dict)

    @property
    def event_count(self) -> int:
        return len(self.events)


current_batch: ContextVar[Batch | None] = ContextVar("fundledger_batch", default=None)
optimistic_kind: ContextVar[bool] = ContextVar("fundledger_optimistic", default=False)
working_set: ContextVar[dict[UUID, Aggregate] | None] = ContextVar("fundledger_working",
                                                                   default=None)


def working_copy(aggregate: A) -> A:
    """A copy that a command may change without touching the original.

    Aggregates hold scalars, immutable values (UUIDs, dates, tuples) and lists, dicts or sets
    of them, so copying the containers one level deep is enough. A deep copy did the same and
    cost a third of a bulk import's time: a fund holds the ids of all its allocations.
    """
    # As copy.copy does for a plain object (a new instance, its __dict__ copied), without the
    # pickling protocol's detour: a year-end close copies thousands of allocations, a batch of
    # expenditures one allocation for each. Most values are of a few immutable types, passed
    # over by one set lookup: `isinstance` against a union cost two thirds of the copy.
    cls = type(aggregate)
    duplicate = cls.__new__(cls)
    state = aggregate.__dict__.copy()
    for name, value in state.items():
        if type(value) not in _IMMUTABLE and isinstance(value, _CONTAINERS):
            state[name] = value.copy()
    duplicate.__dict__.update(state)
    return duplicate


def retime(aggregates: Iterable[Aggregate]) -> None:
    """Pending events recorded now: a decision taken earlier (a change tried when it was made)
    and saved now carries the time it is saved, which the backdating finding reads."""
    for aggregate in aggregates:
        pending = aggregate.pending_events
        for event in pending:
            object.__setattr__(event, "timestamp", type(event).create_timestamp())
        if pending:
            if pending[0].originator_version == 1:
                aggregate._created_on = pending[0].timestamp
            aggregate.modified_on = pending[-1].timestamp


def check_version(aggregate: Aggregate, expected_version: int | None) -> None:
    if expected_version is not None and aggregate.version != expected_version:
        msg = f"version is {aggregate.version}, not {expected_version}"
        raise VersionMismatch(msg)


def fingerprint(params: dict[str, Any]) -> str:
    """The request's content, canonically: a repeat of a key must carry the same content."""
    canonical = json.dumps(params, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
