"""The local Airtable's state: bases, tables, fields, views, records.

State lives in memory for speed and is written through to SQLite on every change, so a file
database survives restarts (`make demo` then `make run`) and `:memory:` serves the tests.
Cells are keyed by field id, as in Airtable, so renaming a field keeps its data.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sqlite3
import string
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator

from emulators.airtable.index import EqualityIndex

ID_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    """An Airtable-shaped id: a 3-letter prefix and 14 characters."""
    return prefix + "".join(secrets.choice(ID_ALPHABET) for _ in range(14))


def now_iso() -> str:
    now = dt.datetime.now(dt.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


@dataclass
class FieldDef:
    id: str
    name: str
    type: str
    options: dict[str, Any] | None = None
    description: str | None = None


@dataclass
class ViewDef:
    id: str
    name: str
    type: str = "grid"


@dataclass
class Record:
    id: str
    created_time: str
    cells: dict[str, Any] = field(default_factory=dict)


@dataclass
class Table:
    id: str
    base_id: str
    name: str
    primary_field_id: str
    fields: list[FieldDef]
    views: list[ViewDef]
    description: str | None = None
    records: dict[str, Record] = field(default_factory=dict)

    def field_by_name_or_id(self, key: str) -> FieldDef | None:
        for f in self.fields:
            if f.id == key or f.name == key:
                return f
        return None

    def field_by_id(self, field_id: str) -> FieldDef:
        return next(f for f in self.fields if f.id == field_id)

    def meta(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "description": self.description,
            "primaryFieldId": self.primary_field_id,
            "fields": [asdict(f) for f in self.fields],
            "views": [asdict(v) for v in self.views],
        }


@dataclass
class Base:
    id: str
    name: str
    tables: list[Table] = field(default_factory=list)

    def table(self, id_or_name: str) -> Table | None:
        for table in self.tables:
            if table.id == id_or_name or table.name == id_or_name:
                return table
        return None

    def table_by_id(self, table_id: str) -> Table:
        return next(t for t in self.tables if t.id == table_id)


SCHEMA = """
CREATE TABLE IF NOT EXISTS bases (id TEXT PRIMARY KEY, name TEXT NOT NULL, position INTEGER);
CREATE TABLE IF NOT EXISTS tables (id TEXT PRIMARY KEY, base_id TEXT NOT NULL, position INTEGER,
                                   meta TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, table_id TEXT NOT NULL, seq INTEGER,
                                    created_time TEXT NOT NULL, cells TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS records_by_table ON records (table_id, seq);
"""


class Store:
    """All bases, guarded by one lock: like Airtable, writes to a base are serialised."""

    def __init__(self, path: str = ":memory:"):
        self.path = path
        self.lock = threading.RLock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.executescript(SCHEMA)
        self.bases: dict[str, Base] = {}
        self._seq = 0
        self.index = EqualityIndex()
        self._load()

    # --- loading and persistence ------------------------------------------------------------

    def _load(self) -> None:
        for base_id, name in self.db.execute("SELECT id, name FROM bases ORDER BY position"):
            self.bases[base_id] = Base(base_id, name)
        tables: dict[str, Table] = {}
        for base_id, meta in self.db.execute("SELECT base_id, meta FROM tables ORDER BY position"):
            table = _table_from_meta(base_id, json.loads(meta))
            self.bases[base_id].tables.append(table)
            tables[table.id] = table
        rows = self.db.execute("SELECT id, table_id, seq, created_time, cells FROM records ORDER BY seq")
        for record_id, table_id, seq, created, cells in rows:
            tables[table_id].records[record_id] = Record(record_id, created, json.loads(cells))
            self._seq = max(self._seq, seq)

    def transaction(self) -> "_Transaction":
        return _Transaction(self)

    def save_base(self, base: Base) -> None:
        self.db.execute("INSERT OR REPLACE INTO bases VALUES (?, ?, ?)",
                        (base.id, base.name, list(self.bases).index(base.id)))

    def save_table(self, table: Table) -> None:
        base = self.bases[table.base_id]
        self.db.execute("INSERT OR REPLACE INTO tables VALUES (?, ?, ?, ?)",
                        (table.id, table.base_id, base.tables.index(table), json.dumps(table.meta())))

    def save_record(self, table: Table, record: Record) -> None:
        self.index.saved(table, record)
        self._seq += 1
        self.db.execute(
            "INSERT INTO records VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET cells = excluded.cells",
            (record.id, table.id, self._seq, record.created_time, json.dumps(record.cells)))

    def delete_record(self, table: Table, record_id: str) -> None:
        self.index.deleted(table, record_id)
        self.db.execute("DELETE FROM records WHERE id = ?", (record_id,))

    def reset(self) -> None:
        with self.lock:
            self.db.executescript("DELETE FROM records; DELETE FROM tables; DELETE FROM bases;")
            self.bases.clear()
            self.index.clear()

    # --- bases ---------------------------------------------------------------------------------

    def ensure_base(self, base_id: str, name: str) -> tuple[Base, bool]:
        with self.lock:
            if base_id in self.bases:
                return self.bases[base_id], False
            base = self.bases[base_id] = Base(base_id, name)
            self.save_base(base)
            return base, True

    def all_tables(self) -> Iterator[Table]:
        for base in self.bases.values():
            yield from base.tables


class _Transaction:
    """Holds the lock and groups the SQLite writes of one API call in a single commit.

    Handlers validate a whole request before changing anything in memory, so the rollback here
    only guards the file against a crash half-way through the writes.
    """

    def __init__(self, store: Store):
        self.store = store

    def __enter__(self) -> Store:
        self.store.lock.acquire()
        self.store.db.execute("BEGIN")
        return self.store

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        try:
            self.store.db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.store.lock.release()


def _table_from_meta(base_id: str, meta: dict[str, Any]) -> Table:
    return Table(
        id=meta["id"], base_id=base_id, name=meta["name"], description=meta.get("description"),
        primary_field_id=meta["primaryFieldId"],
        fields=[FieldDef(**f) for f in meta["fields"]],
        views=[ViewDef(**v) for v in meta["views"]],
    )
