"""A smoke test of the benchmark (scripts/bench): every part runs at a toy size and yields its
figures, the table and docs/benchmarks.md-style file are written. Nothing here asserts a speed:
benchmarks are measured, not asserted (issue 6)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from uuid import uuid4

import pytest
from typer.testing import CliRunner

from domain.ledger import FundLedger
from scripts.bench import PARTS, BenchOptions, document, run_bench
from scripts.bench import workload as workload_module
from scripts.bench.figures import Figure, Report, Target, guarded
from scripts.bench.scratch import ScratchRefused, postgres_store, scratch_database_name
from scripts.bench.workload import (
    BENCH_FUND,
    FISCAL_YEAR,
    YEARS_MAX,
    Shape,
    TooManyEvents,
    YearCap,
    fiscal_years,
    generate_years,
)
from scripts.console import app

# raw psycopg, pgledger and the round-trip count measure PostgreSQL only; the HTTP parts get a
# test of their own (servers start)
IN_PROCESS_PARTS = frozenset(PARTS) - {"raw", "pgledger", "http", "reads", "roundtrips"}


def _failures(report: Report) -> list[str]:
    return [f"{f.key}: {f.status}" for f in report.figures if f.value is None]


def test_the_report_compares_each_figure_with_its_baseline_and_target() -> None:
    report = Report()
    report.add(Figure("3 raw", "one INSERT per row", "postgres", 1000.0, "rows/s"))
    report.add(Figure("1 writes", "group commit", "postgres", 2500.0, "rows/s", Target(2000),
                      baseline="postgres:3 raw:one INSERT per row"))
    report.add(Figure("6 reads", "p99", "sqlite", 7.0, "ms", Target(5, at_least=False)))
    guarded(report, "9 broken", "raises", "sqlite", "events/s", lambda: 1 / 0)  # type: ignore[arg-type, return-value]

    rows = report.rows()
    assert rows[1][5] == "yes"
    assert rows[1][6].startswith("2.50× one INSERT per row")
    assert rows[2][5] == "NO"
    assert rows[3][3].startswith("failed: ZeroDivisionError")
    markdown = report.markdown()
    assert markdown.count("\n") == len(rows) + 1


def test_a_run_replaces_only_the_generated_section(tmp_path: Path) -> None:
    path = tmp_path / "benchmarks.md"
    report = Report([Figure("7 verify", "hash chain", "sqlite", 1.0, "events/s")])
    document.write(path, report, [("date", "today")], "first")
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "\n## Notes kept by hand\n", encoding="utf-8")
    document.write(path, report, [("date", "tomorrow")], "second")
    text = path.read_text(encoding="utf-8")
    assert "## second" in text
    assert "## first" not in text
    assert "Notes kept by hand" in text


def test_the_bench_never_drops_a_database_that_is_not_its_own() -> None:
    with pytest.raises(ScratchRefused):
        scratch_database_name("postgresql://postgres@127.0.0.1:5432/fundledger")
    with pytest.raises(ScratchRefused):
        scratch_database_name("postgresql://postgres@db.example.org:5432/fundledger_bench")


def test_the_in_process_parts_run_at_a_toy_size_on_sqlite(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    report = run_bench(BenchOptions(events=1_000, postgres_url=None, sqlite=True, out=out,
                                    parts=IN_PROCESS_PARTS, toy=True))

    assert all("not installed" in f for f in _failures(report)), _failures(report)
    measured = {f.part.split()[0] for f in report.figures}
    assert measured >= {"1", "4", "5", "7", "8"}
    text = out.read_text(encoding="utf-8")
    assert document.BEGIN in text
    assert "| part | measure |" in text
    assert "eventsourcing" in text  # the versions in the header


def test_the_http_parts_run_at_a_toy_size_on_sqlite(tmp_path: Path) -> None:
    report = run_bench(BenchOptions(events=1_000, postgres_url=None, sqlite=True, out=None,
                                    parts=frozenset({"http", "reads"}), toy=True))

    assert _failures(report) == []
    names = {f.name for f in report.figures}
    assert {"4 clients, group commit", "4 clients, one save per request",
            "4 clients: group commit ÷ one save per request", "balance, HTTP: p99",
            "as-of balance, in-process: p99", "2 clients, batches of 20, group commit",
            "2 clients, batches of 20, group commit, views in their own process"} <= names
    assert all("errors" not in f.detail for f in report.figures), [f.detail for f in report.figures]


@pytest.mark.postgres
def test_the_postgres_parts_run_at_a_toy_size(postgres_dsn: str, tmp_path: Path) -> None:
    base = postgres_dsn.rsplit("/", 1)[0]
    url = f"{base}/fundledger_bench_smoke_{os.getpid()}_{uuid4().hex[:6]}"
    report = run_bench(BenchOptions(events=1_000, postgres_url=url, sqlite=False,
                                    out=tmp_path / "benchmarks.md",
                                    parts=frozenset({"bulk", "writes", "raw", "pgledger",
                                                     "roundtrips"}),
                                    toy=True))

    assert _failures(report) == []
    names = {f.name for f in report.figures}
    assert {"one INSERT + commit per row", "executemany, 1,000 rows per commit",
            "COPY, one transaction", "4 threads, group commit",
            "1 clients, one transfer per call", "4 clients, one transfer per call",
            "2 clients, pgledger_create_transfers of 20 per call",
            "in-process, 4 threads, group commit ÷ pgledger, 4 clients",
            "one POST /v1/expenditures, warm: round trips"} <= names
    assert all("errors" not in f.detail for f in report.figures), [f.detail for f in report.figures]


def test_an_unknown_part_is_refused_before_anything_runs() -> None:
    result = CliRunner().invoke(app, ["bench", "--only", "rebuild,nope", "--no-postgres"])
    assert result.exit_code != 0
    assert "unknown part(s) nope" in result.output


# A toy year at the cap: 20 schools (scale 0.01) at most 2 vouchers a month, about 3,800 events.
TOY_CAP = YearCap(scale=0.01, vouchers_per_school_month=2.0)


def test_beyond_one_year_at_the_cap_the_years_before_are_generated_or_refused() -> None:
    cap = YearCap()
    assert fiscal_years(cap.events) == [FISCAL_YEAR]
    assert fiscal_years(cap.events + 1) == [FISCAL_YEAR - 1, FISCAL_YEAR]
    assert fiscal_years(10_000_000) == list(range(FISCAL_YEAR - 3, FISCAL_YEAR + 1))
    with pytest.raises(TooManyEvents, match="at most 10 fiscal years"):
        fiscal_years(YEARS_MAX * cap.events + 1)
    # 10,000,000 events: four years of about 2.5 million, all schools, fewer vouchers a month.
    assert Shape.for_events(10_000_000 / 4) == Shape(1.0, 36.72)


def test_more_events_than_a_toy_year_holds_add_the_years_before_each_closed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workload_module, "_open_bench_fund", lambda ledger, workload: None)
    ledger = FundLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                        clock=lambda: date(FISCAL_YEAR + 1, 3, 31))
    try:
        workload = generate_years(ledger, 3 * TOY_CAP.events - 100, TOY_CAP)

        assert [y.fiscal_year for y in workload.years] == [FISCAL_YEAR - 2, FISCAL_YEAR - 1, FISCAL_YEAR]
        assert [y.closed for y in workload.years] == [True, True, False]
        assert workload.events == ledger.last_position()  # every event, counted once
        assert all(y.events > 0 and y.shape.scale == TOY_CAP.scale for y in workload.years)
        assert workload.span() == f"3 fiscal years {FISCAL_YEAR - 2}–{FISCAL_YEAR}"
        funds = [ledger.get_fund(code) for code in workload.fund_codes if code != BENCH_FUND]
        assert funds and all(f.fiscal_year == FISCAL_YEAR and not f.closed for f in funds)
        assert {ledger.get_school(code).code for code in workload.school_codes} == set(
            workload.school_codes)
    finally:
        ledger.close()


def test_a_run_beyond_one_toy_year_reports_the_years_and_the_events_generated(
        tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    asked = 2 * TOY_CAP.events - 500
    report = run_bench(BenchOptions(events=asked, postgres_url=None, sqlite=True, out=out,
                                    parts=frozenset({"bulk", "verify", "writes", "yearend"}),
                                    toy=True, year_cap=TOY_CAP))

    assert _failures(report) == []
    figures = {f.name: f for f in report.figures}
    total = figures["generator: 2 years, each closed into the next, day batches ≤ 4,000 commands"]
    years = [figures[f"generator: fiscal year {year}"] for year in (FISCAL_YEAR - 1, FISCAL_YEAR)]
    generated = int(total.detail.split(" events")[0].replace(",", ""))
    assert generated == sum(int(y.detail.split(" events")[0].replace(",", "")) for y in years)
    title = (f"## fundledger benchmark (toy, {asked:,} events asked, {generated:,} generated in "
             f"2 fiscal years {FISCAL_YEAR - 1}–{FISCAL_YEAR}, ")
    assert title in out.read_text(encoding="utf-8")
    assert "close the generated year (one command, all funds)" in figures


@pytest.mark.postgres
def test_beyond_one_year_the_views_follow_the_generation_in_their_own_process(
        postgres_dsn: str, tmp_path: Path) -> None:
    """The 10M run built its views only after generating, over the hour it may take (issue 21)."""
    base = postgres_dsn.rsplit("/", 1)[0]
    url = f"{base}/fundledger_bench_follow_{os.getpid()}_{uuid4().hex[:6]}"
    report = run_bench(BenchOptions(events=2 * TOY_CAP.events - 500, postgres_url=url,
                                    sqlite=False, out=tmp_path / "benchmarks.md",
                                    parts=frozenset({"bulk", "reads"}), toy=True,
                                    year_cap=TOY_CAP))

    assert _failures(report) == []
    total = next(f for f in report.figures if f.name.startswith("generator: 2 years"))
    followed = total.detail.split("followed meanwhile, to position ")[1].rstrip(")")
    assert int(followed.replace(",", "")) > 0, total.detail
    assert {"balance, HTTP: p99", "as-of balance, HTTP: p99"} <= {f.name for f in report.figures}


@pytest.mark.postgres
def test_a_scratch_database_another_run_is_using_is_refused_and_left_alone(
        postgres_dsn: str) -> None:
    """A second run on the same scratch database once dropped the first run's store mid-run."""
    import psycopg  # noqa: PLC0415

    base = postgres_dsn.rsplit("/", 1)[0]
    name = f"fundledger_bench_busy_{os.getpid()}_{uuid4().hex[:6]}"
    url = f"{base}/{name}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(url) as first_run:
            with pytest.raises(ScratchRefused, match="another benchmark is using it"), \
                    postgres_store(url):
                pass
            assert first_run.execute("SELECT 1").fetchone() == (1,)  # still connected
        with postgres_store(url):  # no one on it now: dropped, created, dropped again
            pass
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
