"""Balances cut by source level: each fund row becomes the part of it that one level (central,
provincial, municipal, county) pays, in the fund's shares (domain/provenance.py); rows of
funds that level pays nothing into are left out."""

from __future__ import annotations

from typing import Any

from domain.errors import FundNotFound
from domain.provenance import part_for


def cut_by_source(views: Any, rows: list[Any], source: str) -> list[Any]:
    cut = []
    for row in rows:
        try:
            fund = views.fund_balance(row.fund)
        except FundNotFound:  # not in the views yet: nothing to attribute
            continue
        shares = list(fund.shares)
        levels = {s["source"] for s in shares} if shares else {fund.source}
        if source not in levels:
            continue
        allocated = part_for(fund.source, shares, source, row.allocated)
        spent = part_for(fund.source, shares, source, row.spent)
        cut.append(row.model_copy(update={"allocated": allocated, "spent": spent,
                                          "remaining": allocated - spent}))
    return cut
