"""Each base's queue dispatches each Typeform delivery here (`AUTOMATION_SECRET` in its own header,
set on the task); the writer takes up to 49 more queued deliveries along, writes them together
(`shared.intake.batch`: one read for all, writes 10 records a request), then removes those from the
queue. A 5xx makes the queue retry the task; the others stay queued and come in their turn. With
several bases, the task names its base (`X-Binome-Base`, set by the webhook) and the writer writes
into that base, from that base's queue."""

from __future__ import annotations

import flask

from functions.typeform_webhook import outcome_json
from shared import bootstrap, http
from shared.intake.batch import receive_all
from shared.intake.queue import BASE_HEADER
from shared.observability.summary import observed

# Deliveries a run writes together. Its reads cover them all in one request (a formula of 50
# addresses stays well under Airtable's URL limit), its writes go 10 records a request; at the
# base's 5 requests/s a run lasts about 3 s, far inside the queue's 10-minute dispatch deadline.
BATCH = 50


@observed
def intake_writer(request: flask.Request) -> http.Answer:
    refused = http.refuse_automation(request)
    if refused is not None:
        return refused
    raw = http.read_body(request)
    if not isinstance(raw, bytes):
        return raw
    return http.answer(lambda: write(raw, request.headers.get("X-CloudTasks-TaskName", ""),
                                     request.headers.get(BASE_HEADER) or None))


def write(raw: bytes, own_task: str, base_key: str | None = None) -> dict[str, str]:
    base = bootstrap.base(base_key)
    queue = base.backlog
    along = queue.others(own_task, BATCH - 1) if queue is not None and own_task else []
    outcomes = receive_all(base.intake, [raw, *(body for _, body in along)])
    if queue is not None:
        queue.forget([name for name, _ in along])
    return {**outcome_json(outcomes[0]), "lot": str(len(outcomes))}
