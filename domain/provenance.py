"""Where a fund's money comes from: the document that issued it (文号), the level that issued
it, the day the bureau received it, and — where several levels pay into one budget line —
each level's share (central / provincial / municipal / county), e.g. 公用经费 shared 5:5
between the central and local budgets (reference/domain.md §2.1).

Shares split the opening appropriation. A later adjustment, and what the fund allocates and
spends, are attributed to the levels in the same proportions when balances are cut by source
(an inference: the books do not say which level's yuan paid for which voucher; pro rata is how
a shared line is usually reported). Amounts stay integer: a split gives each level its floor
and the remaining minor units to the largest remainders, so the parts always sum to the whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from domain.budget_codes import check_function_code, default_function_code
from domain.classification import Source
from domain.errors import FieldError, InvalidInput, SharesMismatch
from domain.rules import check_text

DOC_NO_LENGTH_MAX = 64


def add_provenance_defaults(state: dict[str, Any]) -> None:
    """The upcaster's defaults for a fund opened before funds carried provenance (an
    Opened event's state, or a snapshot's): the functional code its category and levels
    suggest (`default_function_code`), no document number, issued by its own source level,
    received on the day it was opened (None: the opening's effective date), one level paying
    it all (no shares)."""
    state["function_code"] = default_function_code(str(state["category"]), list(state["levels"]))
    state["doc_no"] = ""
    state["issuing_level"] = state["source"]
    state["received_on"] = None
    state["shares"] = []


def check_doc_no(doc_no: Any) -> str:
    """A document number as printed (徐财教〔2025〕12号): any script, one line, bounded; the
    text rules every field follows (domain/rules.clean_text), refused naming the field."""
    try:
        return check_text(doc_no, "doc_no", DOC_NO_LENGTH_MAX, required=False)
    except InvalidInput as error:
        raise FieldError(error.detail, "doc_no",
                         f"文号须为一行可见文字，不超过 {DOC_NO_LENGTH_MAX} 个字符") from None


def check_shares(shares: Sequence[Any], amount: int) -> list[dict[str, Any]]:
    """Each share a distinct source level with a positive amount; together the appropriation.
    One share of the whole is the same as none (the fund's source pays it all)."""
    checked: list[dict[str, Any]] = []
    for share in shares:
        source = share.get("source") if isinstance(share, dict) else None
        share_amount = share.get("amount") if isinstance(share, dict) else None
        if source not in {s.value for s in Source} or type(share_amount) is not int \
                or share_amount <= 0:
            msg = "each share is {source: central|provincial|municipal|county|other, amount > 0}"
            raise SharesMismatch(msg, "shares")
        checked.append({"source": Source(source).value, "amount": share_amount})
    sources = [s["source"] for s in checked]
    if len(set(sources)) != len(sources):
        msg = "shares name a source level more than once"
        raise SharesMismatch(msg, "shares", "同一资金来源级次重复出现")
    total = sum(s["amount"] for s in checked)
    if checked and total != amount:
        msg = f"shares sum to {total} minor units; the appropriation is {amount}"
        raise SharesMismatch(msg, "shares")
    checked.sort(key=lambda s: list(Source).index(Source(s["source"])))
    return checked if len(checked) > 1 else []


def check_provenance(*, source: str, category: str, levels: Sequence[str], amount: int,
                     function_code: str | None, doc_no: str, issuing_level: str | None,
                     received_on: date | None, shares: Sequence[Any]) -> dict[str, Any]:
    """The opening's classification and provenance fields, checked, with their defaults."""
    if issuing_level is not None and issuing_level not in {s.value for s in Source}:
        msg = "issuing_level must be central, provincial, municipal, county or other"
        raise FieldError(msg, "issuing_level")
    return {
        "function_code": (default_function_code(category, list(levels)) if function_code is None
                          else check_function_code(function_code)),
        "doc_no": check_doc_no(doc_no),
        "issuing_level": Source(issuing_level or source).value,
        "received_on": received_on,
        "shares": check_shares(shares, amount),
    }


def shares_of(source: str, shares: Sequence[dict[str, Any]], amount: int) -> dict[str, int]:
    """Each level's part of `amount` (minor units), in the fund's proportions; sums to it."""
    if not shares:
        return {source: amount}
    weights = {s["source"]: int(s["amount"]) for s in shares}
    whole = sum(weights.values())
    parts = {level: amount * weight // whole for level, weight in weights.items()}
    remainders = sorted(weights, key=lambda level: (-(amount * weights[level] % whole),
                                                    list(weights).index(level)))
    for level in remainders[:amount - sum(parts.values())]:
        parts[level] += 1
    return parts


def part_for(source: str, shares: Sequence[dict[str, Any]], level: str, amount: int) -> int:
    """`level`'s part of `amount` in this fund (0 when that level pays none of it)."""
    return shares_of(source, shares, amount).get(level, 0)
