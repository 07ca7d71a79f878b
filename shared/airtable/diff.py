"""Diff before write: which records to create, which fields of which records to change.

Pure: takes typed records, returns a plan. Only attributes set on a desired record are
compared, so a partial record (say, only `status`) never clears the columns it does not name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Sequence, TypeVar

from schemas.records import AirtableRecord

R = TypeVar("R", bound=AirtableRecord)


@dataclass
class SyncPlan(Generic[R]):
    creates: list[R] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)  # {"id", "fields"} with changed fields only
    unchanged: int = 0


def changed_fields(desired: AirtableRecord, current: AirtableRecord) -> dict[str, Any]:
    """The Airtable fields of `desired` whose value differs from `current`."""
    wanted = desired.to_fields()
    return {desired.label(name): wanted[desired.label(name)]
            for name in desired.model_fields_set - {"record_id"}
            if getattr(desired, name) != getattr(current, name)}


def plan_sync(desired: Sequence[R], existing: Sequence[R], key: str) -> SyncPlan[R]:
    """Match `desired` to `existing` records on `key` and keep only real changes.

    Airtable cannot enforce unique keys; where a coordinator left two records with the same key,
    the oldest listed one is the one kept in step.
    """
    by_key: dict[Any, R] = {}
    for record in existing:
        by_key.setdefault(getattr(record, key), record)
    seen: set[Any] = set()
    plan: SyncPlan[R] = SyncPlan()
    for record in desired:
        value = getattr(record, key)
        if value in seen:
            raise ValueError(f"two desired records share {key}={value!r}")
        seen.add(value)
        current = by_key.get(value)
        if current is None:
            plan.creates.append(record)
            continue
        changes = changed_fields(record, current)
        if changes:
            plan.updates.append({"id": current.record_id, "fields": changes})
        else:
            plan.unchanged += 1
    return plan
