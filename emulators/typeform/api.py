"""The local Typeform under `/typeform`: Create API (forms, webhooks) and Responses API.

`POST /_emulator/typeform/<form_id>/submit` plays a respondent: `{ref: value}` answers become a
real-format `form_response` (definition, typed answers, hidden fields, token, event id,
timestamps), stored for the Responses API and delivered to the form's webhooks, signed with
`Typeform-Signature: sha256=<base64 HMAC-SHA256(secret, raw body)>`, with Typeform's retries:
every 2–3 minutes for up to 10 hours after 429/408/503/423, backoff of 5, 10, 20, 60, 120 minutes
after other failures, and the webhook disabled at once on 404 or 410.

The Responses API filters by `query` (a string searched, case-insensitively, in every answer and
hidden field) and by `included_response_ids`, and deletes responses with
`DELETE /forms/<form_id>/responses?included_response_ids=a,b` (up to 1000 ids; 200 with an empty
body; ids it does not hold are ignored): what a right-to-erasure request needs.

The Responses API can lag behind the webhook: a response is listed only `responses_lag` seconds
after it arrived. Typeform does not say by how much; the stand-in takes a minute (compressed like
its other delays) rather than none, the stricter choice, so `reconcile` is tested against it.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import string
import threading
import time
from typing import Any

from flask import Blueprint, Response, request

from emulators.delivery import Decision, Deliverer, Delivery
from emulators.documents import Documents
from emulators.faults import FaultBoard
from emulators.http import apply_fault, bearer_token, json_response

ID_CHARS = string.ascii_letters + string.digits
ULID_CHARS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ANSWER_TYPES = {  # field type -> answer type (None: the field takes no answer)
    "short_text": "text", "long_text": "text", "email": "email", "phone_number": "phone_number",
    "website": "url", "number": "number", "rating": "number", "opinion_scale": "number",
    "yes_no": "boolean", "legal": "boolean", "date": "date", "multiple_choice": "choice",
    "dropdown": "choice", "picture_choice": "choice", "file_upload": "file_url", "statement": None,
}
CHOICE_TYPES = {"multiple_choice", "dropdown", "picture_choice"}
SLOW_DOWN_STATUSES = {429, 408, 503, 423}
SLOW_DOWN_INTERVAL = 150  # seconds: "every 2-3 minutes"
SLOW_DOWN_WINDOW = 10 * 3600
BACKOFF = [5 * 60, 10 * 60, 20 * 60, 60 * 60, 120 * 60]
RESPONSES_LAG = 60  # nominal seconds before a response shows in the Responses API
MAX_IDS = 1000  # response ids in one `included_response_ids`


def random_id(length: int) -> str:
    return "".join(secrets.choice(ID_CHARS) for _ in range(length))


def ulid() -> str:
    return "".join(secrets.choice(ULID_CHARS) for _ in range(26))


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def typeform_error(code: str, description: str, status: int, details: list[Any] | None = None) -> Response:
    body: dict[str, Any] = {"code": code, "description": description}
    if details:
        body["details"] = details
    return json_response(body, status)


class SubmissionError(ValueError):
    pass


def typeform_retry_policy(attempt: int, status: int | None) -> Decision:
    if status is not None and 200 <= status < 300:
        return Decision(state="delivered")
    if status in (404, 410):
        return Decision(state="disabled")
    if status in SLOW_DOWN_STATUSES:
        return Decision(delay=SLOW_DOWN_INTERVAL) if attempt * SLOW_DOWN_INTERVAL < SLOW_DOWN_WINDOW \
            else Decision(state="failed")
    return Decision(delay=BACKOFF[attempt - 1]) if attempt <= len(BACKOFF) else Decision(state="failed")


class TypeformState:
    def __init__(self, deliverer: Deliverer, documents: Documents):
        self.deliverer = deliverer
        self.documents = documents
        self.forms: dict[str, dict[str, Any]] = {}
        self.webhooks: dict[str, dict[str, dict[str, Any]]] = {}
        self.responses: dict[str, list[dict[str, Any]]] = {}
        self.visible_at: dict[str, float] = {}  # token -> when the Responses API lists it (wall clock)
        self.responses_lag: float | None = None  # real seconds; None: the nominal lag, compressed
        self.lock = threading.RLock()
        for form_id, form in documents.load("typeform_forms"):
            self.forms[form_id] = form
            self.webhooks[form_id], self.responses[form_id] = {}, []
        for _, hook in documents.load("typeform_webhooks"):
            self.webhooks.setdefault(hook["form_id"], {})[hook["tag"]] = hook
        for _, stored in documents.load("typeform_responses"):
            self.responses.setdefault(stored["form_id"], []).append(stored["item"])
            self.visible_at[stored["item"]["token"]] = stored.get("visible_at", 0.0)

    def lag(self) -> float:
        return self.responses_lag if self.responses_lag is not None else RESPONSES_LAG * self.deliverer.time_scale

    def show_all_responses(self) -> None:
        """Let the Responses API list every response now (tests, after a lag they set up)."""
        with self.lock:
            for token in self.visible_at:
                self.visible_at[token] = 0.0

    def reset(self) -> None:
        with self.lock:
            self.forms.clear()
            self.webhooks.clear()
            self.responses.clear()
            self.visible_at.clear()
            self.responses_lag = None
            for collection in ("typeform_forms", "typeform_webhooks", "typeform_responses"):
                self.documents.clear(collection)

    def save_webhook(self, hook: dict[str, Any]) -> None:
        with self.lock:
            self.webhooks[hook["form_id"]][hook["tag"]] = hook
            self.documents.put("typeform_webhooks", f"{hook['form_id']}/{hook['tag']}", hook)

    def delete_webhook(self, form_id: str, tag: str) -> None:
        with self.lock:
            del self.webhooks[form_id][tag]
            self.documents.delete("typeform_webhooks", f"{form_id}/{tag}")

    def delete_form(self, form_id: str) -> None:
        with self.lock:
            del self.forms[form_id]
            self.documents.delete("typeform_forms", form_id)

    # --- forms ------------------------------------------------------------------------------

    def save_form(self, form_id: str, body: dict[str, Any], host: str) -> dict[str, Any]:
        """Store a form definition, giving ids to new fields and choices and keeping old ones."""
        previous = {f["ref"]: f for f in self.forms.get(form_id, {}).get("fields", [])}
        fields, refs = [], set()
        for i, spec in enumerate(body.get("fields") or []):
            if not isinstance(spec, dict) or spec.get("type") not in ANSWER_TYPES or not spec.get("title"):
                raise SubmissionError(f"fields[{i}] needs a title and a supported type")
            ref = spec.get("ref") or random_id(12)
            if ref in refs:
                raise SubmissionError(f"fields[{i}]: duplicate ref '{ref}'")
            refs.add(ref)
            field = copy.deepcopy(spec)
            field["ref"] = ref
            field["id"] = previous.get(ref, {}).get("id") or random_id(12)
            choices = (field.get("properties") or {}).get("choices")
            if spec["type"] in CHOICE_TYPES:
                if not choices:
                    raise SubmissionError(f"fields[{i}] ({spec['type']}) needs properties.choices")
                old = {c["ref"]: c["id"] for c in (previous.get(ref, {}).get("properties") or {}).get("choices", [])}
                for choice in choices:
                    choice["ref"] = choice.get("ref") or random_id(12)
                    choice["id"] = old.get(choice["ref"]) or random_id(12)
            fields.append(field)
        endings = []
        for screen in body.get("thankyou_screens") or [{"title": "Merci !", "properties": {}}]:
            endings.append({"id": random_id(12), "ref": screen.get("ref") or random_id(26),
                            "title": screen.get("title", "Merci !"), "type": "thankyou_screen",
                            "properties": screen.get("properties") or {}})
        form = {"id": form_id, "type": body.get("type", "form"), "title": body.get("title") or "Sans titre",
                "settings": body.get("settings") or {"language": "fr", "is_public": True},
                "hidden": body.get("hidden") or [], "welcome_screens": body.get("welcome_screens") or [],
                "thankyou_screens": endings, "fields": fields,
                "last_updated_at": iso(dt.datetime.now(dt.timezone.utc)),
                "_links": {"display": f"{host}/typeform/to/{form_id}"}}
        with self.lock:
            self.forms[form_id] = form
            self.webhooks.setdefault(form_id, {})
            self.responses.setdefault(form_id, [])
            self.documents.put("typeform_forms", form_id, form)
        return form

    # --- submissions ----------------------------------------------------------------------

    def submit(self, form_id: str, body: dict[str, Any]) -> dict[str, Any]:
        form = self.forms[form_id]
        answers_in = body.get("answers") or {}
        hidden_in = body.get("hidden") or {}
        if not isinstance(answers_in, dict) or not isinstance(hidden_in, dict):
            raise SubmissionError("answers and hidden must be objects")
        validate = not body.get("skip_validation", False)
        by_ref = {f["ref"]: f for f in form["fields"]}
        unknown = [ref for ref in answers_in if ref not in by_ref]
        if unknown:
            raise SubmissionError(f"unknown refs: {', '.join(unknown)}")
        unknown_hidden = [name for name in hidden_in if name not in form["hidden"]]
        if unknown_hidden and validate:
            raise SubmissionError(f"unknown hidden fields: {', '.join(unknown_hidden)}")
        answers = []
        for field in form["fields"]:
            value = answers_in.get(field["ref"])
            if value is None or value == "" or value == []:
                if validate and (field.get("validations") or {}).get("required"):
                    raise SubmissionError(f"the answer to '{field['ref']}' is required")
                continue
            answers.append(typed_answer(field, value, validate))
        submitted = dt.datetime.now(dt.timezone.utc)
        token = secrets.token_hex(16)
        form_response = {
            "form_id": form_id, "token": token,
            "landed_at": body.get("landed_at") or iso(submitted - dt.timedelta(minutes=4)),
            "submitted_at": body.get("submitted_at") or iso(submitted),
            "hidden": {name: str(hidden_in.get(name, "")) for name in form["hidden"]},
            "calculated": {"score": 0},
            "definition": definition(form),
            "answers": answers,
            "ending": {"id": form["thankyou_screens"][0]["id"], "ref": form["thankyou_screens"][0]["ref"]},
        }
        payload = {"event_id": ulid(), "event_type": "form_response", "form_response": form_response}
        item = response_item(form_response)
        visible_at = time.time() + self.lag()
        with self.lock:
            self.responses[form_id].append(item)
            self.visible_at[token] = visible_at
            self.documents.put("typeform_responses", token, {"form_id": form_id, "item": item,
                                                             "visible_at": visible_at})
            hooks = [h for h in self.webhooks[form_id].values()
                     if h["enabled"] and h["event_types"].get("form_response", True)]
        for hook in hooks:
            self._deliver(hook, payload)
        return {"event_id": payload["event_id"], "token": token, "deliveries": len(hooks), "payload": payload}

    def _deliver(self, hook: dict[str, Any], payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "Typeform Webhooks"}
        if hook.get("secret"):
            digest = hmac.new(hook["secret"].encode(), body, hashlib.sha256).digest()
            headers["Typeform-Signature"] = "sha256=" + base64.b64encode(digest).decode()

        def settled(delivery: Delivery) -> None:
            if delivery.state == "disabled":
                self.save_webhook({**hook, "enabled": False})

        self.deliverer.submit(Delivery(
            id=secrets.token_hex(8), service="typeform", url=hook["url"],
            description=f"réponse {payload['form_response']['token']} au formulaire {hook['form_id']}",
            render=lambda attempt: (body, headers), policy=typeform_retry_policy, on_settled=settled))

    # --- responses API --------------------------------------------------------------------

    def list_responses(self, form_id: str, args: dict[str, str]) -> dict[str, Any]:
        """Responses in (submitted_at, arrival) order — newest first by default — so that
        `before`/`after` a token cut the list at one place even when many share a second."""
        page_size = int(args.get("page_size", 25))
        if not 1 <= page_size <= 1000:
            raise SubmissionError("page_size must be between 1 and 1000")
        now = time.time()
        with self.lock:
            listed = [item for item in self.responses[form_id] if self.visible_at.get(item["token"], 0.0) <= now]
            ordered = sorted(enumerate(listed), key=lambda p: (p[1]["submitted_at"], p[0]))
        position = {item["token"]: rank for rank, (_, item) in enumerate(ordered)}
        items = [item for _, item in ordered]
        if args.get("before") in position:
            items = [i for i in items if position[i["token"]] < position[args["before"]]]
        if args.get("after") in position:
            items = [i for i in items if position[i["token"]] > position[args["after"]]]
        wanted = response_ids(args)
        if wanted:
            items = [i for i in items if i["token"] in wanted]
        if args.get("query"):
            items = [i for i in items if mentions(i, args["query"])]
        since, until = parse_moment(args.get("since")), parse_moment(args.get("until"))
        items = [i for i in items if (since is None or i["submitted_at"] >= since)
                 and (until is None or i["submitted_at"] <= until)]
        if args.get("sort", "submitted_at,desc").endswith("desc"):
            items.reverse()
        total = len(items)
        return {"total_items": total, "page_count": max(1, -(-total // page_size)), "items": items[:page_size]}


    def delete_responses(self, form_id: str, ids: set[str]) -> None:
        """Delete these responses of the form, listed yet or not (others' ids are ignored)."""
        with self.lock:
            kept = [item for item in self.responses[form_id] if item["token"] not in ids]
            for item in self.responses[form_id]:
                if item["token"] in ids:
                    self.visible_at.pop(item["token"], None)
                    self.documents.delete("typeform_responses", item["token"])
            self.responses[form_id] = kept


def response_ids(args: dict[str, str]) -> set[str]:
    ids = {i.strip() for i in args.get("included_response_ids", "").split(",") if i.strip()}
    if len(ids) > MAX_IDS:
        raise SubmissionError(f"included_response_ids takes at most {MAX_IDS} ids")
    return ids


def mentions(item: dict[str, Any], query: str) -> bool:
    """Whether `query` appears in one of the response's answers or hidden fields."""
    needle = query.lower()
    values: list[Any] = list(item.get("hidden", {}).values())
    for answer in item.get("answers", []):
        value = answer.get(answer.get("type", ""))
        values.extend(value.get("labels", []) + [value.get("label"), value.get("other")]
                      if isinstance(value, dict) else [value])
    return any(needle in str(v).lower() for v in values if v is not None)


def parse_moment(value: str | None) -> str | None:
    """`since`/`until` accept ISO 8601 or a Unix timestamp; compared as Typeform's ISO strings."""
    if not value:
        return None
    if value.isdigit():
        return iso(dt.datetime.fromtimestamp(int(value), dt.timezone.utc))
    try:
        return iso(dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        raise SubmissionError(f"invalid date: {value}") from None


def definition(form: dict[str, Any]) -> dict[str, Any]:
    """The form as webhooks describe it."""
    fields = []
    for f in form["fields"]:
        entry: dict[str, Any] = {"id": f["id"], "ref": f["ref"], "type": f["type"], "title": f["title"],
                                 "properties": {}}
        if f["type"] in CHOICE_TYPES:
            props = f.get("properties") or {}
            entry["allow_multiple_selections"] = bool(props.get("allow_multiple_selection"))
            entry["allow_other_choice"] = bool(props.get("allow_other_choice"))
            entry["choices"] = [{"id": c["id"], "label": c["label"], "ref": c["ref"]} for c in props["choices"]]
        fields.append(entry)
    return {"id": form["id"], "title": form["title"], "fields": fields,
            "endings": [{k: e[k] for k in ("id", "ref", "title", "type", "properties")}
                        for e in form["thankyou_screens"]]}


def typed_answer(field: dict[str, Any], value: Any, validate: bool) -> dict[str, Any]:
    kind = ANSWER_TYPES[field["type"]]
    if kind is None:
        raise SubmissionError(f"'{field['ref']}' ({field['type']}) takes no answer")
    answer: dict[str, Any] = {"type": kind}
    if kind == "choice":
        answer.update(choice_answer(field, value, validate))
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SubmissionError(f"'{field['ref']}' expects a number")
        answer["number"] = value
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise SubmissionError(f"'{field['ref']}' expects true or false")
        answer["boolean"] = value
    else:
        if not isinstance(value, str):
            raise SubmissionError(f"'{field['ref']}' expects text")
        if validate and kind == "email" and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", value):
            raise SubmissionError(f"'{field['ref']}' is not an email address")
        if validate and kind == "date":
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                raise SubmissionError(f"'{field['ref']}' expects a date like 2020-10-01") from None
        answer[kind] = value
    answer["field"] = {"id": field["id"], "type": field["type"], "ref": field["ref"]}
    return answer


def choice_answer(field: dict[str, Any], value: Any, validate: bool) -> dict[str, Any]:
    props = field.get("properties") or {}
    by_label = {c["label"]: c for c in props["choices"]}
    labels = value if isinstance(value, list) else [value]
    if len(labels) > 1 and not props.get("allow_multiple_selection"):
        raise SubmissionError(f"'{field['ref']}' allows one choice")
    known = [by_label[label] for label in labels if label in by_label]
    others = [label for label in labels if label not in by_label]
    if others and (len(others) > 1 or not props.get("allow_other_choice")) and validate:
        raise SubmissionError(f"'{field['ref']}': unknown choice {', '.join(map(str, others))}")
    if props.get("allow_multiple_selection"):
        choices: dict[str, Any] = {"ids": [c["id"] for c in known], "labels": [c["label"] for c in known],
                                   "refs": [c["ref"] for c in known]}
        if others:
            choices["other"] = str(others[0])
        return {"type": "choices", "choices": choices}
    if others:
        return {"choice": {"other": str(others[0])}}
    return {"choice": {"id": known[0]["id"], "label": known[0]["label"], "ref": known[0]["ref"]}}


def response_item(form_response: dict[str, Any]) -> dict[str, Any]:
    """A stored submission as the Responses API lists it."""
    return {
        "landing_id": form_response["token"], "token": form_response["token"],
        "response_id": form_response["token"], "response_type": "completed",
        "landed_at": form_response["landed_at"], "submitted_at": form_response["submitted_at"],
        "metadata": {"user_agent": "Mozilla/5.0 (X11; Linux x86_64)", "platform": "other",
                     "referer": f"https://form.typeform.com/to/{form_response['form_id']}",
                     "network_id": secrets.token_hex(5), "browser": "default"},
        "hidden": form_response["hidden"], "calculated": form_response["calculated"],
        "answers": form_response["answers"],
    }


def typeform_blueprint(state: TypeformState, faults: FaultBoard) -> Blueprint:
    bp = Blueprint("typeform", __name__, url_prefix="/typeform")

    @bp.before_request
    def _gate() -> Response | None:
        if not bearer_token():
            return typeform_error("AUTHENTICATION_FAILED",
                                  "Authentication credentials not found on the Request Headers", 401)
        return apply_fault(faults, "typeform", lambda status: {"code": "SERVER_ERROR" if status >= 500
                                                               else "RATE_LIMITED", "description": f"Injected fault {status}"})

    def form_or_404(form_id: str) -> dict[str, Any] | Response:
        form = state.forms.get(form_id)
        return form if form is not None else typeform_error("FORM_NOT_FOUND", f"Non existing form with uid {form_id}", 404)

    def saved(form_id: str, status: int) -> Response:
        try:
            return json_response(state.save_form(form_id, request.get_json(silent=True) or {},
                                                 request.host_url.rstrip("/")), status)
        except SubmissionError as exc:
            return typeform_error("VALIDATION_ERROR", "The payload is invalid", 400, [{"description": str(exc)}])

    @bp.post("/forms")
    def create_form() -> Response:
        return saved(random_id(8), 201)

    @bp.get("/forms")
    def list_forms() -> Response:
        items = [{"id": f["id"], "title": f["title"], "last_updated_at": f["last_updated_at"],
                  "_links": f["_links"], "self": {"href": f"{request.host_url}typeform/forms/{f['id']}"}}
                 for f in state.forms.values()]
        return json_response({"total_items": len(items), "page_count": 1, "items": items})

    @bp.get("/forms/<form_id>")
    def get_form(form_id: str) -> Response:
        form = form_or_404(form_id)
        return form if isinstance(form, Response) else json_response(form)

    @bp.put("/forms/<form_id>")
    def replace_form(form_id: str) -> Response:
        form = form_or_404(form_id)
        return form if isinstance(form, Response) else saved(form_id, 200)

    @bp.delete("/forms/<form_id>")
    def delete_form(form_id: str) -> Response:
        form = form_or_404(form_id)
        if isinstance(form, Response):
            return form
        state.delete_form(form_id)
        return Response(status=204)

    @bp.get("/forms/<form_id>/webhooks")
    def list_webhooks(form_id: str) -> Response:
        form = form_or_404(form_id)
        if isinstance(form, Response):
            return form
        return json_response({"items": [public_webhook(h) for h in state.webhooks[form_id].values()]})

    @bp.route("/forms/<form_id>/webhooks/<tag>", methods=["GET", "PUT", "DELETE"])
    def webhook(form_id: str, tag: str) -> Response:
        form = form_or_404(form_id)
        if isinstance(form, Response):
            return form
        hooks = state.webhooks[form_id]
        if request.method == "PUT":
            body = request.get_json(silent=True) or {}
            if not str(body.get("url", "")).startswith(("http://", "https://")):
                return typeform_error("VALIDATION_ERROR", "url must be an http(s) URL", 400)
            now = iso(dt.datetime.now(dt.timezone.utc))
            existing = hooks.get(tag)
            state.save_webhook({"id": existing["id"] if existing else ulid(), "form_id": form_id, "tag": tag,
                                "url": body["url"], "enabled": bool(body.get("enabled", False)),
                                "verify_ssl": bool(body.get("verify_ssl", True)), "secret": body.get("secret"),
                                "event_types": body.get("event_types") or {"form_response": True},
                                "created_at": existing["created_at"] if existing else now, "updated_at": now})
            return json_response(public_webhook(hooks[tag]))
        if tag not in hooks:
            return typeform_error("NOT_FOUND", f"Webhook {tag} not found", 404)
        if request.method == "DELETE":
            state.delete_webhook(form_id, tag)
            return Response(status=204)
        return json_response(public_webhook(hooks[tag]))

    @bp.delete("/forms/<form_id>/responses")
    def delete_responses(form_id: str) -> Response:
        form = form_or_404(form_id)
        if isinstance(form, Response):
            return form
        try:
            ids = response_ids(request.args.to_dict())
        except SubmissionError as exc:
            return typeform_error("VALIDATION_ERROR", str(exc), 400)
        if not ids:
            return typeform_error("VALIDATION_ERROR", "included_response_ids is required", 400)
        state.delete_responses(form_id, ids)
        return Response(status=200)

    @bp.get("/forms/<form_id>/responses")
    def responses(form_id: str) -> Response:
        form = form_or_404(form_id)
        if isinstance(form, Response):
            return form
        try:
            return json_response(state.list_responses(form_id, request.args.to_dict()))
        except (SubmissionError, ValueError) as exc:
            return typeform_error("VALIDATION_ERROR", str(exc), 400)

    return bp


def public_webhook(hook: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in hook.items() if v is not None}
