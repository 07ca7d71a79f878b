"""Scheduler (and Airtable automation) endpoint: backfill from Typeform and retry failures, or
replay one entry, or send an acknowledgement again.

Body `{}` reconciles every form; `{"replay": "<journal record id or token>"}` replays one entry (an
automation does when a coordinator ticks « Rejouer » on it);
`{"resend": "<record id>"}` resends the acknowledgement of a record whose « Renvoyer l'accusé » box
a coordinator ticked.
"""

from __future__ import annotations

from typing import Any

import flask

from shared import bootstrap, http
from shared.observability.summary import observed
from shared.intake.reconcile import reconcile as run_reconcile
from shared.intake.reconcile import sends_line
from shared.intake.replay import ReplayRefused, replay
from shared.settings import get_settings
from shared.typeform_client import TypeformClient


@observed
def reconcile(request: flask.Request) -> http.Answer:
    body = http.automation_body(request, ", par exemple {} ou {\"replay\": \"…\"}")
    if isinstance(body, tuple):
        return body
    if body.get("replay"):
        return http.answer(lambda: replay_one(str(body["replay"])))
    if body.get("resend"):
        return http.answer(lambda: {"statut": "Traité", "detail": bootstrap.onboarding().resend(str(body["resend"]))})
    return http.answer(reconcile_all)


def replay_one(reference: str) -> dict[str, Any]:
    try:
        outcome = replay(bootstrap.intake(), reference)
    except ReplayRefused as exc:
        return {"statut": "refusé", "detail": str(exc)}
    return {"statut": outcome.status, "detail": outcome.detail}


def reconcile_all() -> dict[str, Any]:
    settings = get_settings()
    report = run_reconcile(bootstrap.intake(), TypeformClient(settings), settings,
                           backlog=bootstrap.backlog())
    return {"statut": "Traité", "formulaires": [r.line() for r in report.forms], "reprises": report.retries.line(),
            "envois": sends_line(report.sends)}
