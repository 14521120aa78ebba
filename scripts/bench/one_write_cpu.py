"""Where one `POST /v1/expenditures` spends its CPU in the app (issue 21, "latency of one
write"): the app is called as an ASGI application in this process, without uvicorn and without
a socket, one request at a time, group commit on and the view runner off (as the committer
layout's worker and the one-process server's request path see it), on a scratch PostgreSQL
database (PostgreSQL's own time is not in these figures; its round trips are counted by
`scripts.bench.round_trips`).

It reports the process's CPU (`time.process_time`: every thread — the event loop, the thread
pool, the group commit's committer) per request, and with `--profile` a cProfile of every
thread, merged, sorted by cumulative time. CPU per request does not depend on the machine's
load the way wall time does, so it compares trees measured at different loads.

    python -m scripts.bench.one_write_cpu --requests 2000 [--profile 30] [--rounds 8 --alternate-direct]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import statistics
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from api.settings import Settings
from scripts.bench.round_trips import SPENT_ON, small_world


class ThreadProfiles:
    """A cProfile for every thread started while installed (cProfile follows one thread)."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []
        self._lock = threading.Lock()

    def install(self) -> None:
        def start(*_: Any) -> None:
            profile = cProfile.Profile(time.thread_time)  # CPU, not waiting
            with self._lock:
                self.profiles.append(profile)
            profile.enable()  # replaces this hook for the thread

        threading.setprofile(start)

    def uninstall(self) -> None:
        threading.setprofile(None)  # type: ignore[arg-type]

    def stats(self, main: cProfile.Profile) -> pstats.Stats:
        everything = pstats.Stats(main)
        for profile in self.profiles:
            profile.disable()  # stops only this thread's when called from it; snapshot is fine
            try:
                everything.add(profile)
            except TypeError:  # a thread that never ran a Python call
                continue
        return everything


def thread_cpu_seconds() -> dict[str, float]:
    """Each live thread's CPU (user + system, from /proc), by the thread's name; anyio's
    pool threads summed as one."""
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[str, float] = {}
    for thread in threading.enumerate():
        try:
            fields = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = "thread pool" if "AnyIO" in thread.name or "worker" in thread.name.lower() else thread.name
        found[name] = found.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return found


def request_bytes(token: str, allocation: UUID, voucher: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
    body = json.dumps({"allocation": str(allocation), "amount": 1234, "payee": "徐州市教学用品供应站",
                       "voucher": voucher, "spent_on": SPENT_ON.isoformat(),
                       "description": "benchmark"}).encode()
    headers = [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {token}".encode()),
               (b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    return headers, body


async def post(app: Any, headers: list[tuple[bytes, bytes]], body: bytes) -> int:
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
             "http_version": "1.1", "method": "POST", "scheme": "http", "path": "/v1/expenditures",
             "raw_path": b"/v1/expenditures", "root_path": "", "query_string": b"",
             "headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
             "state": {}}
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def drive(app: Any, token: str, allocations: Sequence[UUID], requests: int,
                warmup: int, profile_main: cProfile.Profile | None,
                threads: ThreadProfiles | None) -> dict[str, Any]:
    tag = f"{os.getpid()}-{time.monotonic_ns()}"
    if threads is not None:
        threads.install()  # before the app starts its threads
    lifespan_in: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    lifespan_out: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    lifespan = asyncio.ensure_future(app({"type": "lifespan", "asgi": {"version": "3.0"},
                                          "state": {}}, lifespan_in.get, lifespan_out.put))
    await lifespan_in.put({"type": "lifespan.startup"})
    started = await lifespan_out.get()
    assert started["type"] == "lifespan.startup.complete", started
    known = app.state.known_tokens
    deadline = time.monotonic() + 5
    while known is not None and not known.listening and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    walls: list[float] = []
    cpu_start = 0.0
    wall_start = 0.0
    for index in range(warmup + requests):
        if index == warmup:
            if profile_main is not None:
                profile_main.enable()
            cpu_start, wall_start = time.process_time(), time.perf_counter()
            threads_start = thread_cpu_seconds()
        headers, body = request_bytes(token, allocations[index % len(allocations)],
                                      f"CPU{tag}-{index}")
        began = time.perf_counter()
        status = await post(app, headers, body)
        walls.append(time.perf_counter() - began)
        assert status == 201, status
    cpu = time.process_time() - cpu_start
    threads_end = thread_cpu_seconds()
    wall = time.perf_counter() - wall_start
    if profile_main is not None:
        profile_main.disable()
    if threads is not None:
        threads.uninstall()
    await lifespan_in.put({"type": "lifespan.shutdown"})
    await lifespan_out.get()
    await lifespan
    measured = sorted(walls[warmup:])
    return {"requests": requests, "cpu_us_per_request": 1e6 * cpu / requests,
            "wall_us_per_request": 1e6 * wall / requests,
            "p50_ms": 1000 * statistics.median(measured),
            "p99_ms": 1000 * measured[int(0.99 * (len(measured) - 1))],
            "thread_cpu_us_per_request": {
                name: round(1e6 * (seconds - threads_start.get(name, 0.0)) / requests)
                for name, seconds in threads_end.items()},
            "load_average": os.getloadavg()}


def main(argv: list[str] | None = None) -> int:
    from api.app import create_app  # noqa: PLC0415
    from api.store import open_ledger  # noqa: PLC0415
    from scripts.bench import scratch  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=scratch.DEFAULT_POSTGRES_URL + "_one_write_cpu")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=1, help="measured runs on one app each")
    parser.add_argument("--alternate-direct", action="store_true",
                        help="alternate rounds with the direct write route on and off "
                             "(api/direct_command.py), to compare them in one process")
    parser.add_argument("--profile", type=int, default=0,
                        help="print this many functions of a cProfile of every thread (slower)")
    args = parser.parse_args(argv)
    with scratch.postgres_store(args.database_url) as store:
        settings: Settings = store.model_copy(update={"postgres_pool_size": 4})
        ledger = open_ledger(settings)
        try:
            allocations, token = small_world(ledger)
        finally:
            ledger.close()
        for round_ in range(args.rounds):
            direct = not (args.alternate_direct and round_ % 2)
            app = create_app(settings, run_views=False, group_commit=True, direct_writes=direct)
            main_profile = cProfile.Profile(time.thread_time) if args.profile else None
            threads = ThreadProfiles() if args.profile else None
            result = asyncio.run(drive(app, token, allocations[:-1], args.requests, args.warmup,
                                       main_profile, threads))
            print(json.dumps({"direct_writes": direct, **result}))
            if main_profile is not None and threads is not None:
                out = io.StringIO()
                stats = threads.stats(main_profile)
                stats.stream = out  # type: ignore[attr-defined]
                stats.sort_stats("cumulative").print_stats(args.profile)
                stats.sort_stats("tottime").print_stats(args.profile)
                print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
