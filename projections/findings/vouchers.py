"""Vendor and voucher analytics: the forensic patterns of procurement fraud.

监利县审计局 (2018) found consecutive invoice numbers from one vendor across unrelated
schools; audits of student aid found the same payment made twice. Four questions:
duplicate voucher numbers for one payee, runs of consecutive invoice numbers from one
payee spread over several schools, round-sum payments, and purchases split to stay just
under the procurement threshold (化整为零, 政府采购法 art. 41 / 实施条例 art. 28).
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.units import money_text
from projections.findings import as_of
from projections.findings.rule import Finding, defined_rule

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from projections.database import ViewDatabase
    from projections.findings.rule import Scope

_NUMBERED = re.compile(r"^(.*?)(\d+)$")
_ASCII_DIGITS = "0123456789"


def numbering_prefix(voucher: str) -> str | None:
    """What precedes a voucher's closing number (its trailing decimal digits, Unicode ones
    too, as `\\d` reads them), or None when it ends in none: `_NUMBERED`'s first group, found
    by stripping ASCII digits (several times cheaper than the expression, ~190,000 vouchers a
    year) unless a non-ASCII character is then last, which may be a digit."""
    head = voucher.rstrip(_ASCII_DIGITS)
    if head and not head[-1].isascii():
        found = _NUMBERED.match(voucher)
        return None if found is None else found.group(1)
    return None if len(head) == len(voucher) else head


def _rows_where(live: as_of.Spending, keep: Callable[[str, int], bool]) -> list[dict[str, Any]]:
    """The rows whose unit and amount `keep` keeps, in position order."""
    return [live.row(index) for index, (unit, amount) in enumerate(zip(live.unit, live.amount, strict=True))
            if keep(unit, amount)]


def _payments_found(rule: str, scope: Scope, key: Mapping[str, str], payments: Sequence[Mapping[str, Any]],
                    *, threshold: int, message: str, message_zh: str,
                    threshold_unit: str | None = None) -> Finding:
    """A finding about a group of payments of one unit: it counts them, they are its
    evidence, and their sum is its amount."""
    return Finding(
        rule=rule, fiscal_year=scope.fiscal_year, key=key, measure=len(payments),
        threshold=threshold, threshold_unit=threshold_unit, message=message, message_zh=message_zh,
        evidence=tuple(x["position"] for x in payments),
        amount_minor=sum(x["amount"] for x in payments), unit=payments[0]["unit"])


def duplicates(session: ViewDatabase, scope: Scope, params: Mapping[str, Any]) -> list[Finding]:
    """Voucher numbers of one payee used on more than one live expenditure (any schools)."""
    # A year has ~200,000 vouchers and a few repeated: only a repeated one gets a list.
    live = as_of.spending(session, scope)
    first: dict[tuple[str, str], int] = {}
    repeated: dict[tuple[str, str], list[int]] = {}
    for index, key in enumerate(zip(live.payee, live.voucher, strict=True)):
        if (earlier := first.setdefault(key, index)) != index:
            repeated.setdefault(key, [earlier]).append(index)
    groups = {key: [live.row(index) for index in indexes] for key, indexes in repeated.items()}
    return [
        Finding(
            rule="duplicate_voucher",
            fiscal_year=scope.fiscal_year,
            key={"payee": payee, "voucher": voucher},
            measure=len(rows),
            threshold=1,
            message=(
                f"voucher {voucher} of {payee} was paid {len(rows)} times, at "
                f"{', '.join(sorted({r['school_code'] for r in rows}))}"
            ),
            message_zh=(
                f"{payee} 的凭证号 {voucher} 被支付 {len(rows)} 次，涉及 "
                f"{'、'.join(sorted({r['school_code'] for r in rows}))}"
            ),
            evidence=tuple(r["position"] for r in rows),
            amount_minor=sum(r["amount"] for r in rows[1:]),
            unit=rows[0]["unit"],
        )
        for (payee, voucher), rows in sorted(groups.items())
    ]


def consecutive(session: ViewDatabase, scope: Scope, params: Mapping[str, Any]) -> list[Finding]:
    """Runs of at least `run_length_min` consecutive invoice numbers from one payee that
    reached at least `schools_min` different schools."""
    live = as_of.spending(session, scope)
    run_length_min = int(params["run_length_min"])
    schools_min = int(params["schools_min"])
    # Nearly every numbering is one school's own, whose runs cannot reach `schools_min` (when
    # that is 2 or more): a first pass finds the payees of the numbers that reach two schools,
    # and only their expenditures are grouped.
    payees: set[str] | None = None
    if schools_min >= 2:  # one school's own numbering reaches one school
        school_of: dict[tuple[str, str], str] = {}
        payees = set()
        for payee, voucher, school in zip(live.payee, live.voucher, live.school_code, strict=True):
            if (prefix := numbering_prefix(voucher)) is not None and \
                    school_of.setdefault((payee, prefix), school) != school:
                payees.add(payee)
    numbered: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for index, (payee, voucher) in enumerate(zip(live.payee, live.voucher, strict=True)):
        if (payees is None or payee in payees) and (prefix := numbering_prefix(voucher)) is not None:
            numbered[(payee, prefix)].append(live.row(index))
    findings = []
    # A numbering with fewer invoices than a run needs can have no run, nor one that reaches
    # fewer than `schools_min` schools: only the others are sorted and have their numbers read.
    candidates = [(key, rows) for key, rows in numbered.items() if len(rows) >= run_length_min
                  and len({x["school_code"] for x in rows}) >= schools_min]
    for (payee, prefix), rows in sorted(candidates):
        items = sorted(((int(x["voucher"][len(prefix):]), x) for x in rows), key=lambda item: item[0])
        run = [items[0]]
        for item in [*items[1:], None]:
            if item is not None and item[0] == run[-1][0] + 1:
                run.append(item)
                continue
            schools = {x["school_code"] for _, x in run} if len(run) >= run_length_min else set()
            if len(run) >= run_length_min and len(schools) >= schools_min:
                first, last = run[0][1]["voucher"], run[-1][1]["voucher"]
                findings.append(_payments_found(
                    "consecutive_invoices", scope, {"payee": payee, "first_voucher": first},
                    [x for _, x in run], threshold=run_length_min,
                    message=(
                        f"{payee} issued consecutive invoices {first}…{last} to "
                        f"{len(schools)} schools: {', '.join(sorted(schools))}"
                    ),
                    message_zh=(
                        f"{payee} 向 {len(schools)} 所学校开具连号发票 {first}…{last}："
                        f"{'、'.join(sorted(schools))}"
                    )))
            if item is not None:
                run = [item]
    return findings


def round_sums(session: ViewDatabase, scope: Scope, params: Mapping[str, Any]) -> list[Finding]:
    """CNY payments of at least `round_amount_min_fen` that are whole multiples of `round_unit_fen`."""
    unit_fen, least = int(params["round_unit_fen"]), int(params["round_amount_min_fen"])
    return [
        Finding(
            rule="round_sum_payment",
            fiscal_year=scope.fiscal_year,
            key={"expenditure_id": x["expenditure_id"]},
            measure=x["amount"],
            threshold=unit_fen,
            message=(
                f"{x['school_code']} paid {x['payee']} exactly {money_text(x['amount'])} "
                f"on {x['spent_on']} (voucher {x['voucher']})"
            ),
            message_zh=(
                f"{x['school_code']} 于 {x['spent_on']} 向 {x['payee']} 支付整数金额 "
                f"{money_text(x['amount'], language='zh')}（凭证 {x['voucher']}）"
            ),
            measure_unit="CNY",
            evidence=(x["position"],),
            amount_minor=x["amount"],
            unit="CNY",
        )
        for x in _rows_where(as_of.spending(session, scope),
                             lambda unit, amount: unit == "CNY" and amount >= least
                             and amount % unit_fen == 0)
    ]


def splits(session: ViewDatabase, scope: Scope, params: Mapping[str, Any]) -> list[Finding]:
    """Two or more payments by one school to one payee within `window_days`, each just under
    the procurement threshold (within `just_under_basis_points` of it), together above it."""
    threshold = int(params["procurement_threshold_fen"])
    lowest = threshold - threshold * int(params["just_under_basis_points"]) // 10_000
    window_days = int(params["window_days"])
    near: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for x in _rows_where(as_of.spending(session, scope),
                         lambda unit, amount: unit == "CNY" and lowest <= amount < threshold):
        near[(x["school_code"], x["payee"])].append(x)
    findings = []
    for (school, payee), rows in sorted(near.items()):
        rows.sort(key=lambda r: r["spent_on"])
        best: list[dict[str, Any]] = []
        for i, first in enumerate(rows):
            start = date.fromisoformat(first["spent_on"])
            window = [r for r in rows[i:] if (date.fromisoformat(r["spent_on"]) - start).days <= window_days]
            if len(window) > len(best):
                best = window
        if len(best) < 2 or sum(r["amount"] for r in best) < threshold:
            continue
        total = sum(r["amount"] for r in best)
        findings.append(_payments_found(
            "split_purchase", scope, {"school": school, "payee": payee}, best,
            threshold=threshold, threshold_unit="CNY",
            message=(
                f"{school} paid {payee} {len(best)} times between {best[0]['spent_on']} and "
                f"{best[-1]['spent_on']}, each just under {money_text(threshold)}, "
                f"{money_text(total)} in all"
            ),
            message_zh=(
                f"{school} 于 {best[0]['spent_on']} 至 {best[-1]['spent_on']} 间向 {payee} 支付 "
                f"{len(best)} 次，每次略低于 {money_text(threshold, language='zh')}，合计 "
                f"{money_text(total, language='zh')}"
            )))
    return findings


RULES = (
    defined_rule("duplicate_voucher", duplicates),
    defined_rule("consecutive_invoices", consecutive),
    defined_rule("round_sum_payment", round_sums),
    defined_rule("split_purchase", splits),
)
