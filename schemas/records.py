"""Typed records: one pydantic model per table, English attributes, Airtable labels as aliases.

The aliases come from `schemas.base`, so a model attribute that is not in the base fails at
import time instead of at the first write.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, Mapping, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas import base
from schemas import options as opt

RecordId = str
META = frozenset({"record_id", "created_time"})  # Airtable's own data on a record, not fields


def _airtable_config(table_key: str) -> ConfigDict:
    spec = base.table(table_key)
    return ConfigDict(
        alias_generator=lambda name: spec.field(name).label,
        populate_by_name=True,
        use_enum_values=True,
        extra="ignore",  # coordinators may add their own columns; we ignore them
    )


class AirtableRecord(BaseModel):
    """A row of one table. `record_id` and `created_time` are Airtable's, not fields."""

    table_key: ClassVar[str]
    record_id: RecordId | None = Field(default=None, alias="id", exclude=True)
    created_time: dt.datetime | None = Field(default=None, alias="createdTime", exclude=True)

    @classmethod
    def table_label(cls) -> str:
        return base.table_label(cls.table_key)

    @classmethod
    def label(cls, attribute: str) -> str:
        return base.field_label(cls.table_key, attribute)

    @classmethod
    def from_airtable(cls, record: Mapping[str, Any]) -> Self:
        return cls.model_validate({**record["fields"], "id": record["id"], "createdTime": record.get("createdTime")})

    @field_validator("*", mode="after")
    @classmethod
    def _airtable_precision(cls, value: Any) -> Any:
        # Airtable keeps milliseconds: finer values would look changed after every round trip.
        if isinstance(value, dt.datetime):
            return value.replace(microsecond=value.microsecond // 1000 * 1000)
        return value

    def to_fields(self) -> dict[str, Any]:
        """The Airtable `fields` of this record: only the attributes that were set, by label."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class Volunteer(AirtableRecord):
    table_key = "volunteers"
    model_config = _airtable_config("volunteers")

    full_name: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    postcode: str = ""
    town: str = ""
    levels: list[opt.Level] = []
    subjects: list[opt.Subject] = []
    slots: list[opt.Slot] = []
    mode: opt.Mode | None = None
    max_distance: opt.Distance | None = None
    capacity: int | None = None
    hours_per_week: float | None = None
    association: str = ""
    motivation: str = ""
    constraints: str = ""
    status: opt.VolunteerStatus | None = None
    envelope_status: opt.EnvelopeStatus | None = None
    envelope_id: str = ""
    envelope_prepared_at: dt.datetime | None = None
    envelope_sent_at: dt.datetime | None = None
    envelope_reminded_at: dt.datetime | None = None
    envelope_signed_at: dt.datetime | None = None
    envelope_attempts: int | None = None
    email_status: opt.EmailStatus | None = None
    email_kind: opt.EmailKind | None = None
    email_key: str = ""
    email_prepared_at: dt.datetime | None = None
    email_sent_at: dt.datetime | None = None
    email_message_id: str = ""
    email_attempts: int | None = None
    resend_email: bool = False
    antenna: list[RecordId] = []
    antenna_since: dt.datetime | None = None
    first_contact_on: dt.date | None = None
    waiting: str = ""
    consent: bool = False
    consent_at: dt.datetime | None = None
    consent_version: str = ""
    retention_warned_at: dt.datetime | None = None
    anonymised_at: dt.datetime | None = None
    typeform_token: str = ""
    first_token: str = ""
    registered_at: dt.datetime | None = None
    last_response_at: dt.datetime | None = None
    pairs: list[RecordId] = []
    suggested_for: list[RecordId] = []
    proposed_for: list[RecordId] = []


class Structure(AirtableRecord):
    table_key = "structures"
    model_config = _airtable_config("structures")

    name: str = ""
    type: opt.StructureType | None = None
    email: str = ""
    contact: str = ""
    phone: str = ""
    postcode: str = ""
    town: str = ""
    envelope_status: opt.EnvelopeStatus | None = None
    envelope_id: str = ""
    envelope_prepared_at: dt.datetime | None = None
    envelope_sent_at: dt.datetime | None = None
    envelope_reminded_at: dt.datetime | None = None
    envelope_signed_at: dt.datetime | None = None
    envelope_attempts: int | None = None
    email_status: opt.EmailStatus | None = None
    email_kind: opt.EmailKind | None = None
    email_key: str = ""
    email_prepared_at: dt.datetime | None = None
    email_sent_at: dt.datetime | None = None
    email_message_id: str = ""
    email_attempts: int | None = None
    resend_email: bool = False
    typeform_token: str = ""
    first_token: str = ""
    registered_at: dt.datetime | None = None
    last_response_at: dt.datetime | None = None
    duplicate_of: str = ""
    retention_warned_at: dt.datetime | None = None
    anonymised_at: dt.datetime | None = None
    needs: list[RecordId] = []
    pairs: list[RecordId] = []


class Need(AirtableRecord):
    table_key = "needs"
    model_config = _airtable_config("needs")

    reference: str = ""
    structure: list[RecordId] = []
    level: opt.Level | None = None
    subjects: list[opt.Subject] = []
    difficulties: str = ""
    slots: list[opt.Slot] = []
    mode: opt.Mode | None = None
    status: opt.NeedStatus | None = None
    suggested_mentors: list[RecordId] = []
    explanations: str = ""
    suggested_at: dt.datetime | None = None
    proposal: list[RecordId] = []
    proposed_at: dt.datetime | None = None
    proposal_approved: bool = False
    pair: list[RecordId] = []
    key: str = ""


class Pair(AirtableRecord):
    table_key = "pairs"
    model_config = _airtable_config("pairs")

    name: str = ""
    need: list[RecordId] = []
    volunteer: list[RecordId] = []
    structure: list[RecordId] = []
    status: opt.PairStatus | None = None
    known_status: opt.PairStatus | None = None
    key: str = ""
    proposed_at: dt.datetime | None = None
    answer_before: dt.datetime | None = None
    reason: opt.PairReason | None = None
    reason_detail: str = ""
    started_on: dt.date | None = None
    last_check_in: dt.date | None = None
    next_check_in: dt.date | None = None
    asked_on: dt.date | None = None
    reminded_on: dt.date | None = None
    alert: str = ""
    check_ins: list[RecordId] = []


class CheckIn(AirtableRecord):
    table_key = "check_ins"
    model_config = _airtable_config("check_ins")

    title: str = ""
    pair: list[RecordId] = []
    date: dt.date | None = None
    author: opt.CheckInAuthor | None = None
    mood: opt.CheckInMood | None = None
    sessions: int | None = None
    comment: str = ""
    needs_help: bool = False
    typeform_token: str = ""


class Antenna(AirtableRecord):
    table_key = "antennas"
    model_config = _airtable_config("antennas")

    name: str = ""
    association: str = ""
    departements: list[opt.Departement] = []
    email: str = ""
    volunteers: list[RecordId] = []


class JournalEntry(AirtableRecord):
    table_key = "journal"
    model_config = _airtable_config("journal")

    event: str = ""
    source: opt.JournalSource | None = None
    type: str = ""
    external_ref: str = ""
    status: opt.JournalStatus | None = None
    detail: str = ""
    received_at: dt.datetime | None = None
    payload: str = ""
    attempts: int | None = None
    replay_requested: bool = False


MODELS: tuple[type[AirtableRecord], ...] = (Volunteer, Structure, Need, Pair, CheckIn, Antenna, JournalEntry)
