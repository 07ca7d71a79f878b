"""SendGrid's Event Webhook: what became of each acknowledgement, on its person's record.

SendGrid posts events in batches. Each event carries the custom args binome sent (`binome_table`,
`binome_record`), so its record is read directly; only events of the message the record holds
count, and only forward (a late « processed » never undoes « delivered »; a bounce after
delivery does count). A bounce, a drop or a spam report makes the address unusable: the record
says so and the coordinators get one alert per message, since someone must call that person.

A batch is journaled once (by the hash of its events' ids). An event about a message whose send
binome has not recorded yet answers 503: SendGrid delivers the batch again later, and events
already applied change nothing the second time. A send that `reconcile` settled « Incertain » (its
process died before recording it) is never recorded; its events, named by the record and the
attempt they were sent for, say that it went: the record takes their message and their status,
and the batch is no longer refused for the 72 hours SendGrid retries it.
"""

from __future__ import annotations

import collections
import hashlib
import logging
from dataclasses import dataclass
from typing import Any


from schemas import options as opt
from schemas.records import Structure, Volunteer
from shared import jsonbody
from shared.airtable import AirtableGateway
from shared.airtable.diff import update_of
from shared.alerts import Alerts
from shared.journal import FINAL, Journal
from shared.onboarding import rules
from shared.onboarding.connect import NotYetRecorded

log = logging.getLogger(__name__)
SOURCE = opt.JournalSource.SENDGRID
KIND = "événements SendGrid"
MODELS: dict[str, type[Volunteer] | type[Structure]] = {"volunteers": Volunteer, "structures": Structure}
IDS_PER_QUERY = 50


@dataclass
class EventsOutcome:
    status: str
    detail: str


class EventsService:
    def __init__(self, gateway: AirtableGateway, alerts: Alerts):
        self.gateway = gateway
        self.journal = Journal(gateway)
        self.alerts = alerts

    def receive(self, raw: bytes) -> EventsOutcome:
        text = raw.decode("utf-8", errors="replace")
        try:
            events = jsonbody.loads(raw)
        except ValueError:
            events = None
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            return self._journal("sendgrid:sha256:" + hashlib.sha256(raw).hexdigest(), opt.JournalStatus.REJECTED,
                                 text, "Contenu illisible : une liste d'événements est attendue.")
        ids = sorted(str(e.get("sg_event_id", "")) for e in events)
        reference = "sendgrid:" + hashlib.sha256("\n".join(ids).encode()).hexdigest()[:32]
        entry = self.journal.find(reference)
        if entry is not None and entry.status in FINAL:
            return EventsOutcome("Doublon", f"Déjà traité ({entry.status}).")
        ours = [e for e in events if e.get("binome_table") in MODELS and str(e.get("binome_record", "")).startswith("rec")]
        counts = collections.Counter(str(e.get("event")) for e in events)
        changed, waiting = self._apply(ours)
        detail = (f"{len(events)} événement(s) ({', '.join(f'{n} {k}' for k, n in sorted(counts.items()))}) ; "
                  f"{changed} fiche(s) mise(s) à jour.")
        if waiting:
            raise NotYetRecorded(f"{waiting} envoi(s) pas encore enregistré(s)")
        return self._journal(reference, opt.JournalStatus.DONE, text, detail)

    def _apply(self, events: list[dict[str, Any]]) -> tuple[int, int]:
        """Apply the events to their records; (records changed, events about unrecorded sends)."""
        by_record: dict[tuple[str, str], list[dict[str, Any]]] = collections.defaultdict(list)
        for event in events:
            by_record[(str(event["binome_table"]), str(event["binome_record"]))].append(event)
        updates, waiting = [], 0
        for table, model in MODELS.items():
            wanted = sorted(rid for t, rid in by_record if t == table)
            for person in self.gateway.by_ids(model, wanted, per_request=IDS_PER_QUERY):
                update, unrecorded = self._person_after(person, by_record[(table, person.record_id or "")])
                waiting += unrecorded
                if update is not None:
                    updates.append(update)
        for model in MODELS.values():
            self.gateway.update([u for u in updates if isinstance(u, model)])
        return len(updates), waiting

    def _person_after(self, person: Volunteer | Structure,
                      events: list[dict[str, Any]]) -> tuple[Volunteer | Structure | None, int]:
        status, unrecorded, recorded = person.email_status, 0, person.email_message_id
        for event in sorted(events, key=lambda e: int(e.get("timestamp") or 0)):
            message = str(event.get("sg_message_id", ""))
            if not recorded and is_the_uncertain_send(person, event):
                recorded = message.split(".")[0]  # SendGrid's event id starts with the send's X-Message-Id
            if not recorded:
                unrecorded += event.get("event") in rules.SENDGRID_EVENTS  # the send's outcome is on its way
                continue
            if not message.startswith(recorded):
                continue  # an older message to this person
            new = rules.email_after(status, str(event.get("event")))
            if new is not None:
                status = new
                if new.value in rules.UNUSABLE:
                    self._alert(person, new, event)
        changes: dict[str, Any] = {"email_status": status}
        if recorded != person.email_message_id:
            changes["email_message_id"] = recorded
        return update_of(person, changes), unrecorded

    def _alert(self, person: Volunteer | Structure, status: opt.EmailStatus, event: dict[str, Any]) -> None:
        who = person.full_name if isinstance(person, Volunteer) else f"{person.name} ({person.contact})"
        phone = f" Téléphone : {person.phone}." if person.phone else " Pas de téléphone connu."
        reason = event.get("reason") or event.get("type") or event.get("event")
        self.alerts.raise_once(f"adresse:{person.record_id}:{person.email_message_id}",
                               f"Adresse email inutilisable : {who}",
                               f"L'email envoyé à {person.email} est « {status.value} » ({reason}). Sans email, "
                               f"la personne ne recevra ni accusé ni document à signer : appelez-la.{phone} "
                               f"Fiche {person.record_id}.")

    def _journal(self, reference: str, status: opt.JournalStatus, payload: str, detail: str) -> EventsOutcome:
        self.journal.record(reference, SOURCE, KIND, status, "Événements SendGrid", detail, payload)
        log.info("sendgrid %s: %s", reference, status.value)
        return EventsOutcome(status.value, detail)


def is_the_uncertain_send(person: Volunteer | Structure, event: dict[str, Any]) -> bool:
    """Whether `event` is about the send this record holds as « Incertain »: sent for this attempt."""
    return (person.email_status == opt.EmailStatus.UNCERTAIN and bool(event.get("sg_message_id"))
            and str(event.get("binome_attempt", "")) == str(person.email_attempts or 0))
