"""The mailer on SendGrid's v3 API, through the official `sendgrid` client.

SendGrid has no idempotency key: a send whose answer is lost cannot be told from one never made,
so it surfaces as `MailUncertain` and the caller records it rather than sending twice.
"""

from __future__ import annotations

import base64
import http.client
import socket
import urllib.error
from typing import Any

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from shared.mail.message import Email, MailRefused, MailUnavailable, MailUncertain
from shared.observability.context import SENDGRID, count_call
from shared.settings import Settings

TIMEOUT = 30  # seconds
SENDER_NAME = "Collectif binome"


class SendGridMailer:
    def __init__(self, settings: Settings):
        self.sender = settings.SENDGRID_FROM
        self.reply_to = settings.COORDINATION_EMAIL
        self.client = SendGridAPIClient(api_key=settings.SENDGRID_API_KEY, host=settings.SENDGRID_HOST)
        self.client.client.timeout = TIMEOUT
        self.calls = 0

    def body(self, email: Email) -> dict[str, Any]:
        body: dict[str, Any] = {
            "from": {"email": self.sender, "name": SENDER_NAME},
            "reply_to": {"email": self.reply_to},
            "personalizations": [{"to": [{"email": email.to, "name": recipient_name(email.to_name)}],
                                  "custom_args": dict(email.custom_args)}],
            "subject": email.subject,
            "content": [{"type": "text/plain", "value": email.text}, {"type": "text/html", "value": email.html}],
        }
        if email.category:
            body["categories"] = [email.category]
        if email.inline:
            body["attachments"] = [{"content": base64.b64encode(f.data).decode("ascii"), "type": f.mime,
                                    "filename": f.filename, "disposition": "inline", "content_id": f.content_id}
                                   for f in email.inline]
        return body

    def send(self, email: Email) -> str:
        self.calls += 1
        count_call(SENDGRID)
        try:
            response = self.client.send(self.body(email))
        except HTTPError as exc:
            status = int(getattr(exc, "status_code", 0) or 0)
            if status == 429 or status >= 500:
                raise MailUnavailable(f"SendGrid a répondu {status}") from exc
            raise MailRefused(f"SendGrid a refusé l'email ({status}) : {getattr(exc, 'body', b'')[:300]!r}") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (ConnectionRefusedError, socket.gaierror)):
                raise MailUnavailable(f"SendGrid injoignable : {exc.reason}") from exc
            raise MailUncertain(f"SendGrid n'a pas répondu : {exc.reason}") from exc
        except (TimeoutError, socket.timeout, ConnectionError, http.client.HTTPException) as exc:
            raise MailUncertain(f"SendGrid n'a pas répondu : {type(exc).__name__}") from exc
        message_id = response.headers.get("X-Message-Id") if response.headers else None
        return str(message_id or "")


def recipient_name(name: str) -> str:
    """SendGrid refuses « ; » and « , » in a recipient's name."""
    return " ".join(name.replace(";", " ").replace(",", " ").split())
