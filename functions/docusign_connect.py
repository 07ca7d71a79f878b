"""DocuSign Connect: verify `X-DocuSign-Signature-n` on the raw body (any configured key, so keys
can rotate), then hand the event to the onboarding of the base its envelope names (with several
bases; an envelope that names none is looked for in each base, else left to the default's)."""

from __future__ import annotations

import flask

from shared import bootstrap, http
from shared.base_services import BaseServices
from shared.onboarding.connect import base_in
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
    return http.answer(lambda: vars(base_of_event(raw).connect.receive(raw)))


def base_of_event(raw: bytes) -> BaseServices:
    if not bootstrap.bases().several:
        return bootstrap.base()
    named = base_in(raw)
    if named is not None:
        return bootstrap.base(bootstrap.bases().known(named).key)
    return next((b for b in bootstrap.every_base() if b.connect.knows(raw)), bootstrap.base())
