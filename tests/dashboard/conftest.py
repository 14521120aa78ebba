"""The dashboard in a real browser: Debian's Chromium (/usr/bin/chromium, headless, no
sandbox) driven by Playwright against `fundledger serve` in its own process on 127.0.0.1,
over an SQLite store filled with a small generated Xuzhou year.

The year carries the demo's injected audit anomalies (`fundledger demo` without --clean), whose
ground truth the findings page is checked against.

Playwright never downloads a browser here: `make test` installs Debian's package through
scripts/ensure_chromium.sh. Without Chromium these tests skip locally and fail when CI=true.
Screenshots go to test-output/dashboard/ (git-ignored); the run's summary says where.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from api.settings import Settings
from api.store import open_ledger
from domain.ledger import bureau_today
from tests.conftest import in_ci

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = Path(os.environ.get("FUNDLEDGER_CHROMIUM", "/usr/bin/chromium"))
REPO = Path(__file__).resolve().parents[2]
OUTPUT_DIR = Path(os.environ.get("FUNDLEDGER_TEST_OUTPUT", REPO / "test-output")) / "dashboard"
SCALE = 0.02  # about 40 Xuzhou schools and 6,000 events: a few seconds to generate
SEED = 20250101
START_WAIT_SECONDS_MAX = 60
LARGE_SCALE = 0.1
LARGE_START_WAIT_SECONDS_MAX = 600
VIEWPORT = {"width": 1280, "height": 900}
ACTION_TIMEOUT_MS = 15_000


@dataclass(frozen=True)
class DemoServer:
    url: str
    tokens: dict[str, str]  # role → token
    fiscal_year: int
    log: Path
    database_url: str
    truth: tuple[dict[str, Any], ...]  # the injected anomalies, as scripts/anomalies.py notes them

    def api(self, path: str, role: str = "auditor", **params: Any) -> Any:
        response = httpx.get(f"{self.url}{path}", params=params, timeout=10,
                             headers={"Authorization": f"Bearer {self.tokens[role]}"})
        response.raise_for_status()
        return response.json()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cli(*args: str, env: dict[str, str]) -> str:
    """`fundledger ARGS` as a user types it; its standard output."""
    installed = Path(sys.executable).with_name("fundledger")
    command = [str(installed)] if installed.exists() else [
        sys.executable, "-c", "from scripts.console import main; main()"]
    done = subprocess.run([*command, *args], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium; a failure, never a skip, when CI=true and it is missing."""
    if not os.access(CHROMIUM, os.X_OK):
        message = (f"Chromium is not at {CHROMIUM}: `bash scripts/ensure_chromium.sh` (run by "
                   "`make test`) installs Debian's package")
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """Emptied once a session; each worker of `pytest -n` has its own (gw0/, gw1/), so that
    no worker empties it under another's download."""
    own = OUTPUT_DIR / os.environ.get("PYTEST_XDIST_WORKER", "")
    own.mkdir(parents=True, exist_ok=True)
    for old in own.glob("*"):
        if old.is_file():
            old.unlink()
    return own


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """A generated year on SQLite, served by `fundledger serve` in its own process; tokens
    issued through the ledger and, for the auditor, through `fundledger users add`."""
    with _served_year(tmp_path_factory.mktemp("dashboard"), SCALE, START_WAIT_SECONDS_MAX) as server:
        yield server


@pytest.fixture(scope="session")
def large_demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The demo's own default size (scale 0.1: ~200 schools, ~60,000 events), five times the
    other tests' year: for the slow-marked page loads at a larger scale."""
    with _served_year(tmp_path_factory.mktemp("dashboard-large"), LARGE_SCALE,
                      LARGE_START_WAIT_SECONDS_MAX) as server:
        yield server


