"""What several CLI verbs take alike: a token and who it belongs to, the books it opens, a
business date typed as YYYY-MM-DD."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from domain.errors import InvalidInput

if TYPE_CHECKING:
    from domain.actors import Actor
    from domain.ledger import FundLedger

Token = Annotated[str, typer.Option(envvar="FUNDLEDGER_TOKEN", show_default=False,
                                    help="Your access token (or FUNDLEDGER_TOKEN)")]

Year = Annotated[int, typer.Option("--fiscal-year", "--year", help="Fiscal year, e.g. 2025")]
# What a report is given as: a table on the terminal, or a file's format.
TableFormat = Annotated[str, typer.Option("--format", help="table|csv|xlsx")]
Out = Annotated[Path | None, typer.Option("--out", help="File to write (required for xlsx)")]


# The language of a file's values (rule names, messages, the values of the books); its column
# titles are bilingual whatever it is.
FileLanguage = Annotated[str, typer.Option(
    "--lang", help="zh|en: the file's values in Chinese or English (titles are bilingual)")]
FILE_LANGUAGES = ("zh", "en")


def file_language(language: str) -> str:
    if language not in FILE_LANGUAGES:
        msg = f"--lang must be zh or en, not {language!r}"
        raise InvalidInput(msg)
    return language


def business_day(text: str | None, option: str = "--effective-date") -> date | None:
    """The date an option gives (None when it is absent: the command's own default)."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        msg = f"{option} must be a date YYYY-MM-DD, not {text!r}"
        raise InvalidInput(msg) from None


def actor_of(ledger: FundLedger, token: str) -> Actor:
    """Whom the token names (refused when it is empty, unknown or revoked)."""
    if not token.strip():
        msg = "give your token with --token or FUNDLEDGER_TOKEN"
        raise InvalidInput(msg)
    return ledger.authenticate(token.strip())


@contextmanager
def signed_in(token: str, bureau: str | None = None) -> Iterator[tuple[FundLedger, Actor]]:
    """Bureau `bureau`'s books (the configured default's when None) and whom the token names
    there; the books are closed afterwards."""
    # Imported here: `fundledger --help` should not pay for the ledger and its store.
    from api.cli.bureaus import books_ledger  # noqa: PLC0415

    if not token.strip():
        msg = "give your token with --token or FUNDLEDGER_TOKEN"
        raise InvalidInput(msg)
    ledger = books_ledger(bureau)
    try:
        yield ledger, actor_of(ledger, token)
    finally:
        ledger.close()
