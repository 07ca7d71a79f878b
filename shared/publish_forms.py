"""Publish the Typeform forms of `schemas/forms/` and register binome's webhook on each.

A form id must already exist (Typeform assigns ids): its definition and its webhook are updated,
and a missing id is named. Locally, the runner passes `create_missing` to make a form under the
id the settings name.
"""

from __future__ import annotations

from typing import Any, Callable

from schemas.forms import FORMS
from shared.settings import Settings
from shared.typeform_client import TypeformClient, TypeformError

WEBHOOK_TAG = "binome"
FormMaker = Callable[[str, dict[str, Any]], None]


def publish(settings: Settings, client: TypeformClient, create_missing: FormMaker | None = None) -> list[str]:
    lines = []
    webhook_url = f"{settings.PUBLIC_URL.rstrip('/')}/typeform_webhook/"
    for kind, form_id in settings.form_ids.items():
        definition = FORMS[kind].definition
        if client.form(form_id) is None:
            if create_missing is None:
                raise TypeformError(f"Le formulaire {form_id} ({kind}) n'existe pas : créez-le dans Typeform "
                                    "et renseignez son identifiant.")
            create_missing(form_id, definition)
            lines.append(f"Formulaire « {definition['title']} » créé ({form_id}).")
        else:
            client.replace_form(form_id, definition)
            lines.append(f"Formulaire « {definition['title']} » mis à jour ({form_id}).")
        client.put_webhook(form_id, WEBHOOK_TAG, webhook_url, settings.TYPEFORM_SECRET, verify_ssl=not settings.is_local)
        lines.append(f"   webhook → {webhook_url}")
    return lines

