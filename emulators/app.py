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
from emulators.faults import SERVICES, FaultBoard
from emulators.http import DroppedConnection, json_response

MAX_BODY_BYTES = 16 * 1024 * 1024


@dataclass
class Emulators:
    store: Store
    faults: FaultBoard = field(default_factory=FaultBoard)
    airtable: AirtableConfig = field(default_factory=AirtableConfig)
    requests: dict[str, int] = field(default_factory=dict)  # "airtable GET" -> count
    errors: dict[str, int] = field(default_factory=dict)  # "airtable 429" -> count

    lock: threading.Lock = field(default_factory=threading.Lock)

    def bump(self, counter: dict[str, int], key: str) -> None:
        with self.lock:  # request threads count concurrently
            counter[key] = counter.get(key, 0) + 1


def create_app(db_path: str = ":memory:", airtable_rate_limit: float | None = 5.0) -> Flask:
    state = Emulators(Store(db_path), airtable=AirtableConfig(airtable_rate_limit))
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
    app.register_blueprint(control_blueprint(state, records))
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
        state.requests.clear()
        state.errors.clear()
        return json_response({"ok": True})

    @bp.get("/stats")
    def stats() -> Response:
        return json_response({"requests": dict(sorted(state.requests.items())),
                              "errors": dict(sorted(state.errors.items()))})

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

    return bp
