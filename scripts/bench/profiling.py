"""Optional py-spy profiles of the measured processes (`--profile DIR`): raw (collapsed)
stacks that `flamegraph.pl` or speedscope open, and a top-of-stack summary for docs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

PY_SPY_RATE_HZ = 200


def py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return found if Path(found).exists() else None


def record(pid: int, out: Path, seconds: float) -> subprocess.Popen[bytes] | None:
    """Samples a running process for `seconds`; None when py-spy is not installed."""
    binary = py_spy()
    if binary is None:
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(  # noqa: S603  (a fixed tool with our own arguments)
        [binary, "record", "-f", "raw", "--gil", "-r", str(PY_SPY_RATE_HZ), "-o", str(out),
         "--pid", str(pid), "--duration", str(max(1, round(seconds))), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wrapped(command: list[str], out: Path | None) -> list[str]:
    """`command` run under py-spy (raw output to `out`), or as is. Its subprocesses are
    sampled too: a rebuild's parts run in processes of their own."""
    binary = py_spy()
    if out is None or binary is None:
        return command
    out.parent.mkdir(parents=True, exist_ok=True)
    return [binary, "record", "-f", "raw", "--gil", "-r", str(PY_SPY_RATE_HZ), "-o", str(out),
            "--nonblocking", "--subprocesses", "--", *command]


def summary(raw: Path, top: int = 15) -> list[tuple[str, float]]:
    """The functions most often on the stack (inclusive), as shares of all samples."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        for frame in set(stack.split(";")):
            inclusive[frame] += count
    return [(frame, n / total) for frame, n in inclusive.most_common(top)] if total else []
