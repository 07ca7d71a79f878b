"""The public page of a form, as people open it from a link: `/typeform/to/<form_id>#name=value`.

Typeform reads hidden fields from the link's fragment, which never reaches the server; the page's
script copies them into the form, as Typeform's own page does. A sent page becomes a response like
any other (stored for the Responses API, delivered signed to the webhooks). Public: no bearer.
"""

from __future__ import annotations

import html
from typing import Any

from flask import Blueprint, Response, request

from emulators.typeform.api import ANSWER_TYPES, CHOICE_TYPES, SubmissionError, TypeformState

STYLE = ("body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
         "fieldset{border:0;padding:0;margin:0 0 1.25rem}legend,label.title{font-weight:600;display:block;"
         "margin-bottom:.35rem}textarea,input[type=number],input[type=text],input[type=email]{width:100%;"
         "font:inherit;padding:.4rem}button{font-size:1rem;padding:.5rem 1rem}.error{color:#b3261e}")
# Copies the fragment's hidden fields into the form before it is sent.
HIDDEN_SCRIPT = ("<script>new URLSearchParams(location.hash.slice(1)).forEach(function(v,k){"
                 "var i=document.querySelector('input[name=\"hidden.'+k+'\"]');if(i)i.value=v;});</script>")


def page(title: str, body: str, status: int = 200) -> Response:
    return Response(f'<!doctype html><html lang="fr"><head><meta charset="utf-8">'
                    f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                    f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
                    f"<body><h1>{html.escape(title)}</h1>{body}</body></html>", status, mimetype="text/html")


def field_html(field: dict[str, Any]) -> str:
    ref, title = html.escape(field["ref"]), html.escape(field["title"])
    kind = field["type"]
    required = " required" if (field.get("validations") or {}).get("required") else ""
    if kind in CHOICE_TYPES:
        multiple = (field.get("properties") or {}).get("allow_multiple_selection")
        box = "checkbox" if multiple else "radio"
        options = "".join(f'<label><input type="{box}" name="{ref}" value="{html.escape(c["label"])}"'
                          f'{"" if multiple else required}> {html.escape(c["label"])}</label><br>'
                          for c in field["properties"]["choices"])
        return f"<fieldset><legend>{title}</legend>{options}</fieldset>"
    if kind == "yes_no":
        return (f'<fieldset><legend>{title}</legend><label><input type="radio" name="{ref}" value="oui"{required}> '
                f'Oui</label> <label><input type="radio" name="{ref}" value="non"> Non</label></fieldset>')
    if kind == "legal":
        return f'<fieldset><label><input type="checkbox" name="{ref}" value="oui"{required}> {title}</label></fieldset>'
    if kind == "long_text":
        control = f'<textarea id="{ref}" name="{ref}" rows="4"{required}></textarea>'
    else:
        kinds = {"number": "number", "rating": "number", "opinion_scale": "number", "email": "email"}
        control = f'<input id="{ref}" type="{kinds.get(kind, "text")}" name="{ref}"{required}>'
    return f'<fieldset><label class="title" for="{ref}">{title}</label>{control}</fieldset>'


def form_html(form: dict[str, Any], error: str = "", hidden_values: dict[str, str] | None = None) -> str:
    """The form; sent back after an error, it keeps the hidden values (the fragment is gone by then)."""
    fields = "".join(field_html(f) for f in form["fields"] if ANSWER_TYPES.get(f["type"]))
    kept = hidden_values or {}
    hidden = "".join(f'<input type="hidden" name="hidden.{html.escape(name)}" value="{html.escape(kept.get(name, ""))}">'
                     for name in form["hidden"])
    problem = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    return (f'{problem}<form method="post">{hidden}{fields}<button type="submit">Envoyer</button></form>'
            + HIDDEN_SCRIPT)


def answers_from(form: dict[str, Any], sent: Any) -> dict[str, Any]:
    """The page's values as the stand-in's submit takes them (a number, true or false, labels)."""
    answers: dict[str, Any] = {}
    for field in form["fields"]:
        ref, kind = field["ref"], ANSWER_TYPES.get(field["type"])
        values = [v for v in sent.getlist(ref) if v != ""]
        if kind is None or not values:
            continue
        if kind == "choice":
            multiple = (field.get("properties") or {}).get("allow_multiple_selection")
            answers[ref] = values if multiple else values[0]
        elif kind == "number":
            try:
                number = float(values[0].replace(",", "."))
            except ValueError:
                raise SubmissionError(f"« {field['title']} » attend un nombre.") from None
            answers[ref] = int(number) if number.is_integer() else number
        elif kind == "boolean":
            answers[ref] = values[0] == "oui"
        else:
            answers[ref] = values[0]
    return answers


def typeform_pages(state: TypeformState) -> Blueprint:
    bp = Blueprint("typeform_pages", __name__, url_prefix="/typeform/to")

    @bp.route("/<form_id>", methods=["GET", "POST"])
    def form_page(form_id: str) -> Response:
        form = state.forms.get(form_id)
        if form is None:
            return page("Formulaire introuvable", "<p>Ce formulaire n'existe pas ou plus.</p>", 404)
        if request.method == "GET":
            return page(form["title"], form_html(form))
        hidden = {name[len("hidden."):]: value for name, value in request.form.items() if name.startswith("hidden.")}
        try:
            answers = answers_from(form, request.form)
            missing = [f["title"] for f in form["fields"]
                       if (f.get("validations") or {}).get("required") and f["ref"] not in answers]
            if missing:
                raise SubmissionError("« " + " », « ".join(missing) + " » attend une réponse.")
            state.submit(form_id, {"answers": answers, "hidden": hidden})
        except SubmissionError as exc:
            return page(form["title"], form_html(form, f"Réponse incomplète : {exc}", hidden), 400)
        ending = form["thankyou_screens"][0]
        return page(ending.get("title") or "Merci !", "<p>Votre réponse est bien enregistrée.</p>")

    return bp
