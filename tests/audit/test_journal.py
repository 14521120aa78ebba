"""The journal: every event flattened, in order, with actor, amount, unit, reason and hash."""

from __future__ import annotations

from projections.journal import entity_history, journal_page
from tests.audit.conftest import AuditedStore


def test_the_runner_keeps_the_same_chain_as_a_page_by_page_catch_up(sqlite_audited: AuditedStore) -> None:
    from projections.database import ViewDatabase  # noqa: PLC0415
    from tests.audit.conftest import catch_up_journal  # noqa: PLC0415

    fresh = ViewDatabase.in_memory()
    # An in-memory journal over the same events, built with pages of 7 instead of 1000.
    catch_up_journal(fresh, sqlite_audited.ledger, page_size=7)
    ours = fresh.rows("SELECT position, hash FROM audit_journal ORDER BY position")
    runners = sqlite_audited.db.rows("SELECT position, hash FROM audit_journal ORDER BY position")
    assert ours == runners
    assert len(runners) == sqlite_audited.ledger.recorder.max_notification_id()


def test_journal_rows_carry_who_what_how_much_and_why(sqlite_audited: AuditedStore) -> None:
    items, _ = journal_page(sqlite_audited.db, 0, 1000)
    assert [i["position"] for i in items] == list(range(1, len(items) + 1))
    approved = [i for i in items if i["event"] == "Allocation.Approved"]
    assert approved[0]["actor"] == "ada.approver"
    assert approved[0]["actor_role"] == "approver"
    assert (approved[0]["amount"], approved[0]["unit"]) == (1_000_000, "CNY")  # unit from the opening
    assert approved[0]["effective_date"] == "2025-02-03"
    spent = next(i for i in items if i["event"] == "Allocation.Spent")
    assert spent["entity_type"] == "Allocation"
    assert spent["unit"] == "CNY"
    assert all(len(i["hash"]) == 64 for i in items)
    assert all(i["recorded_at"].endswith("+00:00") for i in items)


def test_journal_pages_follow_the_cursor(sqlite_audited: AuditedStore) -> None:
    seen = []
    after: int | None = 0
    while after is not None:
        items, after = journal_page(sqlite_audited.db, after, 10)
        seen += [i["position"] for i in items]
    assert seen == list(range(1, sqlite_audited.ledger.recorder.max_notification_id() + 1))


def test_history_of_a_school_by_code_and_of_an_allocation_by_id(sqlite_audited: AuditedStore) -> None:
    school = entity_history(sqlite_audited.db, "XZ-PZ-0002")
    assert [i["event"] for i in school] == ["School.Registered"]
    fund = entity_history(sqlite_audited.db, "PO-2025")
    assert fund[0]["event"] == "Fund.Opened"
    assert {i["event"] for i in fund[1:]} == {"Fund.Committed"}
    allocation = entity_history(sqlite_audited.db, str(sqlite_audited.allocations[0]))
    assert [i["event"] for i in allocation][:2] == ["Allocation.Proposed", "Allocation.Approved"]
    assert [i["actor"] for i in allocation][:2] == ["olga.officer", "ada.approver"]
    assert [i["position"] for i in allocation] == sorted(i["position"] for i in allocation)
    assert entity_history(sqlite_audited.db, "NO-SUCH-CODE") == []
