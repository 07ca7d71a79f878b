"""`make forms`: create or update the Typeform forms from `schemas/forms/` and register the webhook.

Locally the forms are made in the Typeform emulator under the ids the settings name. In
production a form id must already exist (Typeform assigns ids): the command updates its
definition and its webhook, and names any id that is missing.
"""

from __future__ import annotations

import sys

import requests

from schemas.forms import FORMS
from shared.settings import ConfigurationError, Settings, get_settings
from shared.typeform_client import TypeformClient, TypeformError

WEBHOOK_TAG = "binome"


def publish(settings: Settings, client: TypeformClient) -> list[str]:
    lines = []
    webhook_url = f"{settings.PUBLIC_URL.rstrip('/')}/typeform_webhook/"
    for kind, form_id in settings.form_ids.items():
        definition = FORMS[kind].definition
        if client.form(form_id) is None:
            if not settings.is_local:
                raise TypeformError(f"Le formulaire {form_id} ({kind}) n'existe pas : créez-le dans Typeform "
                                    "et renseignez son identifiant.")
            requests.put(f"{settings.emulator_url}/_emulator/typeform/forms/{form_id}", json=definition,
                         timeout=10).raise_for_status()
            lines.append(f"Formulaire « {definition['title']} » créé ({form_id}).")
        else:
            client.replace_form(form_id, definition)
            lines.append(f"Formulaire « {definition['title']} » mis à jour ({form_id}).")
        client.put_webhook(form_id, WEBHOOK_TAG, webhook_url, settings.TYPEFORM_SECRET, verify_ssl=not settings.is_local)
        lines.append(f"   webhook → {webhook_url}")
    return lines


def main() -> int:
    try:
        settings = get_settings()
        lines = publish(settings, TypeformClient(settings))
    except (ConfigurationError, TypeformError, requests.RequestException) as exc:
        print(f"{exc} (En local : lancez `make run` d'abord.)", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
