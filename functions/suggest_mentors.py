"""Suggestions of mentors: for one need (`{"need": "rec…"}`, an Airtable automation when a need
appears) or every waiting need (`{}`, the scheduler); `{"mode": "affectation"}` writes the
whole-pool assignment as proposals for coordinators instead. Bearer `AUTOMATION_SECRET`. With
several bases, each base's needs get its own volunteers, on its own budget: every base in turn, or
the one named (`{"base": "idf"}`, which an automation of that base sends with its need)."""

from __future__ import annotations

from typing import Any

import flask

from shared import bootstrap, http
from shared.base_services import BaseServices
from shared.per_base import run_per_base
from shared.observability.summary import observed
from shared.matching.suggestions import shortage_line


SHORTAGE_LINES = 20  # where volunteers are missing most: whom to recruit


@observed
def suggest_mentors(request: flask.Request) -> http.Answer:
    body = http.automation_body(request, " : {} ou {\"need\": \"rec…\"}")
    if isinstance(body, tuple):
        return body
    need = body.get("need")
    if body.get("mode") == "affectation":
        return http.answer(lambda: run_per_base(body, lambda base: {"statut": "Traité",
                                                                    "detail": base.proposals.propose().line()}))
    if need:
        return http.answer(lambda: run(bootstrap.base(str(body["base"]) if body.get("base") else None), str(need)))
    return http.answer(lambda: run_per_base(body, lambda base: run(base, None)))


def run(base: BaseServices, need: str | None) -> dict[str, Any]:
    service = base.suggestions
    report = service.suggest_one(need) if need else service.suggest_all()
    return {"statut": "Traité", "detail": report.line(), "sans_solution": report.reasons,
            "manques": [shortage_line(row) for row in report.shortage[:SHORTAGE_LINES]]}
