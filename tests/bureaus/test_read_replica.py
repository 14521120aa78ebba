"""Reads served from a PostgreSQL streaming replica (issue 15): `scripts/replica.sh` makes a
hot standby of this machine's cluster; a server with FUNDLEDGER_VIEWS_READ_URL reads its views
there while writes and the view runner stay on the primary, and `min_position` waits for the
replica's own views (bounded), else 503 `views_behind` with the lag.

The script runs here against a throwaway primary (PRIMARY_PORT), so the test neither copies
nor reconfigures the shared cluster. Slow-marked, and run by `make test` all the same
(`ci_fault`): both tests take ~25 s here (docs/deployment.md, "A read replica")."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from scripts.faults.harness import free_port, throwaway_cluster
from tests.api.conftest import FISCAL_YEAR, ROLES, Api
from tests.bureaus.conftest import CITY, PEI, TONGSHAN, YEAR, City, add_users, register_city
from tests.bureaus.test_bureaus_http import _two_counties
from tests.bureaus.test_isolation_sweep import QUERY, _filled, _operations
from tests.conftest import TODAY
from tests.dashboard_login import dashboard_login

pytestmark = [pytest.mark.slow, pytest.mark.ci_fault, pytest.mark.postgres]
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "replica.sh"
START_SECONDS_MAX = 120
DATABASE = "fundledger"
WAIT_SECONDS = 1.0
REPLAY_RESUMED_AFTER_SECONDS = 0.4


@pytest.fixture(scope="module")
def primary_and_replica() -> Iterator[tuple[str, str]]:
    """A throwaway primary (never the shared cluster: no slot, no pg_hba entry, no copy of the
    other engineers' databases) and the script's standby of it: their URLs."""
    with throwaway_cluster() as cluster:
        with psycopg.connect(cluster.dsn, autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {DATABASE}")
        port = str(free_port())
        env = os.environ | {"PRIMARY_PORT": str(cluster.port)}
        started = subprocess.run(
            ["bash", str(SCRIPT), "start", "--port", port, "--database", DATABASE],
            capture_output=True, text=True, timeout=START_SECONDS_MAX, check=False, env=env)
        try:
            assert started.returncode == 0, started.stderr
            yield (cluster.dsn.rsplit("/", 1)[0] + f"/{DATABASE}",
                   started.stdout.strip().splitlines()[-1].split("=", 1)[1])
        finally:
            subprocess.run(["bash", str(SCRIPT), "stop", "--port", port], capture_output=True,
                           timeout=60, check=False, env=env)


def _served(settings: Settings, *, run_views: bool, tokens: dict[str, str] | None = None) -> Any:
    app = create_app(settings, clock=lambda: TODAY, run_views=run_views)
    client = TestClient(app, raise_server_exceptions=False)
    client.__enter__()
    if tokens is None:
        tokens = {role: app.state.ledger.add_user(f"user.{role}", [role]) for role in ROLES}
        tokens["checker"] = app.state.ledger.add_user("user.checker", ["approver"])
    return Api(client, tokens)


def _get_paths(router: Any) -> set[str]:
    """Every GET path of `router`, through the routers it includes."""
    paths: set[str] = set()
    for route in router.routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            paths |= _get_paths(included)
        elif "GET" in (getattr(route, "methods", None) or ()):
            paths.add(route.path)
    return paths


def _replay(replica_url: str, call: str) -> None:
    with psycopg.connect(replica_url, autocommit=True) as connection:
        connection.execute(f"SELECT {call}()")


def _spent(api: Api, school: str, min_position: int | None = None) -> Any:
    params: dict[str, Any] = {"fiscal_year": FISCAL_YEAR}
    if min_position is not None:
        params["min_position"] = min_position
    return api.get("reader", f"/v1/schools/{school}/balances", **params)


def test_reads_on_a_streaming_replica_wait_for_the_position_or_answer_503_with_the_lag(
        primary_and_replica: tuple[str, str], tmp_path: Path) -> None:
    primary_url, replica_url = primary_and_replica
    primary_settings = Settings(database_url=primary_url, postgres_pool_size=2,
                                signing_key_path=tmp_path / "keys" / "bureau.pem")
    writer = _served(primary_settings, run_views=True)
    reader = _served(primary_settings.model_copy(update={
        "views_read_url": replica_url, "read_wait_seconds_max": WAIT_SECONDS}),
        run_views=False, tokens=writer.tokens)
    try:
        writer.school()
        writer.fund()
        allocation = writer.allocation()
        written = writer.expenditure(allocation["id"], amount=1_200_00)["position"]

        # The replica's views reach the write: the read waits for them and answers.
        first = writer.ok(_spent(reader, "XZ-PX-0001", written))
        assert first["position"] >= written
        assert first == writer.ok(_spent(writer, "XZ-PX-0001", written)) | {
            "position": first["position"]}
        health = reader.client.get("/healthz").json()
        assert health["views_read_from"] == "replica"
        assert health["views_position"] >= written
        assert writer.client.get("/healthz").json()["views_read_from"] == "primary"

        # Replay paused: the primary's views move on, the replica's stay where they were.
        _replay(replica_url, "pg_wal_replay_pause")
        later = writer.expenditure(allocation["id"], amount=800_00, voucher="V-0002")["position"]
        moved = writer.ok(_spent(writer, "XZ-PX-0001", later))
        stale = writer.ok(_spent(reader, "XZ-PX-0001"))
        assert stale["position"] < later <= moved["position"]
        assert stale["balances"] != moved["balances"]

        started = time.monotonic()
        behind = _spent(reader, "XZ-PX-0001", later)
        assert time.monotonic() - started >= WAIT_SECONDS
        assert behind.status_code == 503, behind.text
        problem = behind.json()
        assert problem["code"] == "views_behind"
        assert behind.headers["Retry-After"] == "1"
        assert "read replica" in problem["detail"]
        assert f"{later - stale['position']} event(s) behind" in problem["detail"]

        # Replay resumed while a read waits: it answers once the replica has the write.
        resume = threading.Timer(REPLAY_RESUMED_AFTER_SECONDS, _replay,
                                 (replica_url, "pg_wal_replay_resume"))
        started = time.monotonic()
        resume.start()
        waited = writer.ok(_spent(reader, "XZ-PX-0001", later))
        assert time.monotonic() - started >= REPLAY_RESUMED_AFTER_SECONDS
        resume.join()
        assert waited["balances"] == moved["balances"]
    finally:
        reader.client.__exit__(None, None, None)
        writer.client.__exit__(None, None, None)



def test_a_city_read_on_the_replica_its_consolidated_report_and_every_read(
        primary_and_replica: tuple[str, str], tmp_path: Path) -> None:
    primary_url, replica_url = primary_and_replica
    with psycopg.connect(primary_url, autocommit=True) as connection:
        connection.execute("CREATE SCHEMA city")
    settings = Settings(database_url=primary_url, postgres_schema="city", bureau=CITY,
                        postgres_pool_size=2, signing_key_path=tmp_path / "keys" / "bureau.pem")
    register_city(settings)
    tokens = add_users(settings)
    writer = _served(settings, run_views=True, tokens=tokens)
    reader = _served(settings.model_copy(update={"views_read_url": replica_url}),
                     run_views=False, tokens=tokens)
    city = City(writer.client, settings, tokens)
    on_replica = City(reader.client, settings, tokens)

    def spent_by_child() -> dict[str, int]:
        report = on_replica.ok(on_replica.get("xz.reader", f"/v1/bureaus/{CITY}/reports/consolidated",
                                              fiscal_year=YEAR, evaluation="false"))
        return {c["bureau"]: c["spent"] for c in report["children"]}

    try:
        books = _two_counties(city)
        for bureau, user in ((TONGSHAN, "ts.auditor"), (PEI, "px.auditor")):
            on_replica.ok(on_replica.get(user, f"/v1/bureaus/{bureau}/schools",
                                         min_position=books[bureau]["position"]))
        assert spent_by_child() == {TONGSHAN: 1_500_00, PEI: 2_000_00}

        _replay(replica_url, "pg_wal_replay_pause")
        written = city.ok(city.post("px.officer", f"/v1/bureaus/{PEI}/expenditures", {
            "allocation": books[PEI]["allocation"], "amount": 300_00, "payee": "供电公司",
            "voucher": f"{PEI}-V2", "spent_on": f"{YEAR}-05-01", "description": "电费"}), 201)
        city.ok(city.get("px.auditor", f"/v1/bureaus/{PEI}/schools", min_position=written["position"]))
        assert spent_by_child() == {TONGSHAN: 1_500_00, PEI: 2_000_00}  # the replica's, not yet moved
        _replay(replica_url, "pg_wal_replay_resume")
        on_replica.ok(on_replica.get("px.auditor", f"/v1/bureaus/{PEI}/schools",
                                     min_position=written["position"]))
        assert spent_by_child() == {TONGSHAN: 1_500_00, PEI: 2_300_00}

        # Every read of the API, for a county's books, on the replica: none fails there (a
        # standby refuses any write, a table made, a row touched, with an error).
        answered = 0
        for method, path in _operations(on_replica):
            if method != "GET":
                continue
            asked = f"/v1/bureaus/{PEI}" + _filled(path, books[PEI]).removeprefix("/v1")
            for params in (QUERY, {}):
                answer = on_replica.client.get(asked, params=params,
                                               headers=on_replica.headers("px.auditor"))
                assert answer.status_code < 500, (asked, params, answer.text)
                answered += answer.status_code == 200
        assert answered > 20
        # And every page of the dashboard without a path parameter, the auditor's and the
        # officer's (the workplace).
        pages = [path for path in _get_paths(on_replica.client.app.router)  # type: ignore[attr-defined]
                 if path.startswith("/dashboard") and "{" not in path]
        shown = 0
        for user in ("px.auditor", "px.officer"):
            dashboard_login(on_replica.client, tokens[user])
            for page in pages:
                answer = on_replica.client.get(page, follow_redirects=False)
                assert answer.status_code < 500, (user, page, answer.text[-2000:])
                shown += answer.status_code == 200
        assert shown > 20, pages
    finally:
        _replay(replica_url, "pg_wal_replay_resume")
        reader.client.__exit__(None, None, None)
        writer.client.__exit__(None, None, None)
