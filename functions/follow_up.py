"""Scheduler endpoint: the daily follow-up — reminders of unsigned documents, the list of those
unsigned for 10 days, each antenna's list of volunteers to contact, and the proposals left
unanswered 72 hours (cancelled, the structure told, new suggestions sent); then the binômes: status
changes made by hand, check-ins, reminders and alerts."""

from __future__ import annotations

from typing import Any

import flask

from shared import bootstrap, http
from shared.observability.summary import observed


@observed
def follow_up(request: flask.Request) -> http.Answer:
    return http.refuse_automation(request) or http.answer(run)


def run() -> dict[str, Any]:
    report = bootstrap.daily().run()
    expired = bootstrap.choices().expire()
    pairs = bootstrap.follow_up().run()
    return {"statut": "Traité", "detail": f"{report.line()} Propositions sans réponse sous 72 h : {expired}. "
                                          f"{pairs.line()}"}
