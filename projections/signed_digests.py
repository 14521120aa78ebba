"""The digests signed so far: each time someone asks for one (API, CLI or dashboard), the
signed digest is kept here with who asked, so an auditor can list them and hand any of them
to `fundledger verify --digest`. A digest is signed only when asked, never on a page view.

A small table beside the views (like the import records): it is not derived from the events,
so a rebuild of the views leaves it alone.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from projections.digests import Digest

if TYPE_CHECKING:
    from projections.database import ViewDatabase

SIGNED_DIGESTS_LISTED_MAX = 1000


class SignedDigests:
    def __init__(self, db: ViewDatabase) -> None:
        self.db = db
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS signed_digests ("
            " signed_at TEXT NOT NULL, position BIGINT NOT NULL, signed_by TEXT NOT NULL,"
            " body TEXT NOT NULL, PRIMARY KEY (signed_at, position))")

    def keep(self, digest: Digest, signed_by: str) -> None:
        with self.db.transaction():
            self.db.execute(
                "DELETE FROM signed_digests WHERE signed_at = ? AND position = ?",
                (digest.signed_at, digest.position))
            self.db.execute(
                "INSERT INTO signed_digests (signed_at, position, signed_by, body) "
                "VALUES (?, ?, ?, ?)",
                (digest.signed_at, digest.position, signed_by,
                 json.dumps(asdict(digest), sort_keys=True)))

    def listed(self, limit: int = 50) -> list[tuple[Digest, str]]:
        """The newest first, with who asked for each."""
        limit = max(1, min(limit, SIGNED_DIGESTS_LISTED_MAX))
        rows = self.db.rows("SELECT body, signed_by FROM signed_digests "
                            "ORDER BY signed_at DESC, position DESC LIMIT ?", (limit,))
        return [(Digest.from_json(body), str(signed_by)) for body, signed_by in rows]
