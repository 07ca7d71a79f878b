"""SendGrid's Event Webhook: verify the ECDSA signature over timestamp and raw body, then record
what became of each email — with several bases, in the base each email's record is in (its
`binome_base` custom arg; events without one go to the default base)."""

from __future__ import annotations

import json
from typing import Any

import flask

from shared import bootstrap, http, jsonbody
from shared.base_services import BASE_ARG
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
    return http.answer(lambda: receive(raw))


def receive(raw: bytes) -> dict[str, Any]:
    batches = by_base(raw)
    if len(batches) == 1:  # the batch as it came (a single base always: unchanged, and journaled as it is)
        key, body = next(iter(batches.items()))
        return vars(bootstrap.base(key).events.receive(body))
    # Each base journals its share; a base whose share waits for its record (503) makes SendGrid send the
    # whole batch again, and the shares already applied are then found in their Journal.
    outcomes = {key or bootstrap.bases().default.key: vars(bootstrap.base(key).events.receive(body))
                for key, body in batches.items()}
    return {"statut": "Traité", "bases": outcomes}


def by_base(raw: bytes) -> dict[str | None, bytes]:
    """The batch split by base; the whole batch at once when it is not a list of events (the
    default base journals it as unreadable) or when all its events are of one base."""
    table = bootstrap.bases()
    try:
        events = jsonbody.loads(raw)
    except ValueError:
        events = None
    if not table.several or not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        return {None: raw}
    shares: dict[str | None, list[Any]] = {}
    for event in events:
        route = table.known(str(event.get(BASE_ARG) or ""))
        shares.setdefault(None if route.default else route.key, []).append(event)
    if len(shares) == 1:
        return {next(iter(shares)): raw}
    return {key: json.dumps(share, ensure_ascii=False).encode() for key, share in shares.items()}
