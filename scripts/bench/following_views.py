"""The views kept by a process of their own (`fundledger project`) while the bench generates the
log, so that building them overlaps the generation instead of following it.

Without it, a run of several fiscal years generated its 10 million events in 36 minutes on a
2-core machine whose second core stayed mostly idle, and only then built the views from nothing
(another ~29 minutes at ~5,800 events/s) before its reads: over the hour a whole run may take.
The views' process only reads the log and writes the views' own tables, so the events stored,
and so every figure of the generated store, are the same with it or without it; the generator's
own events/s is lower with it beside, which is why the single-year full run, whose generator
row is the bulk-import figure, leaves it off by default.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from api.settings import Settings

STOP_WAIT_SECONDS_MAX = 60.0  # a page of views being committed when asked to stop
STOPPED_AT = re.compile(r"stopped at position (\d+)")


@dataclass
class Followed:
    """Where the views' process had got to when it was stopped (0 when it said nothing)."""

    position: int = 0
    seconds: float = 0.0


def project_command() -> list[str]:
    """`fundledger project` with our interpreter (the console script may not be on PATH)."""
    return [sys.executable, "-c", "from api.cli import main; main()", "project"]


@contextmanager
def views_following(settings: Settings) -> Iterator[Followed]:
    """Runs `fundledger project` on the store until the block ends, then stops it with SIGTERM
    (it finishes the page in hand and commits it) and records the position it reached; the
    caller catches up what remains in its own process."""
    env = {**os.environ, "FUNDLEDGER_DATABASE_URL": settings.database_url,
           "FUNDLEDGER_POSTGRES_POOL_SIZE": str(settings.postgres_pool_size)}
    log = Path(tempfile.mkstemp(prefix="fundledger-bench-views-", suffix=".log")[1])
    followed = Followed()
    started = time.perf_counter()
    with log.open("wb") as sink:
        process = subprocess.Popen(project_command(), env=env,  # noqa: S603  (our interpreter, our verb)
                                   stdout=sink, stderr=subprocess.STDOUT)
    try:
        yield followed
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_WAIT_SECONDS_MAX)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_WAIT_SECONDS_MAX)
        followed.seconds = time.perf_counter() - started
        said = log.read_text(encoding="utf-8", errors="replace")
        log.unlink(missing_ok=True)
        found = STOPPED_AT.findall(said.replace(",", ""))
        followed.position = int(found[-1]) if found else 0
        if process.returncode not in (0, -signal.SIGTERM) and not found:
            msg = f"the views' process exited with {process.returncode}: {said[-500:]}"
            raise RuntimeError(msg)
