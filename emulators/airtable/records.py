"""Record operations of the Web API v0: list, get, create, update, upsert, delete.

Every write validates the whole request before touching anything, so a 422 leaves the base as
it was; link cells are kept in step with their inverse fields on both sides.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import time
from collections import OrderedDict
from typing import Any, Iterable, Iterator

from emulators.airtable import cells, formula
from emulators.airtable.errors import ApiError, invalid_request, unknown_field
from emulators.airtable.store import Base, FieldDef, Record, Store, Table, new_id, now_iso

MAX_RECORDS_PER_WRITE = 10
MAX_PAGE_SIZE = 100
ITERATOR_TTL_SECONDS = 300
MAX_ITERATORS = 1000
MAX_MERGE_FIELDS = 3
MERGEABLE_TYPES = cells.TEXT_TYPES | cells.NUMBER_TYPES | {"singleSelect", "date", "dateTime", "checkbox"}


class Records:
    def __init__(self, store: Store):
        self.store = store
        # Snapshots of listings in progress: pages stay stable while other writes go on.
        self.iterators: OrderedDict[str, tuple[float, list[str]]] = OrderedDict()

    # --- reading --------------------------------------------------------------------------

    def read(self, base: Base, table: Table, record: Record, by_id: bool = False,
             only: set[str] | None = None, as_strings: bool = False) -> dict[str, Any]:
        fields = {}
        for f in table.fields:
            value = record.cells.get(f.id)
            if cells.is_empty(value) or (only is not None and f.id not in only):
                continue
            if as_strings:
                value = cells.string_value(f, value, lambda tid, rid: self._primary_text(base, tid, rid))
            fields[f.id if by_id else f.name] = value
        return {"id": record.id, "createdTime": record.created_time, "fields": fields}

    def get(self, base: Base, table: Table, record_id: str, params: dict[str, Any]) -> dict[str, Any]:
        record = table.records.get(record_id)
        if record is None:
            raise ApiError.not_found()
        return self.read(base, table, record, by_id=_flag(params.get("returnFieldsByFieldId")))

    def list(self, base: Base, table: Table, params: dict[str, Any]) -> dict[str, Any]:
        page_size = _int_param(params, "pageSize", MAX_PAGE_SIZE)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise invalid_request(f"pageSize must be between 1 and {MAX_PAGE_SIZE}")
        only = self._field_ids(table, params.get("fields"))
        as_strings = params.get("cellFormat", "json") == "string"
        if as_strings and not (params.get("timeZone") and params.get("userLocale")):
            raise invalid_request("cellFormat=string requires timeZone and userLocale")
        if params.get("view") and not any(v.id == params["view"] or v.name == params["view"]
                                          for v in table.views):
            raise ApiError.typed(422, "VIEW_NAME_NOT_FOUND", f'Could not find view "{params["view"]}"')

        if params.get("offset"):
            ids, position = self._resume(params["offset"])
        else:
            ids, position = self._select(base, table, params), 0
        page_ids = ids[position:position + page_size]
        page = [self.read(base, table, table.records[rid], _flag(params.get("returnFieldsByFieldId")),
                          only, as_strings)
                for rid in page_ids if rid in table.records]
        result: dict[str, Any] = {"records": page}
        if position + page_size < len(ids):
            result["offset"] = self._remember(ids, position + page_size)
        return result

    def _select(self, base: Base, table: Table, params: dict[str, Any]) -> list[str]:
        records: Iterable[Record] = table.records.values()
        sort_rules = params.get("sort") or []
        max_records = _int_param(params, "maxRecords", 0)
        if params.get("filterByFormula"):
            indexed = self.store.index.matching(table, params["filterByFormula"])
            records = indexed if indexed is not None else self._filtered(base, table, records,
                                                                        params["filterByFormula"])
        if max_records > 0 and not sort_rules:
            # Lookups like `first(formula=…)` stop at the first match instead of scanning on.
            records = itertools.islice(records, max_records)
        selected = list(records)
        for rule in reversed(sort_rules):
            f = table.field_by_name_or_id(rule.get("field", ""))
            if f is None:
                raise unknown_field(rule.get("field", ""))
            if rule.get("direction", "asc") not in ("asc", "desc"):
                raise invalid_request(f'Invalid sort direction "{rule["direction"]}"')
            selected.sort(key=lambda r, f=f: _sort_key(self._formula_value(base, f, r.cells.get(f.id))),
                          reverse=rule.get("direction") == "desc")
        ids = [r.id for r in selected]
        return ids[:max_records] if max_records > 0 else ids

    def _filtered(self, base: Base, table: Table, records: Iterable[Record], source: str) -> Iterator[Record]:
        try:
            compiled = formula.compile_formula(source, {f.name for f in table.fields})
        except formula.FormulaSyntaxError as exc:
            raise ApiError.typed(422, "INVALID_FILTER_BY_FORMULA",
                                 f"The formula for filtering records is invalid: {exc}") from None
        now = dt.datetime.now(dt.timezone.utc)
        used = [f for f in table.fields if f.name in compiled.field_names]
        return (r for r in records if compiled.matches(self._context(base, used, r, now)))

    def _remember(self, ids: list[str], position: int) -> str:
        now = time.monotonic()
        while self.iterators and (len(self.iterators) >= MAX_ITERATORS
                                  or now - next(iter(self.iterators.values()))[0] > ITERATOR_TTL_SECONDS):
            self.iterators.popitem(last=False)
        iterator = new_id("itr")
        self.iterators[iterator] = (now, ids)
        return f"{iterator}/{ids[position]}"

    def _resume(self, offset: str) -> tuple[list[str], int]:
        iterator, _, record_id = offset.partition("/")
        if not (iterator.startswith("itr") and record_id.startswith("rec")):
            raise ApiError.typed(422, "INVALID_OFFSET_VALUE", f"The value of offset {offset!r} is invalid")
        entry = self.iterators.pop(iterator, None)
        if entry is None or time.monotonic() - entry[0] > ITERATOR_TTL_SECONDS or record_id not in entry[1]:
            raise ApiError.typed(422, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE",
                                 "The iterator for this listing is no longer available; start over")
        self.iterators[iterator] = (time.monotonic(), entry[1])
        return entry[1], entry[1].index(record_id)

    def _field_ids(self, table: Table, names: list[str] | None) -> set[str] | None:
        if not names:
            return None
        ids = set()
        for name in names:
            f = table.field_by_name_or_id(name)
            if f is None:
                raise unknown_field(name)
            ids.add(f.id)
        return ids

    # --- formulas -------------------------------------------------------------------------

    def _context(self, base: Base, used: list[FieldDef], record: Record, now: dt.datetime) -> formula.Context:
        values = {f.name: self._formula_value(base, f, record.cells.get(f.id)) for f in used}
        return formula.Context(values, record.id, record.created_time, now)

    def _formula_value(self, base: Base, f: FieldDef, value: Any) -> Any:
        if value is None:
            return None
        if f.type == "multipleRecordLinks":
            return [self._primary_text(base, f.options["linkedTableId"], rid) for rid in value]
        if f.type in ("date", "dateTime"):
            return formula.parse_datetime(value)
        return value

    def _primary_text(self, base: Base, table_id: str, record_id: str) -> str:
        table = base.table_by_id(table_id)
        record = table.records.get(record_id)
        return formula.to_text(record.cells.get(table.primary_field_id)) if record else ""

    # --- writing --------------------------------------------------------------------------

    def create(self, base: Base, table: Table, body: dict[str, Any]) -> dict[str, Any]:
        typecast = bool(body.get("typecast"))
        by_id = _flag(body.get("returnFieldsByFieldId"))
        if "records" not in body:
            cells_ = self._cells(base, table, _fields_of(body), typecast)
            return self.read(base, table, self._insert(base, table, cells_), by_id)
        items = _batch(body, "created")
        planned = [self._cells(base, table, _fields_of(item), typecast) for item in items]
        return {"records": [self.read(base, table, self._insert(base, table, c), by_id) for c in planned]}

    def update_one(self, base: Base, table: Table, record_id: str, body: dict[str, Any],
                   replace: bool) -> dict[str, Any]:
        record = table.records.get(record_id)
        if record is None:
            raise ApiError.not_found()
        new_cells = self._cells(base, table, _fields_of(body), bool(body.get("typecast")))
        self._apply(base, table, record, new_cells, replace)
        return self.read(base, table, record, _flag(body.get("returnFieldsByFieldId")))

    def update_many(self, base: Base, table: Table, body: dict[str, Any], replace: bool) -> dict[str, Any]:
        typecast = bool(body.get("typecast"))
        by_id = _flag(body.get("returnFieldsByFieldId"))
        items = _batch(body, "updated")
        upsert = body.get("performUpsert")
        merge_on = self._merge_fields(table, upsert) if upsert is not None else None

        # Plan every record first: validation errors must not leave half a batch written.
        plans: list[tuple[str | None, dict[str, Any]]] = []
        new_keys: set[tuple[Any, ...]] = set()
        for item in items:
            new_cells = self._cells(base, table, _fields_of(item), typecast)
            record_id = item.get("id")
            if record_id is None and merge_on is None:
                raise invalid_request("Each record to update needs an id")
            if record_id is not None and record_id not in table.records:
                raise ApiError.typed(422, "ROW_DOES_NOT_EXIST",
                                     f"Record ID {record_id} does not exist in this table")
            if record_id is None:
                record_id = self._merge_target(table, merge_on, new_cells)
                if record_id is None:
                    key = tuple(json.dumps(new_cells[f.id]) for f in merge_on)
                    if key in new_keys:
                        raise ApiError.typed(422, "INVALID_RECORDS",
                                             "Two records of this request have the same fieldsToMergeOn values")
                    new_keys.add(key)
            plans.append((record_id, new_cells))

        created, updated, results = [], [], []
        for record_id, new_cells in plans:
            if record_id is None:
                record = self._insert(base, table, new_cells)
                created.append(record.id)
            else:
                record = table.records[record_id]
                self._apply(base, table, record, new_cells, replace)
                updated.append(record.id)
            results.append(self.read(base, table, record, by_id))
        if merge_on is None:
            return {"records": results}
        return {"records": results, "createdRecords": created, "updatedRecords": updated}

    def _merge_target(self, table: Table, merge_on: list[FieldDef], new_cells: dict[str, Any]) -> str | None:
        """The one existing record whose merge fields equal the new values, or None."""
        missing = [f.name for f in merge_on if cells.is_empty(new_cells.get(f.id))]
        if missing:
            raise invalid_request(f"Record is missing a value for fieldsToMergeOn: {', '.join(missing)}")
        candidates = self.store.index.ids_with(table, merge_on[0], new_cells[merge_on[0].id])
        pool = table.records.values() if candidates is None else (table.records[i] for i in candidates)
        matches = [r.id for r in pool if all(r.cells.get(f.id) == new_cells[f.id] for f in merge_on)]
        if len(matches) > 1:
            raise ApiError.typed(422, "INVALID_RECORDS",
                                 "More than one record matches the fieldsToMergeOn values")
        return matches[0] if matches else None

    def delete(self, base: Base, table: Table, record_ids: list[str]) -> list[dict[str, Any]]:
        if len(record_ids) > MAX_RECORDS_PER_WRITE:
            raise ApiError.typed(422, "INVALID_RECORDS",
                                 f"A maximum of {MAX_RECORDS_PER_WRITE} records can be deleted per request "
                                 f"but you have provided {len(record_ids)}.")
        for record_id in record_ids:
            if record_id not in table.records:
                raise ApiError.not_found()
        for record_id in record_ids:
            record = table.records.pop(record_id)
            for f in table.fields:
                if f.type == "multipleRecordLinks":
                    self._relink(base, f, record.id, set(record.cells.get(f.id) or []), set())
            self.store.delete_record(table, record_id)
        return [{"id": rid, "deleted": True} for rid in record_ids]

    def _merge_fields(self, table: Table, upsert: Any) -> list[FieldDef]:
        names = upsert.get("fieldsToMergeOn") if isinstance(upsert, dict) else None
        if not isinstance(names, list) or not 1 <= len(names) <= MAX_MERGE_FIELDS:
            raise invalid_request(f"performUpsert.fieldsToMergeOn must list 1 to {MAX_MERGE_FIELDS} fields")
        fields = []
        for name in names:
            f = table.field_by_name_or_id(name)
            if f is None:
                raise unknown_field(name)
            if f.type not in MERGEABLE_TYPES:
                raise invalid_request(f'Field "{f.name}" of type {f.type} cannot be used in fieldsToMergeOn')
            fields.append(f)
        return fields

    def _cells(self, base: Base, table: Table, fields: dict[str, Any], typecast: bool) -> dict[str, Any]:
        """Validate a `fields` object into cells keyed by field id (None clears a cell)."""
        resolved = {}
        for key, value in fields.items():
            f = table.field_by_name_or_id(key)
            if f is None:
                raise unknown_field(key)
            resolved[f.id] = cells.write_value(
                f, value, typecast, lambda tid, v: self._resolve_link(base, tid, v, typecast))
        if typecast:
            self.store.save_table(table)  # typecast may have added select options
        return resolved

    def _resolve_link(self, base: Base, table_id: str, value: Any, typecast: bool) -> str:
        linked = base.table_by_id(table_id)
        if isinstance(value, str) and value in linked.records:
            return value
        if typecast and isinstance(value, str) and value:
            for record in linked.records.values():
                if record.cells.get(linked.primary_field_id) == value:
                    return record.id
            return self._insert(base, linked, {linked.primary_field_id: value}).id
        raise ApiError.typed(422, "ROW_DOES_NOT_EXIST",
                             f"Record ID {value} does not exist in table {linked.name}")

    def _insert(self, base: Base, table: Table, new_cells: dict[str, Any]) -> Record:
        record = Record(new_id("rec"), now_iso())
        table.records[record.id] = record
        self._apply(base, table, record, new_cells, replace=False)
        return record

    def _apply(self, base: Base, table: Table, record: Record, new_cells: dict[str, Any],
               replace: bool) -> None:
        target = {} if replace else dict(record.cells)
        target.update(new_cells)
        target = {fid: v for fid, v in target.items() if v is not None}
        for f in table.fields:
            if f.type == "multipleRecordLinks":
                before, after = set(record.cells.get(f.id) or []), set(target.get(f.id) or [])
                self._relink(base, f, record.id, before, after)
        record.cells = target
        self.store.save_record(table, record)

    def _relink(self, base: Base, f: FieldDef, record_id: str, before: set[str], after: set[str]) -> None:
        """Keep the inverse field of link `f` in step when a record's links change."""
        inverse_id = (f.options or {}).get("inverseLinkFieldId")
        if not inverse_id or before == after:
            return
        linked = base.table_by_id(f.options["linkedTableId"])
        for other_id in before ^ after:
            other = linked.records.get(other_id)
            if other is None:
                continue
            current = [rid for rid in other.cells.get(inverse_id, []) if rid != record_id]
            if other_id in after:
                current.append(record_id)
            if current:
                other.cells[inverse_id] = current
            else:
                other.cells.pop(inverse_id, None)
            self.store.save_record(linked, other)


def _fields_of(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or not isinstance(item.get("fields", {}), dict):
        raise invalid_request("Each record needs a fields object")
    return item.get("fields", {})


def _batch(body: dict[str, Any], verb: str) -> list[dict[str, Any]]:
    items = body.get("records")
    if not isinstance(items, list) or not items:
        raise invalid_request("records must be a non-empty array")
    if len(items) > MAX_RECORDS_PER_WRITE:
        raise ApiError.typed(422, "INVALID_RECORDS",
                             f"A maximum of {MAX_RECORDS_PER_WRITE} records can be {verb} per request "
                             f"but you have provided {len(items)}.")
    return items


def _flag(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _int_param(params: dict[str, Any], name: str, default: int) -> int:
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise invalid_request(f"{name} must be an integer") from None


def _sort_key(value: Any) -> tuple[int, Any]:
    """Blanks first, then numbers, dates, text (case-insensitive) — one total order."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (int, float)):
        return (1, value)
    if isinstance(value, dt.datetime):
        return (2, value.timestamp())
    return (3, formula.to_text(value).casefold())
