"""DocuSign Connect: verify `X-DocuSign-Signature-n` on the raw body (any configured key, so keys
can rotate), then hand the event to onboarding."""

from __future__ import annotations

import flask

from shared import bootstrap, http
from shared.observability.summary import observed
from shared.settings import get_settings
from shared.signatures import DOCUSIGN_HEADERS, verify_docusign


@observed
def docusign_connect(request: flask.Request) -> http.Answer:
    if request.method != "POST":
        return http.method_not_allowed()
    raw = http.read_body(request)
    if not isinstance(raw, bytes):
        return raw
    signatures = [request.headers.get(name) for name in DOCUSIGN_HEADERS]
    if not verify_docusign(get_settings().connect_keys, raw, signatures):
        return http.unauthorized()
    return http.answer(lambda: vars(bootstrap.connect().receive(raw)))
