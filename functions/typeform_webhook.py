"""Typeform webhook: verify the signature on the raw body, route the delivery to its base (by the
postcode answered; `shared.intake.routing`), then hand it to that base's intake — or, with the
queues configured, put it in that base's queue and answer at once (`intake_writer` writes it)."""

from __future__ import annotations

import flask

from shared import bootstrap, http
from shared.observability.summary import observed
from shared.intake.routing import base_of_delivery
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
    base = bootstrap.base(base_of_delivery(raw, settings).key)
    if settings.BINOME_INTAKE_QUEUE:
        return http.answer(lambda: queued_json(base.intake_queue.put(raw)))
    return http.answer(lambda: outcome_json(base.intake.receive(raw)))


def outcome_json(outcome: Outcome) -> dict[str, str]:
    return {"statut": outcome.status, "detail": outcome.detail, "reponse": outcome.token}


def queued_json(created: bool) -> dict[str, str]:
    return {"statut": QUEUED if created else Outcome.DUPLICATE,
            "detail": "Réponse mise en file : elle sera écrite au rythme de la base." if created
            else "Réponse déjà en file ou traitée à l'instant."}
