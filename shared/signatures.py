"""Webhook signatures: each `verify_*` checks raw bytes in constant time and has a `sign_*` twin
that tests use to build real signed requests."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from typing import Iterable

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sendgrid.helpers.eventwebhook import EventWebhook

DOCUSIGN_HEADER = "X-DocuSign-Signature-"
MAX_DOCUSIGN_SIGNATURES = 10
SENDGRID_SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"
# SendGrid signs each POST when it makes it; an older signature is a replay.
SENDGRID_TOLERANCE = 3600  # seconds


def sign_typeform(secret: str, body: bytes) -> str:
    """`Typeform-Signature`: sha256= and the base64 HMAC-SHA256 of the raw body."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def verify_typeform(secret: str, body: bytes, header: str | None) -> bool:
    """An empty secret verifies nothing: anyone can sign with an empty key."""
    return bool(secret and header) and hmac.compare_digest(sign_typeform(secret, body).encode(),
                                                           (header or "").encode())


def verify_bearer(expected: str, header: str | None) -> bool:
    """`Authorization: Bearer <secret>` for automation and scheduler calls (never an empty one)."""
    scheme, _, token = (header or "").partition(" ")
    return bool(expected) and scheme.lower() == "bearer" and \
        hmac.compare_digest(token.strip().encode(), expected.encode())


# Where a scheduler call carries the automation secret: its `Authorization` header already holds the
# Google OIDC token that Cloud Run checks before a private function is reached.
AUTOMATION_HEADER = "X-Binome-Automation"


def verify_secret(expected: str, given: str | None) -> bool:
    """A shared secret sent as is (never an empty one), compared in constant time."""
    return bool(expected) and hmac.compare_digest((given or "").strip().encode(), expected.encode())


def verify_automation(expected: str, authorization: str | None, automation_header: str | None) -> bool:
    """An automation or scheduler call: `Authorization: Bearer <secret>` (Airtable automations) or
    the secret in `X-Binome-Automation` (the scheduler, whose `Authorization` is its OIDC token)."""
    return verify_bearer(expected, authorization) or verify_secret(expected, automation_header)


def sign_docusign(key: str, body: bytes) -> str:
    """`X-DocuSign-Signature-n`: the base64 HMAC-SHA256 of the raw body, with the key as DocuSign
    shows it (used as-is, not decoded)."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


DOCUSIGN_HEADERS = [f"{DOCUSIGN_HEADER}{n}" for n in range(1, MAX_DOCUSIGN_SIGNATURES + 1)]


def verify_docusign(keys: list[str], body: bytes, signatures: Iterable[str | None]) -> bool:
    """Any of the `X-DocuSign-Signature-1..n` values made with any configured key: while a key is
    rotated, DocuSign signs with both and binome accepts either."""
    expected = [sign_docusign(key, body).encode() for key in keys if key]
    return any(hmac.compare_digest(mac, (given or "").encode())
               for given in signatures if given for mac in expected)


def verify_sendgrid(public_key_b64: str, body: bytes, signature: str | None, timestamp: str | None,
                    now: float | None = None) -> bool:
    """SendGrid's ECDSA P-256 signature over `timestamp + raw body`, checked by SendGrid's own helper
    with the account's public key (base64 DER), and a timestamp recent enough not to be a replay."""
    if not (public_key_b64 and signature and timestamp and timestamp.isdigit()):
        return False
    if abs((now if now is not None else time.time()) - int(timestamp)) > SENDGRID_TOLERANCE:
        return False
    try:
        return bool(EventWebhook(public_key_b64).verify_signature(body.decode("utf-8"), signature, timestamp))
    except (ValueError, binascii.Error, TypeError):  # not UTF-8, not base64, not a key
        return False


def sign_sendgrid(private_key_pem: bytes, body: bytes, timestamp: str) -> str:
    """The twin of `verify_sendgrid`, for tests that build signed deliveries."""
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return base64.b64encode(key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()
