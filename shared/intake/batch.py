"""Several Typeform deliveries written together, as the queue's writer drains them.

Volunteer sign-ups that are plainly new or plainly an update are written as one: their records read
in one formula, created and updated, their sends recorded and their Journal entries written — each
write 10 records a request, where one by one each new sign-up costs four requests. A new person's
first sends need no claim of their own: the upsert that creates the record claims them
(`rules.claimed_by_creation`); a known person's are claimed in the Journal. The same decisions as
one by one (`signups` plans each from its person's record), the same keys (people by email, the
Journal by token, sends by their claims), so a batch that fails halfway is retried whole and lands
once. Everything else — another form, an answer to reject, twin records, two sign-ups of one
address, a response already applied — goes one by one through `IntakeService.receive`, exactly as
the webhook handles it.
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
from shared.airtable import AirtableGateway, AirtableRejected, AirtableUnavailable
from shared.airtable.gateway import RECORDS_PER_WRITE
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
    people, created, failure = write_people(gateway, ready)
    ready = {n: p for n, p in ready.items() if n in people}
    intake.onboarding.after_sign_ups(list(people.values()), created)
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
    if failure is not None:
        raise failure  # the rest of the batch: the queue retries it whole, and what landed is found done
    return outcomes


def write_people(gateway: AirtableGateway, ready: dict[int, Pending]
                 ) -> tuple[dict[int, Volunteer], set[str], AirtableUnavailable | AirtableRejected | None]:
    """Create and update the batch's people, 10 a request: each one's record as it now stands, the
    ids of the records these requests created, and the failure that stopped them, if one did.

    The new people are upserted (had another process created one meanwhile, Airtable merges) and
    their creation claims their first sends, owned by this process alone: were a later request to
    fail and the batch simply raise, nobody could ever send them. So the batch goes on with the
    people written before the failure, and raises it at the end."""
    people: dict[int, Volunteer] = {}
    created: set[str] = set()
    creating = [(n, p.plan.create) for n, p in ready.items() if p.plan and p.plan.create is not None]
    updating = [(n, p.plan.update) for n, p in ready.items() if p.plan and p.plan.update is not None]
    try:
        for start in range(0, len(creating), RECORDS_PER_WRITE):
            chunk = creating[start:start + RECORDS_PER_WRITE]
            outcome = gateway.upsert([record for _, record in chunk], key="email")
            created.update(outcome.created)
            by_email = {r.email.lower(): r for r in outcome.records}
            people.update({n: by_email[record.email.lower()] for n, record in chunk})
        if updating:
            by_email = {r.email.lower(): r for r in gateway.update([record for _, record in updating])}
            people.update({n: by_email[record.email.lower()] for n, record in updating})
    except (AirtableUnavailable, AirtableRejected) as exc:
        return people, created, exc
    return people, created, None


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
