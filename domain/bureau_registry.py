"""Which bureaus keep books, and who supervises whom (issue 15, contract).

Compulsory education is funded county-led (以县为主): each county-level bureau keeps its own
books (its own event log, hash chain, signing key and views); a city bureau supervises its
county-level bureaus and a province its cities, reading their books and never writing them.
The registry is one small aggregate, `BureauTree`: a bureau has a code, a name, a level and at
most one parent, one level above it, given when it is added and never changed — a second
parent or a cycle is refused, and re-adding a bureau as it is changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event

from domain.errors import BureauNotFound, BureauParentConflict, InvalidInput
from domain.limits import CODE_LENGTH_MAX, NAME_LENGTH_MAX
from domain.natural_keys import natural_id
from domain.rules import check_choice, check_code, check_text

# Bureau codes name schemas and files (api/settings.py): short, and no dots.
BUREAU_CODE_LENGTH_MAX = min(CODE_LENGTH_MAX, 40)
TREE_ID = natural_id("bureau-tree")


class BureauLevel(StrEnum):
    COUNTY = "county"  # 县级 (a county, a county-level city or a district): keeps the books
    CITY = "city"  # 地级市: supervises its county-level bureaus
    PROVINCE = "province"  # 省: supervises its cities

    @property
    def rank(self) -> int:
        return list(BureauLevel).index(self)

    @property
    def keeps_books(self) -> bool:
        """Only a county-level bureau allocates to schools; a parent reads."""
        return self is BureauLevel.COUNTY


# What a user of a supervising bureau may be: it reads (and its admin issues its tokens).
SUPERVISOR_USER_ROLES = frozenset({"auditor", "reader", "admin"})


@dataclass(frozen=True)
class BureauInfo:
    code: str
    name: str
    level: BureauLevel
    parent: str | None

    def check_user_roles(self, roles: list[str]) -> None:
        """A city or province bureau keeps no books: its users read them, never record or
        approve (contract: a supervisor never writes)."""
        refused = sorted(set(roles) - SUPERVISOR_USER_ROLES)
        if not self.level.keeps_books and refused:
            msg = (f"bureau {self.code} is a {self.level.value} bureau: it supervises and keeps "
                   f"no books, so its users may not be {', '.join(refused)} (auditor, reader or "
                   "admin only)")
            raise InvalidInput(msg)


def check_bureau_code(code: str) -> str:
    code = check_code(code, "bureau code", BUREAU_CODE_LENGTH_MAX)
    if "." in code:
        msg = f"bureau code {code!r} may not hold '.' (it separates a token's bureau)"
        raise InvalidInput(msg)
    return code


class BureauTree(Aggregate):
    """Every registered bureau with its level and parent."""

    @staticmethod
    def create_id() -> UUID:
        return TREE_ID  # one tree per store

    @event("Created")
    def __init__(self) -> None:
        self.bureaus: dict[str, dict[str, str | None]] = {}

    def add(self, code: str, name: str, level: BureauLevel, parent: str | None) -> bool:
        """Adds a bureau under `parent`; False when it is already there exactly so. A bureau has
        one parent, one level above it. No cycle can form: a parent is registered before its
        children and a bureau's parent never changes (re-parenting is refused)."""
        known = self.bureaus.get(code)
        if known is not None:
            if known["parent"] != parent or known["level"] != level.value:
                msg = (f"bureau {code} is already registered as a {known['level']} under "
                       f"{known['parent'] or 'no parent'}; a bureau has one parent and keeps it")
                raise BureauParentConflict(msg)
            if known["name"] == name:
                return False
        if parent is not None:
            above = self.bureaus.get(parent)
            if above is None:
                msg = f"bureau {parent} (the parent) is not registered"
                raise BureauNotFound(msg)
            if BureauLevel(str(above["level"])).rank != level.rank + 1:
                msg = (f"a {level.value} bureau's parent is one level above it; "
                       f"{parent} is a {above['level']}")
                raise BureauParentConflict(msg)
        self._added(code=code, name=name, level=level.value, parent=parent)
        return True

    @event("Added")
    def _added(self, code: str, name: str, level: str, parent: str | None) -> None:
        self.bureaus[code] = {"name": name, "level": level, "parent": parent}

    def ancestors(self, code: str) -> list[str]:
        """The parent, its parent, … (the registry never holds a cycle; bounded anyway)."""
        found: list[str] = []
        entry = self.bureaus.get(code)
        while entry is not None and entry["parent"] is not None and len(found) < len(self.bureaus):
            parent = str(entry["parent"])
            found.append(parent)
            entry = self.bureaus.get(parent)
        return found


class BureauDirectory:
    """A read-only picture of the tree at one moment: who is whose parent, child, ancestor."""

    def __init__(self, bureaus: dict[str, BureauInfo]) -> None:
        self.bureaus = bureaus

    def __contains__(self, code: object) -> bool:
        return code in self.bureaus

    def __iter__(self) -> Iterator[BureauInfo]:
        return iter(sorted(self.bureaus.values(), key=lambda b: (-b.level.rank, b.code)))

    def get(self, code: str) -> BureauInfo:
        found = self.bureaus.get(code)
        if found is None:
            msg = f"bureau {code} not found"
            raise BureauNotFound(msg)
        return found

    def ancestors(self, code: str) -> list[str]:
        found: list[str] = []
        info = self.bureaus.get(code)
        while info is not None and info.parent is not None and len(found) < len(self.bureaus):
            found.append(info.parent)
            info = self.bureaus.get(info.parent)
        return found

    def children(self, code: str) -> list[BureauInfo]:
        return sorted((b for b in self.bureaus.values() if b.parent == code), key=lambda b: b.code)

    def book_keepers_under(self, code: str) -> list[BureauInfo]:
        """The county-level bureaus below `code` (itself, if it is one), in code order."""
        info = self.get(code)
        if info.level.keeps_books:
            return [info]
        return [leaf for child in self.children(code) for leaf in self.book_keepers_under(child.code)]

    def supervises(self, supervisor: str, bureau: str) -> bool:
        return supervisor in self.ancestors(bureau)


class BureauRegistry(Application):
    """The registry's own small event store, beside the configured store's books (its own
    tables, named after this application)."""

    def directory(self) -> BureauDirectory:
        tree = self._tree()
        entries = tree.bureaus if tree is not None else {}
        return BureauDirectory({
            code: BureauInfo(code, str(e["name"]), BureauLevel(str(e["level"])),
                             None if e["parent"] is None else str(e["parent"]))
            for code, e in entries.items()})

    def add(self, code: str, name: str, level: str, parent: str | None = None) -> BureauInfo:
        """Registers a bureau (or confirms one already registered exactly so)."""
        code = check_bureau_code(code)
        name = check_text(name, "bureau name", NAME_LENGTH_MAX)
        level_ = check_choice(level, BureauLevel, "bureau level")
        parent = None if parent in (None, "") else check_bureau_code(str(parent))
        if level_ is BureauLevel.PROVINCE and parent is not None:
            msg = "a province bureau has no parent"
            raise BureauParentConflict(msg)
        tree = self._tree() or BureauTree()
        if tree.add(code, name, level_, parent):
            self.save(tree)
        return BureauInfo(code, name, level_, parent)

    def _tree(self) -> BureauTree | None:
        try:
            tree: BureauTree = self.repository.get(TREE_ID)
        except AggregateNotFoundError:
            return None
        return tree
