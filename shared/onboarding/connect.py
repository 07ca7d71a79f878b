"""DocuSign Connect events: the agreement's and the charter's statuses on their records.

An event is journaled by envelope, event and time (`docusign:<envelope>:<event>:<time>`), so a
retried delivery is a no-op. Statuses only move forward (`rules.envelope_after`): Connect retries
and may reorder, and a late « sent » never overwrites « signed ». When an agreement is signed the
volunteer becomes « Disponible » and is attached to an antenna for their first contact; when one is
declined the coordinators get an alert. Unknown events answer 2xx and are journaled.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from pyairtable.formulas import EQ, Field

from schemas import options as opt
from schemas.records import Antenna, Structure, Volunteer
from shared import jsonbody
from shared.airtable import AirtableGateway, AirtableRejected
from shared.airtable.diff import update_of
from shared.alerts import Alerts
from shared.clock import now
from shared.errors import BinomeError
from shared.esign.port import BASE_FIELD, REFERENCE_FIELD
from shared.journal import FINAL, Journal
from shared.onboarding import antennas, rules

log = logging.getLogger(__name__)
SOURCE = opt.JournalSource.DOCUSIGN
KIND = "événement DocuSign"
ANTENNAS_FRESH_FOR = 300  # seconds: antennas change rarely; read them again after this long
Person = Volunteer | Structure


class NotYetRecorded(BinomeError):
    """The event is about an envelope whose creation binome has not recorded yet: try again later."""


@dataclass
class ConnectOutcome:
    status: str
    detail: str


class ConnectService:
    def __init__(self, gateway: AirtableGateway, alerts: Alerts):
        self.gateway = gateway
        self.journal = Journal(gateway)
        self.alerts = alerts
        self._antennas: tuple[float, list[Antenna]] | None = None

    def receive(self, raw: bytes) -> ConnectOutcome:
        text = raw.decode("utf-8", errors="replace")
        try:
            payload = jsonbody.loads(raw)
            event, data = str(payload["event"]), payload["data"]
            envelope_id = str(data["envelopeId"])
        except (ValueError, KeyError, TypeError):
            reference = "docusign:sha256:" + hashlib.sha256(raw).hexdigest()
            return self._journal(reference, opt.JournalStatus.REJECTED, "Événement DocuSign illisible", text,
                                 "Contenu illisible.")
        reference = f"docusign:{envelope_id}:{event}:{payload.get('generatedDateTime', '')}"
        entry = self.journal.find(reference)
        if entry is not None and entry.status in FINAL:
            return ConnectOutcome("Doublon", f"Déjà traité ({entry.status}).")
        status = rules.CONNECT_EVENTS.get(event)
        if status is None:
            return self._journal(reference, opt.JournalStatus.DONE, f"DocuSign : {event}", text,
                                 f"Événement non suivi par binome : {event}.")
        person = self._person(envelope_id, data)
        if person is None:
            return self._journal(reference, opt.JournalStatus.REJECTED, f"DocuSign : {event}", text,
                                 f"Enveloppe {envelope_id} inconnue de binome.")
        if person.envelope_id and person.envelope_id != envelope_id:
            return self._journal(reference, opt.JournalStatus.DONE, f"DocuSign : {event}", text,
                                 f"Enveloppe {envelope_id} remplacée depuis par {person.envelope_id} : fiche inchangée.")
        if not person.envelope_id:
            raise NotYetRecorded(f"enveloppe {envelope_id} pas encore enregistrée sur {person.record_id}")
        detail = self._apply(person, envelope_id, status)
        return self._journal(reference, opt.JournalStatus.DONE, f"DocuSign : {event}", text, detail)

    def knows(self, raw: bytes) -> bool:
        """Whether this base holds the record an event's envelope is for (an event that names no
        base, while binome runs on several, is looked for in each)."""
        try:
            payload = jsonbody.loads(raw)
            data = payload["data"]
            return self._person(str(data["envelopeId"]), data) is not None
        except (ValueError, KeyError, TypeError):
            return False

    def _apply(self, person: Person, envelope_id: str, status: opt.EnvelopeStatus) -> str:
        new = rules.envelope_after(person.envelope_status, status)
        if new is None:
            return f"Fiche {person.record_id} déjà « {person.envelope_status} » : rien à changer."
        changes: dict[str, Any] = {"envelope_status": new}
        if new == opt.EnvelopeStatus.SIGNED:
            changes["envelope_signed_at"] = now()
        if isinstance(person, Volunteer):
            forward = rules.volunteer_status_after(person.status, new)
            if forward is not None:
                changes["status"] = forward
            if new == opt.EnvelopeStatus.SIGNED and not person.antenna:
                changes.update(self._antenna_for(person))
        update = update_of(person, changes)
        if update is not None:
            self.gateway.update([update])
        if new == opt.EnvelopeStatus.DECLINED:
            who = person.full_name if isinstance(person, Volunteer) else person.name
            self.alerts.raise_once(f"refus:{envelope_id}", f"Document refusé : {who}",
                                   f"{who} ({person.record_id}) a refusé de signer ({envelope_id}). "
                                   "Un appel permettra de comprendre pourquoi.")
        return f"Fiche {person.record_id} : « {new} »."

    def _antenna_for(self, volunteer: Volunteer) -> dict[str, Any]:
        choice = antennas.choose(volunteer, self._all_antennas())
        if choice is None:
            return {}
        return {"antenna": [choice.antenna.record_id], "antenna_since": now()}

    def _all_antennas(self) -> list[Antenna]:
        if self._antennas is None or time.monotonic() - self._antennas[0] > ANTENNAS_FRESH_FOR:
            self._antennas = (time.monotonic(), self.gateway.all(Antenna))
        return self._antennas[1]

    def _person(self, envelope_id: str, data: dict[str, Any]) -> Person | None:
        """The record the envelope is for: by the reference it carries when Connect sends custom
        fields, else by the envelope id recorded on it."""
        reference = _reference_in(data)
        if reference:
            record_id, _, kind = reference.partition(":")
            model: type[Volunteer] | type[Structure] = Volunteer if kind == "convention" else Structure
            try:
                return self.gateway.get(model, record_id)
            except AirtableRejected:
                return None
        volunteer = self.gateway.first(Volunteer, EQ(Field(Volunteer.label("envelope_id")), envelope_id))
        if volunteer is not None:
            return volunteer
        return self.gateway.first(Structure, EQ(Field(Structure.label("envelope_id")), envelope_id))

    def _journal(self, reference: str, status: opt.JournalStatus, event: str, payload: str,
                 detail: str) -> ConnectOutcome:
        self.journal.record(reference, SOURCE, KIND, status, event, detail, payload)
        log.info("docusign %s: %s", reference, status.value)
        return ConnectOutcome(status.value, detail)


def _reference_in(data: dict[str, Any]) -> str:
    return _custom_field(data, REFERENCE_FIELD)


def base_in(raw: bytes) -> str | None:
    """The base an event's envelope was sent from (its custom field), if it names one."""
    try:
        payload = jsonbody.loads(raw)
        return _custom_field(payload["data"], BASE_FIELD) or None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _custom_field(data: dict[str, Any], name: str) -> str:
    fields = ((data.get("envelopeSummary") or {}).get("customFields") or {}).get("textCustomFields") or []
    return next((str(f.get("value", "")) for f in fields if f.get("name") == name), "")
