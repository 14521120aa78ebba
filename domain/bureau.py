"""What every command of the bureau's ledger shares: its aggregates found by code or id,
business dates inside a fund's year, the access tokens, and the reads by key."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.access import AccessToken, UserAccount, new_token, token_hash
from domain.actors import SCOPED_ROLES, Actor, Role, Stamp
from domain.allocation import Allocation
from domain.application import CommandApplication
from domain.clock import bureau_today
from domain.errors import (
    AllocationNotFound,
    ExpenditureNotFound,
    FundNotFound,
    InvalidInput,
    SchoolNotFound,
    UnitMismatch,
    UnknownToken,
    UserNotFound,
)
from domain.expenditure import Expenditure, VoucherNumber
from domain.fund import Fund
from domain.idempotency import IdempotencyRecord
from domain.limits import CODE_LENGTH_MAX
from domain.rules import check_choice, check_code
from domain.school import School

if TYPE_CHECKING:
    from domain.change import ChangeContext

USER_ADDED_TOPIC = "domain.access:UserAccount.Added"
NOTIFICATIONS_PAGE_SIZE = 10_000


class Bureau(CommandApplication):
    """The bureau's aggregates and access; its commands are in the subclasses."""

    snapshotting_intervals = {Fund: 50, Allocation: 100, School: 50}  # noqa: RUF012
    snapshots_kept_every = {Allocation: 8}  # noqa: RUF012
    created_unread = (IdempotencyRecord, VoucherNumber)

    def __init__(self, env: dict[str, str] | None = None,
                 clock: Callable[[], date] = bureau_today) -> None:
        super().__init__(env, clock)

    # ------------------------------------------------------------------ access

    def add_user(self, name: str, roles: Iterable[str], schools: Iterable[str] = ()) -> str:
        """Adds a user (or gives an existing one new roles and school scope) and issues a
        token, shown only here. `schools` limits what the user reads to those schools (none:
        every school); only reading roles can be scoped, and each school must exist."""
        name = check_code(name, "user name", CODE_LENGTH_MAX)
        roles_ = sorted({check_choice(r, Role, "role").value for r in roles})
        if not roles_:
            msg = "a user needs at least one role"
            raise InvalidInput(msg)
        schools_ = sorted({check_code(c, "school", CODE_LENGTH_MAX) for c in schools})
        if schools_ and not set(roles_) <= SCOPED_ROLES:
            msg = (f"a school scope limits reading: only {', '.join(sorted(SCOPED_ROLES))} "
                   f"can be scoped, not {', '.join(sorted(set(roles_) - SCOPED_ROLES))}")
            raise InvalidInput(msg)
        for code in schools_:
            self._school(code)
        # A bureau other than the server's default names itself in its tokens (api/store.py).
        token = new_token(self.env.get("FUNDLEDGER_TOKEN_BUREAU") or None)
        hash_hex = token_hash(token)
        access = AccessToken(id=AccessToken.id_for_hash(hash_hex), user_name=name,
                             roles=roles_, hash_hex=hash_hex)
        user = self.find(UserAccount, UserAccount.id_for(name))
        if user is None:
            user = UserAccount(name=name, roles=roles_)
        elif user.roles != roles_:
            user.set_roles(roles_)
        if tuple(user.schools) != tuple(schools_):
            user.scope_to(schools_)
        user.issue_token(access.id)
        self.save(user, access)
        return token

    def revoke_user(self, name: str) -> int:
        """Revokes every token of a user at once; returns how many were revoked."""
        user = self.require(UserAccount, UserAccount.id_for(name), UserNotFound, f"user {name}")
        tokens = [self.repository.get(token_id) for token_id in user.token_ids]
        for access in tokens:
            access.revoke()
        user.revoke_tokens()
        self.save(user, *tokens)
        return len(tokens)

    def authenticate(self, token: str) -> Actor:
        """The token's user with the roles the user holds now: a token carries no powers of
        its own, so a change of roles or a revocation holds for every token at once."""
        access = self.find(AccessToken, AccessToken.id_for_hash(token_hash(token)))
        if access is None or access.revoked or not access.matches(token):
            msg = "unknown or revoked token"
            raise UnknownToken(msg)
        user = self.find(UserAccount, UserAccount.id_for(access.user_name))
        if user is None or access.id not in user.token_ids:
            msg = "unknown or revoked token"
            raise UnknownToken(msg)
        return Actor(access.user_name, frozenset(Role(r) for r in user.roles),
                     frozenset(user.schools) if user.schools else None)

    def list_users(self) -> list[UserAccount]:
        """Every user, in the order they were added. Users are few and added rarely: the
        store's log is read for their openings (a full read of the log on PostgreSQL)."""
        users = [self.find(UserAccount, user_id) for user_id in self._originators(USER_ADDED_TOPIC)]
        return [u for u in users if u is not None]

    def _originators(self, topic: str) -> list[UUID]:
        """The aggregates that stored an event of this topic, in the order of their first."""
        ids: list[UUID] = []
        start: int | None = 1
        while start is not None:
            page = self.recorder.select_notifications(
                start=start, limit=NOTIFICATIONS_PAGE_SIZE, topics=[topic])
            ids.extend(n.originator_id for n in page)
            start = page[-1].id + 1 if len(page) == NOTIFICATIONS_PAGE_SIZE else None
        return list(dict.fromkeys(ids))

    def get_user(self, name: str) -> UserAccount:
        return self.require(UserAccount, UserAccount.id_for(name), UserNotFound, f"user {name}")

    # ------------------------------------------------------------------- reads

    def get_school(self, code: str) -> School:
        return self._school(code)

    def get_fund(self, code: str) -> Fund:
        return self._fund(code)

    def get_allocation(self, allocation_id: UUID) -> Allocation:
        return self._allocation(allocation_id)

    def get_expenditure(self, expenditure_id: UUID) -> Expenditure:
        return self._expenditure(expenditure_id)

    # ------------------------------------------------------ for the commands

    def _school(self, school_code: str, expected_version: int | None = None) -> School:
        return self.require(School, School.id_for(school_code), SchoolNotFound, f"school {school_code}",
                            expected_version)

    def _fund(self, fund_code: str, expected_version: int | None = None) -> Fund:
        return self.require(Fund, Fund.id_for(fund_code), FundNotFound, f"fund {fund_code}",
                            expected_version)

    def _allocation(self, allocation_id: UUID, expected_version: int | None = None) -> Allocation:
        return self.require(Allocation, allocation_id, AllocationNotFound,
                            f"allocation {allocation_id}", expected_version)

    def _expenditure(self, expenditure_id: UUID,
                     expected_version: int | None = None) -> Expenditure:
        return self.require(Expenditure, expenditure_id, ExpenditureNotFound,
                            f"expenditure {expenditure_id}", expected_version)

    def _free_voucher(self, expenditure: Expenditure) -> VoucherNumber:
        """A reversed expenditure no longer uses its voucher number: the school may use it
        again in that fiscal year."""
        register: VoucherNumber = self.load(VoucherNumber.id_for(
            expenditure.school_code, expenditure.fiscal_year, expenditure.voucher))
        register.free()
        return register

    def _stamp_in_year(self, actor: Actor, role: Role, fund: Fund, effective_date: date | None,
                       idempotency_key: str | None, reason: str = "") -> Stamp:
        """A stamp whose business date falls in the fund's fiscal year (Fund.business_day)."""
        return Stamp(actor.user_id, role.value, fund.business_day(effective_date, self.today()),
                     idempotency_key, reason)

    def _change_stamp(self, context: ChangeContext, fund: Fund, params: dict[str, Any]) -> Stamp:
        """The stamp of a change to a fund's money, applied: dated as the change asked, inside
        the fund's fiscal year, with the change's reason."""
        return context.stamp(fund.business_day(params["effective_date"], self.today()),
                             params["reason"])



def check_unit(given: str | None, expected: str) -> None:
    """A request that names the unit must name the fund's."""
    if given is not None and given != expected:
        msg = f"the fund is in {expected}, not {given}"
        raise UnitMismatch(msg, f"资金的计量单位是 {expected}，不是 {given}")
