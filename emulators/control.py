"""`/_emulator`: inspection and control of the stand-ins, for tests, the demo and the console."""

from __future__ import annotations

import time

from typing import TYPE_CHECKING

from flask import Blueprint, Response, request

from emulators.airtable.records import Records
from emulators.delivery import Chaos
from emulators.docusign.api import EVERYTHING
from emulators.faults import SERVICES
from emulators.http import json_response
from emulators.typeform.api import SubmissionError

CHAOS_FIELDS = {"duplicate": float, "late": float, "late_by": float, "seed": int}

if TYPE_CHECKING:
    from emulators.app import Emulators


def control_blueprint(state: "Emulators", records: Records) -> Blueprint:
    bp = Blueprint("control", __name__, url_prefix="/_emulator")

    @bp.get("/health")
    def health() -> Response:
        return json_response({"ok": True, "services": list(SERVICES), "store": state.store.path})

    @bp.post("/reset")
    def reset() -> Response:
        state.store.reset()
        records.iterators.clear()
        state.faults.clear()
        state.airtable.reset()
        state.deliverer.clear()
        state.sendgrid.reset()
        state.docusign.reset()
        state.typeform.reset()
        state.cloudtasks.reset()
        with state.lock:
            state.requests.clear()
            state.errors.clear()
            state.tables.clear()
        return json_response({"ok": True})

    @bp.get("/stats")
    def stats() -> Response:
        return json_response({"requests": dict(sorted(state.requests.items())),
                              "errors": dict(sorted(state.errors.items())),
                              "tables": dict(sorted(state.tables.items()))})

    @bp.route("/config", methods=["GET", "POST"])
    def config() -> Response:
        return json_response(state.configure(request.get_json(force=True) or {} if request.method == "POST" else {}))

    @bp.route("/faults", methods=["GET", "POST", "DELETE"])
    def faults() -> Response:
        if request.method == "POST":
            try:
                state.faults.add(request.get_json(force=True) or {})
            except (ValueError, TypeError) as exc:
                return json_response({"error": str(exc)}, 400)
        elif request.method == "DELETE":
            state.faults.withdraw()
        return json_response({"pending": state.faults.pending(), "taken": state.faults.taken()})

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

    @bp.route("/deliveries/chaos", methods=["GET", "POST"])
    def deliveries_chaos() -> Response:
        """Webhooks delivered twice, or late: `{"duplicate": 0.1, "late": 0.2, "late_by": 600, "seed": 1}`."""
        if request.method == "POST":
            body = request.get_json(silent=True) or {}
            try:
                state.deliverer.chaos = Chaos(**{key: type_(body[key]) for key, type_ in CHAOS_FIELDS.items()
                                                 if key in body})
            except (ValueError, TypeError) as exc:
                return json_response({"error": str(exc)}, 400)
        deliveries = list(state.deliverer.deliveries)
        return json_response({**state.deliverer.chaos.as_dict(),
                              "twins": sum(1 for d in deliveries if d.twin_of),
                              "late": sum(1 for d in deliveries if d.late_by)})

    @bp.post("/deliveries/hold")
    def hold_deliveries() -> Response:
        """`{"held": true}`: no delivery starts, and the answer comes once none is in flight;
        `{"held": false}`: they go on."""
        body = request.get_json(silent=True) or {}
        if body.get("held"):
            return json_response({"held": True, "idle": state.deliverer.hold(float(body.get("timeout", 60)))})
        state.deliverer.release()
        return json_response({"held": False, "idle": state.deliverer.pending() == 0})

    @bp.post("/deliveries/wait")
    def wait_for_deliveries() -> Response:
        timeout = float((request.get_json(silent=True) or {}).get("timeout", 10))
        # Until both settle: a webhook delivery may enqueue a task, a task's run may send email.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if state.deliverer.wait_idle(deadline - time.monotonic()) and \
                    state.cloudtasks.wait_idle(deadline - time.monotonic()) and state.deliverer.wait_idle(0):
                return json_response({"idle": True})
        return json_response({"idle": False})

    # --- Airtable -----------------------------------------------------------------------------

    @bp.route("/airtable/config", methods=["GET", "POST"])
    def airtable_config() -> Response:
        if request.method == "POST":
            return json_response(state.airtable.update(request.get_json(force=True) or {}))
        return json_response(state.airtable.as_dict())

    @bp.get("/airtable/requests")
    def airtable_requests() -> Response:
        return json_response({"bases": state.airtable.counts()})

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
        return json_response({"envelopes": [e.summary(EVERYTHING) for e in state.docusign.envelopes.values()]})

    @bp.post("/envelopes/<envelope_id>/<action>")
    def finish_envelope(envelope_id: str, action: str) -> Response:
        envelope = state.docusign.envelopes.get(envelope_id)
        if envelope is None or action not in ("complete", "decline"):
            return json_response({"error": "unknown envelope or action"}, 404)
        if envelope.status not in ("sent", "delivered"):
            return json_response({"error": f"the envelope is {envelope.status}"}, 409)
        state.docusign.transition(envelope, "completed" if action == "complete" else "declined")
        return json_response(envelope.summary(EVERYTHING))

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

    @bp.route("/typeform/config", methods=["GET", "POST"])
    def typeform_config() -> Response:
        if request.method == "POST":
            body = request.get_json(force=True) or {}
            if "responses_lag" in body:
                lag = body["responses_lag"]
                state.typeform.responses_lag = float(lag) if lag is not None else None
            if body.get("show_all_responses"):
                state.typeform.show_all_responses()
        return json_response({"responses_lag": state.typeform.lag()})

    @bp.post("/typeform/<form_id>/submit")
    def submit(form_id: str) -> Response:
        if form_id not in state.typeform.forms:
            return json_response({"error": f"unknown form {form_id}"}, 404)
        try:
            return json_response(state.typeform.submit(form_id, request.get_json(silent=True) or {}), 201)
        except SubmissionError as exc:
            return json_response({"error": str(exc)}, 400)

    return bp
