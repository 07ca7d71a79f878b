"""Scheduler endpoint: the retention of personal data — people inactive for the configured period
warned a month before, then anonymised; what was done reported (and journaled). Every base in turn, or the one named."""

from __future__ import annotations

from typing import Any

import flask

from shared import http
from shared.base_services import BaseServices
from shared.per_base import run_per_base
from shared.observability.summary import observed


@observed
def retention(request: flask.Request) -> http.Answer:
    body = http.automation_body(request, ", par exemple {} ou {\"base\": \"idf\"}")
    if isinstance(body, tuple):
        return body
    return http.answer(lambda: run_per_base(body, run))


def run(base: BaseServices) -> dict[str, Any]:
    return {"statut": "Traité", "detail": base.retention.run().line()}
