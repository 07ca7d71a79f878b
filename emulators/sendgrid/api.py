"""The local SendGrid: `POST /sendgrid/v3/mail/send`, validated as SendGrid documents it.

202 with `X-Message-Id` for a valid request (200 and nothing sent in sandbox mode), SendGrid's
`{"errors": [{message, field, help}]}` otherwise. Accepted mail is captured in the outbox (one
message per personalization, as SendGrid sends them) and followed by signed Event Webhook
batches: `processed`, then `delivered` or `bounce`. Like SendGrid, the stand-in gathers the events of
every message into batches posted every 30 seconds (compressed like its other delays), so one POST
carries the events of many messages and nothing may rely on their grouping.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from typing import Any

from flask import Blueprint, Response, request

from emulators.delivery import Deliverer, Delivery, backoff_policy
from emulators.documents import Documents
from emulators.faults import FaultBoard
from emulators.http import apply_fault, bearer_token, json_response
from emulators.sendgrid.events import EventSigner, encode, events_for

EMAIL = re.compile(r"^[^@\s;,<>]+@[^@\s;,<>]+\.[^@\s;,<>]+$")
TEMPLATE_ID = re.compile(r"^d-[0-9a-f]{32}$")
MAX_RECIPIENTS = 1000
MAX_PERSONALIZATIONS = 1000
MAX_CUSTOM_ARGS_BYTES = 10_000
MAX_CATEGORIES = 10
MAX_MESSAGE_BYTES = 30 * 1024 * 1024
DISPOSITIONS = ("inline", "attachment")
# SendGrid retries failed event posts for up to about 24 hours.
EVENT_RETRY_DELAYS = [60, 300, 600, 1800, 3600, 7200, 14400, 28800, 43200]
BATCH_WINDOW = 30  # nominal seconds SendGrid gathers events before posting them
MAX_BATCH_BYTES = 768 * 1024  # "every 30 seconds or when the batch size reaches 768 kilobytes"


class EventBatch:
    """Events gathered until the batch is first posted; then fixed, so a retry posts the same body."""

    def __init__(self, signer: EventSigner):
        self.signer = signer
        self.events: list[dict[str, Any]] = []
        self.size = 2  # bytes of the JSON array so far
        self.body: bytes | None = None
        self.lock = threading.Lock()

    def add(self, events: list[dict[str, Any]]) -> bool:
        """Add to this batch unless it has gone out already or would outgrow SendGrid's batch size
        (a slow receiver must not be sent one ever-growing post)."""
        size = sum(len(encode([e])) for e in events)  # each event and its ", " (brackets counted once)
        with self.lock:
            if self.body is not None or (self.events and self.size + size > MAX_BATCH_BYTES):
                return False
            self.events.extend(events)
            self.size += size
            return True

    def render(self, attempt: int) -> tuple[bytes, dict[str, str]]:
        with self.lock:
            if self.body is None:
                self.body = encode(self.events)
        return self.body, self.signer.headers(self.body)  # signed at each post, as SendGrid does


def error(message: str, field: str | None = None, help_url: str | None = None) -> dict[str, Any]:
    return {"message": message, "field": field, "help": help_url}


def errors_response(errors: list[dict[str, Any]], status: int = 400) -> Response:
    return json_response({"errors": errors}, status)


class SendGridState:
    def __init__(self, deliverer: Deliverer, documents: Documents, event_webhook_url: str | None = None):
        self.deliverer = deliverer
        self.documents = documents
        self.event_webhook_url = event_webhook_url
        self.signer = EventSigner()
        self.outbox: list[dict[str, Any]] = [message for _, message in documents.load("sendgrid_outbox")]
        self.lock = threading.Lock()
        self._batch: EventBatch | None = None

    def capture(self, message: dict[str, Any]) -> None:
        with self.lock:
            message["index"] = len(self.outbox)
            self.outbox.append(message)
        if self.event_webhook_url:
            for batch in events_for(message):
                self._deliver(batch, message)
        self.documents.put("sendgrid_outbox", str(message["index"]), message)

    def _deliver(self, events: list[dict[str, Any]], message: dict[str, Any]) -> None:
        message.setdefault("events", []).extend(e["event"] for e in events)
        with self.lock:
            if self._batch is not None and self._batch.add(events):
                return
            self._batch = batch = EventBatch(self.signer)
            batch.add(events)
        self.deliverer.submit(Delivery(
            id=secrets.token_hex(8), service="sendgrid", url=self.event_webhook_url or "",
            description="lot d'événements SendGrid", render=batch.render,
            policy=backoff_policy(EVENT_RETRY_DELAYS)), nominal_delay=BATCH_WINDOW)

    def reset(self) -> None:
        with self.lock:
            self.outbox.clear()
            self._batch = None
            self.documents.clear("sendgrid_outbox")


def sendgrid_blueprint(state: SendGridState, faults: FaultBoard) -> Blueprint:
    bp = Blueprint("sendgrid", __name__, url_prefix="/sendgrid")

    @bp.before_request
    def _gate() -> Response | None:
        if not bearer_token():
            return errors_response([error("The provided authorization grant is invalid, expired, or revoked")], 401)
        return apply_fault(faults, "sendgrid", lambda status: {"errors": [error(f"Injected fault {status}")]})

    @bp.post("/v3/mail/send")
    def mail_send() -> Response:
        try:
            body = json.loads(request.get_data() or b"")
        except (ValueError, UnicodeDecodeError):
            return errors_response([error("Bad Request", None, None)])
        if not isinstance(body, dict):
            return errors_response([error("Bad Request", None, None)])
        problems = validate(body)
        if problems:
            return errors_response(problems)
        if (body.get("mail_settings") or {}).get("sandbox_mode", {}).get("enable"):
            return Response(status=200)
        message_id = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")[:22]
        for personalization in body["personalizations"]:
            state.capture(render(body, personalization, message_id))
        response = Response(status=202)
        response.headers["X-Message-Id"] = message_id
        return response

    @bp.route("/<path:_unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def unknown(_unknown: str) -> Response:
        return errors_response([error("not found")], 404)

    return bp


def validate(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every problem SendGrid would report for this request, in its error format."""
    problems: list[dict[str, Any]] = []
    sender = body.get("from")
    if not isinstance(sender, dict) or not sender.get("email"):
        problems.append(error("The from object must be provided for every email send. It is an object that "
                              "requires the email parameter, but may also contain a name parameter.", "from"))
    elif not EMAIL.match(sender["email"]):
        problems.append(error("The from email does not contain a valid address.", "from.email"))

    personalizations = body.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        problems.append(error("The personalizations field is required and must have at least one personalization.",
                              "personalizations"))
        personalizations = []
    elif len(personalizations) > MAX_PERSONALIZATIONS:
        problems.append(error(f"You may not have more than {MAX_PERSONALIZATIONS} personalizations per API request.",
                              "personalizations"))
    recipients = 0
    for i, p in enumerate(personalizations):
        if not isinstance(p, dict) or not isinstance(p.get("to"), list) or not p["to"]:
            problems.append(error("The to array is required for all personalization objects, and must have at "
                                  "least one email object with a valid email address.", f"personalizations.{i}.to"))
            continue
        seen: set[str] = set()
        for kind in ("to", "cc", "bcc"):
            for j, address in enumerate(p.get(kind) or []):
                recipients += 1
                where = f"personalizations.{i}.{kind}.{j}"
                if not isinstance(address, dict) or not EMAIL.match(str(address.get("email", ""))):
                    problems.append(error("Does not contain a valid address.", f"{where}.email"))
                    continue
                if any(c in (address.get("name") or "") for c in ";,"):
                    problems.append(error("The name of a recipient cannot contain ';' or ','.", f"{where}.name"))
                folded = str(address["email"]).lower()
                if folded in seen:
                    problems.append(error("Each email address in the personalization block should be unique "
                                          "between to, cc, and bcc. We found the first duplicate instance of "
                                          f"[{address['email']}] in the personalizations.{i}.{kind} field.",
                                          f"personalizations.{i}.{kind}"))
                seen.add(folded)
    if recipients > MAX_RECIPIENTS:
        problems.append(error(f"The total number of recipients must be no more than {MAX_RECIPIENTS}.",
                              "personalizations"))

    template_id = body.get("template_id")
    if template_id is not None and not TEMPLATE_ID.match(str(template_id)):
        problems.append(error("The template_id is not a valid dynamic template id.", "template_id"))
    content = body.get("content")
    if template_id is None:
        if not isinstance(content, list) or not content or not all(
                isinstance(c, dict) and c.get("type") and c.get("value") for c in content):
            problems.append(error("Unless a valid template_id is provided, the content parameter is required. "
                                  "There must be at least one defined content block. We typically suggest both "
                                  "text/plain and text/html blocks are included, but only one block is required.",
                                  "content"))
        if not body.get("subject") and not all(isinstance(p, dict) and p.get("subject") for p in personalizations):
            problems.append(error("The subject is required. You can get around this requirement if you use a "
                                  "template with a subject defined or if every personalization has a subject "
                                  "defined.", "subject"))
    if body.get("reply_to") and body.get("reply_to_list"):
        problems.append(error("The reply_to and reply_to_list parameters cannot be used together.", "reply_to"))
    categories = body.get("categories") or []
    if not isinstance(categories, list) or len(categories) > MAX_CATEGORIES or \
            any(not isinstance(c, str) or len(c) > 255 for c in categories):
        problems.append(error(f"Up to {MAX_CATEGORIES} categories of at most 255 characters.", "categories"))
    custom_args = [("custom_args", body.get("custom_args") or {})] + [
        (f"personalizations.{i}.custom_args", p.get("custom_args") or {})
        for i, p in enumerate(personalizations) if isinstance(p, dict)]
    for where, args in custom_args:
        if not isinstance(args, dict) or any(not isinstance(v, str) for v in args.values()):
            problems.append(error("Invalid type. Expected: string, given: a custom_args value that is not a string.",
                                  where))
    if sum(len(json.dumps(a)) for _, a in custom_args) > MAX_CUSTOM_ARGS_BYTES:
        problems.append(error("The custom_args must total less than 10,000 bytes.", "custom_args"))
    problems += attachment_problems(body.get("attachments"))
    return problems


