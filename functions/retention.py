"""Scheduler endpoint: the retention of personal data — people inactive for the configured period
warned a month before, then anonymised; what was done reported (and journaled)."""

from __future__ import annotations

from typing import Any

import flask

from shared import bootstrap, http
from shared.observability.summary import observed


@observed
def retention(request: flask.Request) -> http.Answer:
    return http.refuse_automation(request) or http.answer(run)


def run() -> dict[str, Any]:
    return {"statut": "Traité", "detail": bootstrap.retention().run().line()}
