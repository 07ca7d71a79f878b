"""Scheduler (and Airtable automation) endpoint: backfill from Typeform, or replay one entry.

Body `{}` reconciles every form; `{"replay": "<journal record id or token>"}` replays one entry.
"""

from __future__ import annotations

import flask

from shared import bootstrap, http
from shared.intake.reconcile import reconcile_configured
from shared.intake.replay import ReplayRefused, replay
from shared.settings import get_settings
from shared.signatures import verify_bearer
from shared.typeform_client import TypeformError


def reconcile(request: flask.Request) -> http.Answer:
    if request.method != "POST":
        return http.method_not_allowed()
    if not verify_bearer(get_settings().AUTOMATION_SECRET, request.headers.get("Authorization")):
        return http.unauthorized()
    body = request.get_json(silent=True) or {}
    if body.get("replay"):
        return http.answer(lambda: replay_one(str(body["replay"])))
    return http.answer(run_reconcile)


def replay_one(reference: str) -> dict:
    try:
        outcome = replay(bootstrap.intake(), reference)
    except ReplayRefused as exc:
        return {"statut": "refusé", "detail": str(exc)}
    return {"statut": outcome.status, "detail": outcome.detail}


def run_reconcile() -> dict:
    try:
        reports = reconcile_configured()
    except TypeformError as exc:
        return {"statut": "Erreur", "detail": str(exc)}
    return {"statut": "Traité", "formulaires": [r.line() for r in reports]}
