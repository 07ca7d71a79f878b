"""Links sent by email that let a person act without an account: signed with `LINK_SECRET` (by
itsdangerous), bound to what they are for (a purpose and the records named in them), and expiring.
Tampered, foreign or expired links are refused with a reason a person can read."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from shared.errors import BinomeError
from shared.settings import Settings


BASE_CLAIM = "b"


class LinkRefused(BinomeError):
    """The link cannot be used; the message says why, in French."""


class Links:
    def __init__(self, settings: Settings, base: str = ""):
        self.base = base  # with several bases, every link names its base (signed, like the rest)
        self.secret = settings.LINK_SECRET
        self.public_url = settings.PUBLIC_URL.rstrip("/")

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        # The purpose is the salt: a link made for one action is worthless for another.
        return URLSafeTimedSerializer(self.secret, salt=f"binome:{purpose}")

    def token(self, purpose: str, claims: dict[str, Any]) -> str:
        return str(self._serializer(purpose).dumps({**claims, BASE_CLAIM: self.base} if self.base else claims))

    def url(self, function: str, purpose: str, claims: dict[str, Any]) -> str:
        return f"{self.public_url}/{function}/?{urlencode({'t': self.token(purpose, claims)})}"

    def purpose(self, token: str, purposes: tuple[str, ...]) -> str | None:
        """Which of `purposes` a token was made for (its signature, not yet its age), if any."""
        for purpose in purposes:
            try:
                self._serializer(purpose).loads(token)
                return purpose
            except BadSignature:
                continue
        return None

    def base_of(self, token: str, purposes: tuple[str, ...]) -> str | None:
        """The base a link was made in, when its signature holds for one of `purposes` (its age is
        checked later, by `read`); None for a link that names none (made with a single base)."""
        for purpose in purposes:
            try:
                claims = self._serializer(purpose).loads(token)
            except BadSignature:
                continue
            base = claims.get(BASE_CLAIM) if isinstance(claims, dict) else None
            return str(base) if base else None
        return None

    def read(self, purpose: str, token: str, max_age: int) -> dict[str, Any]:
        try:
            claims = self._serializer(purpose).loads(token, max_age=max_age)
        except SignatureExpired:
            raise LinkRefused("Ce lien a expiré.") from None
        except BadSignature:
            raise LinkRefused("Ce lien n'est pas valide : il a peut-être été coupé ou modifié.") from None
        if not isinstance(claims, dict):
            raise LinkRefused("Ce lien n'est pas valide.")
        return claims