def attachment_problems(attachments: Any) -> list[dict[str, Any]]:
    """SendGrid's rules for attachments: base64 content and a filename each; an inline one is shown
    through its content_id, so it must have one."""
    if attachments is None:
        return []
    if not isinstance(attachments, list):
        return [error("Invalid type. Expected: array, given: something else.", "attachments")]
    problems = []
    size = 0
    for i, attachment in enumerate(attachments):
        where = f"attachments.{i}"
        if not isinstance(attachment, dict):
            problems.append(error("Invalid type. Expected: object.", where))
            continue
        try:
            size += len(base64.b64decode(str(attachment.get("content") or ""), validate=True))
        except ValueError:
            problems.append(error("The attachment content must be base64 encoded.", f"{where}.content"))
        if not attachment.get("content"):
            problems.append(error("The attachment content is required.", f"{where}.content"))
        if not attachment.get("filename"):
            problems.append(error("The attachment filename is required.", f"{where}.filename"))
        disposition = attachment.get("disposition", "attachment")
        if disposition not in DISPOSITIONS:
            problems.append(error("The disposition must be inline or attachment.", f"{where}.disposition"))
        if disposition == "inline" and not attachment.get("content_id"):
            problems.append(error("The content_id parameter is required if the disposition is set to inline.",
                                  f"{where}.content_id"))
    if size > MAX_MESSAGE_BYTES:
        problems.append(error("The attachments exceed the maximum total message size of 30 MB.", "attachments"))
    return problems


