"""The links sent to structures (choose a suggested mentor) and to mentors (accept or decline):
GET shows the page, POST acts. Each link is signed, bound to its records, expiring; its token says
which of the two it is, and (with several bases) which base its records are in."""

from __future__ import annotations

import flask

from shared import bootstrap, http
from shared.observability.summary import observed
from shared.links import LinkRefused
from shared.matching.choices import ANSWER, Page
from shared.matching.suggestions import CHOICE
from shared.pages import message


@observed
def choose_mentor(request: flask.Request) -> flask.Response | http.Answer:
    if request.method not in ("GET", "POST"):
        return http.method_not_allowed()
    token = request.values.get("t", "")
    base = bootstrap.base_of_link(token, (CHOICE, ANSWER))
    service = base.choices
    purpose = base.links.purpose(token, (CHOICE, ANSWER))
    if purpose == CHOICE:
        shown = service.show_choice(token) if request.method == "GET" else service.choose(token)
    elif purpose == ANSWER:
        shown = service.show_answer(token) if request.method == "GET" else service.answer(
            token, request.form.get("action") == "accept", request.form.get("reason", ""),
            request.form.get("detail", ""))
    else:
        shown = Page(400, message("Lien non valide", str(LinkRefused("Ce lien n'est pas valide : il a peut-être "
                                                                     "été coupé ou modifié."))))
    return flask.Response(shown.html, status=shown.status, mimetype="text/html")
