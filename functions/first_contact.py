"""The « premier contact fait » link of an antenna's daily list: GET shows the page, POST records —
in the base the link names (signed inside it)."""

from __future__ import annotations

import flask

from shared import bootstrap, http
from shared.observability.summary import observed
from shared.onboarding.daily import FIRST_CONTACT


@observed
def first_contact(request: flask.Request) -> flask.Response | http.Answer:
    if request.method not in ("GET", "POST"):
        return http.method_not_allowed()
    token = request.values.get("t", "")
    service = bootstrap.base_of_link(token, (FIRST_CONTACT,)).first_contact
    shown = service.show(token) if request.method == "GET" else service.record(token)
    return flask.Response(shown.html, status=shown.status, mimetype="text/html")
