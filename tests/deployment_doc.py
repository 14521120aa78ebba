"""The command blocks of docs/deployment.md that the tests run as written.

A block is marked in the document by the line before it, `<!-- tested: NAME as USER -->`; USER
is `postgres` (run as that user when the tests run as root, as PostgreSQL's tools require) or
`fundledger` (run as the test's own user, with this venv's `fundledger` first on the PATH).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).parent.parent / "docs" / "deployment.md"
_BLOCK = re.compile(r"<!-- tested: (?P<name>[\w-]+) as (?P<user>\w+) -->\n```sh\n(?P<body>.*?)```",
                    re.DOTALL)
BLOCK_SECONDS_MAX = 300


def blocks() -> dict[str, tuple[str, str]]:
    """NAME -> (user, commands), as the document has them."""
    return {m["name"]: (m["user"], m["body"]) for m in _BLOCK.finditer(DOC.read_text(encoding="utf-8"))}


def run_block(name: str, env: dict[str, str], path: list[str] | None = None
              ) -> subprocess.CompletedProcess[str]:
    """Runs the named block with bash (-e: the first failing command fails it)."""
    user, body = blocks()[name]
    search = [*(path or []), str(Path(sys.executable).parent), os.environ.get("PATH", "")]
    full = {**os.environ, **env, "PATH": os.pathsep.join(search)}
    command = ["bash", "-euo", "pipefail", "-c", body]
    if user == "postgres" and os.geteuid() == 0:
        runuser = shutil.which("runuser") or "/sbin/runuser"
        command = [runuser, "-u", "postgres", "--", "env", *(f"{k}={v}" for k, v in full.items()
                                                              if k in env or k == "PATH"), *command]
    return subprocess.run(command, env=full, capture_output=True, text=True,
                          timeout=BLOCK_SECONDS_MAX, check=False)
