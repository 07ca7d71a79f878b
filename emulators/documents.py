"""Persistence for the stand-ins other than Airtable: JSON documents by collection and key, in the
same SQLite file as the local Airtable, so `make run` after `make demo` serves everything."""

from __future__ import annotations

import json
import sqlite3
import threading
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (collection TEXT NOT NULL, key TEXT NOT NULL,
                                      position INTEGER NOT NULL, data TEXT NOT NULL,
                                      PRIMARY KEY (collection, key));
"""


class Documents:
    def __init__(self, db: sqlite3.Connection, lock: threading.RLock):
        self.db, self.lock = db, lock
        with self.lock:
            self.db.executescript(SCHEMA)

    def put(self, collection: str, key: str, document: Any) -> None:
        """Insert or replace; a replaced document keeps its place in the collection's order."""
        with self.lock:
            self.db.execute(
                "INSERT INTO documents VALUES (?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM documents), ?) "
                "ON CONFLICT (collection, key) DO UPDATE SET data = excluded.data",
                (collection, key, json.dumps(document, ensure_ascii=False)))

    def delete(self, collection: str, key: str) -> None:
        with self.lock:
            self.db.execute("DELETE FROM documents WHERE collection = ? AND key = ?", (collection, key))

    def load(self, collection: str) -> list[tuple[str, Any]]:
        with self.lock:
            rows = self.db.execute("SELECT key, data FROM documents WHERE collection = ? ORDER BY position",
                                   (collection,)).fetchall()
        return [(key, json.loads(data)) for key, data in rows]

    def clear(self, collection: str) -> None:
        with self.lock:
            self.db.execute("DELETE FROM documents WHERE collection = ?", (collection,))
