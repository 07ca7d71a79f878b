"""Question builders shared by the forms (Typeform Create API field objects)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


def question(ref: str, title: str, kind: str, required: bool = True, description: str = "",
             **properties: Any) -> dict[str, Any]:
    field: dict[str, Any] = {"ref": ref, "title": title, "type": kind, "validations": {"required": required}}
    if description:
        properties["description"] = description
    if properties:
        field["properties"] = properties
    return field


def choice(ref: str, title: str, options: type[StrEnum] | list[str], multiple: bool = False,
           required: bool = True) -> dict[str, Any]:
    labels = [o.value for o in options] if isinstance(options, type) else list(options)
    return question(ref, title, "multiple_choice", required, allow_multiple_selection=multiple,
                    choices=[{"label": label, "ref": f"{ref}-{i}"} for i, label in enumerate(labels)])
