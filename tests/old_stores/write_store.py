"""Writes the old-store fixture with the code of a tagged release (run by make_fixture.sh).

Run with the *tagged* release's interpreter and code, never the current one: the point of the
fixture is to hold events exactly as that release wrote them.

    python write_store.py OUT_DIR sqlite:///OUT_DIR/store.sqlite
    python write_store.py OUT_DIR postgresql://postgres@127.0.0.1:5432/db SCHEMA OUT_DIR/store.sqlite

The second form copies the SQLite store's events and snapshots byte for byte, in position
order, into a fresh PostgreSQL schema through the release's own recorders, and lets the
release's view runner build that schema's views and journal: the same history at the same
positions, so the one digest holds for both stores.

It writes a small Xuzhou slice (the generator's year 2024 at a tiny scale), then by hand what
the generator does not: fund and allocation adjustments, transfers, reversals, a year-end close
with carry-over and one with lapse, spending from the carried allocations, users and a
revoked token. It builds the views and the journal, signs a digest of the journal's head with a
key derived from a fixed seed (test data: never a bureau's key) and writes, beside the store:
digest.json, signing-key.pub.pem and facts.json (what the test expects to find).
"""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import date
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import domain
from api.settings import Settings
from domain.actors import Actor, Role
from domain.ledger import FundLedger
from projections import digests
from projections.runner import ViewRunner
from scripts.generator import generate

TODAY = date(2025, 3, 31)
KEY_SEED = b"fundledger old-store fixture: test data, never a bureau's key"
OFFICER = Actor("fixture.officer", frozenset({Role.OFFICER}))
APPROVER = Actor("fixture.approver", frozenset({Role.APPROVER}))


def fixture_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(KEY_SEED).digest())


def write(ledger: FundLedger) -> dict[str, object]:
    summary = generate(ledger, preset="xuzhou", seed=20240101, fiscal_year=2024, scale=0.005,
                       expenditures_per_school_month=0.25)
    return {"generated": summary.lines()}


def by_hand(ledger: FundLedger, db_rows) -> dict[str, object]:
    """The operations the generator does not issue, on the generated year's own rows."""
    funds = db_rows("SELECT fund_code, unit FROM funds WHERE fiscal_year = 2024 AND status = 'open' "
                    "ORDER BY fund_code")
    allocations = db_rows("SELECT allocation_id, fund_code, school_code, allocated, spent "
                          "FROM allocations WHERE status = 'approved' AND allocated - spent > 1000 "
                          "ORDER BY fund_code, school_code, allocation_id")
    yuan = [code for code, unit in funds if unit == "CNY"]
    schools = [r[0] for r in db_rows("SELECT school_code FROM schools ORDER BY school_code")]
    day = date(2024, 12, 20)
    done: dict[str, object] = {}
    # Transfers: to a new school's allocation (the first fund whose rules admit another
    # school), and to another allocation of the same fund. That fund is then carried over.
    carried_fund = ""
    for code in sorted(yuan, key=lambda c: -sum(1 for a in allocations if a[1] == c)):
        own = [a for a in allocations if a[1] == code]
        if not own:
            continue
        source = _uuid(own[0][0])
        for school in (s for s in schools if s not in {a[2] for a in own}):
            try:
                moved = ledger.transfer_allocation(OFFICER, source, amount=20_00,
                                                   reason="调剂到新学校", to_school=school,
                                                   effective_date=day)
            except Exception:  # the fund's rules exclude the school: try the next
                continue
            carried_fund = code
            break
        if carried_fund:
            break
    assert carried_fund, "no fund admitted a transfer to another school"
    ledger.transfer_allocation(OFFICER, source, amount=5_00, reason="调剂",
                               to_allocation=moved.subjects[1].id, effective_date=day)
    lapsed_fund = next(code for code in yuan if code != carried_fund)
    done.update(carried_fund=carried_fund, lapsed_fund=lapsed_fund, transfers=2)

    # Fund and allocation adjustments (the approver's corrections).
    ledger.adjust_fund(APPROVER, carried_fund, delta=500_00, reason="追加预算", effective_date=day)
    ledger.adjust_allocation(APPROVER, source, delta=-100_00, reason="核减", effective_date=day)

    # A recorded expenditure and its reversal.
    spend = ledger.record_expenditure(OFFICER, allocation=source, amount=12_34, payee="徐州文具店",
                                      voucher="FX-2024-0001", spent_on=day, description="文具")
    ledger.reverse_expenditure(OFFICER, spend.subject.id, reason="重复录入", effective_date=day)

    # Next year's fund, then the year-end closes: one carried over, one lapsed.
    unit_fund = db_rows(f"SELECT source, category, earmark FROM funds WHERE fund_code = '{carried_fund}'")
    source_, category, earmark = unit_fund[0]
    ledger.open_fund(OFFICER, code=f"{carried_fund}-2025", name="结转资金 2025", fiscal_year=2025,
                     unit="CNY", amount=1_000_00, source=source_, category=category, earmark=earmark,
                     effective_date=date(2025, 1, 2))
    ledger.close_fund(APPROVER, carried_fund, disposition="carry_over",
                      carry_to=f"{carried_fund}-2025", reason="年终结转",
                      effective_date=date(2024, 12, 31))
    ledger.close_fund(APPROVER, lapsed_fund, disposition="lapse", reason="年终结余",
                      effective_date=date(2024, 12, 31))
    done["carry_to"] = f"{carried_fund}-2025"

    # Access: users with tokens, one revoked.
    ledger.add_user("fixture.officer", ["officer"])
    ledger.add_user("fixture.auditor", ["auditor"])
    ledger.add_user("fixture.leaver", ["reader"])
    ledger.revoke_user("fixture.leaver")

    # Snapshots as the release takes them (its intervals are not reached at this size).
    for (fund_code,) in db_rows("SELECT fund_code FROM funds ORDER BY fund_code"):
        ledger.take_snapshot(ledger.get_fund(fund_code).id)
    ledger.take_snapshot(source)
    ledger.take_snapshot(ledger.get_school(schools[0]).id)
    return done


