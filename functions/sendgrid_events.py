"""SendGrid's Event Webhook: verify the ECDSA signature over timestamp and raw body, then record
what became of each email."""

from __future__ import annotations

import flask

from shared import bootstrap, http
from shared.observability.summary import observed
from shared.settings import get_settings
from shared.signatures import SENDGRID_SIGNATURE, SENDGRID_TIMESTAMP, verify_sendgrid


@observed
def sendgrid_events(request: flask.Request) -> http.Answer:
    if request.method != "POST":
        return http.method_not_allowed()
    raw = http.read_body(request)
    if not isinstance(raw, bytes):
        return raw
    if not verify_sendgrid(get_settings().SENDGRID_EVENT_PUBLIC_KEY, raw, request.headers.get(SENDGRID_SIGNATURE),
                           request.headers.get(SENDGRID_TIMESTAMP)):
        return http.unauthorized()
    return http.answer(lambda: vars(bootstrap.events().receive(raw)))
