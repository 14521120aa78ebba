"""The parts of the benchmark that compare (issue 21): batches over HTTP, pgledger as the
peer of our writes, and the ratio rows — fundledger ÷ pgledger, rebuild ÷ beancount — each
taken from figures measured in the same run."""

from __future__ import annotations

from typing import Any

from scripts.bench import http_server, pgledger_peer
from scripts.bench.figures import Figure, Target
from scripts.bench.parts import (
    HTTP,
    HTTP_WORKER_POOL_SIZE,
    PEER,
    PEER_STORE,
    REBUILD,
    WRITES,
    Context,
    load_detail,
)

PGLEDGER = "10 pgledger"
RATIOS = "11 side by side"
BATCH_TARGET = 20_000  # expenditures/s over HTTP, 8 clients, batches of 500, PostgreSQL


def batch_name(ctx: Context) -> str:
    return f"{ctx.bounds.batch_clients} clients, batches of {ctx.bounds.batch_size}, group commit"


def http_batches(ctx: Context, server: http_server.Server, spec: dict[str, Any]) -> None:
    """`POST /v1/expenditures/batch` from a few clients, each sending batches in a closed loop,
    on the server as served (the view runner in it)."""
    _batches(ctx, server, spec, batch_name(ctx),
             baseline=ctx.key(HTTP, f"{max(ctx.bounds.concurrency)} clients, group commit"))


def http_batches_other_layout(ctx: Context, spec: dict[str, Any]) -> None:
    """The same with the views kept the other way than `fundledger serve` keeps them on this
    store: in a thread of the server on PostgreSQL (where the row above has them in a process
    of their own), in a process of their own on SQLite. Pools of HTTP_WORKER_POOL_SIZE, as the
    two-worker row: the server is shared with other runs."""
    settings = ctx.settings.model_copy(update={"postgres_pool_size": HTTP_WORKER_POOL_SIZE})
    apart = not settings.is_postgres
    layout = "views in their own process" if apart else "views in the server's process"
    with http_server.served(settings, group_commit=True, views_apart=apart) as server:
        _batches(ctx, server, spec, f"{batch_name(ctx)}, {layout}",
                 baseline=ctx.key(HTTP, batch_name(ctx)))


def _batches(ctx: Context, server: http_server.Server, spec: dict[str, Any], name: str, *,
             baseline: str) -> None:
    b = ctx.bounds
    spec = {**spec, "kind": "batch", "batch": b.batch_size,
            "run_tag": f"{ctx.workload.run_tag}b{b.batch_clients}{server.port}"}
    result = http_server.load(server.port, b.batch_clients, spec,
                              requests_max=max(1, b.write_count_max // b.batch_size),
                              seconds_max=b.write_seconds, warmup_seconds=b.warmup_seconds)
    ctx.report.add(Figure(
        HTTP, name, ctx.store, result["per_second"] * b.batch_size, "expenditures/s",
        Target(BATCH_TARGET) if ctx.store == "postgres" else None, baseline=baseline,
        detail=f"per batch: {load_detail(result)} batches"))


def pgledger(ctx: Context, postgres_url: str) -> None:
    """pgledger on the same server, its clients shaped as ours: 1 and the most clients with
    one transfer per call, and the batch clients with a batch of transfers per call."""
    b = ctx.bounds
    shapes = [(clients, 1) for clients in (1, max(b.concurrency))]
    shapes.append((b.batch_clients, b.batch_size))
    with pgledger_peer.installed(postgres_url) as (target, accounts):
        for clients, per_call in shapes:
            run = pgledger_peer.transfers(
                target, accounts, clients=clients, per_call=per_call,
                calls_max=max(1, b.write_count_max // per_call), seconds_max=b.write_seconds,
                warmup_seconds=b.warmup_seconds)
            errors = f", {run.errors} errors ({run.first_error[:80]})" if run.errors else ""
            ctx.report.add(Figure(
                PGLEDGER, _pgledger_name(clients, per_call), ctx.store, run.per_second,
                "transfers/s",
                detail=f"per call: p50 {run.p(0.5):.1f} ms, p99 {run.p(0.99):.1f} ms, "
                       f"{len(run.latencies):,} calls, {pgledger_peer.ACCOUNTS:,} accounts{errors}"))


def _pgledger_name(clients: int, per_call: int) -> str:
    if per_call == 1:
        return f"{clients} clients, one transfer per call"
    return f"{clients} clients, pgledger_create_transfers of {per_call} per call"


def ratios(ctx: Context) -> None:
    """Each pair measured in this run, as one row; a pair with a side missing is left out."""
    b = ctx.bounds
    top = max(b.concurrency)
    pairs = [
        ("HTTP, 1 client ÷ pgledger, 1 client", ctx.key(HTTP, "1 clients, group commit"),
         ctx.key(PGLEDGER, _pgledger_name(1, 1)), Target(1)),
        (f"HTTP, {top} clients, group commit ÷ pgledger, {top} clients",
         ctx.key(HTTP, f"{top} clients, group commit"),
         ctx.key(PGLEDGER, _pgledger_name(top, 1)), Target(1)),
        (f"in-process, {top} threads, group commit ÷ pgledger, {top} clients",
         ctx.key(WRITES, f"{top} threads, group commit"),
         ctx.key(PGLEDGER, _pgledger_name(top, 1)), Target(1)),
        (f"HTTP batches ÷ pgledger_create_transfers ({b.batch_clients} clients, {b.batch_size} "
         "per call)", ctx.key(HTTP, batch_name(ctx)),
         ctx.key(PGLEDGER, _pgledger_name(b.batch_clients, b.batch_size)), Target(1)),
        (f"in-process, {top} threads: group commit ÷ one save each",
         ctx.key(WRITES, f"{top} threads, group commit"),
         ctx.key(WRITES, f"{top} threads, one save each"), Target(2)),
        # beancount's seconds ÷ ours: how many times faster the rebuild is, by wall time.
        ("rebuild ÷ beancount, speed by wall time", f"{PEER_STORE}:{PEER}:load + balances, seconds",
         ctx.key(REBUILD, "whole log, seconds"), Target(2)),
    ]
    for name, numerator, denominator, target in pairs:
        top_value = ctx.report.value_of(numerator)
        bottom_value = ctx.report.value_of(denominator)
        if top_value and bottom_value:
            ctx.report.add(Figure(RATIOS, name, ctx.store, top_value / bottom_value, "×", target))
