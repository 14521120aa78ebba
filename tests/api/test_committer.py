"""The committer (api/committer.py) behind a worker's app, in this process: the worker sends each
command over the Unix socket and the committer's own ledger decides and saves it. The answers,
refusals included, are the ones the app gives when it writes itself."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.persistence import OperationalError as PersistenceOperationalError
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from api.app import create_app
from api.committer import FRAME_HEADER_BYTES, Committer, decode, encode, frame_header
from api.committer_client import CommitterClient
from api.problems import is_store_unavailable
from api.settings import Settings
from api.store import open_ledger
from domain import errors
from domain.errors import LedgerError
from tests.api.conftest import FISCAL_YEAR, ROLES, Api
from tests.api.test_workplace_forms import SCHOOL
from tests.api.workplace_client import log_in, open_form, submit, written_position
from tests.conftest import TODAY

pytestmark = pytest.mark.postgres
SOCKET_WAIT_SECONDS_MAX = 10.0


@contextmanager
def committer_running(settings: Settings, socket_path: str) -> Iterator[Committer]:
    """A committer on its own event loop in a thread, as its process runs it."""
    ledger = open_ledger(settings, lambda: TODAY)
    committer = Committer(ledger, socket_path)
    started = threading.Event()
    control: dict[str, Any] = {}

    async def serve() -> None:
        control["loop"], control["stop"] = asyncio.get_running_loop(), asyncio.Event()
        started.set()
        await committer.serve(control["stop"])

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    started.wait(SOCKET_WAIT_SECONDS_MAX)
    deadline = time.monotonic() + SOCKET_WAIT_SECONDS_MAX
    while not Path(socket_path).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield committer
    finally:
        control["loop"].call_soon_threadsafe(control["stop"].set)
        thread.join(SOCKET_WAIT_SECONDS_MAX)
        committer.close()
        ledger.close()


@contextmanager
def api_of(settings: Settings, socket_path: str | None = None) -> Iterator[Api]:
    app = create_app(settings, clock=lambda: TODAY, committer_socket=socket_path)
    with TestClient(app, raise_server_exceptions=False) as client:
        ledger = app.state.ledger
        tokens = {role: ledger.add_user(f"user.{role}.{socket_path is None}", [role])
                  for role in ROLES}
        tokens["checker"] = ledger.add_user(f"user.checker.{socket_path is None}", ["approver"])
        yield Api(client, tokens)


@pytest.fixture
def committed(postgres_settings: Settings, tmp_path: Path) -> Iterator[tuple[Api, Committer]]:
    socket_path = str(tmp_path / "commits.sock")
    with committer_running(postgres_settings, socket_path) as committer, \
            api_of(postgres_settings, socket_path) as api:
        yield api, committer


def test_every_command_of_a_funded_school_travels_to_the_committer(
        committed: tuple[Api, Committer]) -> None:
    api, committer = committed
    api.school()
    api.fund()
    allocation = api.allocation()  # proposed, then approved: two commands
    spent = api.expenditure(allocation["id"], amount=300_00)
    reversed_ = api.ok(api.post("officer", f"/v1/expenditures/{spent['id']}/reverse",
                                {"reason": "entered twice"}))
    assert reversed_["id"] == spent["id"]
    change = api.post("approver", "/v1/funds/PUB-1/adjust",
                      {"delta": 100_000_00, "reason": "supplementary budget"})
    api.applied(change)
    client: CommitterClient = api.client.app.state.group_commit  # type: ignore[attr-defined]
    assert isinstance(client, CommitterClient)
    assert client._run_here == set()  # none ran in the worker
    assert committer.group.commands == 8
    assert api.ledger.load(UUID(allocation["id"])).spent == 0


def test_a_command_that_cannot_travel_runs_in_the_worker_and_is_named_once(
        committed: tuple[Api, Committer], caplog: pytest.LogCaptureFixture) -> None:
    api, committer = committed
    client: CommitterClient = api.client.app.state.group_commit  # type: ignore[attr-defined]
    ledger = api.ledger
    local = [client.submit(lambda i=i: ledger.register_school(  # a lambda does not pickle
        ledger.authenticate(api.tokens["officer"]), code=f"L-{i}", name="n", district="Pei",
        level="primary", locale="rural", poverty_area=False, students=1)) for i in range(2)]
    assert [outcome.subject.code for outcome in local] == ["L-0", "L-1"]
    assert committer.group.commands == 0
    assert len(client._run_here) == 1
    assert sum("cannot be sent to the committer" in r.getMessage() for r in caplog.records) == 1


def test_a_workplace_form_behind_the_committer_writes_once_however_often_it_is_sent(
        committed: tuple[Api, Committer]) -> None:
    """The dashboard's forms await the routes' write path (api.commands.execute_async); their
    command, a lambda over the form, does not travel, so the worker runs it, off the loop."""
    api, committer = committed
    log_in(api, "officer")
    guard = open_form(api, "/dashboard/work/register-school")
    first = submit(api, "/dashboard/work/register-school", SCHOOL, guard)
    assert first.status_code == 200, first.text
    again = submit(api, "/dashboard/work/register-school", SCHOOL, guard)
    assert written_position(again.text) == written_position(first.text) == api.ledger.last_position()
    assert 'data-replayed="true"' in again.text
    client: CommitterClient = api.client.app.state.group_commit  # type: ignore[attr-defined]
    assert committer.group.commands == 0
    assert len(client._run_here) == 1


def test_a_refusal_over_the_committer_is_the_problem_the_app_gives_itself(
        committed: tuple[Api, Committer], postgres_settings: Settings) -> None:
    api, _ = committed
    api.school()
    api.fund()
    allocation = api.allocation(amount=1_000_00)
    overspend = {"allocation": allocation["id"], "amount": 2_000_00, "payee": "徐州供电公司",
                 "voucher": "V-9", "spent_on": f"{FISCAL_YEAR}-03-02", "description": "电费"}
    unknown = {**overspend, "allocation": "00000000-0000-0000-0000-000000000001"}
    over_there = [api.post("officer", "/v1/expenditures", body) for body in (overspend, unknown)]
    with api_of(postgres_settings) as here:
        over_here = [here.post("officer", "/v1/expenditures", body) for body in (overspend, unknown)]
    for there, at_home in zip(over_there, over_here, strict=True):
        assert there.status_code == at_home.status_code
        assert there.status_code in (404, 409)
        assert there.headers["content-type"] == at_home.headers["content-type"]
        assert there.json() == at_home.json()


LEDGER_ERRORS = sorted((kind for kind in vars(errors).values()
                        if isinstance(kind, type) and issubclass(kind, LedgerError)),
                       key=lambda kind: kind.__name__)


@pytest.mark.unit
@given(kind=st.sampled_from(LEDGER_ERRORS), detail=st.text(max_size=200),
       detail_zh=st.none() | st.text(max_size=200), request_id=st.integers(0, 2**63))
def test_every_refusal_crosses_the_wire_as_itself(kind: type[LedgerError], detail: str,
                                                  detail_zh: str | None, request_id: int) -> None:
    refusal = kind.__new__(kind)
    LedgerError.__init__(refusal, detail, detail_zh)
    frame = encode(request_id, (None, refusal))
    size, sent_id = frame_header(frame[:FRAME_HEADER_BYTES])
    outcome, error = decode(frame[FRAME_HEADER_BYTES:])
    assert (sent_id, size, outcome) == (request_id, len(frame) - FRAME_HEADER_BYTES, None)
    assert type(error) is kind
    assert (error.code, error.detail, error.detail_zh, error.args) == (
        kind.code, detail, detail_zh, refusal.args)


class _Unpicklable(Exception):
    """A driver error that holds its connection (psycopg's holds a PGconn)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.connection = threading.Lock()


class _Sent:
    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def is_closing(self) -> bool:
        return False

    def write(self, frame: bytes) -> None:
        self.frames.append(frame)


def _live_driver_error() -> psycopg.OperationalError:
    error = psycopg.OperationalError("server closed the connection")
    error.__dict__["_pgconn"] = threading.Lock()  # as a live connection's error holds it
    return error


@pytest.mark.unit
@pytest.mark.parametrize(("failure", "heard"), [
    (_live_driver_error(), PersistenceOperationalError),
    (_Unpicklable("the store did not answer"), RuntimeError),
])
def test_an_error_that_cannot_travel_is_sent_as_its_text_and_a_store_outage_stays_one(
        failure: Exception, heard: type[Exception]) -> None:
    sent = _Sent()
    Committer._answer(sent, 7, None, failure)  # type: ignore[arg-type]
    outcome, error = decode(sent.frames[0][FRAME_HEADER_BYTES:])
    assert outcome is None
    assert type(error) is heard
    assert str(failure) in str(error)
    assert is_store_unavailable(error) == (heard is PersistenceOperationalError)