def render(body: dict[str, Any], personalization: dict[str, Any], message_id: str) -> dict[str, Any]:
    """What the recipients of one personalization receive."""
    substitutions = personalization.get("substitutions") or {}

    def fill(text: str) -> str:
        for key, value in substitutions.items():
            text = text.replace(key, str(value))
        return text

    content = {c["type"]: fill(c["value"]) for c in body.get("content") or []}
    addresses = {kind: [a["email"] for a in personalization.get(kind) or []] for kind in ("to", "cc", "bcc")}
    return {
        "x_message_id": message_id, "sent_at": time.time(),
        "from": body["from"], "reply_to": body.get("reply_to"),
        "to": personalization["to"], "cc": personalization.get("cc", []), "bcc": personalization.get("bcc", []),
        "recipients": addresses["to"] + addresses["cc"] + addresses["bcc"],
        "subject": fill(personalization.get("subject") or body.get("subject") or ""),
        "text": content.get("text/plain", ""), "html": content.get("text/html", ""),
        "template_id": body.get("template_id"),
        "dynamic_template_data": personalization.get("dynamic_template_data"),
        "categories": body.get("categories") or [],
        "custom_args": {**(body.get("custom_args") or {}), **(personalization.get("custom_args") or {})},
        "send_at": personalization.get("send_at", body.get("send_at")),
        "attachments": [{"filename": a["filename"], "type": a.get("type", "application/octet-stream"),
                         "disposition": a.get("disposition", "attachment"), "content_id": a.get("content_id"),
                         "content": a["content"]} for a in body.get("attachments") or []],
    }
