"""`reconcile`: backfill what the webhook missed, and retry what failed.

1. For each form, the responses submitted since a watermark kept in the Journal are listed from
   Typeform's Responses API — from a little before it, since that API may lag behind the webhook —
   and those the Journal has no entry for go through the same idempotent path as the webhook.
2. Journal entries that ended « Erreur » are tried again from their stored payload, after a
   backoff that grows with each attempt, until they succeed or a coordinator takes over.
3. Emails and envelopes still owed (a failed send, an attempt interrupted) are sent, or marked
   uncertain, by `onboarding.sweep_all`.

Each response stands alone: one that Airtable refuses (a value it will not take) is journaled
« Erreur » and the others go on. Airtable or Typeform unavailable stops the run without moving
the watermark, so the next run starts from the same place. Safe at any time, beside the webhook.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
from typing import Any, Callable, Protocol
from dataclasses import dataclass, field

from pydantic import ValidationError

from schemas import options as opt
from schemas.records import JournalEntry
from schemas.typeform import FormResponse, WebhookPayload
from shared.airtable import AirtableRejected
from shared.intake.service import SOURCE, IntakeService
from shared.journal import FINAL
from shared.onboarding.service import Report
from shared.settings import Settings
from shared.typeform_client import TypeformClient

WATERMARK_PREFIX = "reconcile:"
LAG_MARGIN = dt.timedelta(minutes=1)
FIRST_RETRY = dt.timedelta(minutes=5)
LONGEST_RETRY = dt.timedelta(hours=12)
MAX_ATTEMPTS = 10
QUEUED, ALREADY_QUEUED = "mise(s) en file", "déjà en file"


@dataclass
class FormReport:
    form_id: str
    listed: int = 0
    already: int = 0
    in_error: int = 0  # left to the retries, with their backoff
    elsewhere: int = 0  # routed to another base, whose own run takes them
    processed: collections.Counter[str] = field(default_factory=collections.Counter)
    failed: list[str] = field(default_factory=list)  # tokens of responses Airtable refused this time

    def line(self) -> str:
        done = ", ".join(f"{n} {status}" for status, n in sorted(self.processed.items())) or "rien à rattraper"
        line = (f"Formulaire {self.form_id} : {self.listed} réponse(s) relue(s), {self.already} déjà traitée(s), "
                f"{self.in_error} en erreur (reprises à part) ; {done}.")
        if self.elsewhere:
            line += f" {self.elsewhere} pour d'autres bases."
        if self.failed:
            line += f" En erreur, à voir dans le Journal : {', '.join(self.failed)}."
        return line


@dataclass
class RetryReport:
    retried: collections.Counter[str] = field(default_factory=collections.Counter)
    waiting: int = 0
    given_up: list[str] = field(default_factory=list)

    def line(self) -> str:
        done = ", ".join(f"{n} {status}" for status, n in sorted(self.retried.items())) or "aucune"
        line = f"Entrées en erreur reprises : {done} ; {self.waiting} en attente de leur prochain essai."
        if self.given_up:
            line += f" Abandonnées après {MAX_ATTEMPTS} essais, à reprendre à la main : {', '.join(self.given_up)}."
        return line


@dataclass
class ReconcileReport:
    forms: list[FormReport]
    retries: RetryReport
    sends: Report

    def lines(self) -> list[str]:
        return [r.line() for r in self.forms] + [self.retries.line(), sends_line(self.sends)]


def sends_line(report: Report) -> str:
    line = (f"Envois en attente repris : {report.emails} email(s), {report.envelopes} enveloppe(s) ; "
            f"{report.failed} échec(s), {report.uncertain} incertain(s), {report.left} laissé(s) en cours.")
    return " ".join([line, *report.notes])


def overlap(settings: Settings) -> dt.timedelta:
    """How far before the watermark to list again: as long as the Responses API may lag behind
    the webhook, and a little more. A response missing from the last run's listing was submitted
    less than that before the watermark, so this run lists it."""
    return dt.timedelta(seconds=settings.BINOME_TYPEFORM_LAG) + LAG_MARGIN


class Backlog(Protocol):
    """Where a missed response goes when the base has a queue: to its writer, in turn."""

    def put(self, raw: bytes) -> bool: ...


def reconcile(service: IntakeService, client: TypeformClient, settings: Settings,
              now: dt.datetime | None = None, backlog: Backlog | None = None,
              routed: Callable[[bytes], bool] | None = None) -> ReconcileReport:
    """With a `backlog` (the base's queue), missed responses are queued rather than written here:
    the writer keeps the base's budget, and a response whose delivery is still queued (or ran within
    the hour) is refused by the queue instead of being handled twice at once. With several bases,
