"""Where one person appears in the base: pure, from a snapshot.

A person is an email address and, when the base has one, the volunteer or structure record that
holds it. Their footprint is that record, their binômes, the check-ins on them (and which of those
their side wrote), the needs they were suggested for or that their structure filed, the antennas
that use the address, and every Journal entry that names them: by one of their Typeform responses,
by their record id, or by their email, phone or full name anywhere in its text (payloads are raw
answers, so the address may be typed in any case).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import phonenumbers

from schemas import options as opt
from schemas.records import Antenna, CheckIn, JournalEntry, Need, Pair, Structure, Volunteer
from shared.privacy.snapshot import Snapshot

MIN_NAME = 5  # a full name shorter than this (« Léa ») is too common to look for across the base


@dataclass(frozen=True)
class Person:
    email: str
    record: Volunteer | Structure | None = None

    @property
    def record_id(self) -> str:
        return self.record.record_id or "" if self.record is not None else ""

    @property
    def is_volunteer(self) -> bool:
        return isinstance(self.record, Volunteer)

    def full_name(self) -> str:
        if isinstance(self.record, Volunteer):
            return self.record.full_name
        return self.record.contact if isinstance(self.record, Structure) else ""

    def identifiers(self) -> list[str]:
        """What identifies this person wherever it is written: looked for in every table."""
        found = [self.email] if self.email else []
        if self.record is not None and self.record.phone:
            found += phone_spellings(self.record.phone)
        name = self.full_name()
        if len(name) >= MIN_NAME and " " in name.strip():
            found.append(name)
        return _longest_first(found)

    def names(self) -> list[str]:
        """Their names, also looked for in the records linked to them (a first name alone is too
        common to scrub from the rest of the base)."""
        parts: list[str] = []
        if isinstance(self.record, Volunteer):
            parts = [self.record.full_name, self.record.first_name, self.record.last_name]
        elif isinstance(self.record, Structure):
            parts = [self.record.contact]
        return _longest_first(self.identifiers() + [p for p in parts if len(p.strip()) >= 2])


def phone_spellings(e164: str) -> list[str]:
    """The ways a phone number gets typed: +33612345678, +33 6 12 34 56 78, 06 12 34 56 78, 0612345678."""
    try:
        number = phonenumbers.parse(e164, "FR")
    except phonenumbers.NumberParseException:
        return [e164]
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return list(dict.fromkeys([e164, international, national, national.replace(" ", "")]))


def _longest_first(values: list[str]) -> list[str]:
    return sorted({v.strip() for v in values if v.strip()}, key=lambda v: (-len(v), v))


def pattern(values: list[str]) -> re.Pattern[str] | None:
    """Any of `values` as a whole word, in any case."""
    if not values:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(v) for v in values) + r")(?!\w)", re.IGNORECASE)


@dataclass
class Footprint:
    person: Person
    pairs: list[Pair] = field(default_factory=list)
    check_ins: list[CheckIn] = field(default_factory=list)
    own_check_ins: set[str] = field(default_factory=set)  # ids of the check-ins their side wrote
    needs: list[Need] = field(default_factory=list)
    antennas: list[Antenna] = field(default_factory=list)
    journal: list[JournalEntry] = field(default_factory=list)
    # Entries of the other side's check-ins on their binômes, which may name them.
    related_journal: list[JournalEntry] = field(default_factory=list)

    def related_tokens(self) -> set[str]:
        """The other side's check-ins on their binômes: kept, unless they name them."""
        return {c.typeform_token for c in self.check_ins if c.record_id not in self.own_check_ins} - {""}

    def tokens(self) -> set[str]:
        """Their Typeform responses known to the base: sign-ups and the check-ins they wrote."""
        record = self.person.record
        tokens = {record.first_token, record.typeform_token} if record is not None else set()
        tokens |= {c.typeform_token for c in self.check_ins if c.record_id in self.own_check_ins}
        tokens |= {e.external_ref for e in self.journal
                   if e.source == opt.JournalSource.TYPEFORM and ":" not in e.external_ref}
        return {t for t in tokens if t}


def people_with(snapshot: Snapshot, email: str) -> list[Person]:
    """The records holding this address (emails are stored lower-case; compared so anyway)."""
    wanted = email.strip().lower()
    records: list[Volunteer | Structure] = [*snapshot.volunteers, *snapshot.structures]
    found = [Person(wanted, r) for r in records if r.email.strip().lower() == wanted]
    return found or [Person(wanted)]


def footprint(snapshot: Snapshot, person: Person) -> Footprint:
    found = Footprint(person)
    record_id = person.record_id
    if record_id:
        side = "volunteer" if person.is_volunteer else "structure"
        found.pairs = [p for p in snapshot.pairs if record_id in getattr(p, side)]
        pair_ids = {p.record_id for p in found.pairs}
        author = opt.CheckInAuthor.MENTOR if person.is_volunteer else opt.CheckInAuthor.STRUCTURE
        found.check_ins = [c for c in snapshot.check_ins if set(c.pair) & pair_ids]
        found.own_check_ins = {c.record_id or "" for c in found.check_ins if c.author == author}
        need_ids = {n for p in found.pairs for n in p.need}
        found.needs = [n for n in snapshot.needs if n.record_id in need_ids or record_id in n.structure
                       or record_id in n.suggested_mentors or record_id in n.proposal]
    found.antennas = [a for a in snapshot.antennas if person.email and a.email.strip().lower() == person.email]
    known = {person.record.first_token, person.record.typeform_token} - {""} if person.record is not None else set()
    known |= {c.typeform_token for c in found.check_ins if c.record_id in found.own_check_ins} - {""}
    mentions = pattern(person.identifiers() + ([record_id] if record_id else []))
    found.journal = [e for e in snapshot.journal if e.external_ref in known or (
        mentions is not None and any(mentions.search(text) for text in (e.event, e.detail, e.payload)))]
    related, linked = found.related_tokens(), {e.record_id for e in found.journal}
    found.related_journal = [e for e in snapshot.journal if e.external_ref in related and e.record_id not in linked]
    return found
