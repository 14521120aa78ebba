"""`verify`'s check of snapshots (issue 14): every stored snapshot must carry a seal that holds
under the bureau's key, and must equal a replay of its aggregate's events up to its version.
Snapshots are derived data; this proves they are the events' and nobody else's."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import project_aggregate

from domain.snapshot_seal import SEAL_PREFIX, unseal


def snapshot_ids(ledger: Any) -> list[UUID]:
    """The ids of every aggregate with a stored snapshot."""
    recorder = ledger.snapshots.recorder
    table = recorder.events_table_name
    schema = getattr(recorder.datastore, "schema", "")
    qualified = f'"{schema}"."{table}"' if schema else table
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(f"SELECT DISTINCT originator_id FROM {qualified}")  # noqa: S608  (names from the library)
        rows = cursor.fetchall()
    return [UUID(str(row["originator_id"] if isinstance(row, dict) else row[0])) for row in rows]


def check_snapshots(ledger: Any) -> list[str]:
    """One line per snapshot that fails its seal or differs from a replay of its events."""
    store = ledger.snapshots
    problems = []
    for aggregate_id in snapshot_ids(ledger):
        for stored in store.recorder.select_events(originator_id=aggregate_id):
            where = f"snapshot of {aggregate_id} at version {stored.originator_version}"
            opened = unseal(store.key, stored)
            if opened is None and bytes(stored.state).startswith(SEAL_PREFIX):
                problems.append(f"{where}: its seal does not hold (forged or altered)")
                continue
            if opened is None:
                # Written before seals (v0.1.0): commands never use it, but it must still be
                # the events' own state, or someone wrote to the snapshot table.
                opened = stored
            from_snapshot = store.mapper.to_domain_event(opened).mutate(None)
            replayed = project_aggregate(
                None, ledger.events.get(aggregate_id, lte=stored.originator_version))
            if replayed is None or _state(from_snapshot) != _state(replayed):
                sealed = "" if opened is not stored else " (unsealed)"
                problems.append(f"{where}{sealed}: differs from a replay of its events")
    return problems


def _state(aggregate: Any) -> Any:
    # The library's bookkeeping (pending events, modified time) is not the books' state.
    return _plain({k: v for k, v in vars(aggregate).items()
                   if k not in ("_pending_events", "_modified_on")})


def _plain(value: Any) -> Any:
    """State as compared: a snapshot's JSON gives back a tuple as a list."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
