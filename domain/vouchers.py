"""What a voucher number may be. Bureaus number vouchers in their own way — `记-12-0050`,
`付字第0050号`, `PV-2025-0050` — so any printable text is accepted, bounded in length;
control and format characters (a tab, a newline, a zero-width space) never are, because two
vouchers that print the same must be the same voucher."""

from __future__ import annotations

import unicodedata

from domain.errors import InvalidInput
from domain.limits import VOUCHER_LENGTH_MAX

# Unicode categories a voucher number may not hold: controls, formats, separators other than
# the plain space, surrogates, private use and unassigned code points.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def check_voucher(value: object, what: str = "voucher") -> str:
    """A voucher number: 1 to VOUCHER_LENGTH_MAX printable characters after trimming spaces."""
    if not isinstance(value, str):
        msg = f"{what} must be text"
        raise InvalidInput(msg)
    voucher = value.strip()
    if not voucher:
        msg = f"{what} must not be empty"
        raise InvalidInput(msg)
    if len(voucher) > VOUCHER_LENGTH_MAX:
        msg = f"{what} must be at most {VOUCHER_LENGTH_MAX} characters"
        raise InvalidInput(msg)
    for position, character in enumerate(voucher, start=1):
        category = unicodedata.category(character)
        if category in _REFUSED_CATEGORIES or (category == "Zs" and character != " "):
            msg = (f"{what} may not hold control or invisible characters "
                   f"(character {position} is U+{ord(character):04X})")
            raise InvalidInput(msg)
    return voucher
