"""The `fundledger` console script: api/cli's verbs, and the verbs that need scripts/.

This is where the process is composed, outside the packages it composes: api/ never imports
scripts/ (the layering contract in pyproject.toml), so `demo` (it generates a year) and
`bench` are added here to the Typer app of api/cli. `from api.cli import main` still runs
every other verb.
"""

from __future__ import annotations

from api.cli import app
from scripts import demo
from scripts.bench import verb

demo.register(app)
verb.register(app)


def main() -> None:
    app()
