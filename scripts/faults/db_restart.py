"""Database restart: under a steady load, the PostgreSQL cluster the server uses is stopped
and started again — a throwaway cluster this scenario creates itself (initdb, pg_ctl, a free
port), never the shared one.

While it is down, every answer must be a 503 problem (store_unavailable), promptly; after it
is back, the same server process must serve writes and reads again by itself within a few
seconds; and everything acknowledged must be in the event store afterwards.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from api.settings import Settings
from scripts.faults import harness
from scripts.faults.api_crash import ALLOCATION_FEN, Load, check_store
from scripts.faults.report import Report

RECOVERY_SECONDS_MAX = 10.0
DOWN_ANSWER_SECONDS_MAX = 1.0
# How soon after a stop the server is expected to know (its store watch asks every 0.5 s).
WATCH_GRACE_SECONDS = 1.0


class _Reader:
    """Every `every_seconds`, a fresh request (a fund's balances from the views, or the health
    check) in its own thread, so that one waiting request never hides the next one's answer."""

    def __init__(self, url: str, token: str, every_seconds: float = 0.1) -> None:
        self.url = url
        self.token = token
        self.every_seconds = every_seconds
        self.timeline: list[tuple[float, float, str, int | str, str | None, str]] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="reader")
        self.requests: list[threading.Thread] = []

    def _run(self) -> None:
        n = 0
        while not self.stopping.wait(self.every_seconds):
            n += 1
            path = "/healthz" if n % 2 else "/v1/funds/DB-F"
            request = threading.Thread(target=self._one, args=(path,), name=f"read-{n}")
            request.start()
            self.requests.append(request)

    def _one(self, path: str) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if path != "/healthz" else {}
        sent = time.monotonic()
        try:
            response = httpx.get(self.url + path, headers=headers, timeout=30)
            problem = response.headers.get("content-type", "").startswith("application/problem+json")
            answer: tuple[int | str, str | None, str] = (
                response.status_code, response.json().get("code") if problem else None,
                response.headers.get("content-type", ""))
        except (httpx.HTTPError, ValueError) as error:
            answer = (f"transport: {type(error).__name__}", None, "")
        with self.lock:
            self.timeline.append((sent, time.monotonic(), path, *answer))

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(60)
        for request in self.requests:
            request.join(40)


def run(workdir: Path, *, restarts: int = 2, writers: int = 6, seconds_up: float = 3.0,
        seconds_down: float = 6.0) -> Report:
    report = Report("database restart", f"the server's PostgreSQL (a throwaway cluster) stopped "
                    f"for {seconds_down:g} s and started again, {restarts} time(s), "
                    "modes fast and immediate")
    with harness.throwaway_cluster() as cluster:
        report.check("the throwaway cluster is not the shared one", cluster.port != 5432, cluster.port)
        settings = Settings(database_url=cluster.dsn, postgres_pool_size=8)
        tokens = harness.add_tokens(settings)
        with harness.serving(settings, workdir) as server:
            setup = harness.Client(server.url, tokens)
            try:
                ids = harness.build_bureau(setup, schools=2, fund="DB-F", allocation_amount=ALLOCATION_FEN,
                                           appropriation=4 * ALLOCATION_FEN, approved=4)["approved"]
            finally:
                setup.close()
            load = Load(server.url, tokens, ids, writers, seed=8)
            reader = _Reader(server.url, tokens["reader"])
            load.start()
            reader.start()
            windows = []
            for n in range(restarts):
                time.sleep(seconds_up)
                mode = "fast" if n % 2 == 0 else "immediate"
                cluster.stop(mode)
                down_from = time.monotonic()
                time.sleep(seconds_down)
                up_from = time.monotonic()
                cluster.start()
                up_at = time.monotonic()
                windows.append((mode, down_from, up_from, up_at))
            time.sleep(seconds_up + RECOVERY_SECONDS_MAX / 2)
            load.stop()
            reader.stop()
            report.operations = load.sent + len(reader.timeline)
            _check_windows(report, load, reader, windows)
            report.facts.update(requests=load.sent, reads=len(reader.timeline),
                                acknowledged=len(load.acked), answers=dict(load.statuses),
                                server_restarts=server.starts - 1)
            report.check("the server process was never restarted", server.starts == 1 and
                         server.process is not None and server.process.poll() is None)
            check_store(report, settings, load, ids)
            caught_up = harness.wait_until(lambda: harness.views_caught_up(server.url), 30, 0.2)
            report.check("the views catch up after the restarts", caught_up)
        reconciled = harness.cli(settings, "reconcile")
        report.check("`fundledger reconcile` exits 0", reconciled.returncode == 0,
                     reconciled.stdout[-2000:] + reconciled.stderr[-2000:])
    return report.finish()



def _check_windows(report: Report, load: Load, reader: _Reader,
                   windows: list[tuple[str, float, float, float]]) -> None:
    """Requests sent while the database was certainly down (after the watch's grace, before
    it was started again) must be answered promptly with a 503 store_unavailable problem;
    requests already in flight when it stopped may wait for it, but must end in an answer."""
    timeline = [(sent, answered, status, code) for sent, answered, status, code in load.timeline]
    timeline += [(sent, answered, status, code) for sent, answered, _, status, code, _ in reader.timeline]
    down_answers: Counter[tuple[int | str, str | None]] = Counter()
    slow = []
    recoveries = []
    for mode, down_from, up_from, up_at in windows:
        for sent, answered, status, code in timeline:
            if down_from + WATCH_GRACE_SECONDS < sent < up_from - WATCH_GRACE_SECONDS:
                down_answers[(status, code)] += 1
                if answered - sent > DOWN_ANSWER_SECONDS_MAX:
                    slow.append(round(answered - sent, 2))
        writes_back = min((answered for _, answered, status, _ in load.timeline
                           if answered > up_at and status in (200, 201)), default=float("inf"))
        reads_back = min((answered for _, answered, path, status, _, _ in reader.timeline
                          if answered > up_at and path != "/healthz" and status == 200),
                         default=float("inf"))
        recoveries.append((mode, round(max(writes_back, reads_back) - up_at, 2)))
    report.facts["answers_while_down"] = {f"{s} {c}": n for (s, c), n in down_answers.items()}
    report.facts["recovery_seconds"] = recoveries
    report.check("clients were answered while the database was down", sum(down_answers.values()) > 0,
                 down_answers)
    report.check("every request sent while down got a 503 store_unavailable problem",
                 all(status == 503 and code == "store_unavailable" for status, code in down_answers),
                 down_answers)
    report.check(f"each of them within {DOWN_ANSWER_SECONDS_MAX:g} s", not slow, slow[:10])
    in_flight_lost = [status for _, _, status, _ in timeline if not isinstance(status, int)]
    report.check("every request in flight at a stop was answered (no timeout, no reset)",
                 not in_flight_lost, Counter(in_flight_lost))
    report.check(f"writes and reads recover by themselves within {RECOVERY_SECONDS_MAX:g} s",
                 all(back <= RECOVERY_SECONDS_MAX for _, back in recoveries), recoveries)
