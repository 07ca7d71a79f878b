"""The « premier contact fait » link of an antenna's daily list: GET shows the page, POST records."""

from __future__ import annotations

import flask

from shared import bootstrap, http
from shared.observability.summary import observed


@observed
def first_contact(request: flask.Request) -> flask.Response | http.Answer:
    if request.method not in ("GET", "POST"):
        return http.method_not_allowed()
    token = request.values.get("t", "")
    service = bootstrap.first_contact()
    shown = service.show(token) if request.method == "GET" else service.record(token)
    return flask.Response(shown.html, status=shown.status, mimetype="text/html")
