"""The audit page's verification continues from a signed checkpoint (both stores): it checks
only the events after it, agrees with a whole verification, finds tampering after it, and
refuses a checkpoint that was edited or signed by another key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from api.settings import Settings
from projections.chain_checkpoint import (
    CHECKPOINT_TABLE,
    read_checkpoint,
    verify_continuing,
    verify_whole,
)
from projections.digests import signing_key
from projections.journal import verify_journal
from tests.audit.conftest import AuditedStore
from tests.conftest import OFFICER
from tests.dashboard_login import dashboard_login


def _more_events(store: AuditedStore, count: int = 3) -> None:
    for index in range(count):
        store.ledger.record_expenditure(OFFICER, allocation=store.allocations[0], amount=1_000 + index,
                                        payee="供应商", voucher=f"CK{index:03d}",
                                        spent_on=date(2025, 10, 10), description="办公用品")
    store.catch_up()


def test_the_first_view_verifies_everything_then_only_what_came_after(
        audited: AuditedStore, tmp_path: Path) -> None:
    key = signing_key(tmp_path / "key.pem")
    first = verify_continuing(audited.db, key)
    assert first.verification.ok and first.from_position == 0
    head = first.verification.head_position
    assert first.checked_now == head

    _more_events(audited)
    second = verify_continuing(audited.db, key)
    whole = verify_journal(audited.db)
    assert second.verification.ok and second.from_position == head
    assert second.checked_now == whole.head_position - head > 0
    assert (second.verification.checked, second.verification.head_position,
            second.verification.head_hash) == (whole.checked, whole.head_position, whole.head_hash)

    third = verify_continuing(audited.db, key)  # nothing new: nothing rehashed
    assert third.verification.ok and third.checked_now == 0
    assert third.verification.checked == whole.checked


def test_an_event_altered_after_the_checkpoint_is_found(audited: AuditedStore, tmp_path: Path) -> None:
    key = signing_key(tmp_path / "key.pem")
    verify_continuing(audited.db, key)
    _more_events(audited)
    target = audited.position_of("Expenditure.Recorded", nth=-2)
    audited.flip_byte(target)
    found = verify_continuing(audited.db, key)
    assert (found.verification.ok, found.verification.first_bad_position,
            found.verification.problem) == (False, target, "altered")
    checkpoint, _ = read_checkpoint(audited.db, key)
    assert checkpoint is not None and checkpoint.position < target  # not moved past the damage


def test_below_the_checkpoint_only_a_whole_verification_sees(audited: AuditedStore, tmp_path: Path) -> None:
    """What the page's answer reaches, as its text says: the whole verification stays the proof."""
    key = signing_key(tmp_path / "key.pem")
    verify_continuing(audited.db, key)
    target = audited.position_of("Allocation.Approved", nth=1)
    audited.flip_byte(target)
    assert verify_continuing(audited.db, key).verification.ok
    whole = verify_whole(audited.db, key)
    assert (whole.ok, whole.first_bad_position) == (False, target)


def test_a_rewritten_journal_link_at_the_checkpoint_is_found(audited: AuditedStore, tmp_path: Path) -> None:
    key = signing_key(tmp_path / "key.pem")
    head = verify_continuing(audited.db, key).verification.head_position
    with audited.db.transaction():
        audited.db.execute("UPDATE audit_journal SET hash = ? WHERE position = ?", ("00" * 32, head))
    found = verify_continuing(audited.db, key)
    assert (found.verification.ok, found.verification.first_bad_position) == (False, head)


def test_an_edited_checkpoint_is_refused_and_everything_is_verified(
        audited: AuditedStore, tmp_path: Path) -> None:
    key = signing_key(tmp_path / "key.pem")
    head = verify_continuing(audited.db, key).verification.head_position
    stored = audited.db.scalar(f"SELECT digest FROM {CHECKPOINT_TABLE}")
    forged = stored.replace(f'"position": {head}', f'"position": {head - 1}')
    assert forged != stored
    with audited.db.transaction():
        audited.db.execute(f"UPDATE {CHECKPOINT_TABLE} SET digest = ?", (forged,))
    again = verify_continuing(audited.db, key)
    assert again.from_position == 0 and again.checkpoint is None
    assert again.checkpoint_refused and "signature" in again.checkpoint_refused
    assert again.verification.ok and again.checked_now == head


def test_a_checkpoint_signed_by_another_key_is_refused(audited: AuditedStore, tmp_path: Path) -> None:
    verify_continuing(audited.db, signing_key(tmp_path / "other.pem"))
    again = verify_continuing(audited.db, signing_key(tmp_path / "key.pem"))
    assert again.from_position == 0 and again.checkpoint_refused


def test_the_audit_page_shows_where_verification_continued(
        audited: AuditedStore, store_settings: Settings, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient  # noqa: PLC0415

    from api.app import create_app  # noqa: PLC0415

    settings = store_settings.model_copy(update={"signing_key_path": tmp_path / "key.pem"})
    token = audited.ledger.add_user("page.auditor", ["auditor"])
    with TestClient(create_app(settings, ledger=audited.ledger)) as client:
        dashboard_login(client, token)
        first = client.get("/dashboard/audit")
        assert first.status_code == 200 and 'id="verify-continued"' not in first.text
        second = client.get("/dashboard/audit")
        assert second.status_code == 200 and 'id="verify-continued"' in second.text
