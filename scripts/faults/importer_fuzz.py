"""Hypothesis fuzzing of the CSV importer (domain.book_import.import_csv) on a real store.

Files are built from good rows, rows with one field spoiled, and raw noise (odd encodings,
quotes, BOMs, NULs, huge numbers). Whatever the file, the importer either refuses it as a
whole with a LedgerError, or answers applied (every row written) or rejected (nothing
written): never another exception, never half a file.
"""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.settings import Settings
from domain.actors import Actor, Role
from domain.book_import import import_csv
from domain.errors import LedgerError
from domain.ledger import FundLedger
from scripts.faults.report import Report

OFFICER = Actor("fuzz.officer", frozenset({Role.OFFICER}))
APPROVER = Actor("fuzz.approver", frozenset({Role.APPROVER}))
YEAR = 2025
TODAY = date(2025, 12, 31)
SCHOOLS = ("FZ-1", "FZ-2", "FZ-U")

noise = st.one_of(st.text(max_size=12), st.sampled_from(
    ["", "0", "-1", "1e9", "99999999999999999999", "12,345.678", "１２３", "NaN", "2025-02-30",
     "2025/13/01", "9999-01-01", '"', '""', "\x00", "\ufeff", "FZ-1\n", "' OR 1=1 --", "元"]))


def _bureau(ledger: FundLedger) -> list[str]:
    with ledger.batch():
        for code, locale in zip(SCHOOLS, ("rural", "town", "urban"), strict=True):
            ledger.register_school(OFFICER, code=code, name="n", district="Pei", level="primary",
                                   locale=locale, poverty_area=False, students=100,
                                   effective_date=date(YEAR, 1, 1))
        ledger.open_fund(OFFICER, code="FZ-F", name="f", fiscal_year=YEAR, unit="CNY",
                         amount=10**9, source="county", category="public_operating",
                         effective_date=date(YEAR, 1, 2))
        ledger.open_fund(OFFICER, code="FZ-R", name="r", fiscal_year=YEAR, unit="CNY",
                         amount=10**7, source="county", category="public_operating",
                         earmark="rural_support", effective_date=date(YEAR, 1, 2))
        proposals = [ledger.propose_allocation(OFFICER, fund="FZ-F", school=code, amount=10**6,
                                               purpose="p", effective_date=date(YEAR, 1, 3)).subject.id
                     for code in SCHOOLS]
    with ledger.batch():
        for allocation in proposals:
            ledger.approve_allocation(APPROVER, allocation, effective_date=date(YEAR, 1, 3))
    return [str(a) for a in proposals]


@st.composite
def allocation_files(draw: st.DrawFn) -> bytes:
    header = draw(st.sampled_from(["school,fund,amount,purpose,effective_date",
                                   "学校代码,资金代码,金额(元),用途,生效日期", "school,fund,amount",
                                   "school,fund,amount,purpose,bogus"]))
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        cells = [draw(st.sampled_from(SCHOOLS)), draw(st.sampled_from(["FZ-F", "FZ-R", "NOPE"])),
                 str(draw(st.integers(1, 2 * 10**7))), "p",
                 f"{YEAR}-0{draw(st.integers(1, 9))}-1{draw(st.integers(0, 9))}"]
        if draw(st.booleans()):
            cells[draw(st.integers(0, 4))] = draw(noise)
        rows.append(",".join('"' + c.replace('"', '""') + '"' if draw(st.booleans()) else c
                             for c in cells))
    return _encode(draw, header, rows)


@st.composite
def expenditure_files(draw: st.DrawFn, allocations: list[str]) -> bytes:
    header = draw(st.sampled_from(["allocation,amount,payee,voucher,spent_on",
                                   "school,fund,amount,payee,voucher,spent_on,economic_class",
                                   "拨款编号,金额(分),收款人,凭证号,支出日期"]))
    with_ids = header.startswith(("allocation", "拨款"))
    rows = []
    for n in range(draw(st.integers(0, 6))):
        who = ([draw(st.sampled_from([*allocations, "00000000-0000-0000-0000-000000000000"]))]
               if with_ids else [draw(st.sampled_from(SCHOOLS)), "FZ-F"])
        cells = [*who, str(draw(st.integers(1, 2 * 10**6))), "payee",
                 draw(st.sampled_from([f"V-{n}", "V-0", f"X-{draw(st.integers(0, 10**6))}"])),
                 f"{YEAR}-0{draw(st.integers(1, 9))}-0{draw(st.integers(1, 9))}"]
        if not with_ids:
            cells.append(draw(st.sampled_from(["", "utilities", "salaries", "??"])))
        if draw(st.booleans()):
            cells[draw(st.integers(0, len(cells) - 1))] = draw(noise)
        rows.append(",".join(cells))
    return _encode(draw, header, rows)


def _encode(draw: st.DrawFn, header: str, rows: list[str]) -> bytes:
    text = "\r\n".join([header, *rows]) + draw(st.sampled_from(["", "\r\n", "\n", "\n\n"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 9)) == 0:  # raw damage
        data = data + draw(st.binary(max_size=30))
    return data


def run(store: Settings | None = None, *, examples: int = 300) -> Report:
    """`store` None fuzzes on the library's in-memory store (fast); else on the given one."""
    report = Report("CSV importer fuzzing", f"{examples} generated CSV files per kind (hypothesis): "
                    "good rows, spoiled cells, odd encodings, raw bytes")
    env = store.eventsourcing_env() if store is not None else {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    ledger = FundLedger(env=env, clock=lambda: TODAY)
    outcomes: dict[str, int] = {"applied": 0, "rejected": 0, "refused": 0}
    failures: list[str] = []
    try:
        allocations = _bureau(ledger)

        def one(data: bytes) -> None:
            before = ledger.last_position()
            try:
                result = import_csv(ledger, OFFICER, data, filename="fuzz.csv")
            except LedgerError:
                outcomes["refused"] += 1
                if ledger.last_position() != before:
                    failures.append(f"refused but wrote: {data[:200]!r}")
                return
            except Exception as error:
                failures.append(f"{type(error).__name__}: {error} on {data[:200]!r}")
                raise
            outcomes[result.status] += 1
            wrote = ledger.last_position() != before
            if result.status == "rejected" and (wrote or not result.bad_rows):
                failures.append(f"rejected yet wrote or named no row: {data[:200]!r}")
            if result.status == "applied" and result.rows and not wrote:
                failures.append(f"applied yet wrote nothing: {data[:200]!r}")

        common = settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                          suppress_health_check=list(HealthCheck))
        for strategy in (allocation_files(), expenditure_files(allocations)):
            try:
                common(given(strategy)(one))()
            except Exception as error:  # hypothesis re-raises the shrunk failing example
                failures.append(f"{type(error).__name__}: {error}"[:500])
    finally:
        ledger.close()
    report.operations = sum(outcomes.values())
    report.facts.update(outcomes)
    report.check("never an unexpected exception", not any("Error" in f.split(":")[0] for f in failures),
                 failures[:3])
    report.check("all or nothing: rejected and refused files wrote nothing; applied ones wrote",
                 not failures, failures[:3])
    report.check("the fuzzing reached all three outcomes", all(outcomes.values()), outcomes)
    return report.finish()
