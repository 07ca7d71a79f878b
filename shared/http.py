"""Our errors mapped to HTTP answers, in one place, for every function.

Bad signature or secret: 401 and nothing else. Content that is wrong but authentic was already
kept by the service and answers 2xx. A failure of ours or of a vendor answers 5xx, so the sender
retries.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from schemas.bases import RoutingError
from shared import jsonbody
from shared.airtable import AirtableRejected, AirtableUnavailable
from shared.onboarding.connect import NotYetRecorded
from shared.settings import get_settings
from shared.intake.queue import QueueUnavailable
from shared.signatures import AUTOMATION_HEADER, verify_automation
from shared.typeform_client import TypeformError

log = logging.getLogger(__name__)
Answer = tuple[dict[str, Any], int]
MAX_BODY_BYTES = 1_000_000


def unauthorized() -> Answer:
    log.warning("unauthenticated request refused")
    return {"erreur": "signature ou secret invalide"}, 401


def read_body(request: Any) -> bytes | Answer:
    """The raw body, or the answer to a request too large to read."""
    if declared_too_large(request):
        return too_large()
    raw: bytes = request.get_data()
    return too_large() if len(raw) > MAX_BODY_BYTES else raw


def declared_too_large(request: Any) -> bool:
    """Whether a request announces a body over the limit (one sent in chunks is measured by `read_body`)."""
    return (getattr(request, "content_length", None) or 0) > MAX_BODY_BYTES


def too_large() -> Answer:
    return {"erreur": f"corps de requête au-delà de {MAX_BODY_BYTES} octets"}, 413


def bad_request(reason: str) -> Answer:
    return {"erreur": reason}, 400


def method_not_allowed() -> Answer:
    return {"erreur": "méthode non autorisée"}, 405


def refuse_automation(request: Any) -> Answer | None:
    """The answer refusing a scheduler or automation call, if it must be refused: POST, with
    `AUTOMATION_SECRET` as a bearer token (Airtable automations) or in `X-Binome-Automation` (the
    scheduler, which sends its OIDC token as the bearer; see deploy/README.md)."""
    if request.method != "POST":
        return method_not_allowed()
    if not verify_automation(get_settings().AUTOMATION_SECRET, request.headers.get("Authorization"),
                             request.headers.get(AUTOMATION_HEADER)):
        return unauthorized()
    return None


def automation_body(request: Any, example: str) -> dict[str, Any] | Answer:
    """The JSON object a scheduler or automation call carries (empty: `{}`), or the answer refusing
    the call; `example` shows a caller what the body looks like."""
    refused = refuse_automation(request)
    if refused is not None:
        return refused
    raw = read_body(request)
    if not isinstance(raw, bytes):
        return raw
    try:
        body = jsonbody.loads(raw) if raw else {}
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return bad_request(f"le corps doit être un objet JSON{example}")
    return body


def answer(work: Callable[[], dict[str, Any]]) -> Answer:
    """Run the work of a request and map what happens to a status code."""
    try:
        return work(), 200
    except RoutingError as exc:
        return bad_request(str(exc))
    except AirtableUnavailable as exc:
        log.warning("airtable unavailable: %s", exc)
        return {"erreur": "Airtable indisponible, réessayez plus tard"}, 503
    except AirtableRejected as exc:
        log.error("airtable rejected a request: %s", exc)
        return {"erreur": "écriture refusée par Airtable"}, 500
    except NotYetRecorded as exc:
        log.info("event ahead of its record: %s", exc)
        return {"erreur": "événement en avance sur la fiche, réessayez plus tard"}, 503
    except TypeformError as exc:
        log.warning("typeform unavailable: %s", exc)
        return {"erreur": "Typeform indisponible, réessayez plus tard"}, 503
    except QueueUnavailable as exc:
        log.warning("queue unavailable: %s", exc)
        return {"erreur": "file d'attente indisponible, réessayez plus tard"}, 503
