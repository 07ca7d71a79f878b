"""The e-signature port on DocuSign's eSignature REST API, through the official `docusign-esign`.

Envelopes are made from the configured templates, signed remotely (DocuSign emails the signer),
with the reference in a text custom field so `find` can tell whether an envelope already exists.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Callable, TypeVar

import urllib3
from docusign_esign import (ApiClient, CustomFields, Envelope, EnvelopeDefinition, EnvelopesApi, Tabs,
                            TemplateRole, Text, TextCustomField)
from docusign_esign.client.api_exception import ApiException

from shared.esign.auth import TokenSource
from shared.observability.context import DOCUSIGN, count_call
from shared.esign.port import (BASE_FIELD, REFERENCE_FIELD, ESignRefused, ESignUnavailable, ESignUncertain, EnvelopeRequest,
                               FoundEnvelope)
from shared.settings import Settings

TIMEOUT = (5, 30)  # connect, read (seconds)
T = TypeVar("T")


class DocuSignESign:
    def __init__(self, settings: Settings, tokens: TokenSource, base: str = ""):
        self.base = base  # stamped on every envelope when binome runs on several bases
        self.account_id = settings.DOCUSIGN_ACCOUNT_ID
        self.tokens = tokens
        self.client = ApiClient(host=settings.DOCUSIGN_HOST)
        self.envelopes = EnvelopesApi(self.client)
        self.calls = 0

    def _call(self, action: Callable[[], T]) -> T:
        self.calls += 1
        count_call(DOCUSIGN)
        self.client.set_default_header("Authorization", self.tokens.authorization())
        try:
            return action()
        except ApiException as exc:
            status = int(exc.status or 0)
            if status == 429 or status >= 500 or status == 0:
                raise ESignUnavailable(f"DocuSign a répondu {status}") from exc
            raise ESignRefused(f"DocuSign a refusé la demande ({status}) : {_error_code(exc)}") from exc
        except urllib3.exceptions.MaxRetryError as exc:
            if isinstance(exc.reason, urllib3.exceptions.NewConnectionError):
                raise ESignUnavailable("DocuSign injoignable") from exc
            raise ESignUncertain(f"DocuSign n'a pas répondu : {type(exc.reason).__name__}") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ESignUncertain(f"DocuSign n'a pas répondu : {type(exc).__name__}") from exc

    def send(self, request: EnvelopeRequest) -> str:
        definition = EnvelopeDefinition(
            template_id=request.template, status="sent", email_subject=request.subject,
            custom_fields=CustomFields(text_custom_fields=[
                TextCustomField(name=REFERENCE_FIELD, value=request.reference, show="false", required="false"),
                *([TextCustomField(name=BASE_FIELD, value=self.base, show="false", required="false")]
                  if self.base else [])]),
            template_roles=[TemplateRole(
                role_name=request.role, name=request.name, email=request.email,
                tabs=Tabs(text_tabs=[Text(tab_label=label, value=value) for label, value in request.tabs.items()]))])
        summary: Any = self._call(lambda: self.envelopes.create_envelope(
            self.account_id, envelope_definition=definition, _request_timeout=TIMEOUT))
        return str(summary.envelope_id)

    def find(self, reference: str, since: dt.datetime) -> FoundEnvelope | None:
        listing: Any = self._call(lambda: self.envelopes.list_status_changes(
            self.account_id, from_date=(since - dt.timedelta(days=1)).strftime("%Y-%m-%d"),
            custom_field=f"{REFERENCE_FIELD}={reference}", _request_timeout=TIMEOUT))
        found = [e for e in (listing.envelopes or []) if e.status != "voided"]
        return FoundEnvelope(found[0].envelope_id, found[0].status) if found else None

    def status(self, envelope_id: str) -> str:
        envelope: Any = self._call(lambda: self.envelopes.get_envelope(
            self.account_id, envelope_id, _request_timeout=TIMEOUT))
        return str(envelope.status)

    def remind(self, envelope_id: str) -> None:
        self._call(lambda: self.envelopes.update(self.account_id, envelope_id, resend_envelope="true",
                                                 envelope=Envelope(), _request_timeout=TIMEOUT))


def _error_code(exc: ApiException) -> str:
    try:
        return str(json.loads(exc.body or b"{}").get("errorCode", ""))
    except (ValueError, AttributeError, TypeError):
        return ""
