"""The last verified position of the hash chain, kept signed, so the audit page continues
verification from it instead of rehashing the whole log on every view.

A checkpoint is a digest (projections/digests.py) the ledger signs itself after a
verification found the chain whole up to a position: (position, link, events checked, time),
signed with the bureau's Ed25519 key, kept in one row beside the journal. A checkpoint that
was edited, or signed by another key, does not verify and is ignored: verification then starts
from the first event again. Continuing from a good checkpoint checks every event stored after
it, and that the journal still records the checkpoint's link at its position (a journal
rewritten below the checkpoint fails there).

What continuing cannot see is an event altered *below* the checkpoint after it was signed:
`fundledger verify`, `GET /v1/audit/verify` and a signed digest kept outside the store
rehash from the first event, and the page says how far its answer reaches.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from projections.digests import Digest, DigestInvalid, check_signature, sign
from projections.hash_chain import Progress, Verification
from projections.journal import JOURNAL_TABLE, verify_journal

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from projections.database import ViewDatabase

CHECKPOINT_TABLE = "audit_chain_checkpoint"
CREATE_STATEMENT = (f"CREATE TABLE IF NOT EXISTS {CHECKPOINT_TABLE} ("
                    "slot INTEGER PRIMARY KEY, position BIGINT NOT NULL, digest TEXT NOT NULL)")


@dataclass(frozen=True)
class ChainStatus:
    """A verification and where it started: `from_position` 0 is the first event; otherwise
    the signed checkpoint (`checkpoint`) it continued from. `checked` in `verification`
    counts every event vouched for, the checkpoint's as well as those checked now."""

    verification: Verification
    from_position: int
    checked_now: int
    checkpoint: Digest | None
    checkpoint_refused: str | None = None  # why a stored checkpoint was not trusted


def read_checkpoint(db: ViewDatabase, key: Ed25519PrivateKey) -> tuple[Digest | None, str | None]:
    """The stored checkpoint if its signature holds under the bureau's key; else why not."""
    db.execute(CREATE_STATEMENT)
    found = db.rows(f"SELECT digest FROM {CHECKPOINT_TABLE} WHERE slot = 1")  # noqa: S608
    if not found:
        return None, None
    try:
        digest = Digest.from_json(str(found[0][0]))
        check_signature(digest, key.public_key())
    except DigestInvalid as error:
        return None, str(error)
    return digest, None


def record_checkpoint(db: ViewDatabase, key: Ed25519PrivateKey, verification: Verification) -> None:
    """Signs a whole chain's head as the new checkpoint; never moves one backwards."""
    if not verification.ok or verification.head_position == 0:
        return
    digest = sign(key, verification.head_position, verification.head_hash, verification.checked)
    with db.transaction():
        db.execute(CREATE_STATEMENT)
        db.execute(
            f"INSERT INTO {CHECKPOINT_TABLE} (slot, position, digest) VALUES (1, ?, ?) "  # noqa: S608
            "ON CONFLICT (slot) DO UPDATE SET position = excluded.position, digest = excluded.digest "
            f"WHERE {CHECKPOINT_TABLE}.position < excluded.position",
            (digest.position, digest.to_json()))


def verify_continuing(db: ViewDatabase, key: Ed25519PrivateKey,
                      progress: Progress | None = None) -> ChainStatus:
    """Verifies the events after the signed checkpoint (all of them without one), then signs
    the new head as the checkpoint."""
    checkpoint, refused = read_checkpoint(db, key)
    if checkpoint is not None:
        recorded = db.rows(f"SELECT hash FROM {JOURNAL_TABLE} WHERE position = ?",  # noqa: S608
                           (checkpoint.position,))
        if not recorded or recorded[0][0] != checkpoint.head_hash:
            bad = Verification(False, 0, 0, "", checkpoint.position,
                               "removed" if not recorded else "altered")
            return ChainStatus(bad, checkpoint.position, 0, checkpoint)
        result = verify_journal(db, progress, after=checkpoint.position,
                                previous=bytes.fromhex(checkpoint.head_hash))
        checked_now = result.checked
        result = replace(result, checked=result.checked + checkpoint.events)
        start = checkpoint.position
    else:
        result = verify_journal(db, progress)
        checked_now, start = result.checked, 0
    record_checkpoint(db, key, result)
    return ChainStatus(result, start, checked_now, checkpoint, refused)


def verify_whole(db: ViewDatabase, key: Ed25519PrivateKey,
                 progress: Progress | None = None) -> Verification:
    """Verifies from the first event; a whole chain's head becomes the checkpoint."""
    result = verify_journal(db, progress)
    record_checkpoint(db, key, result)
    return result
