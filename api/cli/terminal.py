"""Where the CLI writes: a terminal is as wide as it is; a file or a pipe (`replay > books.txt`)
has no width, and a table written there must not be cut at rich's default of 80 columns."""

from __future__ import annotations

from rich.console import Console

PIPED_WIDTH_COLUMNS_MAX = 1000  # wide enough for any table the CLI writes, narrow enough to bound


def stdout_console() -> Console:
    console = Console()
    if console.is_terminal:
        return console
    return Console(width=PIPED_WIDTH_COLUMNS_MAX)
