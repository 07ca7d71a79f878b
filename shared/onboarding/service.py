"""Onboarding: the acknowledgement and the document to sign, sent exactly once per person.

The person's record says what is owed (`rules.sign_up_intents`, written with the sign-up). Then,
for each owed send, in this order:

1. claim it (`shared.claims`): of all the processes that try, one owns it. A new volunteer's first
   welcome and envelope are claimed by the record's creation itself (`rules.claimed_by_creation`):
   the process whose upsert created the record owns them, with no claim of their own to write;
2. call the vendor;
3. write the outcome on the record: sent (with the vendor's id), failed (retried later with
   backoff: nothing was sent), or uncertain (the call left and no answer came back).

A claim found but not owned is left to its owner while it may still be at work; once it is old, the
owner is gone: an email is then marked « Incertain » for a coordinator (SendGrid has no
idempotency key, and a second welcome is worse than a phone call), while an envelope is looked up
by its reference in DocuSign, recorded if found, created under a claim of its own if not.

Per new volunteer this costs one Airtable request beyond intake's: the outcomes of both sends, in
one update (a known volunteer's or a structure's sign-up also claims its sends: one request more).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import AbstractSet, Any, Callable, Sequence

from pyairtable.formulas import EQ, OR, Field, Formula

from schemas import options as opt
from schemas.records import Need, Structure, Volunteer
from shared.airtable import AirtableGateway, AirtableRejected, AirtableUnavailable
from shared.airtable.diff import update_of
from shared.airtable.gateway import RECORDS_PER_WRITE
from shared.clock import now as utcnow
from shared.alerts import Alerts
from shared.claims import Claim, Job, claim
from shared.esign.port import (ConsentRequired, ESign, ESignError, ESignRefused, ESignUncertain,
                               ESignUnavailable)
from shared.mail.message import Mailer, MailRefused, MailUnavailable, MailUncertain
from shared.onboarding import rules
from shared.onboarding.content import envelope_request, person_email
from shared.settings import Settings

log = logging.getLogger(__name__)
Person = Volunteer | Structure


@dataclass
class Report:
    """What a pass did, for the Journal, the sweep's report and the tests."""

    emails: int = 0
    envelopes: int = 0
    failed: int = 0
    uncertain: int = 0
    left: int = 0  # left to another process at work on it
    notes: list[str] = field(default_factory=list)

    def add(self, other: "Report") -> None:
        self.emails += other.emails
        self.envelopes += other.envelopes
        self.failed += other.failed
        self.uncertain += other.uncertain
        self.left += other.left
        self.notes += other.notes


