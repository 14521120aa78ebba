"""Where and with what the benchmark ran: cores, memory, CPU model, load, and versions."""

from __future__ import annotations

import os
import platform
import sqlite3
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def postgres_server_version(conninfo: str) -> str:
    try:
        import psycopg  # noqa: PLC0415  (only when PostgreSQL is measured)

        with psycopg.connect(conninfo, connect_timeout=5) as connection:
            row = connection.execute("SHOW server_version").fetchone()
            fsync = connection.execute("SHOW fsync").fetchone()
            commit = connection.execute("SHOW synchronous_commit").fetchone()
    except Exception as error:  # the table still shows the rest
        return f"unavailable ({type(error).__name__})"
    assert row is not None
    return f"{row[0]} (fsync {fsync[0] if fsync else '?'}, synchronous_commit {commit[0] if commit else '?'})"


def describe(postgres_conninfo: str | None) -> list[tuple[str, str]]:
    """(label, value) pairs for the report's header."""
    return [
        ("date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("machine", f"{os.cpu_count()} cores, {memory_gib():.1f} GiB RAM, {cpu_model()}"),
        ("load average at start (1/5/15 min)", load_average()),
        ("os", f"{platform.system()} {platform.release()}"),
        ("python", platform.python_version()),
        ("eventsourcing", package_version("eventsourcing")),
        ("psycopg", package_version("psycopg")),
        ("PostgreSQL server", postgres_server_version(postgres_conninfo) if postgres_conninfo
         else "not measured"),
        ("SQLite", sqlite3.sqlite_version),
        ("beancount", package_version("beancount")),
        ("fastapi / uvicorn", f"{package_version('fastapi')} / {package_version('uvicorn')}"),
    ]
