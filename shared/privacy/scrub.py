"""What erasing people changes in the base: pure, from a snapshot and their footprints.

- their own record is anonymised, not deleted: its statistics (levels, subjects, slots, statuses,
  dates, capacity) stay counted and every link to it (binômes, needs, antenna) keeps pointing at a
  record, which now holds a neutral label and nothing that identifies anyone;
- check-in comments their side wrote are cleared; the other side's are kept, their names taken out;
- binômes and needs stay for the statistics: their texts lose the person's names, and an
  anonymised volunteer leaves the needs' suggestions and proposals so nobody can choose them;
- Journal entries that name them lose their payload (a raw answer, full of personal data in
  whatever spelling the person typed) and their names in the event and detail;
- everywhere else in the base, their email, phone and full name are replaced by the label (a field
  holding nothing else, like another record's email column, is emptied).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from schemas import options as opt
from schemas.records import META, AirtableRecord, Structure, Volunteer
from shared.airtable.diff import update_of
from shared.privacy.footprint import Footprint, Person, pattern
from shared.privacy.snapshot import Snapshot

VOLUNTEER_LABEL = "Bénévole anonymisé·e"
CONTACT_LABEL = "Contact anonymisé"
CLEARED_VOLUNTEER = ("first_name", "last_name", "email", "phone", "postcode", "town", "association", "motivation",
                     "constraints", "envelope_id", "email_key", "email_message_id", "typeform_token", "first_token")
CLEARED_STRUCTURE = ("contact", "email", "phone", "envelope_id", "email_key", "email_message_id", "typeform_token",
                     "first_token", "duplicate_of")


def label_of(person: Person) -> str:
    """The neutral label that replaces a person's name (the record id tells records apart)."""
    if person.record is None:
        return "Personne anonymisée"
    base = VOLUNTEER_LABEL if person.is_volunteer else CONTACT_LABEL
    return f"{base} {person.record_id[-6:]}"


def anonymous_values(record: Volunteer | Structure, now: dt.datetime) -> dict[str, Any]:
    values: dict[str, Any] = {"anonymised_at": now, "retention_warned_at": None, "resend_email": False}
    cleared = CLEARED_VOLUNTEER if isinstance(record, Volunteer) else CLEARED_STRUCTURE
    values.update({name: "" for name in cleared})
    if isinstance(record, Volunteer):
        values["full_name"] = label_of(Person(record.email, record))
        values["status"] = opt.VolunteerStatus.LEFT
    return values


def scrub_text(text: str, found: re.Pattern[str] | None, label: str) -> str:
    if found is None or not text:
        return text
    scrubbed = found.sub(label, text)
    if scrubbed != text and scrubbed.strip() == label:
        return ""  # the field held only the identifier (another record's email column, say)
    return scrubbed


@dataclass
class ScrubPlan:
    updates: dict[str, list[AirtableRecord]] = field(default_factory=dict)  # table key -> partial records

    @property
    def count(self) -> int:
        return sum(len(records) for records in self.updates.values())


class _Desired:
    """The values to write, record by record, gathered before the diff."""

    def __init__(self, snapshot: Snapshot):
        self.records = {(r.table_key, r.record_id or ""): r for table in snapshot.tables() for r in table}
        self.values: dict[tuple[str, str], dict[str, Any]] = {}

    def current(self, record: AirtableRecord, name: str) -> Any:
        return self.values.get((record.table_key, record.record_id or ""), {}).get(name, getattr(record, name))

    def set(self, record: AirtableRecord, **values: Any) -> None:
        self.values.setdefault((record.table_key, record.record_id or ""), {}).update(values)

    def scrub(self, record: AirtableRecord, names: Sequence[str], found: re.Pattern[str] | None, label: str) -> None:
        for name in names:
            value = self.current(record, name)
            if isinstance(value, str) and (scrubbed := scrub_text(value, found, label)) != value:
                self.set(record, **{name: scrubbed})

    def plan(self) -> ScrubPlan:
        plan = ScrubPlan()
        for key, values in self.values.items():
            update = update_of(self.records[key], values)
            if update is not None:
                plan.updates.setdefault(key[0], []).append(update)
        return plan


def text_fields(record: AirtableRecord) -> list[str]:
    return [name for name in type(record).model_fields if name not in META and isinstance(getattr(record, name), str)]


def scrub_plan(snapshot: Snapshot, footprints: Sequence[Footprint], now: dt.datetime) -> ScrubPlan:
    desired = _Desired(snapshot)
    for found in footprints:
        _erase_one(desired, found, now)
    for found in footprints:  # then their identifiers, wherever else they were typed
        everywhere, label = pattern(found.person.identifiers()), label_of(found.person)
        for table in snapshot.tables():
            for record in table:
                desired.scrub(record, text_fields(record), everywhere, label)
    return desired.plan()


def _erase_one(desired: _Desired, found: Footprint, now: dt.datetime) -> None:
    person, label = found.person, label_of(found.person)
    names = pattern(person.names())
    if person.record is not None:
        desired.set(person.record, **anonymous_values(person.record, now))
    for pair in found.pairs:
        desired.scrub(pair, ("name", "alert", "reason_detail"), names, label)
    for check_in in found.check_ins:
        if check_in.record_id in found.own_check_ins:
            desired.set(check_in, comment="")
        else:
            desired.scrub(check_in, ("comment",), names, label)
    for need in found.needs:
        desired.scrub(need, ("explanations", "difficulties"), names, label)
        if person.is_volunteer:
            desired.set(need, suggested_mentors=[m for m in desired.current(need, "suggested_mentors")
                                                 if m != person.record_id],
                        proposal=[m for m in desired.current(need, "proposal") if m != person.record_id])
    for entry in found.journal:
        desired.set(entry, payload="")
        desired.scrub(entry, ("event", "detail"), names, label)
    for entry in found.related_journal:  # the other side's answer, kept for replay, without their names
        desired.scrub(entry, ("event", "detail", "payload"), names, label)
