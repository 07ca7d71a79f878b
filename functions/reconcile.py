"""Scheduler (and Airtable automation) endpoint: backfill from Typeform and retry failures, or
replay one entry, or send an acknowledgement again.

Body `{}` reconciles every form; `{"replay": "<journal record id or token>"}` replays one entry (an
automation does when a coordinator ticks « Rejouer » on it);
`{"resend": "<record id>"}` resends the acknowledgement of a record whose « Renvoyer l'accusé » box
a coordinator ticked. With several bases, `{"base": "idf"}` names the base (an automation's own);
without it, replays and resends go to the default base and the backfill runs on every base in turn,
each taking only the responses routed to it.
"""

from __future__ import annotations

from typing import Any

import flask

from shared import bootstrap, http
from shared.base_services import BaseServices
from shared.intake.routing import base_of_delivery
from shared.per_base import run_per_base
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
    named = str(body["base"]) if body.get("base") else None
    if body.get("replay"):
        return http.answer(lambda: replay_one(bootstrap.base(named), str(body["replay"])))
    if body.get("resend"):
        return http.answer(lambda: {"statut": "Traité",
                                    "detail": bootstrap.base(named).onboarding.resend(str(body["resend"]))})
    return http.answer(lambda: run_per_base(body, reconcile_all))


def replay_one(base: BaseServices, reference: str) -> dict[str, Any]:
    try:
        outcome = replay(base.intake, reference)
    except ReplayRefused as exc:
        return {"statut": "refusé", "detail": str(exc)}
    return {"statut": outcome.status, "detail": outcome.detail}


def reconcile_all(base: BaseServices) -> dict[str, Any]:
    settings = get_settings()
    report = run_reconcile(base.intake, TypeformClient(settings), settings, backlog=base.backlog,
                           routed=lambda raw: base_of_delivery(raw, settings).key == base.key)
    return {"statut": "Traité", "formulaires": [r.line() for r in report.forms], "reprises": report.retries.line(),
            "envois": sends_line(report.sends)}
