"""Several Typeform deliveries written together, as the queue's writer drains them.

Volunteer sign-ups that are plainly new or plainly an update are written as one: the Journal
checked for all their tokens at once, their records read in one formula, created and updated, their
sends claimed and recorded, and their Journal entries written — each step 10 records a request,
where one by one each sign-up costs five requests. The same decisions as one by one (`signups`
plans each from its person's record), the same keys (people by email, the Journal by token, sends
by their claims), so a batch that fails halfway is retried whole and lands once. Everything else —
another form, an answer to reject, twin records, two sign-ups of one address, a response already
applied — goes one by one through `IntakeService.receive`, exactly as the webhook handles it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterable, Sequence

from pydantic import ValidationError
from pyairtable.formulas import OR

from schemas import options as opt
from schemas.records import Volunteer
from schemas.typeform import FormResponse, WebhookPayload
from shared import jsonbody
from shared.airtable import AirtableRejected, AirtableUnavailable
from shared.intake import mapping
from shared.intake.mapping import IntakeRejected
from shared.intake.service import (KINDS, SOURCE, IntakeService, Outcome, email_is, journal_status, sign_up_detail,
                                   with_owed_sends)
from shared.intake.signups import SignUp, TwinRecords, plan_sign_up
from shared.journal import FINAL

log = logging.getLogger(__name__)
KIND = KINDS["volunteer"]


@dataclass
class Pending:
    """One volunteer sign-up of the batch, mapped and planned."""

    raw: bytes
    response: FormResponse
    volunteer: Volunteer
    notes: list[str]
    plan: SignUp[Volunteer] | None = None


def receive_all(intake: IntakeService, raws: Sequence[bytes]) -> list[Outcome]:
    """The outcome of each delivery, in order."""
    outcomes: dict[int, Outcome] = {}
    batch: dict[int, Pending] = {}
    emails: set[str] = set()
    for n, raw in enumerate(raws):
        pending = volunteer_sign_up(intake, raw)
        if pending is None or pending.volunteer.email.lower() in emails:
            continue  # one by one, below
        emails.add(pending.volunteer.email.lower())
        batch[n] = pending
    if batch:
        try:
            outcomes.update(write_together(intake, batch))
        except (AirtableUnavailable, AirtableRejected) as exc:
            record_errors(intake, batch.values(), exc)
            raise
    for n, raw in enumerate(raws):
        if n not in outcomes:
            outcomes[n] = intake.receive(raw)
    return [outcomes[n] for n in range(len(raws))]


def volunteer_sign_up(intake: IntakeService, raw: bytes) -> Pending | None:
    """The delivery as a volunteer sign-up to batch, or None for the one-by-one path."""
    try:
        payload = WebhookPayload.model_validate(jsonbody.loads(raw))
    except (ValueError, ValidationError):
        return None
    spec = intake.forms.get(payload.form_response.form_id)
    if payload.event_type != "form_response" or spec is None or spec.kind != "volunteer":
        return None
    try:
        mapped = mapping.map_volunteer(payload.form_response, spec)
    except IntakeRejected:
        return None
    return Pending(raw, payload.form_response, mapped.record, mapped.notes)


def write_together(intake: IntakeService, batch: dict[int, Pending]) -> dict[int, Outcome]:
    gateway = intake.gateway
    existing = gateway.all(Volunteer, formula=OR(*(email_is(Volunteer, p.volunteer.email) for p in batch.values())))
    by_email: dict[str, list[Volunteer]] = {}
    for record in existing:
        by_email.setdefault(record.email.lower(), []).append(record)
    ready: dict[int, Pending] = {}
    for n, pending in batch.items():
        try:
            plan = with_owed_sends(plan_sign_up(pending.volunteer, by_email.get(pending.volunteer.email.lower(), []),
                                       pending.response.token, pending.response.submitted_at), pending.response.token)
        except TwinRecords:
            continue  # named, alerted and journaled one by one
        if plan.writes:  # nothing to write: already applied or superseded, for the one-by-one path
            pending.plan = plan
            ready[n] = pending
    if not ready:
        return {}
    creates = [p.plan.create for p in ready.values() if p.plan and p.plan.create is not None]
    updates = [p.plan.update for p in ready.values() if p.plan and p.plan.update is not None]
    # Upserted, not created: had another process created a person meanwhile, Airtable merges.
    written = {r.email.lower(): r for r in [*gateway.upsert(creates, key="email").records, *gateway.update(updates)]}
    people = {n: written[p.volunteer.email.lower()] for n, p in ready.items()}
    intake.onboarding.after_sign_ups(list(people.values()))
    outcomes, entries = {}, []
    for n, pending in ready.items():
        assert pending.plan is not None
        person, token = people[n], pending.response.token
        name = f"{pending.volunteer.first_name} {pending.volunteer.last_name[:1]}.".strip()
        detail = " ".join([sign_up_detail(pending.plan, person.record_id or ""), *pending.notes])
        status = journal_status(pending.plan)
        entries.append(intake.journal.entry(token, SOURCE, KIND, status, f"Inscription bénévole : {name}", detail,
                                            pending.raw.decode("utf-8", errors="replace")))
        outcomes[n] = Outcome(status.value, detail, token)
    intake.journal.record_all(entries)
    return outcomes


def record_errors(intake: IntakeService, batch: Iterable[Pending], exc: Exception) -> None:
    """Best effort, as one by one: with Airtable failing, these entries may not be written either;
    the queue retries the whole batch, which writes them."""
    pendings = list(batch)
    try:
        done = intake.journal.statuses(p.response.token for p in pendings)
        intake.journal.record_all([
            intake.journal.entry(p.response.token, SOURCE, KIND, opt.JournalStatus.ERROR,
                                 f"Échec de traitement ({KIND})", f"Airtable : {exc}",
                                 p.raw.decode("utf-8", errors="replace"))
            for p in pendings if done.get(p.response.token) not in FINAL])
    except (AirtableUnavailable, AirtableRejected):
        log.error("could not journal the failure of a batch of %d sign-ups", len(pendings))
