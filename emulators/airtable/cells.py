"""Cell values: what each field type accepts on write (with and without typecast) and how it
reads back, as Airtable documents it."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Callable
from zoneinfo import ZoneInfo

from emulators.airtable.errors import ApiError
from emulators.airtable.store import FieldDef, new_id

TEXT_TYPES = {"singleLineText", "multilineText", "richText", "email", "url", "phoneNumber"}
NUMBER_TYPES = {"number", "percent", "currency", "duration"}
COMPUTED_TYPES = {"formula", "rollup", "count", "multipleLookupValues", "autoNumber", "createdTime",
                  "lastModifiedTime", "createdBy", "lastModifiedBy", "button", "aiText"}
WRITABLE_TYPES = TEXT_TYPES | NUMBER_TYPES | {"checkbox", "singleSelect", "multipleSelects",
                                              "multipleRecordLinks", "date", "dateTime", "rating"}
CHOICE_COLORS = ("blueLight2", "cyanLight2", "tealLight2", "greenLight2", "yellowLight2",
                 "orangeLight2", "redLight2", "pinkLight2", "purpleLight2", "grayLight2")

# Resolves one value written into a link cell to a record id of the linked table, or raises.
LinkResolver = Callable[[str, Any], str]


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


def invalid(field: FieldDef, why: str = "") -> ApiError:
    detail = f": {why}" if why else ""
    return ApiError.typed(422, "INVALID_VALUE_FOR_COLUMN",
                          f'Field "{field.name}" cannot accept the provided value{detail}')


def write_value(field: FieldDef, value: Any, typecast: bool, resolve_link: LinkResolver) -> Any:
    """The value to store for `value` written into `field`, or None to clear the cell."""
    if field.type in COMPUTED_TYPES:
        raise ApiError.typed(422, "INVALID_VALUE_FOR_COLUMN",
                             f'Field "{field.name}" cannot accept a value because the field is computed')
    if is_empty(value):
        return None
    if field.type in TEXT_TYPES:
        return _text(field, value, typecast)
    if field.type in NUMBER_TYPES or field.type == "rating":
        return _number(field, value, typecast)
    if field.type == "checkbox":
        return _checkbox(field, value, typecast)
    if field.type == "singleSelect":
        return _choice(field, value, typecast)
    if field.type == "multipleSelects":
        items = [v.strip() for v in value.split(",")] if typecast and isinstance(value, str) else value
        if not isinstance(items, list):
            raise invalid(field, "expected an array of choice names")
        return list(dict.fromkeys(_choice(field, item, typecast) for item in items if not is_empty(item)))
    if field.type == "multipleRecordLinks":
        items = [value] if typecast and isinstance(value, str) else value
        if not isinstance(items, list):
            raise invalid(field, "expected an array of record IDs")
        return list(dict.fromkeys(resolve_link(field.options["linkedTableId"], item)
                                  for item in items))
    if field.type == "date":
        return _date(field, value, typecast)
    if field.type == "dateTime":
        return _datetime(field, value, typecast)
    raise invalid(field, f"the local Airtable does not support writing {field.type} fields")


def _text(field: FieldDef, value: Any, typecast: bool) -> str:
    if isinstance(value, str):
        return value
    if typecast and isinstance(value, (int, float, bool)):
        return str(value)
    raise invalid(field)


def _number(field: FieldDef, value: Any, typecast: bool) -> int | float:
    if typecast and isinstance(value, str):
        try:
            value = float(value.replace(",", ".").strip())
        except ValueError:
            raise invalid(field) from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise invalid(field)
    if field.type == "rating":
        top = (field.options or {}).get("max", 5)
        if value != int(value) or not 1 <= value <= top:
            raise invalid(field, f"a rating is a whole number from 1 to {top}")
    return int(value) if float(value).is_integer() and (field.options or {}).get("precision", 0) == 0 else value


def _checkbox(field: FieldDef, value: Any, typecast: bool) -> bool | None:
    if isinstance(value, bool):
        return value or None
    if typecast:
        return (str(value).strip().lower() in {"1", "true", "yes", "oui", "checked", "x"}) or None
    raise invalid(field)


def _choice(field: FieldDef, value: Any, typecast: bool) -> str:
    if not isinstance(value, str):
        if not typecast:
            raise invalid(field)
        value = str(value)
    choices = field.options.setdefault("choices", [])
    if any(c["name"] == value for c in choices):
        return value
    if not typecast:
        raise ApiError.typed(422, "INVALID_MULTIPLE_CHOICE_OPTIONS",
                             f'Insufficient permissions to create new select option ""{value}""')
    choices.append({"id": new_id("sel"), "name": value,
                    "color": CHOICE_COLORS[len(choices) % len(CHOICE_COLORS)]})
    return value


def _date(field: FieldDef, value: Any, typecast: bool) -> str:
    if not isinstance(value, str):
        raise invalid(field)
    try:
        return dt.date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        raise invalid(field, "expected a date like 2024-01-31") from None


def _datetime(field: FieldDef, value: Any, typecast: bool) -> str:
    if not isinstance(value, str):
        raise invalid(field)
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(field, "expected an ISO 8601 date and time") from None
    if parsed.tzinfo is None:  # ambiguous strings are read in the field's time zone
        zone = (field.options or {}).get("timeZone", "utc")
        parsed = parsed.replace(tzinfo=dt.timezone.utc if zone in ("utc", "client") else ZoneInfo(zone))
    parsed = parsed.astimezone(dt.timezone.utc)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}Z"


def string_value(field: FieldDef, value: Any, primary_of: Callable[[str, str], str]) -> str:
    """A cell as `cellFormat=string` shows it."""
    if field.type == "multipleRecordLinks":
        return ", ".join(primary_of(field.options["linkedTableId"], rid) for rid in value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if value is True:
        return "checked"
    return str(value)

