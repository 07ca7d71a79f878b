"""SendGrid's Event Webhook as the emulator sends it: event batches signed with ECDSA P-256.

The signature covers `timestamp + raw body` (UTF-8), SHA-256, DER-encoded and base64'd, in
`X-Twilio-Email-Event-Webhook-Signature`, with the timestamp in `…-Timestamp`. The key is a
development key pair whose public half is the local default of SENDGRID_EVENT_PUBLIC_KEY.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

DEV_KEY_FILE = Path(__file__).with_name("dev_key.pem")
SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
# Recipients at these domains bounce, so the bounce path can be exercised on purpose.
BOUNCING_DOMAINS = ("bounce.example", "invalid")


class EventSigner:
    def __init__(self, private_key_pem: bytes | None = None):
        pem = private_key_pem or DEV_KEY_FILE.read_bytes()
        self.key = serialization.load_pem_private_key(pem, password=None)

    @property
    def public_key_b64(self) -> str:
        der = self.key.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
        return base64.b64encode(der).decode()

    def headers(self, body: bytes) -> dict[str, str]:
        timestamp = str(int(time.time()))
        signature = self.key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))  # type: ignore[union-attr]
        return {"Content-Type": "application/json", "User-Agent": "SendGrid Event API",
                SIGNATURE_HEADER: base64.b64encode(signature).decode(), TIMESTAMP_HEADER: timestamp}


def bounces(address: str) -> bool:
    domain = address.rsplit("@", 1)[-1].lower()
    return any(domain == d or domain.endswith("." + d) for d in BOUNCING_DOMAINS)


def event_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")


def events_for(message: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The `processed` batch, then the `delivered`/`bounce` batch, for one captured message."""
    processed, outcome = [], []
    for n, recipient in enumerate(message["recipients"]):
        common = {"email": recipient, "sg_message_id": f"{message['x_message_id']}.filter0001.{n}.0",
                  "smtp-id": f"<{message['x_message_id']}@ismtpd0001p1par1.sendgrid.net>",
                  **({"category": message["categories"]} if message["categories"] else {}),
                  **message["custom_args"]}
        now = int(time.time())
        processed.append({**common, "event": "processed", "timestamp": now, "sg_event_id": event_id()})
        if bounces(recipient):
            outcome.append({**common, "event": "bounce", "timestamp": now, "sg_event_id": event_id(),
                            "type": "bounce", "status": "5.1.1", "bounce_classification": "Invalid Address",
                            "reason": "550 5.1.1 The email account that you tried to reach does not exist."})
        else:
            outcome.append({**common, "event": "delivered", "timestamp": now, "sg_event_id": event_id(),
                            "response": "250 2.0.0 OK", "ip": "149.72.1.1", "tls": 1})
    return processed, outcome


def encode(events: list[dict[str, Any]]) -> bytes:
    return json.dumps(events, ensure_ascii=False).encode()
