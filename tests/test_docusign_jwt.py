"""DocuSign's JWT grant, through the SDK's own `request_jwt_user_token`, against a local OAuth
server over HTTPS with a test RSA key: a fresh token, the cached one, a new one at expiry, and
`consent_required` reported with the URL a person must open."""

from __future__ import annotations

import pytest

from shared.esign.auth import RENEW_BEFORE, JwtTokens
from shared.esign.docusign import DocuSignESign
from shared.esign.port import ConsentRequired, EnvelopeRequest
from shared.settings import isolated_settings
from tests.conftest import envelopes_api
from tests.docusign_oauth import OAuthServer, pem, rsa_key

INTEGRATION_KEY = "11111111-2222-4333-8444-555555555555"
USER = "66666666-7777-4888-8999-000000000000"


@pytest.fixture
def oauth(tmp_path):
    key = rsa_key()
    with OAuthServer(tmp_path, INTEGRATION_KEY, key, consented={USER}, lifetime=3600) as server:
        server.private_key = pem(key)
        yield server


def tokens(oauth, user: str = USER, clock=None) -> JwtTokens:
    settings = isolated_settings(DOCUSIGN_INTEGRATION_KEY=INTEGRATION_KEY, DOCUSIGN_USER_ID=user,
                                 DOCUSIGN_OAUTH_HOST=oauth.host, DOCUSIGN_PRIVATE_KEY=oauth.private_key.decode(),
                                 PUBLIC_URL="https://binome.example.org")
    return JwtTokens(settings, client=oauth.client, **({"clock": clock} if clock else {}))


def test_a_fresh_token_then_the_cached_one_then_a_new_one_before_expiry(oauth):
    now = [0.0]
    source = tokens(oauth, clock=lambda: now[0])
    assert source.authorization() == "Bearer token-1"
    [claims] = oauth.grants
    assert (claims["iss"], claims["sub"], claims["aud"]) == (INTEGRATION_KEY, USER, oauth.host)
    now[0] = 3600 - RENEW_BEFORE - 1
    assert source.authorization() == "Bearer token-1" and len(oauth.grants) == 1  # cached
    now[0] = 3600 - RENEW_BEFORE
    assert source.authorization() == "Bearer token-2" and source.grants == 2  # renewed before it expires


def test_consent_required_names_the_url_to_open(oauth):
    with pytest.raises(ConsentRequired) as refused:
        tokens(oauth, user="99999999-0000-4000-8000-000000000000").authorization()
    url = refused.value.url
    assert url.startswith(f"https://{oauth.host}/oauth/auth?response_type=code&scope=signature%20impersonation")
    assert f"client_id={INTEGRATION_KEY}" in url and "redirect_uri=https%3A%2F%2Fbinome.example.org" in url
    assert oauth.grants == []


def test_an_assertion_signed_with_another_key_is_refused(oauth):
    oauth.private_key = pem(rsa_key())
    with pytest.raises(Exception) as refused:
        tokens(oauth).authorization()
    assert "invalid_grant" in str(refused.value) and not isinstance(refused.value, ConsentRequired)


def test_the_adapter_calls_docusign_with_the_granted_token(oauth, emulator):
    settings = isolated_settings(BINOME_EMULATOR_PORT=emulator.server.port)
    esign = DocuSignESign(settings, tokens(oauth))
    envelope_id = esign.send(EnvelopeRequest(reference="recA:convention", template="convention-benevole",
                                             role="Bénévole", name="Léa Martin", email="lea@exemple.fr",
                                             subject="Convention"))
    assert esign.client.default_headers["Authorization"] == "Bearer token-1"
    assert envelopes_api(emulator.url).get_envelope(settings.DOCUSIGN_ACCOUNT_ID, envelope_id).status == "sent"