@contextmanager
def _served_year(home: Path, scale: float, wait_seconds: float) -> Iterator[DemoServer]:
    from scripts.demo import inject_demo_anomalies  # noqa: PLC0415
    from scripts.generator import generate  # noqa: PLC0415

    year = bureau_today().year - 1
    settings = Settings(database_url=f"sqlite:///{home}/fundledger.db",
                        signing_key_path=home / "signing-key.pem")
    ledger = open_ledger(settings)
    try:
        generate(ledger, preset="xuzhou", seed=SEED, fiscal_year=year, scale=scale)
        truth = inject_demo_anomalies(ledger, year, SEED)  # as `fundledger demo` does
        tokens = {role: ledger.add_user(f"dash.{role}", [role])
                  for role in ("officer", "reader")}
    finally:
        ledger.close()
    env = {**os.environ, "FUNDLEDGER_DATABASE_URL": settings.database_url,
           "FUNDLEDGER_SIGNING_KEY_PATH": str(settings.signing_key_path)}
    tokens["auditor"] = _cli("users", "add", "dash.auditor", "--role", "auditor",
                             env=env).strip().splitlines()[-1]
    port = _free_port()
    log_path = home / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", "from api.cli import main; main()", "serve",
             "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_views_caught_up(url, process, log_path, wait_seconds)
            yield DemoServer(url, tokens, year, log_path, settings.database_url, tuple(truth))
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_until_views_caught_up(url: str, process: subprocess.Popen[bytes], log: Path,
                                wait_seconds: float) -> None:
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            health = httpx.get(f"{url}/healthz", timeout=2).json()
            if health.get("views_position") == health.get("position"):
                return
        except (httpx.HTTPError, ValueError):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the server did not come up with its views:\n{log.read_text()}")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def browser(chromium: Path) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium), headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) that refuses to fetch anything off this host:
    every byte of every page must come from the server under test."""
    made = browser.new_context(viewport=VIEWPORT, locale="zh-CN", accept_downloads=True)
    made.set_default_timeout(ACTION_TIMEOUT_MS)
    off_host: list[str] = []

    def guard(route: Any) -> None:
        if route.request.url.startswith(("http://127.0.0.1:", "data:", "about:")):
            route.continue_()
        else:
            off_host.append(route.request.url)
            route.abort()

    made.route("**/*", guard)
    yield made
    made.close()
    assert not off_host, f"the dashboard fetched from outside the server: {off_host}"


REFUSED_LOAD = "the server responded with a status of 403"
_refusals_expected: set[int] = set()


def expect_refusal(page: Page) -> None:
    """The test opens a page the asker's role may not see: its 403 is the point, not a failure."""
    _refusals_expected.add(id(page))


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A page whose script errors and failed loads fail the test."""
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    opened.on("console", lambda message: problems.append(f"console: {message.text}")
              if message.type == "error" else None)
    yield opened
    if id(opened) in _refusals_expected:
        _refusals_expected.discard(id(opened))
        problems = [problem for problem in problems if REFUSED_LOAD not in problem]
    assert not problems, problems


def navigate(page: Page, selector: str) -> None:
    """Clicks what loads another page, and waits until that page has loaded: reading it
    sooner may read a half-parsed document."""
    with page.expect_navigation(wait_until="load"):
        page.click(selector)


def log_in(page: Page, server: DemoServer, role: str = "auditor") -> None:
    page.goto(f"{server.url}/dashboard/login")
    page.fill("#token", server.tokens[role])
    navigate(page, "#login-submit")
    page.wait_for_selector("header nav")


@pytest.fixture
def screenshot(output_dir: Path) -> Callable[[Page, str], Path]:
    def take(page: Page, name: str) -> Path:
        path = output_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000, f"{path} is suspiciously small"
        return path

    return take


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if OUTPUT_DIR.exists() and any(OUTPUT_DIR.glob("*.png")):
        shots = len(list(OUTPUT_DIR.glob("*.png")))
        terminalreporter.write_line(f"dashboard screenshots ({shots}): {OUTPUT_DIR}")
