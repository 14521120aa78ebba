"""A rebuild in parts: the views split into groups, each built from the whole log by a process
of its own, with its own tracking row (issue 21: "rebuild independent views in parallel").

Each view reads and writes only its own tables, so a group of views can be built apart from
the others. A part's row in `view_tracking` says how far its views are; the application's own
row stays at 0 while any part is unjoined, so no reader takes half-built views as caught up.
When every part has reached the same position, one transaction moves the application's row
there and deletes the parts' rows (`ViewTrackingRecorder.join_parts`).

An interrupted rebuild (a crash, a killed process) leaves its parts' rows: whichever runner of
the store next applies a page finishes them first, each part in turn, in its own process
(`ViewRunner.finish_parts`). Two runners finishing the same part take turns on its row's lock,
so no page is applied twice.

On SQLite one writer at a time is all the file allows, so a rebuild there is one part.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from multiprocessing import get_context
from typing import TYPE_CHECKING

from projections.garbage_collection import tune_collector
from projections.tracking import PART_MARK

if TYPE_CHECKING:
    from projections.page_view import PageView
    from projections.runner import Progress, ViewRunner

log = logging.getLogger(__name__)

# What a view adds to a rebuild's wall time per event, in µs, beyond reading and decoding the
# log (~24 µs, which every part pays): each view built alone from a generated year of 495,659
# events on PostgreSQL, 2026-12-02 (docs/benchmarks.md). The journal's is when it is built (a
# journal kept intact is in no part). Used only to share the views fairly among the parts.
VIEW_COST_MICROSECONDS = {
    "journal": 31,
    "books": 30,
    "findings_facts": 22,
    "carry_over": 4,
    "stocks": 1,
    "changes": 1,
}
PROGRESS_SECONDS = 0.5

# Opens a runner of the same store in a worker process: (views' names, tracking name) → runner.
# Given by whoever composed the parent's runner (api/store.py), and picklable.
OpenPart = Callable[[Sequence[str], str], "ViewRunner"]


def parts_default(is_postgres: bool) -> int:
    """Two parts on PostgreSQL where there are two cores or more: each part decodes the whole
    log, and PostgreSQL's own work per event is about half the runner's, so more parts than
    cores buys nothing."""
    return min(2, os.cpu_count() or 1) if is_postgres else 1


def shared_out(views: Sequence[PageView], parts: int) -> list[list[str]]:
    """The views' names in `parts` groups of about equal cost (the costliest first, each to
    the cheapest group so far, the smallest of equals); no group is empty."""

    def cost(name: str) -> int:
        return VIEW_COST_MICROSECONDS.get(name, 1)

    groups: list[list[str]] = [[] for _ in range(min(parts, len(views)))]
    costs = [0] * len(groups)
    for name in sorted((v.name for v in views), key=lambda n: (-cost(n), n)):
        cheapest = min(range(len(groups)), key=lambda i: (costs[i], len(groups[i])))
        groups[cheapest].append(name)
        costs[cheapest] += cost(name)
    return groups


def part_name(application_name: str, views: Sequence[str]) -> str:
    return application_name + PART_MARK + ",".join(views)


def views_of(part: str) -> list[str]:
    """The views' names a part's row was named after."""
    return part.split(PART_MARK, 1)[1].split(",")


def build_part(open_part: OpenPart, views: Sequence[str], part: str, end: int) -> int:
    """In a worker process: brings one part's views to `end`; returns the events applied."""
    tune_collector()
    with open_part(views, part) as runner:
        return runner.catch_up_to(end)


def build_in_processes(runner: ViewRunner, open_part: OpenPart, groups: list[list[str]],
                       end: int, progress: Progress | None) -> int:
    """Builds each group up to `end` in a process of its own, reporting the parts' mean
    position meanwhile. A failed part raises once the others have ended (their work is kept in
    their rows, and the next runner finishes the failed one). Returns the most events a part
    applied."""
    names = [part_name(runner.application_name, g) for g in groups]
    log.info("rebuilding the views in %d parts (%s) up to position %d", len(groups),
             " | ".join(",".join(g) for g in groups), end)
    # spawn, not fork: the parent holds open connections and threads a fork would copy.
    with ProcessPoolExecutor(max_workers=len(groups), mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(build_part, open_part, g, n, end) for g, n in zip(groups, names, strict=True)]
        while True:
            done, pending = wait(futures, timeout=PROGRESS_SECONDS, return_when=FIRST_EXCEPTION)
            if progress is not None:
                positions = runner.tracking.parts(runner.application_name).values()
                progress(sum(positions) // max(len(positions), 1), end)
            failed = [f.exception() for f in done if f.exception() is not None]
            if failed:
                raise failed[0]  # type: ignore[misc]
            if not pending:
                return max(f.result() for f in futures)

