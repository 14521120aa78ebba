"""Errors on the command line are one clear line on stderr and a non-zero exit."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from eventsourcing.persistence import OperationalError
from pydantic import ValidationError
from rich.console import Console

from api.backups import BackupRefused
from api.signing_guard import SigningKeyRefused
from domain.errors import LedgerError
from projections.view_schema import MigrationRefused, ViewsOutdated

stderr = Console(stderr=True, soft_wrap=True)


@contextmanager
def one_line_errors() -> Iterator[None]:
    try:
        yield
    except LedgerError as error:
        stderr.print(f"[red]error[/red] ({error.code}): {error.detail}", highlight=False)
        raise typer.Exit(2) from None
    except (ViewsOutdated, MigrationRefused) as error:
        stderr.print(f"[red]error[/red] (views outdated): {error}", highlight=False)
        raise typer.Exit(2) from None
    except SigningKeyRefused as error:
        stderr.print(f"[red]error[/red] (signing key): {error}", highlight=False)
        raise typer.Exit(2) from None
    except BackupRefused as error:
        stderr.print(f"[red]error[/red] (backup): {error}", highlight=False)
        raise typer.Exit(2) from None
    except ValidationError as error:
        first = error.errors()[0]
        stderr.print(f"[red]error[/red] (configuration): {first['loc']}: {first['msg']}")
        raise typer.Exit(2) from None
    except OperationalError as error:
        stderr.print(f"[red]error[/red] (store unavailable): {error}", highlight=False)
        raise typer.Exit(3) from None


def cli_command(function: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps a verb so that every refusal is reported on one line."""
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with one_line_errors():
            return function(*args, **kwargs)

    return wrapper
