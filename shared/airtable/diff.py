"""Diff before write: which records to create, which attributes of which records to change.

Pure: takes typed records, returns a plan of typed records. Only attributes set on a desired record
are compared, so a partial record (say, only `status`) never clears the columns it does not name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Sequence, TypeVar, cast

from schemas.records import META, AirtableRecord

R = TypeVar("R", bound=AirtableRecord)


@dataclass
class SyncPlan(Generic[R]):
    creates: list[R] = field(default_factory=list)
    updates: list[R] = field(default_factory=list)  # partial records: their id and the changed attributes
    unchanged: int = 0


def changed_attributes(desired: AirtableRecord, current: AirtableRecord) -> set[str]:
    """The attributes set on `desired` whose value differs from `current`."""
    return {name for name in desired.model_fields_set - META
            if getattr(desired, name) != getattr(current, name)}


def partial(record: R, attributes: set[str], record_id: str | None) -> R:
    """A record that names only `attributes` (taken from `record`), addressed to `record_id`."""
    values = {name: getattr(record, name) for name in attributes}
    # built from values the record already validated; the plugin types model_construct per class
    return cast(R, type(record).model_construct(_fields_set={"record_id", *attributes}, record_id=record_id,
                                                **values))


def changes_to(desired: R, current: R) -> R | None:
    """The partial update that brings `current` to `desired`, or None when nothing differs."""
    changed = changed_attributes(desired, current)
    return partial(desired, changed, current.record_id) if changed else None


def update_of(current: R, values: dict[str, Any]) -> R | None:
    """The partial update that gives `current` these attribute values (None if it has them all)."""
    desired = cast(R, type(current).model_construct(_fields_set=set(values), **values))
    return changes_to(desired, current)


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
        elif (update := changes_to(record, current)) is not None:
            plan.updates.append(update)
        else:
            plan.unchanged += 1
    return plan
