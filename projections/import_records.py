"""Where imports are recorded: a small table beside the events and views (the same SQLite
file or PostgreSQL schema), written by the import itself (domain/book_import.py)."""

from __future__ import annotations

import json

from domain.book_import import ImportResult, RowError
from projections.database import ViewDatabase


class ImportRecords:
    """Where imports are recorded: a small table beside the events and views (the same
    SQLite file or PostgreSQL schema). The events an import wrote carry its id in their
    idempotency keys, so the record can be checked against the journal."""

    def __init__(self, db: ViewDatabase) -> None:
        self.db = db
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS imports ("
            " import_id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL,"
            " actor TEXT NOT NULL, started_at TEXT NOT NULL, sha256 TEXT NOT NULL,"
            " body TEXT NOT NULL)")

    def save(self, result: ImportResult) -> None:
        body = json.dumps(result.as_dict(), ensure_ascii=False)
        with self.db.transaction():
            self.db.execute("DELETE FROM imports WHERE import_id = ?", (result.id,))
            self.db.execute(
                "INSERT INTO imports (import_id, kind, status, actor, started_at, sha256, body) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (result.id, result.kind, result.status, result.actor, result.started_at,
                 result.sha256, body))

    def get(self, import_id: str) -> ImportResult | None:
        body = self.db.scalar("SELECT body FROM imports WHERE import_id = ?", (import_id,))
        if body is None:
            return None
        fields = json.loads(body)
        fields["errors"] = [RowError(**e) for e in fields["errors"]]
        return ImportResult(**fields)

    def history(self, limit: int, after: str | None = None) -> tuple[list[ImportResult], str | None]:
        """Imports newest first, `limit` at a time; `after` is the cursor the previous page
        gave (its last row's start time and id)."""
        clauses, params = "", []
        if after:
            started_at, _, import_id = after.partition("|")
            clauses = "WHERE started_at < ? OR (started_at = ? AND import_id < ?) "
            params = [started_at, started_at, import_id]
        rows = self.db.rows(
            f"SELECT body FROM imports {clauses}ORDER BY started_at DESC, import_id DESC "  # noqa: S608
            "LIMIT ?", [*params, limit + 1])
        found = []
        for (body,) in rows[:limit]:
            fields = json.loads(body)
            fields["errors"] = [RowError(**e) for e in fields["errors"]]
            found.append(ImportResult(**fields))
        cursor = f"{found[-1].started_at}|{found[-1].id}" if len(rows) > limit else None
        return found, cursor

    def close(self) -> None:
        self.db.close()
