"""How the DocuSign adapter authenticates: DocuSign's JWT grant in production (the token cached for
its lifetime, `consent_required` reported with the URL to open), a static token locally."""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Callable, Protocol
from urllib.parse import quote

from docusign_esign import ApiClient
from docusign_esign.client.api_exception import ApiException

from shared.esign.port import ConsentRequired, ESignUnavailable
from shared.settings import Settings

SCOPES = ["signature", "impersonation"]
TOKEN_LIFETIME = 3600  # seconds DocuSign grants; there is no refresh token, a new grant is asked
RENEW_BEFORE = 300  # ask for a new token this long before the old one expires
LOCAL_TOKEN = "local-token"


class TokenSource(Protocol):
    def authorization(self) -> str:
        """The value of the `Authorization` header."""
        ...


class StaticToken:
    def __init__(self, token: str = LOCAL_TOKEN):
        self.token = token

    def authorization(self) -> str:
        return f"Bearer {self.token}"


class JwtTokens:
    """Tokens from DocuSign's JWT grant (integration key, impersonated user, RSA key)."""

    def __init__(self, settings: Settings, client: Callable[[], ApiClient] = ApiClient,
                 clock: Callable[[], float] = time.monotonic):
        self.integration_key = settings.DOCUSIGN_INTEGRATION_KEY
        self.user_id = settings.DOCUSIGN_USER_ID
        self.oauth_host = settings.DOCUSIGN_OAUTH_HOST
        self.private_key = settings.DOCUSIGN_PRIVATE_KEY.replace("\\n", "\n").encode()
        self.redirect_uri = settings.PUBLIC_URL
        self._client = client
        self._clock = clock
        self._lock = threading.Lock()
        self._token: tuple[str, float] | None = None  # header value, when to renew
        self.grants = 0

    @property
    def consent_url(self) -> str:
        return (f"https://{self.oauth_host}/oauth/auth?response_type=code&scope={quote(' '.join(SCOPES))}"
                f"&client_id={quote(self.integration_key)}&redirect_uri={quote(self.redirect_uri, safe='')}")

    def authorization(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._token[1]:
                self._token = self._grant()
            return self._token[0]

    def _grant(self) -> tuple[str, float]:
        self.grants += 1
        try:
            token: Any = self._client().request_jwt_user_token(
                self.integration_key, self.user_id, self.oauth_host, self.private_key, TOKEN_LIFETIME, scopes=SCOPES)
        except ApiException as exc:
            if _error_of(exc) == "consent_required":
                raise ConsentRequired(self.consent_url) from exc
            raise ESignUnavailable(f"Jeton DocuSign refusé ({exc.status}) : {_error_of(exc) or exc.reason}") from exc
        lifetime = int(token.expires_in or TOKEN_LIFETIME)
        return f"{token.token_type or 'Bearer'} {token.access_token}", self._clock() + max(lifetime - RENEW_BEFORE, 0)


def _error_of(exc: ApiException) -> str:
    try:
        body = json.loads(exc.body or b"{}")
    except (ValueError, TypeError):
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""
