"""A submitted form checked by the API's own request schemas (api/schemas.py): one set of
rules for JSON and for the page. The form's text becomes the JSON the API would receive
(yuan → fen, a checkbox → a boolean, a number's text → an integer), the schema validates it,
and each refusal becomes a message in the reader's language beside its field, amounts in
yuan (domain/units.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from api.cli.books import minor_units
from api.dashboard.i18n import translate
from api.schemas import Command
from domain.errors import LedgerError
from domain.terms import error_title
from domain.units import money_text, unit_of

# Which field a refusal of the books is about, so that it shows beside that field.
ERROR_FIELDS: dict[str, str] = {
    "over_allocation": "amount", "overspend": "amount", "amount_out_of_range": "amount",
    "below_spent": "delta", "duplicate_voucher": "voucher", "school_not_found": "school",
    "fund_not_found": "fund", "allocation_not_found": "allocation",
    "school_already_registered": "code", "fund_already_opened": "code",
    "date_outside_fiscal_year": "effective_date", "date_in_future": "effective_date",
    "expenditure_class_not_allowed": "economic_class", "earmark_violation": "school",
    "level_not_eligible": "school", "unit_mismatch": "amount",
}
DATE_FIELDS = frozenset({"effective_date", "spent_on"})
# Longer than any field the schemas accept, so that the schema names what is too long.
FORM_FIELD_LENGTH_MAX = 4_000


@dataclass
class Checked:
    """The form as typed (shown again on a refusal) and either the command or the messages."""

    values: dict[str, Any]
    command: Command | None = None
    errors: dict[str, str] = field(default_factory=dict)


def read_form(form: Mapping[str, Any], schema: type[Command], language: str, *,
              amounts: Iterable[str] = (), unit: str = "CNY", whole: Iterable[str] = (),
              flags: Iterable[str] = (), lists: Iterable[str] = ()) -> Checked:
    """`amounts` are typed in the unit's major unit (yuan), `whole` are integers, `flags`
    checkboxes, `lists` fields chosen several times; everything else is text."""
    names = set(schema.model_fields)
    getlist = getattr(form, "getlist", lambda name: [form[name]] if name in form else [])
    values: dict[str, Any] = {}
    for name in names:
        if name in lists:
            values[name] = [str(v)[:FORM_FIELD_LENGTH_MAX] for v in getlist(name)]
        elif name in flags:
            values[name] = name in form
        else:
            values[name] = str(form.get(name, ""))[:FORM_FIELD_LENGTH_MAX].strip()
    body: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, value in values.items():
        if value in ("", []):
            continue  # absent: the schema's default, or its "required"
        if name in amounts:
            try:
                body[name] = minor_units(value, unit)
            except LedgerError:
                errors[name] = _amount_refusal(value, unit, language)
            continue
        body[name] = int(value) if name in whole and value.lstrip("-").isdigit() else value
    try:
        command = schema.model_validate(body)
    except ValidationError as refusal:
        for problem in refusal.errors():
            name = str(problem["loc"][0]) if problem["loc"] else ""
            errors.setdefault(name, _message(problem, name, name in amounts, unit, language))
        return Checked(values, None, errors)
    if errors:
        return Checked(values, None, errors)
    return Checked(values, command)


def refusal_of_books(error: LedgerError, checked: Checked, language: str) -> str:
    """A refusal of the books (over-allocation, a duplicate voucher…) beside its field when it
    names one; the message for the top of the form otherwise."""
    text = error_title(error.code, error.title, language)
    name = ERROR_FIELDS.get(error.code)
    if error.code == "amount_out_of_range" and "delta" in checked.values:
        name = "delta"
    if name is not None and name in checked.values:
        checked.errors[name] = text
    return text


def _amount_refusal(text: str, unit: str, language: str) -> str:
    places = unit_of(unit).decimal_places
    try:
        float(text.replace(",", ""))
    except ValueError:
        return translate("v_amount", language)
    return translate("v_decimals", language).format(places=places)


# A schema's refusal (pydantic's error type) → the message key beside the field.
MESSAGE_KEYS: dict[str, str] = {
    "missing": "v_required", "string_too_short": "v_required", "too_short": "v_required",
    "string_too_long": "v_too_long", "string_pattern_mismatch": "v_pattern",
    "enum": "v_choice", "literal_error": "v_choice", "uuid_parsing": "v_choice",
    "uuid_type": "v_choice", "greater_than_equal": "v_at_least", "greater_than": "v_at_least",
    "less_than_equal": "v_at_most", "less_than": "v_at_most", "int_type": "v_whole",
    "int_parsing": "v_whole", "int_from_float": "v_whole", "value_error": "v_text",
}


def _message(problem: Any, name: str, is_amount: bool, unit: str, language: str) -> str:
    kind = problem["type"]
    context = problem.get("ctx") or {}
    key = MESSAGE_KEYS.get(kind, "v_invalid")
    if name in DATE_FIELDS and key in ("v_text", "v_invalid"):
        key = "v_date"
    if is_amount and key == "v_whole":
        key = "v_amount"
    limit = next((context[k] for k in ("ge", "gt", "le", "lt") if k in context), "")
    if is_amount and isinstance(limit, int):
        limit = money_text(limit, unit, language)
    return translate(key, language).format(max_length=context.get("max_length", ""), limit=limit)
