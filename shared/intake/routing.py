"""Which base a Typeform delivery goes to, decided before anything is written.

Sign-ups go by the postcode answered (the département of its commune); check-ins by the base
their link names (a hidden field, since a check-in has no postcode). Whatever cannot be routed —
an unknown postcode, a body that does not parse, a form binome does not know — goes to the default
base, whose intake journals it like any other delivery.
"""

from __future__ import annotations

from typing import Any

from schemas.bases import BaseRoute, RoutingTable
from schemas.forms import FORMS
from shared import geo, jsonbody
from shared.settings import Settings

BASE_FIELD = "base"  # the check-in link's hidden field naming its binôme's base


def base_of_postcode(table: RoutingTable, postcode: str, town: str = "") -> BaseRoute:
    commune = geo.resolve(postcode.strip(), town) if postcode else None
    return table.for_departement(commune.departement if commune is not None else "")


def base_of_delivery(raw: bytes, settings: Settings) -> BaseRoute:
    table = settings.bases
    if not table.several:
        return table.default
    try:
        response = jsonbody.loads(raw)["form_response"]
        kind = {form_id: kind for kind, form_id in settings.form_ids.items()}.get(str(response["form_id"]))
    except (ValueError, KeyError, TypeError):
        return table.default
    if kind == "checkin":
        hidden = response.get("hidden") if isinstance(response.get("hidden"), dict) else {}
        return table.known(str(hidden.get(BASE_FIELD) or ""))
    if kind is None:
        return table.default
    refs = [ref for ref, how in FORMS[kind].mapping["record"].items() if how.get("to") == "postcode"]
    return base_of_postcode(table, _answer(response, refs[0]) if refs else "")


def _answer(response: dict[str, Any], ref: str) -> str:
    answers = response.get("answers")
    for answer in answers if isinstance(answers, list) else []:
        if isinstance(answer, dict) and (answer.get("field") or {}).get("ref") == ref:
            value = answer.get(answer.get("type", ""), answer.get("text"))
            return value if isinstance(value, str) else ""
    return ""
