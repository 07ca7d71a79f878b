"""Equality lookups without a scan: what Airtable answers fast and a naive stand-in would not.

`filterByFormula` of the shapes clients use to find records by a key — `{Field}='value'`,
`RECORD_ID()='rec…'`, and `OR(…)` of either — is answered from an index of text fields, built on
first use and kept in step with every write; any other formula goes to the full evaluator. Results
keep the table's order, as a scan would.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulators.airtable.store import FieldDef, Record, Table

INDEXED_TYPES = {"singleLineText", "email", "phoneNumber", "multilineText", "singleSelect"}
QUOTED = r"'((?:[^'\\]|\\.)*)'"
TERM = re.compile(r"^\s*(?:\{((?:[^}\\]|\\.)+)\}|(RECORD_ID\(\)))\s*=\s*" + QUOTED + r"\s*$")
OR_CALL = re.compile(r"^\s*OR\((.*)\)\s*$", re.DOTALL)
SPLIT = re.compile(r",(?=(?:[^']*'[^']*')*[^']*$)")  # commas outside quotes


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def equality_terms(source: str) -> list[tuple[str | None, str]] | None:
    """[(field name, or None for the record id; value)] when the formula is only equalities."""
    match = OR_CALL.match(source)
    parts = SPLIT.split(match.group(1)) if match else [source]
    terms = []
    for part in parts:
        term = TERM.match(part)
        if term is None:
            return None
        field, record_id, value = term.groups()
        terms.append((None if record_id else unescape(field), unescape(value)))
    return terms


class EqualityIndex:
    def __init__(self) -> None:
        self._values: dict[tuple[str, str], dict[str, set[str]]] = {}  # (table, field) -> value -> ids
        self._of: dict[tuple[str, str], dict[str, str]] = {}  # (table, field) -> id -> value

    def matching(self, table: Table, source: str) -> list[Record] | None:
        """The records the formula selects, in table order; None if it is not for the index."""
        terms = equality_terms(source)
        if terms is None:
            return None
        ids: set[str] = set()
        for field_name, value in terms:
            if field_name is None:
                ids.add(value)
                continue
            f = table.field_by_name_or_id(field_name)
            if f is None or f.type not in INDEXED_TYPES or value == "":
                return None  # unknown fields and blanks: the evaluator's answer and errors
            ids |= self._index(table, f).get(value, set())
        return [r for r in table.records.values() if r.id in ids] if ids else []

    def ids_with(self, table: Table, f: FieldDef, value: object) -> set[str] | None:
        """The records whose cell `f` holds `value`; None when the field is not indexed by value."""
        if f.type not in INDEXED_TYPES or not isinstance(value, str):
            return None
        return set(self._index(table, f).get(value, set()))

    def _index(self, table: Table, f: FieldDef) -> dict[str, set[str]]:
        key = (table.id, f.id)
        if key not in self._values:
            values: dict[str, set[str]] = defaultdict(set)
            of: dict[str, str] = {}
            for record in table.records.values():
                value = record.cells.get(f.id)
                if isinstance(value, str):
                    values[value].add(record.id)
                    of[record.id] = value
            self._values[key], self._of[key] = values, of
        return self._values[key]

    def saved(self, table: Table, record: Record) -> None:
        for (table_id, field_id), values in self._values.items():
            if table_id != table.id:
                continue
            of = self._of[(table_id, field_id)]
            old, new = of.pop(record.id, None), record.cells.get(field_id)
            if old is not None:
                values[old].discard(record.id)
            if isinstance(new, str):
                values[new].add(record.id)
                of[record.id] = new

    def deleted(self, table: Table, record_id: str) -> None:
        for (table_id, field_id), values in self._values.items():
            if table_id == table.id and (old := self._of[(table_id, field_id)].pop(record_id, None)) is not None:
                values[old].discard(record_id)

    def clear(self) -> None:
        self._values.clear()
        self._of.clear()
