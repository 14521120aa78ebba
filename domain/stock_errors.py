"""Refusals of the resource stocks: posts (编制), devices and the indicator register.

Kept beside domain/errors.py (which every command shares) so that the stocks' rules can grow
without touching it; the codes are as stable as those there.
"""

from __future__ import annotations

from domain.errors import InvalidInput, NotFound, RuleViolation


class OverQuota(RuleViolation):
    code = "over_quota"
    title = "The posts distributed would exceed the county's approved total"


class PostsBelowFilled(RuleViolation):
    code = "posts_below_filled"
    title = "A school's approved posts cannot go below its filled posts"


class NoVacancy(RuleViolation):
    code = "no_vacancy"
    title = "The school has no vacant post for this hire"


class NotEnoughFilled(RuleViolation):
    code = "not_enough_filled"
    title = "The school has fewer filled posts than this takes"


class NotEnoughHeld(RuleViolation):
    code = "not_enough_held"
    title = "The school holds less than this takes"


class StockDateOrder(RuleViolation):
    code = "stock_date_order"
    title = "A stock's history is kept in date order"


class SchoolNotInCounty(InvalidInput):
    code = "school_not_in_county"
    title = "The school belongs to another county-level unit"


class ImplausibleFigure(InvalidInput):
    code = "implausible_figure"
    title = "A reported figure is outside the plausible range"


class MoveNotFound(NotFound):
    code = "move_not_found"
    title = "No such post move"


class MoveNotPending(RuleViolation):
    code = "move_not_pending"
    title = "The post move has already been decided"
