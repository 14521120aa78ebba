"""The finance office at work: issues the plan's commands to the ledger day by day, the
officer proposing and recording, the approver deciding (maker–checker).

Each day's entries are recorded that day, in office hours (`domain.clock.recording_clock`).
A day's commands go in one `ledger.batch()` when the ledger has batches (one atomic write
per chunk instead of one per command, about five times faster on SQLite), at most
`BATCH_COMMANDS_MAX` at a time; otherwise one by one. The plan holds only valid commands:
any refusal is a generator bug and stops the run with the command that was refused.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterator
from itertools import groupby
from typing import Any
from uuid import UUID

from domain.actors import Actor, Role
from domain.change import PendingChange
from domain.clock import office_hours, recording_clock
from domain.errors import ConcurrencyConflict, LedgerError
from domain.formula_funding import FormulaFunding
from domain.ledger import FundLedger, Outcome
from scripts.generator.plan import APPROVER_COMMANDS, Command, Ref

OFFICER = Actor("zhang.wei", frozenset({Role.OFFICER}))  # 计划财务科 finance officer
APPROVER = Actor("li.min", frozenset({Role.APPROVER}))  # 科长 section chief
# 副科长 deputy chief: approves the two-person changes the others make (domain/change.py).
CHECKER = Actor("wang.fang", frozenset({Role.APPROVER}))
BATCH_COMMANDS_MAX = 4_000
STATISTICS_EVENTS_MIN = 100_000  # below this a never-analysed table plans well enough

Progress = Callable[[int, int, str], None]


class GenerationRefused(RuntimeError):
    """The ledger refused a planned command: the plan broke one of the ledger's rules."""


class Office:
    def __init__(self, ledger: FundLedger, progress: Progress | None = None) -> None:
        self.ledger = ledger
        self.progress = progress
        self.ids: dict[str, UUID] = {}
        self.counts: dict[str, int] = {}
        self.formula = FormulaFunding(ledger)
        # Allocations proposed and approved inside tranches (not commands of their own).
        self.tranche_allocations: dict[str, int] = {}
        # Optimistic batches create voucher-register entries without reading the store first
        # (the plan's voucher numbers are unique): a third faster on SQLite.
        batch = getattr(ledger, "batch", None)
        self._optimistic = batch is not None and "optimistic" in inspect.signature(batch).parameters
        self._analysed_at = 0  # the log's position when the store's statistics were refreshed

    def issue(self, commands: list[Command]) -> None:
        ordered = sorted(commands, key=Command.sort_key)
        done = 0
        total = len(ordered)
        for day, group in groupby(ordered, key=lambda c: c.day):
            todays = list(group)
            for start in range(0, len(todays), BATCH_COMMANDS_MAX):
                chunk = todays[start:start + BATCH_COMMANDS_MAX]
                self._issue_chunk(chunk)
                self._keep_statistics()
                done += len(chunk)
                if self.progress is not None:
                    self.progress(done, total, day.isoformat())

    def _keep_statistics(self) -> None:
        """The store's planner statistics refreshed each time the log has doubled, as
        autovacuum would (api/event_store.py `refresh_statistics`; PostgreSQL only)."""
        refresh = getattr(self.ledger.recorder, "refresh_statistics", None)
        if refresh is None:
            return
        position = self.ledger.last_position()
        if position >= max(STATISTICS_EVENTS_MIN, 2 * self._analysed_at):
            refresh()
            self._analysed_at = position

    def _issue_chunk(self, chunk: list[Command]) -> None:
        # The office records each day's work on that day (the year is written in minutes):
        # the events' recording times are the day's office hours, not the generator's now.
        with recording_clock(office_hours(chunk[0].day)):
            self._issue_day(chunk)

    def _issue_day(self, chunk: list[Command]) -> None:
        pending: list[tuple[Command, Any]] = []
        try:
            with self._batch(optimistic=self._optimistic):
                pending = [(command, self._issue_one(command)) for command in chunk]
        except ConcurrencyConflict:
            if not self._optimistic:
                raise
            # A corrected entry reuses a voucher number the ledger no longer remembers: the
            # store refused the guessed new register entry, and nothing was written. Again,
            # looking each register entry up.
            with self._batch(optimistic=False):
                pending = [(command, self._issue_one(command)) for command in chunk]
        # Outcomes of a batch are complete only once it is saved; ids are known before.
        for command, outcome in pending:
            if command.key is not None:
                self.ids[command.key] = outcome.subject.id
            self.counts[command.kind] = self.counts.get(command.kind, 0) + 1

    @contextlib.contextmanager
    def _batch(self, *, optimistic: bool) -> Iterator[None]:
        if not hasattr(self.ledger, "batch"):
            yield
        elif optimistic:
            with self.ledger.batch(optimistic=True):
                yield
        else:
            with self.ledger.batch():
                yield

    def _issue_one(self, command: Command) -> Any:
        actor = APPROVER if command.kind in APPROVER_COMMANDS else OFFICER
        args = {name: self._resolve(value) for name, value in command.args.items()}
        method = getattr(self.ledger, command.method, None) or getattr(self.formula, command.method)
        positional = [args.pop(n) for n in _POSITIONAL.get(command.method, ())]
        try:
            outcome = method(actor, *positional, **args)
            if isinstance(outcome.subject, PendingChange):
                done = self.ledger.approve_change(CHECKER, outcome.subject.id)
                outcome = Outcome(done.subjects[1:], done.position)
        except LedgerError as error:
            msg = f"the ledger refused planned {command.kind} of {command.day} ({command.args}): {error}"
            raise GenerationRefused(msg) from error
        if command.key is not None:
            # Ids are assigned when the command runs, so later commands of the same batch can use them.
            self.ids[command.key] = outcome.subject.id
        if command.kind in ("propose_tranche", "approve_tranche"):
            # A tranche's allocations, by school: later commands (spending) refer to them.
            tranche = outcome.subject
            if command.key is not None:
                for school, allocation_id in tranche.allocation_ids().items():
                    self.ids[f"{command.key}:{school}"] = allocation_id
            counted = "proposed" if command.kind == "propose_tranche" else "approved"
            self.tranche_allocations[counted] = (self.tranche_allocations.get(counted, 0)
                                                 + len(tranche.lines) - len(tranche.excluded))
        return outcome

    def _resolve(self, value: Any) -> Any:
        return self.ids[value.key] if isinstance(value, Ref) else value


# Commands whose subject is passed positionally, as FundLedger declares them.
_POSITIONAL = {
    "reclassify_school": ("code",), "report_enrolment": ("code",), "close_school": ("code",),
    "adjust_fund": ("code",), "close_fund": ("code",),
    "approve_allocation": ("allocation_id",), "reject_allocation": ("allocation_id",),
    "adjust_allocation": ("allocation_id",), "cancel_allocation": ("allocation_id",),
    "reverse_expenditure": ("expenditure_id",),
    "decide_standard": ("standard_id",), "approve_tranche": ("tranche_id",),
    "approve_post_total": ("district",), "distribute_posts": ("school",),
    "record_hires": ("school",), "receive_assets": ("school",), "report_indicators": ("school",),
}
