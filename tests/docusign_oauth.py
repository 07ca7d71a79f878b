"""A DocuSign OAuth server of our own for the JWT grant: HTTPS on loopback (the SDK always calls
`https://<oauth host>/oauth/token`) with a certificate made for the test, checking each assertion as
DocuSign does — RS256 with the integration key's public key, issuer, subject, audience, scope —
and answering `consent_required` for a user who has not consented."""

from __future__ import annotations

import copy
import datetime as dt
import ipaddress
import threading
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from docusign_esign import ApiClient
from docusign_esign.client.api_response import RESTClientObject
from docusign_esign.client.configuration import Configuration
from flask import Flask, jsonify, request

from emulators.server import BackgroundServer


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def loopback_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, and its key, written to `folder`."""
    key = rsa_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(now + dt.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "oauth.crt", folder / "oauth.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(pem(key))
    return cert_file, key_file


class OAuthServer:
    def __init__(self, folder: Path, integration_key: str, signing_key: rsa.RSAPrivateKey,
                 consented: set[str], lifetime: int = 3600):
        self.integration_key = integration_key
        self.public_key = signing_key.public_key()
        self.consented = consented
        self.lifetime = lifetime
        self.grants: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.cert_file, key_file = loopback_certificate(folder)
        app = Flask("docusign-oauth")
        app.add_url_rule("/oauth/token", "token", self.token, methods=["POST"])
        self.server = BackgroundServer(app, ssl_context=(str(self.cert_file), str(key_file)))

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def token(self) -> Any:
        if request.form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return jsonify(error="unsupported_grant_type"), 400
        try:
            claims = jwt.decode(request.form.get("assertion", ""), self.public_key, algorithms=["RS256"],
                                audience=self.host, issuer=self.integration_key)
        except jwt.PyJWTError as exc:
            return jsonify(error="invalid_grant", error_description=str(exc)), 400
        if set(str(claims.get("scope", "")).split()) != {"signature", "impersonation"}:
            return jsonify(error="invalid_scope"), 400
        if claims.get("sub") not in self.consented:
            return jsonify(error="consent_required"), 400
        with self._lock:
            self.grants.append(claims)
            number = len(self.grants)
        return jsonify(access_token=f"token-{number}", token_type="Bearer", expires_in=self.lifetime)

    def client(self) -> ApiClient:
        """An SDK client that trusts this server's certificate (and only for itself)."""
        client = ApiClient()
        configuration = copy.copy(Configuration())
        configuration.ssl_ca_cert = str(self.cert_file)
        client.rest_client = RESTClientObject(configuration=configuration)
        return client

    def __enter__(self) -> "OAuthServer":
        self.server.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.stop()
