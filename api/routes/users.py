"""/v1/users: the admin's face of access (issue 14). A user's roles are the user's, not any
token's: a change of roles or a revocation holds for every token from its next request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field, StrictStr

from api.auth import Admin, Ledger
from api.schemas import CODE_PATTERN, Code, Command, Page
from api.strict_json import StrictJsonRoute
from domain.access import UserAccount
from domain.actors import Role
from domain.limits import CODE_LENGTH_MAX

USER_SCHOOLS_MAX = 1000  # a school district's consumer; more is a bureau-wide reader
router = APIRouter(route_class=StrictJsonRoute, prefix="/v1/users", tags=["users"])
UserName = Annotated[str, Path(max_length=CODE_LENGTH_MAX, pattern=CODE_PATTERN)]


class AddUser(Command):
    name: Code
    roles: Annotated[list[Role], Field(min_length=1, max_length=len(Role))]
    schools: Annotated[list[Code], Field(
        default_factory=list, max_length=USER_SCHOOLS_MAX,
        description="Limit the user to reading these schools (reader only); none: every "
                    "school. Another school answers 404, lists leave it out")]


class UserPublic(BaseModel):
    name: str
    roles: list[str]
    tokens: int = Field(description="Tokens in force")
    schools: list[str] = Field(description="The schools the user reads; empty: every school")


class IssuedToken(UserPublic):
    token: StrictStr = Field(description="Shown once; stored only as its hash")


class Revoked(BaseModel):
    name: str
    revoked: int = Field(description="Tokens revoked")


def _public(user: UserAccount) -> UserPublic:
    return UserPublic(name=user.name, roles=list(user.roles), tokens=len(user.token_ids),
                      schools=list(user.schools))


@router.get("", response_model=Page[UserPublic])
def list_users(_: Admin, ledger: Ledger) -> Page[UserPublic]:
    """Every user with their roles and how many tokens they hold (admin)."""
    users = ledger.list_users()
    return Page[UserPublic](items=[_public(u) for u in users], position=ledger.last_position())


@router.post("", status_code=201, response_model=IssuedToken)
def add_user(body: AddUser, _: Admin, ledger: Ledger, request: Request) -> IssuedToken:
    """Add a user, or give an existing one these roles (every token of theirs follows at
    once), and issue a new token, shown only in this answer (admin). `schools` limits a
    reader to those schools (each must exist); the scope given replaces the user's."""
    token = ledger.add_user(body.name, [r.value for r in body.roles], body.schools)
    return IssuedToken(**_public(ledger.get_user(body.name)).model_dump(), token=token)


@router.post("/{name}/revoke", response_model=Revoked)
def revoke_user(name: UserName, _: Admin, ledger: Ledger) -> Revoked:
    """Revoke every token of a user, effective from their next request (admin)."""
    return Revoked(name=name, revoked=ledger.revoke_user(name))
