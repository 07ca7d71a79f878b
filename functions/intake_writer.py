"""The base's queue dispatches each Typeform delivery here (bearer `AUTOMATION_SECRET`, set on the
task): intake writes it exactly as the webhook would have. A 5xx makes the queue retry the task."""

from __future__ import annotations

import flask

from functions.typeform_webhook import outcome_json
from shared import bootstrap, http
from shared.observability.summary import observed


@observed
def intake_writer(request: flask.Request) -> http.Answer:
    refused = http.refuse_automation(request)
    if refused is not None:
        return refused
    raw = http.read_body(request)
    if not isinstance(raw, bytes):
        return raw
    return http.answer(lambda: outcome_json(bootstrap.intake().receive(raw)))
