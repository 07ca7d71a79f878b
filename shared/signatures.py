"""Webhook signatures: each `verify_*` checks raw bytes in constant time and has a `sign_*` twin
that tests use to build real signed requests."""

from __future__ import annotations

import base64
import hashlib
import hmac


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