`routed` says which responses are this base's: the others are left to their own base's run."""
    forms = [reconcile_form(form_id, service, client, overlap(settings), backlog, routed) for form_id in service.forms]
    retries = retry_errors(service, now or dt.datetime.now(dt.timezone.utc))
    return ReconcileReport(forms, retries, service.onboarding.sweep_all())


def reconcile_form(form_id: str, service: IntakeService, client: TypeformClient,
                   lag: dt.timedelta, backlog: Backlog | None = None,
                   routed: Callable[[bytes], bool] | None = None) -> FormReport:
    journal, report = service.journal, FormReport(form_id)
    mark = journal.find(WATERMARK_PREFIX + form_id)
    watermark = dt.datetime.fromisoformat(mark.detail) if mark and mark.detail else None
    items = list({item["token"]: item for item in client.responses(form_id, watermark - lag if watermark else None)}
                 .values())
    report.listed = len(items)
    if routed is not None:  # before the Journal is asked: another base's responses cost this one nothing
        mine = [item for item in items if routed(delivery_of(item, form_id).encode())]
        report.elsewhere, items = len(items) - len(mine), mine
    known = journal.statuses(item["token"] for item in items)
    report.already = sum(status in FINAL for status in known.values())
    report.in_error = len(known) - report.already
    newest = watermark
    for item in sorted(items, key=lambda i: i["submitted_at"]):
        response = FormResponse.model_validate({**item, "form_id": form_id})
        newest = max(newest, response.submitted_at) if newest else response.submitted_at
        if response.token in known:
            continue
        raw = delivery_of(item, form_id)
        if backlog is not None:
            report.processed[QUEUED if backlog.put(raw.encode()) else ALREADY_QUEUED] += 1
            continue
        try:
            report.processed[service.process(response, raw).status] += 1
        except AirtableRejected:
            report.processed[opt.JournalStatus.ERROR.value] += 1  # journaled by the service
            report.failed.append(response.token)
    if newest is not None and newest != watermark:
        journal.record(WATERMARK_PREFIX + form_id, opt.JournalSource.BINOME, "curseur de réconciliation",
                       opt.JournalStatus.DONE, f"Réconciliation Typeform ({form_id})", newest.isoformat())
    return report


def delivery_of(item: dict[str, Any], form_id: str) -> str:
    """A listed response as the webhook would have delivered it."""
    return json.dumps({"event_id": f"reconcile-{item['token']}", "event_type": "form_response",
                       "form_response": {**item, "form_id": form_id}}, ensure_ascii=False)


def retry_due(entry: JournalEntry, now: dt.datetime) -> bool:
    """Whether an entry in error has waited long enough: 5 minutes after the first failure,
    doubling with each attempt, at most 12 hours."""
    attempts = max(entry.attempts or 1, 1)
    wait = min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_RETRY)
    return entry.received_at is None or entry.received_at + wait <= now


def retry_errors(service: IntakeService, now: dt.datetime) -> RetryReport:
    report = RetryReport()
    for entry in service.journal.in_error(SOURCE):
        if (entry.attempts or 1) >= MAX_ATTEMPTS:
            report.given_up.append(entry.external_ref)
            continue
        if not retry_due(entry, now):
            report.waiting += 1
            continue
        try:
            payload = WebhookPayload.model_validate(json.loads(entry.payload))
        except (ValueError, ValidationError):
            report.given_up.append(entry.external_ref)  # not a response: a person must look
            continue
        try:
            report.retried[service.process(payload.form_response, entry.payload).status] += 1
        except AirtableRejected:
            report.retried[opt.JournalStatus.ERROR.value] += 1
    return report