def _uuid(value: object):
    from uuid import UUID  # noqa: PLC0415

    return value if isinstance(value, UUID) else UUID(str(value))



def copy_into(ledger: FundLedger, sqlite_path: Path) -> int:
    """The SQLite store's events and snapshots, as stored, into `ledger`'s (empty) store."""
    import sqlite3  # noqa: PLC0415
    from uuid import UUID  # noqa: PLC0415

    from eventsourcing.persistence import StoredEvent  # noqa: PLC0415

    assert ledger.last_position() == 0, "copy into an empty store only"
    with sqlite3.connect(sqlite_path) as source:
        def stored(table: str, order: str) -> list[StoredEvent]:
            return [StoredEvent(UUID(o), v, t, s) for o, v, t, s in source.execute(
                f"SELECT originator_id, originator_version, topic, state FROM {table} "
                f"ORDER BY {order}")]

        events = stored("stored_events", "rowid")
        snapshots = stored("stored_snapshots", "originator_id, originator_version")
    for start in range(0, len(events), 500):
        ledger.recorder.insert_events(events[start:start + 500])
    assert ledger.snapshots is not None
    ledger.snapshots.recorder.insert_events(snapshots)
    return len(events)


def copy_main(out: Path, settings: Settings, sqlite_path: Path) -> None:
    ledger = FundLedger(env=settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        copied = copy_into(ledger, sqlite_path)
    finally:
        ledger.close()
    with ViewRunner(settings) as runner:
        runner.run_until_caught_up()
        signed = digests.digest_of_journal(runner.db, fixture_key())
    kept = digests.Digest.read(out / "digest.json")
    assert (signed.position, signed.head_hash) == (kept.position, kept.head_hash), (signed, kept)
    print(f"copied {copied} events; the PostgreSQL journal's head is the signed digest's")


def main() -> None:
    out = Path(sys.argv[1])
    settings = Settings(database_url=sys.argv[2],
                        postgres_schema=sys.argv[3] if len(sys.argv) > 3 else "",
                        signing_key_path=out / "unused-key.pem")
    print(f"writing with the code in {Path(domain.__file__).parent.parent}")
    if len(sys.argv) > 4:
        copy_main(out, settings, Path(sys.argv[4]))
        return
    ledger = FundLedger(env=settings.eventsourcing_env(), clock=lambda: TODAY)
    facts: dict[str, object] = {}
    try:
        facts.update(write(ledger))
        with ViewRunner(settings) as runner:
            runner.run_until_caught_up()
            facts.update(by_hand(ledger, runner.db.rows))
    finally:
        ledger.close()
    with ViewRunner(settings) as runner:
        runner.run_until_caught_up()
        signed = digests.digest_of_journal(runner.db, fixture_key())
        facts["position"] = runner.position()
        facts["counts"] = {table: int(runner.db.scalar(f"SELECT COUNT(*) FROM {table}"))
                           for table in ("schools", "funds", "allocations", "expenditures")}
    if not settings.is_postgres:
        import sqlite3  # noqa: PLC0415

        with sqlite3.connect(settings.database_url.split(":///", 1)[1]) as small:
            small.execute("VACUUM")
    (out / "digest.json").write_text(signed.to_json(), encoding="utf-8")
    (out / "signing-key.pub.pem").write_bytes(digests.public_pem(fixture_key().public_key()))
    (out / "facts.json").write_text(json.dumps(facts, indent=2, ensure_ascii=False, sort_keys=True)
                                    + "\n", encoding="utf-8")
    print(json.dumps(facts, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
