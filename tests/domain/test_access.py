"""Who may do what: roles per command, If-Match versions, users and their tokens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from uuid import UUID

import pytest

from domain.access import token_hash
from domain.actors import Actor
from domain.errors import (
    InvalidInput,
    RoleNotAllowed,
    UnknownToken,
    UserNotFound,
    VersionMismatch,
)
from domain.ledger import FundLedger
from tests import factories as f
from tests.conftest import APPROVER, AUDITOR, OFFICER
from tests.factories import ADMIN, READER, refused


class World:
    """One of everything, so that every command has something real to act on."""

    def __init__(self, ledger: FundLedger) -> None:
        self.allocation = f.funded_school(ledger)
        f.school(ledger, code="XZ-PZ-0002")
        f.fund(ledger, code="PUB-2026", fiscal_year=2026)
        self.proposal = f.proposal(ledger)
        self.expenditure: UUID = f.expenditure(ledger, self.allocation).subject.id


Command = Callable[[FundLedger, Actor, World], object]

COMMANDS: dict[str, tuple[str, Command]] = {
    "register_school": ("officer", lambda lg, a, w: lg.register_school(
        a, code="XZ-NEW-1", name="新校", district="Pei", level="primary", locale="rural",
        poverty_area=False, students=10)),
    "reclassify_school": ("officer", lambda lg, a, w: lg.reclassify_school(
        a, "XZ-PZ-0001", locale="town", reason="survey")),
    "report_enrolment": ("officer", lambda lg, a, w: lg.report_enrolment(
        a, "XZ-PZ-0001", students=401)),
    "close_school": ("officer", lambda lg, a, w: lg.close_school(
        a, "XZ-PZ-0002", reason="merged")),
    "open_fund": ("officer", lambda lg, a, w: lg.open_fund(
        a, code="EQP-2025", name="设备", fiscal_year=2025, unit="CNY", amount=100,
        source="central", category="equipment")),
    "adjust_fund": ("approver", lambda lg, a, w: lg.adjust_fund(
        a, "PUB-2025", delta=100, reason="supplement")),
    "close_fund": ("approver", lambda lg, a, w: lg.close_fund(
        a, "PUB-2025", carry_to="PUB-2026")),
    "propose_allocation": ("officer", lambda lg, a, w: lg.propose_allocation(
        a, fund="PUB-2025", school="XZ-PZ-0002", amount=100, purpose="x")),
    "approve_allocation": ("approver", lambda lg, a, w: lg.approve_allocation(a, w.proposal)),
    "reject_allocation": ("approver", lambda lg, a, w: lg.reject_allocation(
        a, w.proposal, reason="no")),
    "adjust_allocation": ("approver", lambda lg, a, w: lg.adjust_allocation(
        a, w.allocation, delta=100, reason="more")),
    "cancel_allocation": ("officer", lambda lg, a, w: lg.cancel_allocation(
        a, w.allocation, reason="no longer")),
    "transfer_allocation": ("officer", lambda lg, a, w: lg.transfer_allocation(
        a, w.allocation, amount=100, reason="moved", to_school="XZ-PZ-0002")),
    "record_expenditure": ("officer", lambda lg, a, w: lg.record_expenditure(
        a, allocation=w.allocation, amount=100, payee="p", voucher="R-1",
        spent_on=date(2025, 3, 3))),
    "reverse_expenditure": ("officer", lambda lg, a, w: lg.reverse_expenditure(
        a, w.expenditure, reason="mistake")),
}
ACTORS = {"officer": OFFICER, "approver": APPROVER, "auditor": AUDITOR, "reader": READER,
          "admin": ADMIN}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_command_is_refused_to_every_role_but_its_own(ledger: FundLedger, command: str):
    world = World(ledger)
    needed, run = COMMANDS[command]
    for name, actor in ACTORS.items():
        if name != needed:
            error = refused(ledger, RoleNotAllowed, "role_not_allowed",
                            lambda actor=actor: run(ledger, actor, world))
            assert needed in error.detail
    outcome = run(ledger, ACTORS[needed], world)
    assert outcome.position == ledger.last_position()  # type: ignore[attr-defined]


def test_the_role_is_checked_before_anything_else(ledger: FundLedger):
    # Even a command about nothing that exists tells a wrong role only that it is not allowed.
    refused(ledger, RoleNotAllowed, "role_not_allowed",
            lambda: ledger.approve_allocation(OFFICER, UUID(int=1)))
    refused(ledger, RoleNotAllowed, "role_not_allowed",
            lambda: ledger.record_expenditure(APPROVER, allocation=UUID(int=1), amount=0,
                                              payee="", voucher="", spent_on=date(2030, 1, 1)))


def test_every_event_carries_the_actor_role_key_date_and_reason(ledger: FundLedger):
    allocation_id = f.funded_school(ledger)
    made = ledger.adjust_allocation(APPROVER, allocation_id, delta=-5, reason="trim",
                                    effective_date=date(2025, 4, 1), idempotency_key="adj-1")
    proposed, = ledger.repository.event_store.get(made.subject.id)
    assert proposed.stamp.idempotency_key == "adj-1"
    f.applied(ledger, made)
    *_, adjusted = ledger.repository.event_store.get(allocation_id)
    # The applied change's events name its maker; their key names the change, whose own
    # Approved event (same write) names the approver.
    assert adjusted.stamp.actor_id == APPROVER.user_id
    assert adjusted.stamp.actor_role == "approver"
    assert adjusted.stamp.effective_date == date(2025, 4, 1)
    assert adjusted.stamp.idempotency_key == f"change:{made.subject.id}"
    assert adjusted.stamp.reason == "trim"
    assert adjusted.timestamp.tzinfo is not None


# ------------------------------------------------------------------ If-Match


def test_a_stale_expected_version_is_refused_on_every_aggregate_kind(ledger: FundLedger):
    world = World(ledger)
    school_version = ledger.get_school("XZ-PZ-0001").version
    fund_version = ledger.get_fund("PUB-2025").version
    allocation_version = ledger.get_allocation(world.allocation).version
    expenditure_version = ledger.get_expenditure(world.expenditure).version
    stale: list[Callable[[], object]] = [
        lambda: ledger.reclassify_school(OFFICER, "XZ-PZ-0001", locale="town", reason="x",
                                         expected_version=school_version - 1),
        lambda: ledger.report_enrolment(OFFICER, "XZ-PZ-0001", students=1,
                                        expected_version=school_version + 1),
        lambda: ledger.close_school(OFFICER, "XZ-PZ-0001", reason="x",
                                    expected_version=school_version - 1),
        lambda: ledger.adjust_fund(APPROVER, "PUB-2025", delta=1, reason="x",
                                   expected_version=fund_version - 1),
        lambda: ledger.close_fund(APPROVER, "PUB-2025", expected_version=fund_version - 1),
        lambda: ledger.adjust_allocation(APPROVER, world.allocation, delta=1, reason="x",
                                         expected_version=allocation_version - 1),
        lambda: ledger.cancel_allocation(OFFICER, world.allocation, reason="x",
                                         expected_version=allocation_version - 1),
        lambda: ledger.transfer_allocation(OFFICER, world.allocation, amount=1, reason="x",
                                           to_school="XZ-PZ-0002",
                                           expected_version=allocation_version - 1),
        lambda: ledger.approve_allocation(APPROVER, world.proposal, expected_version=2),
        lambda: ledger.reject_allocation(APPROVER, world.proposal, reason="x",
                                         expected_version=2),
        lambda: ledger.reverse_expenditure(OFFICER, world.expenditure, reason="x",
                                           expected_version=expenditure_version + 1),
    ]
    for command in stale:
        refused(ledger, VersionMismatch, "version_mismatch", command)
    # The current version goes through.
    ledger.adjust_allocation(APPROVER, world.allocation, delta=1, reason="x",
                             expected_version=allocation_version)
    ledger.approve_allocation(APPROVER, world.proposal, expected_version=1)


# ------------------------------------------------------------------ users and tokens


def test_a_users_token_authenticates_as_that_user_with_its_roles(ledger: FundLedger):
    token = ledger.add_user("wang.li", ["officer", "approver"])
    actor = ledger.authenticate(token)
    assert actor.user_id == "wang.li"
    assert {str(r) for r in actor.roles} == {"officer", "approver"}
    refused(ledger, UnknownToken, "unknown_token", lambda: ledger.authenticate(token + "x"))
    refused(ledger, UnknownToken, "unknown_token", lambda: ledger.authenticate(""))


def test_tokens_are_random_and_stored_only_as_hashes(ledger: FundLedger):
    tokens = [ledger.add_user("wang.li", ["officer"]) for _ in range(3)]
    assert len(set(tokens)) == 3
    assert all(len(t) >= 40 for t in tokens)
    stored = b"".join(n.state for n in ledger.recorder.select_notifications(start=1, limit=1000))
    for token in tokens:
        assert token.encode() not in stored
        assert token_hash(token).encode() in stored


def test_a_revoked_users_tokens_are_refused(ledger: FundLedger):
    first = ledger.add_user("wang.li", ["officer"])
    second = ledger.add_user("wang.li", ["officer"])
    other = ledger.add_user("zhao.min", ["auditor"])
    assert ledger.revoke_user("wang.li") == 2
    for token in (first, second):
        refused(ledger, UnknownToken, "unknown_token", lambda token=token: ledger.authenticate(token))
    assert ledger.authenticate(other).user_id == "zhao.min"
    # A new token after revocation works again, and the old ones stay dead.
    fresh = ledger.add_user("wang.li", ["officer"])
    assert ledger.authenticate(fresh).user_id == "wang.li"
    refused(ledger, UnknownToken, "unknown_token", lambda: ledger.authenticate(first))


def test_adding_a_user_again_with_new_roles_changes_what_the_new_token_carries(ledger: FundLedger):
    ledger.add_user("wang.li", ["officer"])
    token = ledger.add_user("wang.li", ["approver"])
    assert {str(r) for r in ledger.authenticate(token).roles} == {"approver"}


def test_users_need_a_known_role_and_must_exist_to_be_revoked(ledger: FundLedger):
    refused(ledger, InvalidInput, "invalid_input", lambda: ledger.add_user("x", ["root"]))
    refused(ledger, InvalidInput, "invalid_input", lambda: ledger.add_user("x", []))
    refused(ledger, UserNotFound, "user_not_found", lambda: ledger.revoke_user("nobody"))
