"""HTTP writes on PostgreSQL by server layout (issue 21): one worker writing itself (today's
`fundledger serve`), N workers behind one committer process (N = 1, 2, 3), and the earlier two
workers with a group commit each — 1, 16 and 64 clients each, in one run, rounds interleaved.

Beside each figure, the server's CPU seconds per 1,000 answered writes (every process of the
server: uvicorn and its workers, the views, the committer; read from /proc), the load
client's, the rest (PostgreSQL, and whatever else the shared machine ran meanwhile) and the
machine's busy CPU seconds, because the machine is shared and its load varies:
`python -m scripts.bench.committer_sweep [--events N] [--rounds R] [--seconds S] [--only 0,2]`.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from api.settings import Settings
from api.store import open_ledger, open_view_runner
from scripts.bench import http_server, scratch
from scripts.bench.parts import HTTP_WORKER_POOL_SIZE, write_spec
from scripts.bench.workload import generate_year

SCRATCH_URL = "postgresql://postgres@127.0.0.1:5432/fundledger_bench_committer"
CLIENTS = (1, 16, 64)
SECONDS = 8.0
REQUESTS_MAX = 100_000
WARMUP_SECONDS = 1.5
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Layout:
    name: str
    workers: int
    committer: bool
    views_apart: bool


LAYOUTS = (
    Layout("1 worker, group commit in-process, views thread (today)", 1, False, False),
    Layout("1 worker + committer + views process", 1, True, True),
    Layout("2 workers + committer + views process", 2, True, True),
    Layout("3 workers + committer + views process", 3, True, True),
    Layout("2 workers, group commit each + views process (before)", 2, False, True),
)


def _tree(roots: tuple[int, ...]) -> set[int]:
    """The roots and every process below them."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found = set(roots)
    grew = True
    while grew:
        below = {pid for pid, parent in parents.items() if parent in found} - found
        found |= below
        grew = bool(below)
    return found


def _cpu_seconds(pids: set[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / TICKS


def _machine_busy_seconds() -> float:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / TICKS


def _children_seconds() -> float:
    """CPU of this process's finished children: the load client, once it has exited."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _load() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def _measure(settings: Settings, layout: Layout, spec: dict[str, object],
             tag: str, seconds: float) -> Iterator[str]:
    pooled = settings.model_copy(update={"postgres_pool_size": HTTP_WORKER_POOL_SIZE})
    with http_server.served(pooled, group_commit=True, workers=layout.workers,
                            views_apart=layout.views_apart, committer=layout.committer) as server:
        spec["run_tag"] = f"{tag}warm"
        http_server.load(server.port, max(CLIENTS), spec, requests_max=REQUESTS_MAX,
                         seconds_max=WARMUP_SECONDS, warmup_seconds=0)
        roots = {"http": server.pid, **({"committer": server.pids[-1]} if layout.committer else {}),
                 **({"views": server.pids[1]} if layout.views_apart else {})}
        for clients in CLIENTS:
            spec["run_tag"] = f"{tag}c{clients}"
            before = {role: _cpu_seconds(_tree((pid,))) for role, pid in roots.items()}
            busy, load, client = _machine_busy_seconds(), _load(), _children_seconds()
            result = http_server.load(server.port, clients, spec, requests_max=REQUESTS_MAX,
                                      seconds_max=seconds, warmup_seconds=0)
            busy, client = _machine_busy_seconds() - busy, _children_seconds() - client
            spent = {role: _cpu_seconds(_tree((pid,))) - before[role] for role, pid in roots.items()}
            per_1000 = 1000 / max(1, int(result["ok"]) + int(result.get("errors", 0)))
            split = " / ".join(f"{role} {seconds * per_1000:.2f}" for role, seconds in spent.items())
            if result["errors"]:  # keep the server's log: it is removed with the server
                kept = Path(tempfile.mkstemp(prefix="fundledger-sweep-", suffix=".log")[1])
                shutil.copyfile(server.log, kept)
                print(f"errors: {result['first_error']} (server log: {kept})", flush=True)
            yield (f"| {layout.name} | {clients} | {result['per_second']:,.0f} | "
                   f"{result['p50_ms']:.1f} | {result['p99_ms']:.1f} | "
                   f"{sum(spent.values()) * per_1000:.2f} ({split}) | {client * per_1000:.2f} | "
                   f"{(busy - client - sum(spent.values())) * per_1000:.2f} | {busy * per_1000:.2f} | "
                   f"{result['errors']} | {load} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=SECONDS, help="per measurement")
    parser.add_argument("--only", type=str, default="", help="layout numbers, e.g. 0,2")
    parser.add_argument("--cpus", type=str, default="",
                        help="run the servers (and the load client) on these cores only, e.g. 0")
    args = parser.parse_args()
    chosen = [LAYOUTS[int(i)] for i in args.only.split(",")] if args.only else list(LAYOUTS)
    print(f"cores {os.cpu_count()}, {_load()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("| layout | clients | writes/s | p50 ms | p99 ms | server CPU s / 1,000 | "
          "load client | the rest (PostgreSQL, others' work) | machine busy CPU s / 1,000 | "
          "errors | load (1, 5, 15 min) at start |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    with scratch.postgres_store(SCRATCH_URL) as settings:
        ledger = open_ledger(settings)
        try:
            workload = generate_year(ledger, args.events)
        finally:
            ledger.close()
        with open_view_runner(settings) as runner:
            runner.run_until_caught_up()
        spec = write_spec(SimpleNamespace(workload=workload))  # type: ignore[arg-type]
        if args.cpus:  # after generating: the servers and the load client inherit it
            os.sched_setaffinity(0, {int(cpu) for cpu in args.cpus.split(",")})
            print(f"servers and load client on cores {args.cpus} (PostgreSQL not pinned)")
        for round_ in range(args.rounds):
            for number, layout in enumerate(chosen):
                for line in _measure(settings, layout, spec, f"{workload.run_tag}r{round_}l{number}",
                                     args.seconds):
                    print(line, flush=True)


if __name__ == "__main__":
    main()
