"""The vendor calls of a deploy, each through the client the project already uses: Typeform through
`shared/typeform_client.py`, DocuSign through `docusign_esign.ConnectApi` (JWT grant, as the
functions authenticate), SendGrid through the `sendgrid` client.

Each executor receives the step with its secrets already filled in and sends its body as shown.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Mapping

from docusign_esign import ApiClient, ConnectApi
from sendgrid import SendGridAPIClient

from deploy.steps import ApiCall
from shared.errors import BinomeError
from shared.esign.auth import JwtTokens
from shared.settings import Settings
from shared.typeform_client import TypeformClient


class VendorRefused(BinomeError):
    """A vendor's answer leaves the deploy incomplete; the message says what to do."""


Executor = Callable[[Settings, ApiCall], str]


def typeform_webhook(app: Settings, call: ApiCall) -> str:
    body = call.body
    TypeformClient(app).put_webhook(call.params["form_id"], call.params["tag"], str(body["url"]),
                                    str(body["secret"]), bool(body["verify_ssl"]))
    return f"webhook {call.params['tag']} → {body['url']}"


def docusign_connect(app: Settings, call: ApiCall) -> str:
    """Found by name, so a second deploy updates the configuration instead of adding another."""
    client = ApiClient(host=app.DOCUSIGN_HOST)
    client.set_default_header("Authorization", JwtTokens(app).authorization())
    connect = ConnectApi(client)
    existing = [c for c in (connect.list_configurations(app.DOCUSIGN_ACCOUNT_ID).configurations or [])
                if c.name == call.body["name"]]
    if existing:
        body = {**call.body, "connectId": existing[0].connect_id}
        connect.update_configuration(app.DOCUSIGN_ACCOUNT_ID, connect_custom_configuration=body)
        return f"configuration Connect {existing[0].connect_id} mise à jour"
    connect.create_configuration(app.DOCUSIGN_ACCOUNT_ID, connect_custom_configuration=dict(call.body))
    return "configuration Connect créée"


def sendgrid_client(app: Settings) -> Any:
    return SendGridAPIClient(api_key=app.SENDGRID_API_KEY, host=app.SENDGRID_HOST).client


def sendgrid_event_webhook(app: Settings, call: ApiCall) -> str:
    sendgrid_client(app).user.webhooks.event.settings.patch(request_body=dict(call.body))
    return f"Event Webhook → {call.body['url']}"


def sendgrid_signed_webhook(app: Settings, call: ApiCall) -> str:
    """Signing on; SendGrid answers with its public key, which the functions must verify with."""
    response = sendgrid_client(app).user.webhooks.event.settings.signed.patch(request_body=dict(call.body))
    public_key = str(_json(response.body).get("public_key", ""))
    if public_key != app.SENDGRID_EVENT_PUBLIC_KEY:
        raise VendorRefused("SendGrid signe ses événements avec une autre clé que SENDGRID_EVENT_PUBLIC_KEY : "
                            f"mettez-y {public_key} puis relancez make deploy.")
    return "événements signés, clé publique conforme"


def _json(raw: Any) -> Mapping[str, Any]:
    value = json.loads(raw or b"{}")
    return value if isinstance(value, dict) else {}


EXECUTORS: dict[str, Executor] = {
    "typeform_webhook": typeform_webhook, "docusign_connect": docusign_connect,
    "sendgrid_event_webhook": sendgrid_event_webhook, "sendgrid_signed_webhook": sendgrid_signed_webhook,
}