class OnboardingService:
    def __init__(self, gateway: AirtableGateway, mailer: Mailer, esign: ESign, settings: Settings,
                 alerts: Alerts, clock: Callable[[], dt.datetime] = utcnow):
        self.gateway = gateway
        self.mailer = mailer
        self.esign = esign
        self.settings = settings
        self.alerts = alerts
        self.clock = clock

    # --- entry points ---------------------------------------------------------------------------

    def after_sign_up(self, person: Person, needs: list[Need] | None = None, created: bool = False) -> Report:
        """Right after a sign-up wrote what it owes: send it now. `created`: this process's upsert
        created the record (Airtable said so), so it owns the sends the creation claimed."""
        return self._send_owed(person, needs, self.clock(), waiting_allowed=False,
                               created={person.record_id or ""} if created else set())

    def after_sign_ups(self, people: Sequence[Person], created: AbstractSet[str]) -> Report:
        """Right after several sign-ups wrote what they owe (the queue's writer): send it all, the
        claims and the outcomes written 10 a request. `created`: the ids of the records this
        process's upserts created."""
        return self._send_owed_all([(person, None) for person in people], self.clock(), waiting_allowed=False,
                                   created=created)

    def sweep(self, person: Person, needs: list[Need] | None = None) -> Report:
        """For `reconcile`: what is owed and due on this record, leaving recent intents to the
        sign-up that wrote them (its retries come first)."""
        return self._send_owed(person, needs, self.clock(), waiting_allowed=True)

    def resend(self, record_id: str) -> str:
        """A coordinator ticked « Renvoyer l'accusé » and an Airtable automation calls us: send the
        acknowledgement again, once. The box is unticked in the same write that records the intent,
        and the intent's key names the message it replaces, so a repeated or concurrent call of the
        automation sends nothing more."""
        person = self._find(record_id)
        if person is None:
            return f"Aucune fiche {record_id}."
        if not person.resend_email:
            return f"Fiche {record_id} : la case « Renvoyer l'accusé » n'est pas cochée, rien à renvoyer."
        intent = {"resend_email": False, "email_status": opt.EmailStatus.PENDING, "email_kind": opt.EmailKind.WELCOME,
                  "email_key": f"renvoi:{person.email_message_id or 'aucun'}", "email_attempts": 0,
                  "email_prepared_at": self.clock()}
        update = update_of(person, intent)
        assert update is not None
        [person] = self.gateway.update([update])
        report = self.after_sign_up(person)
        if report.emails:
            return f"Fiche {record_id} : accusé renvoyé."
        return f"Fiche {record_id} : renvoi en cours ailleurs ou en échec ; voir « Email statut »."

    def _find(self, record_id: str) -> Person | None:
        try:
            return self.gateway.get(Volunteer, record_id)
        except AirtableRejected:
            pass
        try:
            return self.gateway.get(Structure, record_id)
        except AirtableRejected:
            return None

    def sweep_all(self) -> Report:
        """Every record that still owes a send, in both tables."""
        report = Report()
        people: list[Person] = [*self.gateway.all(Volunteer, formula=owing(Volunteer)),
                                *self.gateway.all(Structure, formula=owing(Structure))]
        for person in people:
            report.add(self.sweep(person))
        return report

    # --- the passes ---------------------------------------------------------------------------

    def _send_owed(self, person: Person, needs: list[Need] | None, now: dt.datetime,
                   waiting_allowed: bool, created: AbstractSet[str] = frozenset()) -> Report:
        return self._send_owed_all([(person, needs)], now, waiting_allowed, created)

    def _send_owed_all(self, people: Sequence[tuple[Person, list[Need] | None]], now: dt.datetime,
                       waiting_allowed: bool, created: AbstractSet[str] = frozenset()) -> Report:
        """Claim what each person is owed (10 claims a request; none for what a creation claimed),
        send what this process owns, then record every outcome (10 records a request)."""
        report = Report()
        owed: list[tuple[Person, list[Need] | None, list[Job]]] = []
        for person, needs in people:
            email = rules.email_owed(person) and self._due(person.email_status, person.email_prepared_at,
                                                            person.email_attempts, now, waiting_allowed, report)
            envelope = rules.envelope_owed(person) and self._due(
                person.envelope_status, person.envelope_prepared_at, person.envelope_attempts, now, waiting_allowed,
                report)
            jobs = ([Job(rules.email_job_key(person), f"Envoi : {person.email_kind} ({person.record_id})")]
                    if email else []) \
                + ([Job(rules.envelope_job_key(person), f"Envoi : document à signer ({person.record_id})")]
                   if envelope else [])
            if jobs:
                owed.append((person, needs, jobs))
        if not owed:
            return report
        by_creation = {person.record_id: rules.claimed_by_creation(person) for person, _, _ in owed}
        held = iter(claim(self.gateway, [job for person, _, jobs in owed for job in jobs
                                         if job.key not in by_creation[person.record_id]]))
        updates = []
        for person, needs, jobs in owed:
            outcome: dict[str, Any] = {}
            claims = [creation_claim(person, job, created) if job.key in by_creation[person.record_id] else next(held)
                      for job in jobs]
            for claimed in claims:
                if ":email:" in claimed.job.key:
                    outcome.update(self._email(person, needs, claimed, now, report))
                else:
                    outcome.update(self._envelope(person, claimed, now, report))
            update = update_of(person, outcome)
            if update is not None:
                updates.append(update)
        self._record_outcomes(updates)
        return report

    def _record_outcomes(self, updates: list[Any]) -> None:
        """Write the outcomes 10 a request, every request tried even after one failed: the sends
        have happened, and an outcome not written leaves its send in doubt for good."""
        failure: AirtableUnavailable | AirtableRejected | None = None
        for start in range(0, len(updates), RECORDS_PER_WRITE):
            try:
                self.gateway.update(updates[start:start + RECORDS_PER_WRITE])
            except (AirtableUnavailable, AirtableRejected) as exc:
                failure = failure or exc
        if failure is not None:
            raise failure

    def _due(self, status: str | None, prepared_at: dt.datetime | None, attempts: int | None, now: dt.datetime,
             waiting_allowed: bool, report: Report) -> bool:
        if status in (opt.EmailStatus.FAILED.value, opt.EnvelopeStatus.FAILED.value):
            if rules.given_up(attempts):
                return False
            return rules.retry_due(prepared_at, attempts, now)
        if waiting_allowed and prepared_at is not None and now - prepared_at < CLAIM_WAIT:
            report.left += 1
            return False
        return True

    # --- the acknowledgement --------------------------------------------------------------------

    def _email(self, person: Person, needs: list[Need] | None, held: Claim, now: dt.datetime,
               report: Report) -> dict[str, Any]:
        if not held.owned:
            if not held.abandoned(now):
                report.left += 1
                return {}
            report.uncertain += 1
            report.notes.append(f"Email de {person.record_id} incertain : une tentative précédente a été interrompue.")
            return {"email_status": opt.EmailStatus.UNCERTAIN}
        if needs is None and isinstance(person, Structure):
            needs = self._needs_of(person)
        try:
            message_id = self.mailer.send(person_email(person, needs or []))
        except MailUncertain as exc:
            report.uncertain += 1
            report.notes.append(f"Email de {person.record_id} incertain : {exc}")
            return {"email_status": opt.EmailStatus.UNCERTAIN, "email_sent_at": now}
        except (MailUnavailable, MailRefused) as exc:
            report.failed += 1
            attempts = (person.email_attempts or 0) + 1
            if isinstance(exc, MailRefused):
                attempts = rules.MAX_ATTEMPTS  # as it is, this message will not go: a person must look
                self.alerts.raise_once(f"email-refuse:{person.record_id}:{person.email_prepared_at:%Y%m%dT%H%M%S}",
                                       "Email refusé par SendGrid", f"Fiche {person.record_id} : {exc}")
            return {"email_status": opt.EmailStatus.FAILED, "email_attempts": attempts, "email_prepared_at": now}
        report.emails += 1
        return {"email_status": opt.EmailStatus.SENT, "email_message_id": message_id, "email_sent_at": now}

    def _needs_of(self, structure: Structure) -> list[Need]:
        if not structure.needs:
            return []
        return self.gateway.by_ids(Need, structure.needs)

    # --- the document to sign -------------------------------------------------------------------

    def _envelope(self, person: Person, held: Claim, now: dt.datetime, report: Report) -> dict[str, Any]:
        request = envelope_request(person, self.settings)
        if not held.owned:
            if not held.abandoned(now):
                report.left += 1
                return {}
            # The claimant is gone: DocuSign knows whether it created the envelope.
            try:
                found = self.esign.find(request.reference, held.claimed_at or now)
            except ESignError as exc:
                report.notes.append(f"Enveloppe de {person.record_id} : recherche impossible ({exc}).")
                return {}
            if found is not None:
                report.envelopes += 1
                return self._sent(person, found.envelope_id, now)
            [recovery] = claim(self.gateway, [Job(held.job.key + ":reprise", held.job.event + " (reprise)")])
            if not recovery.owned:
                report.left += 1
                return {}
        try:
            envelope_id = self.esign.send(request)
        except ESignUncertain as exc:
            # It may exist: leave the intent; once this claim is old, the lookup above settles it.
            report.uncertain += 1
            report.notes.append(f"Enveloppe de {person.record_id} : {exc}")
            return {}
        except (ESignUnavailable, ESignRefused) as exc:
            report.failed += 1
            attempts = (person.envelope_attempts or 0) + 1
            if isinstance(exc, ConsentRequired):
                self.alerts.raise_once("docusign-consentement", "DocuSign attend un consentement", str(exc), exc.url)
            elif isinstance(exc, ESignRefused):
                attempts = rules.MAX_ATTEMPTS
                self.alerts.raise_once(f"enveloppe-refusee:{person.record_id}", "Enveloppe refusée par DocuSign",
                                       f"Fiche {person.record_id} : {exc}")
            return {"envelope_status": opt.EnvelopeStatus.FAILED, "envelope_attempts": attempts,
                    "envelope_prepared_at": now}
        report.envelopes += 1
        return self._sent(person, envelope_id, now)

    def _sent(self, person: Person, envelope_id: str, now: dt.datetime) -> dict[str, Any]:
        sent: dict[str, Any] = {"envelope_status": opt.EnvelopeStatus.SENT, "envelope_id": envelope_id,
                                "envelope_sent_at": now}
        if isinstance(person, Volunteer):
            status = rules.volunteer_status_after(person.status, opt.EnvelopeStatus.SENT)
            if status is not None:
                sent["status"] = status
        return sent


def creation_claim(person: Person, job: Job, created: AbstractSet[str]) -> Claim:
    """A send claimed by the record's creation: this process's if its upsert created the record,
    claimed when Airtable created it (or, lacking that time, when the send was prepared, just
    before)."""
    prepared = person.email_prepared_at if ":email:" in job.key else person.envelope_prepared_at
    return Claim(job, person.record_id in created, person.created_time or prepared)


def owing(model: type[Volunteer] | type[Structure]) -> Formula:
    """The formula of records that still owe an email or an envelope."""
    return OR(*(EQ(Field(model.label(attribute)), status)
                for attribute, statuses in (("email_status", rules.OWED), ("envelope_status", rules.ENVELOPE_OWED))
                for status in sorted(statuses)))


# A sign-up's own attempt (and Typeform's retries of it) owns a fresh intent this long before the
# sweep may take it over.
CLAIM_WAIT = dt.timedelta(minutes=15)
