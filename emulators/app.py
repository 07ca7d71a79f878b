"""The emulators as one WSGI application: vendor stand-ins under their prefixes, and
`/_emulator` for inspection and control (tests, `make demo`, the console page)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request

from emulators.airtable.api import AirtableConfig, airtable_blueprint
from emulators.airtable.meta import Meta
from emulators.airtable.records import Records
from emulators.airtable.store import Store
from emulators.console.views import console_blueprint
from emulators.delivery import Deliverer
from emulators.documents import Documents
from emulators.docusign.api import DocuSignState, Template, docusign_blueprint
from emulators.faults import SERVICES, FaultBoard
from emulators.control import control_blueprint
from emulators.http import DroppedConnection, json_response, lose_answer_if_asked
from emulators.sendgrid.api import SendGridState, sendgrid_blueprint
from emulators.typeform.api import TypeformState, typeform_blueprint
from emulators.typeform.page import typeform_pages
from emulators.cloudtasks.api import CloudTasksState, cloudtasks_blueprint

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
    cloudtasks: CloudTasksState
    faults: FaultBoard = field(default_factory=FaultBoard)
    airtable: AirtableConfig = field(default_factory=AirtableConfig)
    requests: dict[str, int] = field(default_factory=dict)  # "airtable GET" -> count
    errors: dict[str, int] = field(default_factory=dict)  # "airtable 429" -> count
    tables: dict[str, int] = field(default_factory=dict)  # "PATCH Bénévoles" -> count: Airtable's requests by step
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bump(self, counter: dict[str, int], key: str) -> None:
        with self.lock:  # request threads count concurrently
            counter[key] = counter.get(key, 0) + 1

    def close(self) -> None:
        self.deliverer.stop()
        self.cloudtasks.stopped = True

    def configure(self, body: dict[str, Any]) -> dict[str, Any]:
        """The settings of `POST /_emulator/config`: time scale, webhook targets, Connect's data."""
        if "time_scale" in body:
            self.deliverer.time_scale = float(body["time_scale"])
        if "sendgrid_event_url" in body:
            self.sendgrid.event_webhook_url = body["sendgrid_event_url"]
        if "docusign_connect_url" in body:
            self.docusign.connect_url = body["docusign_connect_url"]
        if "docusign_connect_include_data" in body:
            self.docusign.connect_include_data = list(body["docusign_connect_include_data"] or [])
        return {"time_scale": self.deliverer.time_scale, "sendgrid_event_url": self.sendgrid.event_webhook_url,
                "docusign_connect_url": self.docusign.connect_url,
                "docusign_connect_include_data": self.docusign.connect_include_data}


def airtable_step(method: str, view_args: dict[str, Any]) -> str | None:
    """A records request by what it does: "PATCH Bénévoles", "POST Journal listRecords" (a read by
    a long formula); None for the Meta API and unknown routes."""
    table = view_args.get("table")
    if table is None or "/v0/meta/" in request.path:
        return None
    listing = " listRecords" if method == "POST" and request.path.endswith("/listRecords") else ""
    return f"{method} {table}{listing}"


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
        cloudtasks=CloudTasksState(lambda: deliverer.time_scale),
        airtable=AirtableConfig(options.airtable_rate_limit, time_scale=lambda: deliverer.time_scale))
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
            if service == "airtable" and (step := airtable_step(request.method, request.view_args or {})):
                state.bump(state.tables, step)

    @app.after_request
    def _count_error(response: Response) -> Response:
        if response.status_code >= 400 and (service := service_of_request()):
            state.bump(state.errors, f"{service} {response.status_code}")
        return lose_answer_if_asked(response)

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
    app.register_blueprint(typeform_pages(state.typeform))
    app.register_blueprint(cloudtasks_blueprint(state.cloudtasks, state.faults))
    app.register_blueprint(control_blueprint(state, records))
    app.register_blueprint(console_blueprint(state.store, state.sendgrid, state.docusign, state.deliverer))
    return app


__all__ = ["EmulatorOptions", "create_app"]
