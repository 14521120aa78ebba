"""Tampering with the stored events is found at its exact position, on SQLite and PostgreSQL,
and a digest signed before the change no longer verifies."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.settings import Settings
from domain.ledger import FundLedger
from projections import hash_chain
from projections.database import ViewDatabase
from projections.digests import Digest, check_history, sign, signing_key
from projections.hash_chain import Verification, verify
from projections.journal import event_table, journal_head, verify_journal
from tests.audit.conftest import AuditedStore, build_small_bureau
from tests.conftest import OFFICER, TODAY

LATE_DAY = date(2025, 11, 30)


def _digest_now(store: AuditedStore, tmp_path: Path) -> tuple[Ed25519PrivateKey, Digest]:
    key = signing_key(tmp_path / "key.pem")
    result = verify_journal(store.db)
    assert result.ok
    return key, sign(key, result.head_position, result.head_hash, result.checked)


def test_untouched_history_verifies(audited: AuditedStore, tmp_path: Path) -> None:
    result = verify_journal(audited.db)
    head = journal_head(audited.db)
    assert result.ok
    assert result.checked == head == audited.ledger.recorder.max_notification_id()
    assert result.first_bad_position is None
    assert result.pending == 0
    key, digest = _digest_now(audited, tmp_path)
    check = check_history(digest, event_table(audited.db), key.public_key())
    assert check.ok, check.reason


def test_one_flipped_byte_is_found_where_it_is(audited: AuditedStore, tmp_path: Path) -> None:
    key, digest = _digest_now(audited, tmp_path)
    target = audited.position_of("Allocation.Approved", nth=1)
    audited.flip_byte(target)
    result = verify_journal(audited.db)
    assert not result.ok
    assert (result.first_bad_position, result.problem) == (target, "altered")
    assert result.checked == target - 1
    assert not check_history(digest, event_table(audited.db), key.public_key()).ok


def test_a_deleted_event_is_found_where_it_was(audited: AuditedStore, tmp_path: Path) -> None:
    key, digest = _digest_now(audited, tmp_path)
    target = audited.position_of("Expenditure.Recorded", nth=2)
    audited.delete(target)
    result = verify_journal(audited.db)
    assert (result.ok, result.first_bad_position, result.problem) == (False, target, "removed")
    assert not check_history(digest, event_table(audited.db), key.public_key()).ok


def test_the_last_event_deleted_is_found(audited: AuditedStore, tmp_path: Path) -> None:
    key, digest = _digest_now(audited, tmp_path)
    audited.delete(digest.position)
    result = verify_journal(audited.db)
    assert (result.ok, result.first_bad_position, result.problem) == (False, digest.position, "removed")
    check = check_history(digest, event_table(audited.db), key.public_key())
    assert not check.ok
    assert "missing" in check.reason


def test_a_forged_event_inserted_in_the_middle_is_found(audited: AuditedStore, tmp_path: Path) -> None:
    key, digest = _digest_now(audited, tmp_path)
    target = audited.position_of("Expenditure.Recorded", nth=1)
    audited.insert_forged(target, copy_of=audited.position_of("Expenditure.Recorded", nth=0))
    result = verify_journal(audited.db)
    assert (result.ok, result.first_bad_position, result.problem) == (False, target, "inserted")
    assert not check_history(digest, event_table(audited.db), key.public_key()).ok


def test_events_shifted_down_over_a_deleted_one_are_found(audited: AuditedStore) -> None:
    """Deleting an event and renumbering the later ones to close the gap is still a removal."""
    target = audited.position_of("Allocation.Proposed", nth=2)
    audited.delete(target)
    column = audited.id_column
    with audited.db.transaction():
        # In two steps, through negative numbers: a unique index is checked row by row, in the
        # table's physical order, which need not be the positions' order.
        audited.db.execute(f"UPDATE {audited.table} SET {column} = -{column} WHERE {column} > ?",
                           (target,))
        audited.db.execute(f"UPDATE {audited.table} SET {column} = -{column} - 1 WHERE {column} < 0")
    result = verify_journal(audited.db)
    assert (result.ok, result.first_bad_position, result.problem) == (False, target, "removed")


def test_a_digest_with_a_changed_field_is_refused(audited: AuditedStore, tmp_path: Path) -> None:
    key, digest = _digest_now(audited, tmp_path)
    forged = type(digest)(**{**digest.__dict__, "position": digest.position - 1})
    check = check_history(forged, event_table(audited.db), key.public_key())
    assert not check.ok
    assert "signature" in check.reason
    other = signing_key(tmp_path / "other.pem")
    assert not check_history(digest, event_table(audited.db), other.public_key()).ok


def test_an_earlier_digest_still_verifies_after_new_events(audited: AuditedStore, tmp_path: Path) -> None:
    key, digest = _digest_now(audited, tmp_path)
    audited.ledger.record_expenditure(OFFICER, allocation=audited.allocations[0], amount=1234,
                                      payee="新供应商", voucher="V99001", spent_on=LATE_DAY)
    audited.catch_up()
    assert verify_journal(audited.db).ok
    assert check_history(digest, event_table(audited.db), key.public_key()).ok


@pytest.mark.postgres
def test_gaps_left_by_rolled_back_writes_are_not_removals(postgres_settings: Settings) -> None:
    """PostgreSQL's sequence leaves a gap when an insert rolls back; a gap the journal never
    recorded is no removal, but a forged event put into it is an insertion."""
    settings = postgres_settings
    ledger = FundLedger(env=settings.eventsourcing_env(), clock=lambda: TODAY)
    db = ViewDatabase.open(settings)
    try:
        allocations = build_small_bureau(ledger)
        store = AuditedStore(settings, ledger, db, allocations)
        first_half = ledger.recorder.max_notification_id()
        db.execute("SELECT nextval(pg_get_serial_sequence('fundledger_events', 'notification_id'))")
        gap = first_half + 1
        ledger.record_expenditure(OFFICER, allocation=allocations[0], amount=555, payee="p",
                                  voucher="GAP1", spent_on=LATE_DAY)
        store.catch_up()
        result = verify_journal(db)
        assert result.ok, result
        store.insert_forged(gap, copy_of=gap - 1, shift=False)
        result = verify_journal(db)
        assert (result.ok, result.first_bad_position, result.problem) == (False, gap, "inserted")
    finally:
        db.close()
        ledger.close()


def test_a_rebuild_of_the_views_does_not_launder_tampering(audited: AuditedStore) -> None:
    from projections.runner import ViewRunner  # noqa: PLC0415

    target = audited.position_of("Allocation.Approved", nth=2)
    audited.flip_byte(target, offset=5)
    with ViewRunner(audited.settings, ledger=audited.ledger) as runner:
        runner.rebuild()
    result = verify_journal(audited.db)
    assert (result.ok, result.first_bad_position, result.problem) == (False, target, "altered")


def _walked(db: ViewDatabase) -> Verification:
    """The event-by-event walk (`verify`) over the same store: what `verify_journal` must say."""
    head = journal_head(db)
    recorded = [[(int(p), h) for p, h in db.rows("SELECT position, hash FROM audit_journal "
                                                 "ORDER BY position")]]

    def identify(position: int) -> tuple[bytes, int] | None:
        found = db.rows("SELECT entity_id, entity_version FROM audit_journal WHERE position = ?",
                        (position,))
        return (UUID(found[0][0]).bytes, int(found[0][1])) if found else None

    return verify(event_table(db), recorded, head, identify)


@pytest.mark.parametrize(("change", "bad", "problem"), [
    ("link_altered", 0, "altered"), ("link_deleted", 0, "inserted"),
    # Its event and its link gone (the link moved past the head): the next link breaks.
    ("link_moved", 1, "altered"),
    # The next event stands where this one stood: to the walk, this one was removed.
    ("events_reordered", 0, "removed")])
@pytest.mark.parametrize("page_size", [5, 20_000])
def test_journal_and_order_tampering_is_found_as_the_walk_finds_it(
        audited: AuditedStore, monkeypatch: pytest.MonkeyPatch, change: str, bad: int,
        problem: str, page_size: int) -> None:
    """An altered, deleted or moved journal link, or two events that traded places, on pages
    smaller and larger than the log: the first bad position, problem and count are the walk's."""
    monkeypatch.setattr(hash_chain, "VERIFY_PAGE_SIZE", page_size)
    target = audited.position_of("Expenditure.Recorded", nth=3)
    db, table, column = audited.db, audited.table, audited.id_column
    with db.transaction():
        if change == "link_altered":
            db.execute("UPDATE audit_journal SET hash = ? WHERE position = ?", ("ab" * 32, target))
        elif change == "link_deleted":
            db.execute("DELETE FROM audit_journal WHERE position = ?", (target,))
        elif change == "link_moved":  # its event deleted, its link moved to a free position
            db.execute(f"DELETE FROM {table} WHERE {column} = ?", (target,))
            db.execute("UPDATE audit_journal SET position = ? WHERE position = ?",
                       (10_000_000, target))
        else:  # through a free position, as a unique index wants
            db.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?", (10_000_000, target))
            db.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?", (target, target + 1))
            db.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?", (target + 1, 10_000_000))
    result = verify_journal(db)
    assert result == _walked(db)
    assert (result.ok, result.first_bad_position, result.problem) == (False, target + bad, problem)
    assert result.checked == target - 1


def test_verify_journal_answers_as_the_walk_on_a_clean_store(audited: AuditedStore,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hash_chain, "VERIFY_PAGE_SIZE", 4)
    seen: list[int] = []
    result = verify_journal(audited.db, seen.append)
    assert result.ok
    assert result == _walked(audited.db)
    assert seen[-1] == result.checked == journal_head(audited.db)
