"""The bench's children report their own peak memory, not the bench's: Linux carries a
process's `getrusage` maxrss across exec, so a child of a large parent reported the parent's
size as its own (a rebuild "grew ~490 MB" that was the bench's generated working set)."""

from __future__ import annotations

import subprocess
import sys

BALLAST_MB = 300
REPORT = "from scripts.bench.child import peak_rss_mb; print(peak_rss_mb())"


def test_a_child_of_a_large_process_reports_its_own_peak() -> None:
    ballast = bytearray(BALLAST_MB * 1024 * 1024)
    ballast[::4096] = b"\1" * len(ballast[::4096])  # touched, so resident
    done = subprocess.run([sys.executable, "-c", REPORT], capture_output=True, text=True,
                          check=True, timeout=60)
    assert float(done.stdout) < BALLAST_MB / 3, done.stdout
    assert len(ballast) == BALLAST_MB * 1024 * 1024
