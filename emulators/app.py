"""The emulators as one WSGI application: vendor stand-ins under their prefixes, and
`/_emulator` for inspection and control (tests, `make demo`, the console page)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, Response, request

from emulators.airtable.api import AirtableConfig, airtable_blueprint
from emulators.airtable.meta import Meta
from emulators.airtable.records import Records
from emulators.airtable.store import Store
from emulators.console.views import console_blueprint
from emulators.delivery import Deliverer
from emulators.documents import Documents
from emulators.docusign.api import DocuSignState, Template, docusign_blueprint
from emulators.faults import SERVICES, FaultBoard
from emulators.http import DroppedConnection, json_response
from emulators.sendgrid.api import SendGridState, sendgrid_blueprint
from emulators.typeform.api import SubmissionError, TypeformState, typeform_blueprint

MAX_BODY_BYTES = 16 * 1024 * 1024


@dataclass
class EmulatorOptions:
    """How the stand-ins are set up. The defaults mirror binome's local settings; the stack
    runner passes the real ones so both sides agree on secrets and webhook targets."""

    db_path: str = ":memory:"
    airtable_rate_limit: float | None = 5.0
    time_scale: float = 1 / 60  # a nominal minute of retry delay takes one real second
    sendgrid_event_url: str | None = None
    docusign_connect_url: str | None = None
    docusign_connect_key: str = "dev-docusign-connect-key"
    docusign_template_volunteer: str = "convention-benevole"
    docusign_template_charter: str = "charte-structure"


@dataclass
class Emulators:
    store: Store
    deliverer: Deliverer
    sendgrid: SendGridState
    docusign: DocuSignState
    typeform: TypeformState
    faults: FaultBoard = field(default_factory=FaultBoard)
    airtable: AirtableConfig = field(default_factory=AirtableConfig)
    requests: dict[str, int] = field(default_factory=dict)  # "airtable GET" -> count
    errors: dict[str, int] = field(default_factory=dict)  # "airtable 429" -> count
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bump(self, counter: dict[str, int], key: str) -> None:
        with self.lock:  # request threads count concurrently
            counter[key] = counter.get(key, 0) + 1

    def close(self) -> None:
        self.deliverer.stop()


def templates(options: EmulatorOptions) -> list[Template]:
    return [
        Template(options.docusign_template_volunteer, "Convention d'engagement bénévole", "Bénévole",
                 "Je m'engage à accompagner un élève avec bienveillance, ponctualité et discrétion, "
                 "dans le respect de la charte du collectif."),
        Template(options.docusign_template_charter, "Charte des structures partenaires", "Structure",
                 "La structure s'engage à accueillir les bénévoles, à désigner un référent et à "
                 "signaler toute difficulté au collectif."),
    ]


def create_app(options: EmulatorOptions | None = None, **overrides: Any) -> Flask:
    options = options or EmulatorOptions(**overrides)
    deliverer = Deliverer(options.time_scale)
    store = Store(options.db_path)
    documents = Documents(store.db, store.lock)
    state = Emulators(
        store=store, deliverer=deliverer,
        sendgrid=SendGridState(deliverer, documents, options.sendgrid_event_url),
        docusign=DocuSignState(deliverer, documents, templates(options), options.docusign_connect_key,
                               options.docusign_connect_url),
        typeform=TypeformState(deliverer, documents),
        airtable=AirtableConfig(options.airtable_rate_limit))
    records, meta = Records(state.store), Meta(state.store)
    app = Flask("emulators")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions["emulators"] = state

    def service_of_request() -> str | None:
        service = request.path.strip("/").split("/")[0]
        return service if service in SERVICES else None

    @app.before_request
    def _count_request() -> None:
        if service := service_of_request():
            state.bump(state.requests, f"{service} {request.method}")

    @app.after_request
    def _count_error(response: Response) -> Response:
        if response.status_code >= 400 and (service := service_of_request()):
            state.bump(state.errors, f"{service} {response.status_code}")
        return response

    @app.errorhandler(413)
    def _too_large(_: Any) -> Response:
        return json_response({"error": {"type": "REQUEST_TOO_LARGE", "message": "Request body too large"}}, 413)

    @app.errorhandler(DroppedConnection)
    def _dropped(_: Any) -> Response:
        return Response(status=500)  # the socket is already closed; nothing reaches the client

    app.register_blueprint(airtable_blueprint(state.store, records, meta, state.faults, state.airtable))
    app.register_blueprint(sendgrid_blueprint(state.sendgrid, state.faults))
    app.register_blueprint(docusign_blueprint(state.docusign, state.faults))
    app.register_blueprint(typeform_blueprint(state.typeform, state.faults))
    app.register_blueprint(control_blueprint(state, records))
    app.register_blueprint(console_blueprint(state.store, state.sendgrid, state.docusign, state.deliverer))
    return app


def control_blueprint(state: Emulators, records: Records) -> Blueprint:
    bp = Blueprint("control", __name__, url_prefix="/_emulator")

    @bp.get("/health")
    def health() -> Response:
        return json_response({"ok": True, "services": list(SERVICES), "store": state.store.path})

    @bp.post("/reset")
    def reset() -> Response:
        state.store.reset()
        records.iterators.clear()
        state.faults.clear()
        state.airtable.limit.clear()
        state.deliverer.clear()
        state.sendgrid.reset()
        state.docusign.reset()
        state.typeform.reset()
        with state.lock:
            state.requests.clear()
            state.errors.clear()
        return json_response({"ok": True})

    @bp.get("/stats")
    def stats() -> Response:
        return json_response({"requests": dict(sorted(state.requests.items())),
                              "errors": dict(sorted(state.errors.items()))})

    @bp.route("/config", methods=["GET", "POST"])
    def config() -> Response:
        if request.method == "POST":
            body = request.get_json(force=True) or {}
            if "time_scale" in body:
                state.deliverer.time_scale = float(body["time_scale"])
            if "sendgrid_event_url" in body:
                state.sendgrid.event_webhook_url = body["sendgrid_event_url"]
            if "docusign_connect_url" in body:
                state.docusign.connect_url = body["docusign_connect_url"]
        return json_response({"time_scale": state.deliverer.time_scale,
                              "sendgrid_event_url": state.sendgrid.event_webhook_url,
                              "docusign_connect_url": state.docusign.connect_url})

    @bp.route("/faults", methods=["GET", "POST", "DELETE"])
    def faults() -> Response:
        if request.method == "POST":
            try:
                state.faults.add(request.get_json(force=True) or {})
            except (ValueError, TypeError) as exc:
                return json_response({"error": str(exc)}, 400)
        elif request.method == "DELETE":
            state.faults.clear()
        return json_response({"pending": state.faults.pending()})

    # --- webhook deliveries -------------------------------------------------------------------

    @bp.get("/deliveries")
    def deliveries() -> Response:
        return json_response({"deliveries": [d.as_dict() for d in state.deliverer.deliveries],
                              "pending": state.deliverer.pending()})

    @bp.get("/deliveries/summary")
    def deliveries_summary() -> Response:
        counts: dict[str, int] = {}
        for delivery in list(state.deliverer.deliveries):
            counts[delivery.state] = counts.get(delivery.state, 0) + 1
        return json_response({"states": counts, "pending": state.deliverer.pending()})

    @bp.post("/deliveries/wait")
    def wait_for_deliveries() -> Response:
        timeout = float((request.get_json(silent=True) or {}).get("timeout", 10))
        return json_response({"idle": state.deliverer.wait_idle(timeout)})

    # --- Airtable -----------------------------------------------------------------------------

    @bp.route("/airtable/config", methods=["GET", "POST"])
    def airtable_config() -> Response:
        if request.method == "POST":
            return json_response(state.airtable.update(request.get_json(force=True) or {}))
        return json_response(state.airtable.as_dict())

    @bp.get("/airtable/bases")
    def list_bases() -> Response:
        return json_response({"bases": [{"id": b.id, "name": b.name} for b in state.store.bases.values()]})

    @bp.put("/airtable/bases/<base_id>")
    def ensure_base(base_id: str) -> Response:
        if not (base_id.startswith("app") and len(base_id) == 17):
            return json_response({"error": "a base id is 'app' and 14 characters"}, 400)
        name = (request.get_json(silent=True) or {}).get("name", "binome")
        base, created = state.store.ensure_base(base_id, name)
        return json_response({"id": base.id, "name": base.name, "created": created}, 201 if created else 200)

    # --- SendGrid -----------------------------------------------------------------------------

    @bp.get("/outbox")
    def outbox() -> Response:
        return json_response({"messages": state.sendgrid.outbox})

    @bp.get("/sendgrid/public-key")
    def sendgrid_public_key() -> Response:
        return json_response({"public_key": state.sendgrid.signer.public_key_b64})

    # --- DocuSign -----------------------------------------------------------------------------

    @bp.get("/envelopes")
    def envelopes() -> Response:
        return json_response({"envelopes": [e.summary() for e in state.docusign.envelopes.values()]})

    @bp.post("/envelopes/<envelope_id>/<action>")
    def finish_envelope(envelope_id: str, action: str) -> Response:
        envelope = state.docusign.envelopes.get(envelope_id)
        if envelope is None or action not in ("complete", "decline"):
            return json_response({"error": "unknown envelope or action"}, 404)
        if envelope.status not in ("sent", "delivered"):
            return json_response({"error": f"the envelope is {envelope.status}"}, 409)
        state.docusign.transition(envelope, "completed" if action == "complete" else "declined")
        return json_response(envelope.summary())

    # --- Typeform -----------------------------------------------------------------------------

    @bp.put("/typeform/forms/<form_id>")
    def create_form_with_id(form_id: str) -> Response:
        """Typeform picks form ids; locally the settings name them, so forms can be made with one."""
        try:
            form = state.typeform.save_form(form_id, request.get_json(silent=True) or {},
                                            request.host_url.rstrip("/"))
        except SubmissionError as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response(form)

    @bp.post("/typeform/<form_id>/submit")
    def submit(form_id: str) -> Response:
        if form_id not in state.typeform.forms:
            return json_response({"error": f"unknown form {form_id}"}, 404)
        try:
            return json_response(state.typeform.submit(form_id, request.get_json(silent=True) or {}), 201)
        except SubmissionError as exc:
            return json_response({"error": str(exc)}, 400)

    return bp


__all__ = ["EmulatorOptions", "create_app"]
