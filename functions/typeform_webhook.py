"""Typeform webhook: verify the signature on the raw body, then hand the delivery to intake — or,
with the base's queue configured, queue it and answer at once (`intake_writer` writes it)."""

from __future__ import annotations

import flask

from shared import bootstrap, http
from shared.observability.summary import observed
from shared.intake.service import Outcome
from shared.settings import get_settings
from shared.signatures import verify_typeform

QUEUED = "En file"


@observed
def typeform_webhook(request: flask.Request) -> http.Answer:
    if request.method != "POST":
        return http.method_not_allowed()
    raw = http.read_body(request)
    if not isinstance(raw, bytes):
        return raw
    settings = get_settings()
    if not verify_typeform(settings.TYPEFORM_SECRET, raw, request.headers.get("Typeform-Signature")):
        return http.unauthorized()
    if settings.BINOME_INTAKE_QUEUE:
        return http.answer(lambda: queued_json(bootstrap.intake_queue().put(raw)))
    return http.answer(lambda: outcome_json(bootstrap.intake().receive(raw)))


def outcome_json(outcome: Outcome) -> dict[str, str]:
    return {"statut": outcome.status, "detail": outcome.detail, "reponse": outcome.token}


def queued_json(created: bool) -> dict[str, str]:
    return {"statut": QUEUED if created else Outcome.DUPLICATE,
            "detail": "Réponse mise en file : elle sera écrite au rythme de la base." if created
            else "Réponse déjà en file ou traitée à l'instant."}
