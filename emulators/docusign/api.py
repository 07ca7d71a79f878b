"""The local DocuSign eSignature REST API (v2.1) under `/docusign/restapi`, and its signing page.

Envelopes are created from the configured templates with `templateRoles`, prefilled tabs and
text custom fields; they can be listed by custom field (`list_status_changes`, which needs a
`from_date`, as DocuSign does). `GET …/envelopes/{id}` answers recipients, tabs and custom fields
only when `include` asks for them, as does `…/recipients` for tabs (`include_tabs`). Embedded
signing goes through a one-time recipient-view URL, only for an envelope that is sent or
delivered, to a local page with « Signer » and « Refuser » buttons. Every status change is pushed
as Connect JSON SIM events, signed with `X-DocuSign-Signature-1` (base64 HMAC-SHA256 of the body
with the Connect key, used as-is) and retried until acknowledged; `envelopeSummary` is in them only
when the Connect configuration's `includeData` asks for it (a fresh configuration does not).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, redirect, request

from emulators.delivery import Deliverer, Delivery, backoff_policy
from emulators.documents import Documents
from emulators.faults import FaultBoard
from emulators.http import apply_fault, bearer_token, json_response

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
INCLUDES = {"recipients", "tabs", "custom_fields"}
EVERYTHING = frozenset(INCLUDES)
VIEW_TTL_SECONDS = 300  # recipient views work once, for about five minutes
CONNECT_RETRY_DELAYS = [60, 300, 900, 3600, 3600 * 4, 3600 * 12, 3600 * 24]


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime())


def docusign_error(code: str, message: str, status: int = 400) -> Response:
    return json_response({"errorCode": code, "message": message}, status)


@dataclass
class Template:
    id: str
    name: str
    role: str
    document: str  # what the signer reads, in French


@dataclass
class Envelope:
    id: str
    account_id: str
    template: Template
    subject: str
    status: str
    signer: dict[str, Any]
    tabs: dict[str, Any]
    created: str
    history: list[dict[str, str]] = field(default_factory=list)
    custom_fields: dict[str, str] = field(default_factory=dict)

    def summary(self, include: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
        """The envelope as the API answers it; recipients, tabs and custom fields only when asked."""
        dates = {f"{h['status']}DateTime": h["at"] for h in self.history}
        summary: dict[str, Any] = {
            "envelopeId": self.id, "status": self.status, "emailSubject": self.subject,
            "templateId": self.template.id, "createdDateTime": self.created,
            "statusChangedDateTime": self.history[-1]["at"] if self.history else self.created,
            "uri": f"/envelopes/{self.id}",
            **dates,
        }
        if "recipients" in include:
            summary["recipients"] = self.recipients("tabs" in include)
        if "custom_fields" in include:
            summary["customFields"] = {"textCustomFields": [
                {"fieldId": str(n), "name": name, "value": value, "show": "false", "required": "false"}
                for n, (name, value) in enumerate(self.custom_fields.items(), start=1)]}
        return summary

    def recipients(self, with_tabs: bool) -> dict[str, Any]:
        signer = {"recipientId": "1", "roleName": self.template.role, "name": self.signer["name"],
                  "email": self.signer["email"], "status": self.signer["status"],
                  **({"clientUserId": self.signer["clientUserId"]} if self.signer.get("clientUserId") else {})}
        if with_tabs:
            signer["tabs"] = self.tabs
        return {"signers": [signer], "recipientCount": "1"}


class DocuSignState:
    def __init__(self, deliverer: Deliverer, documents: Documents, templates: list[Template], connect_key: str,
                 connect_url: str | None = None, public_url: str = ""):
        self.deliverer = deliverer
        self.documents = documents
        self.templates = {t.id: t for t in templates}
        self.connect_key = connect_key
        self.connect_url = connect_url
        self.connect_include_data: list[str] = []  # the Connect configuration's `includeData`
        self.public_url = public_url
        self.envelopes: dict[str, Envelope] = {}
        self.views: dict[str, tuple[str, str, float]] = {}  # token -> envelope id, return url, expiry
        self.lock = threading.RLock()
        for envelope_id, stored in documents.load("docusign_envelopes"):
            template = self.templates.get(stored.pop("template_id"))
            if template is not None:  # envelopes of templates no longer configured are dropped
                self.envelopes[envelope_id] = Envelope(template=template, **stored)

    def save(self, envelope: Envelope) -> None:
        with self.lock:
            self.envelopes[envelope.id] = envelope
            stored = {k: v for k, v in vars(envelope).items() if k != "template"}
            self.documents.put("docusign_envelopes", envelope.id, {**stored, "template_id": envelope.template.id})

    def sign(self, body: bytes) -> str:
        return base64.b64encode(hmac.new(self.connect_key.encode(), body, hashlib.sha256).digest()).decode()

    def resend(self, envelope: Envelope) -> None:
        """DocuSign sends the signer the notification again (a reminder)."""
        with self.lock:
            envelope.history.append({"status": "resent", "at": now_iso()})
            self.save(envelope)
        self._notify(envelope, "envelope-resent")

    def transition(self, envelope: Envelope, status: str) -> None:
        """Move an envelope and its signer, and push the matching Connect events."""
        with self.lock:
            envelope.status = status
            envelope.history.append({"status": status, "at": now_iso()})
            events = [f"envelope-{status}"]
            if status in ("completed", "declined"):
                envelope.signer["status"] = status
                events.insert(0, f"recipient-{status}")
            self.save(envelope)
        for event in events:
            self._notify(envelope, event)

    def _notify(self, envelope: Envelope, event: str) -> None:
        if not self.connect_url:
            return
        include = set(self.connect_include_data) & INCLUDES
        summary = envelope.summary(include) if self.connect_include_data else None
        generated = now_iso()  # when the event happened: the same on every retry of its delivery

        def render(attempt: int) -> tuple[bytes, dict[str, str]]:
            payload = {
                "event": event, "apiVersion": "v2.1",
                "uri": f"/restapi/v2.1/accounts/{envelope.account_id}/envelopes/{envelope.id}",
                "retryCount": attempt - 1, "configurationId": 10_000_001, "generatedDateTime": generated,
                "data": {"accountId": envelope.account_id, "userId": "00000000-0000-0000-0000-0000000000aa",
                         "envelopeId": envelope.id,
                         **({"recipientId": "1"} if event.startswith("recipient-") else {}),
                         **({"envelopeSummary": summary} if summary is not None else {})},
            }
            body = json.dumps(payload, ensure_ascii=False).encode()
            return body, {"Content-Type": "application/json", "X-Authorization-Digest": "HMACSHA256",
                          "X-DocuSign-Signature-1": self.sign(body)}

        self.deliverer.submit(Delivery(
            id=secrets.token_hex(8), service="docusign", url=self.connect_url,
            description=f"{event} {envelope.id}", render=render, policy=backoff_policy(CONNECT_RETRY_DELAYS)))

    def reset(self) -> None:
        with self.lock:
            self.envelopes.clear()
            self.views.clear()
            self.connect_include_data = []
            self.documents.clear("docusign_envelopes")


def docusign_blueprint(state: DocuSignState, faults: FaultBoard) -> Blueprint:
    bp = Blueprint("docusign", __name__, url_prefix="/docusign")

    @bp.before_request
    def _gate() -> Response | None:
        if request.path.startswith("/docusign/signing/"):
            return None  # the signing page is opened by a browser, without the API token
        if not bearer_token():
            return docusign_error("AUTHORIZATION_INVALID_TOKEN",
                                  "The access token provided is expired, revoked or malformed.", 401)
        return apply_fault(faults, "docusign", lambda status: {
            "errorCode": "HOURLY_APIINVOCATION_LIMIT_EXCEEDED" if status == 429 else "UNSPECIFIED_ERROR",
            "message": f"Injected fault {status}"})

    @bp.post("/restapi/v2.1/accounts/<account_id>/envelopes")
    def create_envelope(account_id: str) -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return docusign_error("INVALID_REQUEST_BODY", "The request body is missing or improperly formatted.")
        template = state.templates.get(body.get("templateId", ""))
        if template is None:
            return docusign_error("TEMPLATE_ID_INVALID", f"Invalid template ID: {body.get('templateId')}.")
        if body.get("status") not in ("sent", "created"):
            return docusign_error("INVALID_REQUEST_PARAMETER", "status must be 'sent' or 'created'.")
        roles = body.get("templateRoles") or []
        role = next((r for r in roles if isinstance(r, dict) and r.get("roleName") == template.role), None)
        unknown = [r.get("roleName") for r in roles if isinstance(r, dict) and r.get("roleName") != template.role]
        if role is None or unknown:
            return docusign_error("INVALID_REQUEST_PARAMETER",
                                  f"The template role does not match: expected '{template.role}'.")
        if not role.get("name"):
            return docusign_error("INVALID_USERNAME_FOR_RECIPIENT", "The user name for the recipient is invalid.")
        if not EMAIL.match(str(role.get("email", ""))):
            return docusign_error("INVALID_EMAIL_ADDRESS_FOR_RECIPIENT",
                                  "The email address for the recipient is invalid.")
        custom = ((body.get("customFields") or {}).get("textCustomFields")) or []
        if not all(isinstance(f, dict) and f.get("name") for f in custom):
            return docusign_error("INVALID_REQUEST_PARAMETER", "Each custom field needs a name.")
        envelope = Envelope(
            id=str(uuid.uuid4()), account_id=account_id, template=template,
            subject=body.get("emailSubject") or template.name, status="created",
            signer={"name": role["name"], "email": role["email"], "clientUserId": role.get("clientUserId"),
                    "status": "created"},
            tabs=role.get("tabs") or {}, created=now_iso(),
            custom_fields={str(f["name"]): str(f.get("value", "")) for f in custom})
        state.save(envelope)
        if body["status"] == "sent":
            envelope.signer["status"] = "sent"
            state.transition(envelope, "sent")
        return json_response({"envelopeId": envelope.id, "uri": f"/envelopes/{envelope.id}",
                              "statusDateTime": now_iso(), "status": envelope.status}, 201)

    def envelope_of(account_id: str, envelope_id: str) -> Envelope | Response:
        envelope = state.envelopes.get(envelope_id)
        if envelope is None or envelope.account_id != account_id:
            return docusign_error("ENVELOPE_DOES_NOT_EXIST",
                                  "The envelope specified either does not exist or you have no rights to it.", 404)
        return envelope

    @bp.get("/restapi/v2.1/accounts/<account_id>/envelopes/<envelope_id>")
    def get_envelope(account_id: str, envelope_id: str) -> Response:
        envelope = envelope_of(account_id, envelope_id)
        if isinstance(envelope, Response):
            return envelope
        return json_response(envelope.summary(requested_includes()))

    @bp.put("/restapi/v2.1/accounts/<account_id>/envelopes/<envelope_id>")
    def update_envelope(account_id: str, envelope_id: str) -> Response:
        """Only what binome uses: `resend_envelope=true` on an envelope still out for signature."""
        envelope = envelope_of(account_id, envelope_id)
        if isinstance(envelope, Response):
            return envelope
        if request.args.get("resend_envelope", "false").lower() != "true":
            return docusign_error("INVALID_REQUEST_PARAMETER", "This stand-in supports resend_envelope=true only.")
        if envelope.status not in ("sent", "delivered"):
            return docusign_error("ENVELOPE_CANNOT_RESEND",
                                  f"The envelope is {envelope.status}: only envelopes out for signature can be resent.")
        state.resend(envelope)
        return json_response({"envelopeId": envelope.id})

    @bp.get("/restapi/v2.1/accounts/<account_id>/envelopes/<envelope_id>/recipients")
    def list_recipients(account_id: str, envelope_id: str) -> Response:
        envelope = envelope_of(account_id, envelope_id)
        if isinstance(envelope, Response):
            return envelope
        return json_response(envelope.recipients(request.args.get("include_tabs", "false").lower() == "true"))

    @bp.get("/restapi/v2.1/accounts/<account_id>/envelopes")
    def list_status_changes(account_id: str) -> Response:
        """Envelopes changed since `from_date` (required unless ids are given), optionally those
        whose custom field has a value (`custom_field=name=value`) or in some `status`es."""
        ids = [i for i in request.args.get("envelope_ids", "").split(",") if i]
        if not request.args.get("from_date") and not ids:
            return docusign_error("INVALID_REQUEST_PARAMETER", "The request contained at least one invalid "
                                  "parameter. Query parameter 'from_date' must be set to a valid DateTime, or "
                                  "'envelope_ids' or 'transaction_ids' must be specified.")
        name, _, value = request.args.get("custom_field", "").partition("=")
        statuses = {s for s in request.args.get("status", "").split(",") if s}
        with state.lock:
            found = [e for e in state.envelopes.values() if e.account_id == account_id
                     and (not ids or e.id in ids) and (not name or e.custom_fields.get(name) == value)
                     and (not statuses or e.status in statuses)]
        include = requested_includes()
        return json_response({"envelopes": [e.summary(include) for e in found], "resultSetSize": str(len(found)),
                              "totalSetSize": str(len(found)), "startPosition": "0",
                              "endPosition": str(max(len(found) - 1, 0))})

    @bp.post("/restapi/v2.1/accounts/<account_id>/envelopes/<envelope_id>/views/recipient")
    def recipient_view(account_id: str, envelope_id: str) -> Response:
        envelope = envelope_of(account_id, envelope_id)
        if isinstance(envelope, Response):
            return envelope
        if envelope.status not in ("sent", "delivered"):
            # DocuSign's exact code here is not documented; the refusal itself is.
            return docusign_error("ENVELOPE_INVALID_STATUS",
                                  f"The envelope is {envelope.status}: a recipient view needs it sent or delivered.")
        body = request.get_json(silent=True) or {}
        signer = envelope.signer
        if (body.get("clientUserId") != signer.get("clientUserId") or not signer.get("clientUserId")
                or body.get("email") != signer["email"] or body.get("userName") != signer["name"]):
            return docusign_error("UNKNOWN_ENVELOPE_RECIPIENT",
                                  "The recipient you have identified is not a valid recipient of the specified envelope.")
        if not body.get("returnUrl"):
            return docusign_error("INVALID_REQUEST_PARAMETER", "returnUrl is required.")
        token = secrets.token_urlsafe(24)
        with state.lock:
            state.views[token] = (envelope.id, body["returnUrl"], time.monotonic() + VIEW_TTL_SECONDS)
        return json_response({"url": f"{state.public_url or request.host_url.rstrip('/')}/docusign/signing/{token}"}, 201)

    @bp.route("/signing/<token>", methods=["GET", "POST"])
    def signing_page(token: str) -> Response:
        with state.lock:
            view = state.views.pop(token, None) if request.method == "POST" else state.views.get(token)
        if view is None or view[2] < time.monotonic():
            return Response(page("Lien expiré", "<p>Ce lien de signature a expiré ou a déjà servi.</p>"),
                            410, mimetype="text/html")
        envelope = state.envelopes[view[0]]
        if request.method == "POST":
            action = request.form.get("action")
            if envelope.status in ("sent", "delivered") and action in ("sign", "decline"):
                state.transition(envelope, "completed" if action == "sign" else "declined")
            event = {"sign": "signing_complete", "decline": "decline"}.get(action or "", "cancel")
            return redirect(f"{view[1]}{'&' if '?' in view[1] else '?'}event={event}")
        return Response(signing_html(envelope, token), mimetype="text/html")

    return bp


def requested_includes() -> set[str]:
    return {part.strip() for part in request.args.get("include", "").split(",")} & INCLUDES


def page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            '<style>body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem}'
            'button{font-size:1rem;padding:.5rem 1rem;margin-right:.5rem}</style></head>'
            f"<body><h1>{html.escape(title)}</h1>{body}</body></html>")


def signing_html(envelope: Envelope, token: str) -> str:
    tabs = "".join(f"<li>{html.escape(t.get('tabLabel', ''))} : {html.escape(str(t.get('value', t.get('selected', ''))))}</li>"
                   for kind in envelope.tabs.values() if isinstance(kind, list) for t in kind)
    return page(envelope.template.name, (
        f"<p>Document pour <strong>{html.escape(envelope.signer['name'])}</strong> "
        f"({html.escape(envelope.signer['email'])}).</p>"
        f"<p>{html.escape(envelope.template.document)}</p>"
        + (f"<ul>{tabs}</ul>" if tabs else "") +
        f'<form method="post" action="/docusign/signing/{token}">'
        '<button name="action" value="sign">Signer</button>'
        '<button name="action" value="decline">Refuser</button></form>'))
