"""The console page (French): what the local stack holds, for a person to look at.

The base's tables as grids with linked records navigable, the outbox with each email rendered,
the envelopes with « Signer » / « Refuser » buttons, the Journal and the webhook deliveries.
It reads the emulators' own state; it is what a newcomer opens after `make demo`.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for

from emulators.airtable.store import Base, Record, Store, Table
from emulators.docusign.api import DocuSignState
from emulators.delivery import Deliverer
from emulators.sendgrid.api import SendGridState

PAGE_SIZE = 100
CID = re.compile(r"cid:([^\"'\s>)]+)")
JOURNAL_TABLE = "Journal"
ENVELOPE_STATUSES = {"created": "Brouillon", "sent": "Envoyée", "delivered": "Ouverte",
                     "completed": "Signée", "declined": "Refusée", "voided": "Annulée"}
DELIVERY_STATES = {"pending": "En cours", "delivered": "Livrée", "failed": "Abandonnée",
                   "disabled": "Webhook désactivé"}


def console_blueprint(store: Store, sendgrid: SendGridState, docusign: DocuSignState,
                      deliverer: Deliverer) -> Blueprint:
    bp = Blueprint("console", __name__, template_folder=str(Path(__file__).with_name("templates")))

    def base_or_404(base_id: str) -> Base:
        base = store.bases.get(base_id)
        if base is None:
            abort(404)
        return base

    def table_or_404(base: Base, table_id: str) -> Table:
        table = base.table(table_id)
        if table is None:
            abort(404)
        return table

    @bp.get("/")
    def home() -> str:
        with store.lock:
            bases = [(b, [(t, len(t.records)) for t in b.tables]) for b in store.bases.values()]
        return render_template("home.html", bases=bases, mails=len(sendgrid.outbox),
                               envelopes=len(docusign.envelopes), deliveries=len(deliverer.deliveries))

    @bp.get("/console/bases/<base_id>/tables/<table_id>")
    def table_view(base_id: str, table_id: str) -> str:
        base = base_or_404(base_id)
        table = table_or_404(base, table_id)
        page = max(int(request.args.get("page", 1)), 1)
        with store.lock:
            records = list(table.records.values())
            rows = [cells_of(base, table, r) for r in records[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]]
        return render_template("table.html", base=base, table=table, rows=rows, page=page,
                               pages=max(1, -(-len(records) // PAGE_SIZE)), total=len(records))

    @bp.get("/console/bases/<base_id>/tables/<table_id>/records/<record_id>")
    def record_view(base_id: str, table_id: str, record_id: str) -> str:
        base = base_or_404(base_id)
        table = table_or_404(base, table_id)
        record = table.records.get(record_id) or abort(404)
        with store.lock:
            cells = cells_of(base, table, record)
        return render_template("record.html", base=base, table=table, record=record, cells=cells,
                               title=display(record, table))

    @bp.get("/console/journal")
    def journal() -> Response:
        for base in store.bases.values():
            if base.table(JOURNAL_TABLE):
                return redirect(url_for("console.table_view", base_id=base.id, table_id=base.table(JOURNAL_TABLE).id))
        return redirect(url_for("console.home"))

    @bp.get("/console/outbox")
    def outbox() -> str:
        return render_template("outbox.html", messages=list(reversed(sendgrid.outbox)), when=when)

    @bp.get("/console/outbox/<int:index>")
    def mail(index: int) -> str:
        if not 0 <= index < len(sendgrid.outbox):
            abort(404)
        message = sendgrid.outbox[index]
        # A mail client shows an inline attachment where the HTML says cid:…; the console serves it.
        html = CID.sub(lambda m: url_for("console.mail_part", index=index, content_id=unquote(m.group(1))),
                       message.get("html") or "")
        return render_template("mail.html", message=message, html=html, when=when)

    @bp.get("/console/outbox/<int:index>/cid/<content_id>")
    def mail_part(index: int, content_id: str) -> Response:
        if not 0 <= index < len(sendgrid.outbox):
            abort(404)
        part = next((a for a in sendgrid.outbox[index].get("attachments") or []
                     if a.get("content_id") == content_id), None) or abort(404)
        return Response(base64.b64decode(part["content"]), mimetype=part["type"])

    @bp.get("/console/envelopes")
    def envelopes() -> str:
        return render_template("envelopes.html", envelopes=list(docusign.envelopes.values()),
                               statuses=ENVELOPE_STATUSES)

    @bp.post("/console/envelopes/<envelope_id>/<action>")
    def finish_envelope(envelope_id: str, action: str) -> Response:
        envelope = docusign.envelopes.get(envelope_id) or abort(404)
        if action in ("complete", "decline") and envelope.status in ("sent", "delivered"):
            docusign.transition(envelope, "completed" if action == "complete" else "declined")
        return redirect(url_for("console.envelopes"))

    @bp.get("/console/webhooks")
    def webhooks() -> str:
        return render_template("webhooks.html", deliveries=list(reversed(deliverer.deliveries)),
                               states=DELIVERY_STATES, when=when)

    return bp


def display(record: Record, table: Table) -> str:
    value = record.cells.get(table.primary_field_id)
    return str(value) if value not in (None, "") else record.id


def cells_of(base: Base, table: Table, record: Record) -> dict[str, Any]:
    """Each field's value for display: links become (label, url) pairs."""
    cells: dict[str, Any] = {"__id": record.id, "__title": display(record, table)}
    for field in table.fields:
        value = record.cells.get(field.id)
        if field.type == "multipleRecordLinks" and value:
            linked = base.table_by_id(field.options["linkedTableId"])
            cells[field.id] = [
                (display(linked.records[rid], linked) if rid in linked.records else rid,
                 url_for("console.record_view", base_id=base.id, table_id=linked.id, record_id=rid))
                for rid in value]
        elif isinstance(value, list):
            cells[field.id] = ", ".join(map(str, value))
        elif value is True:
            cells[field.id] = "✓"
        else:
            cells[field.id] = "" if value is None else value
    return cells


def when(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp).strftime("%d/%m/%Y %H:%M:%S")
