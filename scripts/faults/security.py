"""Attacks on a real server: tokens never written to its log or to the event store, compared
in constant time (a hash lookup, then hmac.compare_digest), revoked from another process and
refused at once; bodies above the limit refused with 413 whether announced or streamed; and
no error body, for any malformed request, carries a stack trace."""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

from api.settings import Settings
from domain import access
from scripts.faults import harness
from scripts.faults.report import Report

BODY_BYTES_MAX = 4096
TRACE_MARKERS = re.compile(r"Traceback|File \"|\.py\", line|site-packages|psycopg\.|sqlite3\.")
PRODUCT_DIRS = ("api", "domain", "projections")


def run(settings: Settings, workdir: Path, *, hostile_requests: int = 400) -> Report:
    report = Report("security", "stolen, forged, revoked and malformed tokens; oversized and "
                    "malformed bodies; hostile paths, headers and numbers")
    tokens = harness.add_tokens(settings)
    revoked_user_token = tokens["officer"]
    with harness.serving(settings, workdir,
                         FUNDLEDGER_REQUEST_BODY_BYTES_MAX=str(BODY_BYTES_MAX)) as server:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            answers = _hostile(http, tokens, hostile_requests)
            answers += _oversized(report, http, tokens)
            _revocation(report, settings, http, revoked_user_token)
        report.operations = len(answers) + 4
        errors = [a for a in answers if a[1] >= 400]
        report.check("no 5xx for any hostile request", all(a[1] < 500 for a in answers),
                     [a for a in answers if a[1] >= 500][:5])
        report.check("every error is an RFC 9457 problem", all(a[2] for a in errors),
                     [a for a in errors if not a[2]][:5])
        report.check("no stack trace in any error body",
                     not any(TRACE_MARKERS.search(a[3]) for a in errors),
                     [a[:2] for a in errors if TRACE_MARKERS.search(a[3])][:5])
        server.stop()
        log = server.log_text()
    report.check("no token in the server's log", not any(t in log for t in tokens.values()),
                 [role for role, t in tokens.items() if t in log])
    report.check("no token in the event store (only hashes)",
                 not _tokens_in_store(settings, tokens.values()))
    report.check("tokens are found by hash, then compared with hmac.compare_digest",
                 _compares_in_constant_time(), "see domain/access.py and FundLedger.authenticate")
    report.check("no `==` on a token or hash anywhere in the product", not _token_equality(),
                 _token_equality())
    unmarked, marked, ruff_out = _sql_sites()
    report.check("SQL takes values only as parameters (ruff S608: no unreviewed formatted SQL)",
                 unmarked == 0, ruff_out)
    report.facts["reviewed_formatted_sql_sites"] = marked
    report.facts["hostile_requests"] = len(answers)
    return report.finish()


def _answer(response: httpx.Response) -> tuple[str, int, bool, str]:
    problem = response.headers.get("content-type", "").startswith("application/problem+json")
    return (f"{response.request.method} {response.request.url.path}", response.status_code,
            problem, response.text)


def _hostile(http: httpx.Client, tokens: dict[str, str], count: int) -> list[tuple[str, int, bool, str]]:
    """Forged tokens, malformed bodies, strange paths and numbers, in rotation."""
    officer = {"Authorization": f"Bearer {tokens['officer']}"}
    forged = [tokens["officer"][:-1] + ("A" if tokens["officer"][-1] != "A" else "B"),
              "flt_" + "A" * 43, "x" * 5000, "flt_%00", "Bearer", "' OR 1=1 --",
              tokens["officer"].upper()]
    cases: list[tuple[str, str, dict[str, str], Any]] = []
    for token in forged:
        cases.append(("GET", "/v1/schools", {"Authorization": f"Bearer {token}"}, None))
        cases.append(("POST", "/v1/schools", {"Authorization": f"Basic {token}"}, {}))
    paths = ["/v1/schools/%00", "/v1/schools/..%2F..%2Fetc%2Fpasswd", "/v1/allocations/not-a-uuid",
             "/v1/allocations/00000000-0000-0000-0000-000000000000", "/v1/expenditures/1e309",
             "/v1/schools/" + "x" * 3000, "/v1/funds/'%3B DROP TABLE events%3B--",
             "/v1/schools?limit=-1", "/v1/schools?limit=99999999999999999999999",
             "/v1/schools?after=%FF%FE", "/v1/schools/A/balances?fiscal_year=1e9",
             "/v1/schools/A/balances?as_of=2025-02-30", "/v1/audit/journal?after=-5",
             "/v1/reports/rural-support?fiscal_year=NaN", "/nowhere", "/v1/../../etc/passwd"]
    cases += [("GET", p, officer, None) for p in paths]
    bodies: list[Any] = [
        b"{", b"[]", b"null", b'{"code": 1e400}', b"\xff\xfe\x00", b'{"amount": 1' + b"0" * 400 + b"}",
        {"code": "A", "name": "n", "district": "Pei", "level": "primary", "locale": "rural",
         "students": 10**30}, {"code": None}, {"fund": "B", "school": "A", "amount": -1, "purpose": "p"},
        {"allocation": "not-a-uuid", "amount": 1, "payee": "p", "voucher": "v", "spent_on": "x"},
        {"allocation": "00000000-0000-0000-0000-000000000000", "amount": 2**63, "payee": "p",
         "voucher": "v", "spent_on": "2025-01-01"},
        {"code": "\x00\u202e", "name": "n" * 10_000, "district": "Pei", "level": "primary",
         "locale": "rural", "students": 1}]
    for path in ("/v1/schools", "/v1/funds", "/v1/allocations", "/v1/expenditures",
                 "/v1/allocations/00000000-0000-0000-0000-000000000000/approve"):
        for body in bodies:
            cases.append(("POST", path, {**officer, "Content-Type": "application/json"}, body))
    cases.append(("POST", "/v1/schools",
                  {**officer, "If-Match": "\"abc\"", "Idempotency-Key": "k" * 500}, {}))
    cases.append(("POST", "/v1/imports", officer, None))
    cases.append(("PUT", "/v1/schools", officer, {}))
    answers = []
    for n in range(count):
        method, path, headers, body = cases[n % len(cases)]
        content = body if isinstance(body, bytes) else None
        json_body = None if isinstance(body, bytes) or body is None else body
        try:
            response = http.request(method, path, headers=headers, content=content, json=json_body)
        except httpx.HTTPError as error:
            answers.append((f"{method} {path}", 599, False, f"transport: {error}"))
            continue
        answers.append(_answer(response))
    return answers


