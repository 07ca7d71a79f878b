"""Typeform webhook: verify the signature on the raw body, then hand the delivery to intake."""

from __future__ import annotations

import flask

from shared import bootstrap, http
from shared.observability.summary import observed
from shared.intake.service import Outcome
from shared.settings import get_settings
from shared.signatures import verify_typeform


@observed
def typeform_webhook(request: flask.Request) -> http.Answer:
    if request.method != "POST":
        return http.method_not_allowed()
    raw = http.read_body(request)
    if not isinstance(raw, bytes):
        return raw
    if not verify_typeform(get_settings().TYPEFORM_SECRET, raw, request.headers.get("Typeform-Signature")):
        return http.unauthorized()
    return http.answer(lambda: outcome_json(bootstrap.intake().receive(raw)))


def outcome_json(outcome: Outcome) -> dict[str, str]:
    return {"statut": outcome.status, "detail": outcome.detail, "reponse": outcome.token}
