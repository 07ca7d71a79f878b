"""Scheduler endpoint: the daily follow-up — reminders of unsigned documents, the list of those
unsigned for 10 days, each antenna's list of volunteers to contact, and the proposals left
unanswered 72 hours (cancelled, the structure told, new suggestions sent); then the binômes: status
changes made by hand, check-ins, reminders and alerts. Every base in turn, or the one named
(`{"base": "idf"}`), each on its own budget."""

from __future__ import annotations

from typing import Any

import flask

from shared import http
from shared.base_services import BaseServices
from shared.per_base import run_per_base
from shared.observability.summary import observed


@observed
def follow_up(request: flask.Request) -> http.Answer:
    body = http.automation_body(request, ", par exemple {} ou {\"base\": \"idf\"}")
    if isinstance(body, tuple):
        return body
    return http.answer(lambda: run_per_base(body, run))


def run(base: BaseServices) -> dict[str, Any]:
    report = base.daily.run()
    expired = base.choices.expire()
    pairs = base.follow_up.run()
    return {"statut": "Traité", "detail": f"{report.line()} Propositions sans réponse sous 72 h : {expired}. "
                                          f"{pairs.line()}"}
