"""`reconcile`: backfill what the webhook missed from Typeform's Responses API.

For each form it lists the responses submitted since a watermark kept in the Journal, asks the
Journal which of them were already handled (a few requests for many tokens), and sends the others
through the same idempotent path as the webhook. Safe at any time, and alongside webhooks.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from schemas import options as opt
from schemas.typeform import FormResponse
from shared.intake.service import IntakeService
from shared.journal import Journal
from shared.typeform_client import TypeformClient

WATERMARK_PREFIX = "reconcile:"
# Responses are listed from a little before the watermark: one submitted while the last run was
# reading would otherwise be skipped for good. Re-listing is free of effects.
OVERLAP = dt.timedelta(minutes=10)


@dataclass
class FormReport:
    form_id: str
    listed: int = 0
    already: int = 0
    processed: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        done = ", ".join(f"{n} {status}" for status, n in sorted(self.processed.items())) or "rien à rattraper"
        return f"Formulaire {self.form_id} : {self.listed} réponse(s) relue(s), {self.already} déjà traitée(s) ; {done}."


def reconcile(service: IntakeService, client: TypeformClient, journal: Journal) -> list[FormReport]:
    return [reconcile_form(form_id, service, client, journal) for form_id in service.forms]


def reconcile_configured() -> list[FormReport]:
    """Reconcile every form with the process's own settings and services."""
    from shared import bootstrap
    from shared.settings import get_settings

    service = bootstrap.intake()
    return reconcile(service, TypeformClient(get_settings()), Journal(service.gateway))


def reconcile_form(form_id: str, service: IntakeService, client: TypeformClient, journal: Journal) -> FormReport:
    report = FormReport(form_id)
    mark = journal.find(WATERMARK_PREFIX + form_id)
    since = dt.datetime.fromisoformat(mark.detail) - OVERLAP if mark and mark.detail else None
    items = list({item["token"]: item for item in client.responses(form_id, since)}.values())
    report.listed = len(items)
    settled = journal.settled(item["token"] for item in items)
    report.already = len(settled)
    newest = since + OVERLAP if since else None
    for item in sorted(items, key=lambda i: i["submitted_at"]):
        response = FormResponse.model_validate({**item, "form_id": form_id})
        newest = max(newest, response.submitted_at) if newest else response.submitted_at
        if response.token in settled:
            continue
        raw = json.dumps({"event_id": f"reconcile-{response.token}", "event_type": "form_response",
                          "form_response": {**item, "form_id": form_id}}, ensure_ascii=False)
        outcome = service.process(response, raw)
        report.processed[outcome.status] = report.processed.get(outcome.status, 0) + 1
    if newest is not None:
        journal.record(WATERMARK_PREFIX + form_id, opt.JournalSource.BINOME, "curseur de réconciliation",
                       opt.JournalStatus.DONE, f"Réconciliation Typeform ({form_id})", newest.isoformat())
    return report
