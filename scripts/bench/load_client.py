"""The HTTP load client, run in its own process so that it does not share the server's
interpreter: `python -m scripts.bench.load_client --port P --clients C --spec FILE`.

Each client is one keep-alive HTTP/1.1 connection sending one request at a time (a closed
loop), written on bare asyncio streams because a general HTTP client library costs more CPU per
request than the server under test. It first warms up (not recorded), then runs until
`--requests-max` answers or `--seconds-max`, and prints one JSON line: answers, errors by
status, seconds, p50/p99 latency. Only 127.0.0.1 is allowed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
CLIENTS_MAX = 256
READ_TIMEOUT_SECONDS = 30.0


@dataclass
class Tally:
    requests_max: int
    warm_until: float
    stop_at: float
    started: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    first_error: str = ""
    measured_from: float = 0.0
    measured_to: float = 0.0

    def may_start(self, now: float) -> bool:
        if now < self.warm_until:
            return True
        if now >= self.stop_at or self.started >= self.requests_max:
            return False
        self.started += 1
        return True


def request_for(spec: dict[str, Any], rng: random.Random, serial: int) -> bytes:
    token = spec["token"]
    if spec["kind"] in ("write", "batch"):
        def item(voucher: str) -> dict[str, Any]:
            return {"allocation": rng.choice(spec["allocations"]),
                    "amount": rng.randint(100, 99_999), "payee": "徐州市教学用品供应站",
                    "voucher": voucher, "spent_on": spec["spent_on"], "description": "benchmark"}

        if spec["kind"] == "write":
            path, body = "/v1/expenditures", json.dumps(item(f"BH{spec['run_tag']}-{serial}"))
        else:  # one request of `batch` expenditures (POST /v1/expenditures/batch)
            path = "/v1/expenditures/batch"
            body = json.dumps({"items": [item(f"BB{spec['run_tag']}-{serial}-{i}")
                                         for i in range(spec["batch"])]})
        data = body.encode()
        head = (f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n")
        return head.encode() + data
    school = rng.choice(spec["schools"])
    query = f"fiscal_year={spec['fiscal_year']}" + (f"&as_of={spec['as_of']}" if spec.get("as_of") else "")
    return (f"GET /v1/schools/{school}/balances?{query} HTTP/1.1\r\nHost: {HOST}\r\n"
            f"Authorization: Bearer {token}\r\n\r\n").encode()


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, server closes) of one HTTP/1.1 answer."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("the server closed the connection")
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    chunked = closing = False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            closing = True
    if not chunked:
        return status, await reader.readexactly(length), closing
    body = b""
    while True:
        size = int((await reader.readline()).strip(), 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return status, body, closing
        body += chunk[:-2]


async def client(index: int, port: int, spec: dict[str, Any], tally: Tally) -> None:
    rng = random.Random(index)
    reader, writer = await asyncio.open_connection(HOST, port)
    serial = 0
    try:
        while tally.may_start(time.monotonic()):
            serial += 1
            started = time.perf_counter()
            writer.write(request_for(spec, rng, index * 10_000_000 + serial))
            status, body, closing = await asyncio.wait_for(read_answer(reader), READ_TIMEOUT_SECONDS)
            elapsed = time.perf_counter() - started
            if time.monotonic() >= tally.warm_until:
                tally.statuses[status] = tally.statuses.get(status, 0) + 1
                if 200 <= status < 300:
                    tally.latencies.append(elapsed)
                elif not tally.first_error:
                    tally.first_error = f"{status} {body[:200].decode(errors='replace')}"
                tally.measured_to = time.monotonic()
            if closing:
                writer.close()
                reader, writer = await asyncio.open_connection(HOST, port)
    finally:
        writer.close()


async def run(port: int, clients: int, spec: dict[str, Any], requests_max: int,
              seconds_max: float, warmup_seconds: float) -> dict[str, Any]:
    now = time.monotonic()
    tally = Tally(requests_max, now + warmup_seconds, now + warmup_seconds + seconds_max)
    tally.measured_from = tally.warm_until
    results = await asyncio.gather(*(client(i, port, spec, tally) for i in range(clients)),
                                   return_exceptions=True)
    failures = [repr(r) for r in results if isinstance(r, BaseException)]
    seconds = max(tally.measured_to - tally.measured_from, 1e-9)
    ordered = sorted(tally.latencies)

    def pct(fraction: float) -> float:
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))] * 1000

    return {"clients": clients, "ok": len(ordered), "seconds": seconds,
            "per_second": len(ordered) / seconds, "p50_ms": pct(0.50), "p99_ms": pct(0.99),
            "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
            "errors": sum(v for k, v in tally.statuses.items() if not 200 <= k < 300) + len(failures),
            "first_error": tally.first_error or (failures[0] if failures else "")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--spec", type=Path, required=True, help="JSON: kind, token, targets")
    parser.add_argument("--requests-max", type=int, default=100_000)
    parser.add_argument("--seconds-max", type=float, default=10.0)
    parser.add_argument("--warmup-seconds", type=float, default=1.0)
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= CLIENTS_MAX:
        parser.error(f"--clients must be between 1 and {CLIENTS_MAX}")
    spec = json.loads(args.spec.read_text(encoding="utf-8"))
    work = run(args.port, args.clients, spec, args.requests_max, args.seconds_max,
               args.warmup_seconds)
    try:
        import uvloop  # noqa: PLC0415  (a faster event loop when installed)
    except ImportError:
        result = asyncio.run(work)
    else:
        result = uvloop.run(work)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
