"""`.venv/bin/python -m scripts.faults`: every fault scenario at full size, then
docs/reliability.md — a table of each scenario, what was injected, how many operations, what
was checked, and the result. Exits non-zero if any scenario failed."""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable
from datetime import date
from pathlib import Path

from scripts.faults import api_crash, db_restart, harness, importer_fuzz, races, runner_crash, security
from scripts.faults.report import Report

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "reliability.md"
RUN_DATE = os.environ.get("FUNDLEDGER_REPORT_DATE", date.today().isoformat())


def _with_schema(run: Callable[..., Report], **kwargs: object) -> Callable[[Path], Report]:
    def scenario(workdir: Path) -> Report:
        with harness.private_schema() as settings:
            return run(settings, workdir, **kwargs)
    return scenario


def _importer(workdir: Path) -> Report:
    del workdir
    with harness.private_schema() as settings:
        return importer_fuzz.run(settings, examples=500)


def _pytest(name: str, injected: str, checked: str, *args: str,
            env: dict[str, str] | None = None) -> Callable[[Path], Report]:
    """A scenario that is a pytest run of the project's own tests; counts its test cases."""
    def scenario(workdir: Path) -> Report:
        del workdir
        report = Report(name, injected)
        done = subprocess.run(  # noqa: S603  (our interpreter running our tests)
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=ROOT,
            capture_output=True, text=True, check=False, env={**os.environ, **(env or {})},
            timeout=3600)
        summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:]
        passed = int(m.group(1)) if (m := re.search(r"(\d+) passed", summary)) else 0
        report.operations = passed
        report.facts["pytest"] = summary
        report.check(checked, done.returncode == 0 and passed > 0, done.stdout[-3000:])
        return report.finish()
    return scenario


SCENARIOS: dict[str, Callable[[Path], Report]] = {
    "races": _with_schema(races.run, clients=64, spend_rounds=2, proposals=48,
                          affordable_approvals=20),
    "api_crash": _with_schema(api_crash.run, kills=6, writers=8, seconds_between_kills=3.0),
    "runner_live": _with_schema(runner_crash.run_live, kills=5),
    "runner_rebuild": _with_schema(runner_crash.run_rebuild, kills=4, rounds=60),
    "db_restart": lambda workdir: db_restart.run(workdir, restarts=3, seconds_down=6.0),
    "security": _with_schema(security.run, hostile_requests=600),
    "importer_fuzz": _importer,
    "role_matrix": _pytest(
        "role × endpoint matrix", "every endpoint called with every role, no token, a revoked token",
        "each allowed role passes authorisation, each other gets 403, no or revoked token 401",
        "tests/api/test_roles.py"),
    "schemathesis": _pytest(
        "schemathesis (large budget)", "generated requests for every operation of the OpenAPI "
        "document, 150 examples each, authenticated",
        "no 5xx; status codes, content types, headers and bodies match the document",
        "tests/faults/test_schemathesis_full.py", "-m", "slow"),
}


def _machine() -> str:
    cpus = os.cpu_count()
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(meminfo.read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.1f} GiB RAM"
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        model = f" ({found.group(1).strip()})" if found else ""
    try:
        import psycopg  # noqa: PLC0415

        with psycopg.connect(harness.ADMIN_DSN) as conn:
            version = conn.execute("SHOW server_version").fetchone()
        postgres = f", PostgreSQL {version[0].split()[0]}" if version else ""
    except Exception:  # the machine line is informative only
        postgres = ""
    return (f"{cpus} cores{model}{memory}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}{postgres}")


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_document(reports: list[Report], machine: str, path: Path = DOC) -> None:
    lines = [
        "# Reliability: proven under faults and attack",
        "",
        f"Produced by `.venv/bin/python -m scripts.faults` on {RUN_DATE}.",
        f"Machine: {machine}. All traffic to 127.0.0.1; the event store is PostgreSQL (a private "
        "schema of the shared cluster; a throwaway cluster for the database restart).",
        "",
        "| scenario | injected | operations | checked | result | seconds |",
        "|---|---|---:|---|---|---:|",
    ]
    for r in reports:
        result = "pass" if r.ok else "**FAIL**: " + "; ".join(r.failures)[:600]
        lines.append(f"| {_cell(r.scenario)} | {_cell(r.injected)} | {r.operations:,} | "
                     f"{_cell(r.checked())} | {_cell(result)} | {r.seconds:.0f} |")
    lines += ["", "## Counts and observations", ""]
    for r in reports:
        facts = json.dumps(r.facts, ensure_ascii=False, default=str)
        lines.append(f"- **{r.scenario}**: {_cell(facts)[:1500]}")
    lines += [
        "",
        "## What each scenario means",
        "",
        "- **races** (`scripts/faults/races.py`): spends of one size on a few allocations and "
        "approvals of one size on one fund, so the affordable count is known; each keyed spend is "
        "sent twice at once. The event store, the views and `fundledger reconcile` must agree.",
        "- **API crash** (`api_crash.py`): writers retry a lost answer with the same "
        "Idempotency-Key; afterwards every 2xx is in the store, no key wrote twice, and each "
        "allocation's spent equals its expenditures' sum (nothing half-written).",
        "- **view runner crash** (`runner_crash.py`): `fundledger project` killed while following "
        "live writes, and `fundledger rebuild` killed mid-way; the views then equal a fresh "
        "rebuild row for row and reconcile with the replay.",
        "- **database restart** (`db_restart.py`): `pg_ctl stop -m fast|immediate` of a cluster "
        "the scenario made with initdb on a free port; requests sent while it is down get a prompt "
        "503, requests in flight wait for it, and the server recovers without a restart.",
        "- **security** (`security.py`), **CSV importer fuzzing** (`importer_fuzz.py`), the "
        "**role matrix** (`tests/api/test_roles.py`) and **schemathesis** "
        "(`tests/faults/test_schemathesis_full.py`).",
        "",
        "The fast subset runs in `pytest -m \"not slow\"` (races, one API crash, security, importer "
        "fuzzing on the in-memory store, the role matrix and the schemathesis smoke); the rest is "
        "marked slow and runs with `make test-all`.",
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", choices=sorted(SCENARIOS), help="run only these")
    parser.add_argument("--no-write", action="store_true", help="do not write docs/reliability.md")
    options = parser.parse_args()
    names = options.only or list(SCENARIOS)
    reports = []
    for name in names:
        print(f"== {name}", flush=True)
        with tempfile.TemporaryDirectory(prefix=f"faults-{name}-") as workdir:
            try:
                report = SCENARIOS[name](Path(workdir))
            except Exception:
                report = Report(name, "(the scenario itself failed)")
                report.check("the scenario ran", False, traceback.format_exc()[-1500:])
                report.finish()
        print(f"   {'pass' if report.ok else 'FAIL'} in {report.seconds:.0f} s, "
              f"{report.operations} operations; {report.facts}", flush=True)
        for failure in report.failures:
            print(f"   ! {failure[:1000]}", flush=True)
        reports.append(report)
    if not options.no_write:
        write_document(reports, _machine())
        print(f"wrote {DOC.relative_to(ROOT)}")
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
