"""The Meta API: base schema, create table, create and update fields.

Field options are stored and returned in Airtable's read format (choice ids, link inverses,
date formats), since pyairtable validates them on read.
"""

from __future__ import annotations

import copy
from typing import Any

from emulators.airtable import cells
from emulators.airtable.errors import ApiError, invalid_request
from emulators.airtable.store import Base, FieldDef, Store, Table, ViewDef, new_id

DATE_FORMATS = {"local": "l", "friendly": "LL", "us": "M/D/YYYY", "european": "D/M/YYYY", "iso": "YYYY-MM-DD"}
TIME_FORMATS = {"12hour": "h:mma", "24hour": "HH:mm"}
REQUIRED_OPTIONS = {
    "number": ("precision",), "percent": ("precision",), "currency": ("precision", "symbol"),
    "checkbox": ("icon", "color"), "rating": ("max", "icon", "color"), "date": ("dateFormat",),
    "dateTime": ("timeZone", "dateFormat", "timeFormat"), "singleSelect": ("choices",),
    "multipleSelects": ("choices",), "multipleRecordLinks": ("linkedTableId",),
}


def invalid_field(message: str) -> ApiError:
    return ApiError.typed(422, "INVALID_FIELD_TYPE_OR_OPTIONS", message)


class Meta:
    def __init__(self, store: Store):
        self.store = store

    def schema(self, base: Base, include: list[str]) -> dict[str, Any]:
        return {"tables": [self.table_json(t, "visibleFieldIds" in include) for t in base.tables]}

    def table_json(self, table: Table, visible_field_ids: bool = False) -> dict[str, Any]:
        views = []
        for view in table.views:
            entry = {"id": view.id, "name": view.name, "type": view.type}
            if visible_field_ids:
                entry["visibleFieldIds"] = [f.id for f in table.fields]
            views.append(entry)
        result = {"id": table.id, "name": table.name, "primaryFieldId": table.primary_field_id,
                  "fields": [field_json(f) for f in table.fields], "views": views}
        if table.description:
            result["description"] = table.description
        return result

    def create_table(self, base: Base, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise invalid_request("A table needs a name")
        if any(t.name.casefold() == name.casefold() for t in base.tables):
            raise ApiError.typed(422, "DUPLICATE_TABLE_NAME", f'A table named "{name}" already exists')
        specs = body.get("fields")
        if not isinstance(specs, list) or not specs:
            raise invalid_request("A table needs at least one field")
        table = Table(new_id("tbl"), base.id, name, "", [], [ViewDef(new_id("viw"), "Grid view")],
                      body.get("description"))
        fields = []
        for spec in specs:
            f = self._new_field(base, table, spec, taken=[x.name for x in fields])
            if f.type == "multipleRecordLinks":
                raise invalid_field("Create link fields after the table, with the create-field endpoint")
            fields.append(f)
        if fields[0].type not in cells.TEXT_TYPES | cells.NUMBER_TYPES | {"date", "dateTime"}:
            raise invalid_field(f"A field of type {fields[0].type} cannot be the primary field")
        table.fields, table.primary_field_id = fields, fields[0].id
        base.tables.append(table)
        self.store.save_table(table)
        return self.table_json(table)

    def update_table(self, base: Base, table: Table, body: dict[str, Any]) -> dict[str, Any]:
        if "name" in body:
            name = body["name"]
            if not isinstance(name, str) or not name.strip():
                raise invalid_request("A table needs a name")
            if any(t is not table and t.name.casefold() == name.casefold() for t in base.tables):
                raise ApiError.typed(422, "DUPLICATE_TABLE_NAME", f'A table named "{name}" already exists')
            table.name = name
        if "description" in body:
            table.description = body["description"]
        self.store.save_table(table)
        return self.table_json(table)

    def create_field(self, base: Base, table: Table, body: dict[str, Any]) -> dict[str, Any]:
        f = self._new_field(base, table, body, taken=[x.name for x in table.fields])
        table.fields.append(f)
        if f.type == "multipleRecordLinks":
            self._add_inverse(base, table, f)
        self.store.save_table(table)
        return field_json(f)

    def update_field(self, table: Table, field_id: str, body: dict[str, Any]) -> dict[str, Any]:
        f = next((x for x in table.fields if x.id == field_id or x.name == field_id), None)
        if f is None:
            raise ApiError.not_found()
        extra = set(body) - {"name", "description"}
        if extra:
            raise invalid_request(f"Only name and description can be updated, not {', '.join(sorted(extra))}")
        if "name" in body:
            self._check_name(body["name"], [x.name for x in table.fields if x is not f])
            f.name = body["name"]
        if "description" in body:
            f.description = body["description"]
        self.store.save_table(table)
        return field_json(f)

    # --- helpers --------------------------------------------------------------------------

    def _new_field(self, base: Base, table: Table, spec: Any, taken: list[str]) -> FieldDef:
        if not isinstance(spec, dict):
            raise invalid_request("A field must be an object")
        name, field_type = spec.get("name"), spec.get("type")
        self._check_name(name, taken)
        if field_type in cells.COMPUTED_TYPES:
            raise invalid_field(f"Creating {field_type} fields through the API is not supported")
        if field_type not in cells.WRITABLE_TYPES:
            raise invalid_field(f'Unknown or unsupported field type "{field_type}"')
        options = copy.deepcopy(spec.get("options") or {})
        missing = [o for o in REQUIRED_OPTIONS.get(field_type, ()) if o not in options]
        if missing:
            raise invalid_field(f'Field "{name}" of type {field_type} needs options: {", ".join(missing)}')
        return FieldDef(new_id("fld"), name, field_type, self._read_options(base, table, field_type, options),
                        spec.get("description"))

    @staticmethod
    def _check_name(name: Any, taken: list[str]) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ApiError.typed(422, "DUPLICATE_OR_EMPTY_FIELD_NAME", "A field needs a name")
        if name.casefold() in (t.casefold() for t in taken):
            raise ApiError.typed(422, "DUPLICATE_OR_EMPTY_FIELD_NAME", f'A field named "{name}" already exists')

    @staticmethod
    def _read_options(base: Base, table: Table, field_type: str, options: dict[str, Any]) -> dict[str, Any] | None:
        if field_type in ("singleSelect", "multipleSelects"):
            choices = []
            for i, choice in enumerate(options["choices"]):
                if not isinstance(choice, dict) or not choice.get("name"):
                    raise invalid_field("Each choice needs a name")
                choices.append({"id": new_id("sel"), "name": choice["name"],
                                "color": choice.get("color", cells.CHOICE_COLORS[i % len(cells.CHOICE_COLORS)])})
            return {"choices": choices}
        if field_type == "multipleRecordLinks":
            linked = next((t for t in base.tables if t.id == options["linkedTableId"]), None)
            if linked is None:
                raise invalid_field(f'No table with id "{options["linkedTableId"]}" in this base')
            return {"linkedTableId": linked.id, "isReversed": False, "prefersSingleRecordLink": False}
        if field_type in ("date", "dateTime"):
            fmt = options["dateFormat"]
            if fmt.get("name") not in DATE_FORMATS:
                raise invalid_field(f'Unknown date format "{fmt.get("name")}"')
            options["dateFormat"] = {"name": fmt["name"], "format": DATE_FORMATS[fmt["name"]]}
            if field_type == "dateTime":
                tfmt = options["timeFormat"]
                if tfmt.get("name") not in TIME_FORMATS:
                    raise invalid_field(f'Unknown time format "{tfmt.get("name")}"')
                options["timeFormat"] = {"name": tfmt["name"], "format": TIME_FORMATS[tfmt["name"]]}
        return options or None

    def _add_inverse(self, base: Base, table: Table, f: FieldDef) -> None:
        """Airtable adds the other side of a link to the linked table, named after this table."""
        linked = base.table_by_id(f.options["linkedTableId"])
        if linked is table:
            return
        taken = {x.name.casefold() for x in linked.fields}
        name, n = table.name, 1
        while name.casefold() in taken:
            n += 1
            name = f"{table.name} {n}"
        inverse = FieldDef(new_id("fld"), name, "multipleRecordLinks",
                           {"linkedTableId": table.id, "isReversed": False,
                            "prefersSingleRecordLink": False, "inverseLinkFieldId": f.id})
        f.options["inverseLinkFieldId"] = inverse.id
        linked.fields.append(inverse)
        self.store.save_table(linked)


def field_json(f: FieldDef) -> dict[str, Any]:
    result: dict[str, Any] = {"id": f.id, "name": f.name, "type": f.type}
    if f.description:
        result["description"] = f.description
    if f.options:
        result["options"] = f.options
    return result