def _oversized(report: Report, http: httpx.Client,
               tokens: dict[str, str]) -> list[tuple[str, int, bool, str]]:
    headers = {"Authorization": f"Bearer {tokens['officer']}", "Content-Type": "application/json"}
    big = b'{"code": "' + b"x" * (BODY_BYTES_MAX * 2) + b'"}'
    announced = http.post("/v1/schools", content=big, headers=headers)

    def chunks() -> Any:
        for start in range(0, len(big), 1024):
            yield big[start:start + 1024]

    streamed = http.post("/v1/schools", content=chunks(), headers=headers)
    upload = http.post("/v1/imports", headers={"Authorization": f"Bearer {tokens['officer']}"},
                       files={"file": ("big.csv", b"a,b\n" * BODY_BYTES_MAX, "text/csv")})
    answers = [_answer(announced), _answer(streamed), _answer(upload)]
    report.check("a body over the limit is refused with a 413 problem (announced, streamed, upload)",
                 all(a[1] == 413 and a[2] for a in answers), [a[:2] for a in answers])
    return answers


def _revocation(report: Report, settings: Settings, http: httpx.Client, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    before = http.get("/v1/schools", headers=headers).status_code
    revoked = harness.cli(settings, "users", "revoke", "faults.officer")
    after = http.get("/v1/schools", headers=headers)
    report.check("a token revoked from another process is refused by the running server at once",
                 before == 200 and revoked.returncode == 0 and after.status_code == 401,
                 (before, revoked.returncode, revoked.stderr[-500:], after.status_code))


def _tokens_in_store(settings: Settings, tokens: Any) -> bool:
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        rows = conn.execute(sql.SQL("SELECT state FROM {}.fundledger_events").format(
            sql.Identifier(settings.postgres_schema or "public"))).fetchall()
    blob = b"".join(bytes(r[0]) for r in rows)
    return any(t.encode() in blob for t in tokens)


def _compares_in_constant_time() -> bool:
    matches = inspect.getsource(access.AccessToken.matches)
    from domain.ledger import FundLedger  # noqa: PLC0415  (only for reading its source)

    authenticate = inspect.getsource(FundLedger.authenticate)
    return ("hmac.compare_digest" in matches and "id_for_hash(token_hash(token))" in authenticate
            and "matches(token)" in authenticate)


def _sources() -> list[Path]:
    root = Path(__file__).resolve().parents[2]
    return [p for d in PRODUCT_DIRS for p in sorted((root / d).rglob("*.py"))]


def _token_equality() -> list[str]:
    """`==`/`!=` with a token, secret or hash on either side: a timing leak."""
    found = []
    for path in _sources():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and any(isinstance(o, ast.Eq | ast.NotEq) for o in node.ops):
                names = [ast.unparse(x) for x in (node.left, *node.comparators)]
                if any(re.search(r"\b(token|secret|hash_hex|token_hash)\b", n) for n in names):
                    found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    return found


def _sql_sites() -> tuple[int, int, str]:
    """ruff's S608 flags SQL built by string formatting; each such site must carry an explicit
    reviewed marker (`noqa: S608`, interpolating only our own table and column names or a
    validated integer). Returns (unmarked sites, marked sites, ruff's output)."""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(  # noqa: S603  (the project's own linter)
        [sys.executable, "-m", "ruff", "check", "--select", "S608", "--output-format", "concise",
         *PRODUCT_DIRS], cwd=root, capture_output=True, text=True, check=False, timeout=120)
    marked = sum(p.read_text().count("noqa: S608") for p in _sources())
    unmarked = 0 if done.returncode == 0 else max(done.stdout.count("S608"), 1)
    return unmarked, marked, done.stdout[-1500:]
