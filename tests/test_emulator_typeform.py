"""The local Typeform: Create API, webhooks, Responses API, and submissions in the documented format."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest
import requests

from tests.conftest import sample_json
from tests.receiver import Receiver

SECRET = "tf-webhook-secret"
FORM = {
    "title": "Inscription bénévole",
    "hidden": ["source"],
    "fields": [
        {"ref": "first_name", "title": "Votre prénom ?", "type": "short_text", "validations": {"required": True}},
        {"ref": "motivation", "title": "Pourquoi voulez-vous accompagner un élève ?", "type": "long_text"},
        {"ref": "email", "title": "Votre email ?", "type": "email", "validations": {"required": True}},
        {"ref": "phone", "title": "Votre téléphone ?", "type": "phone_number"},
        {"ref": "hours", "title": "Combien d'heures par semaine ?", "type": "number"},
        {"ref": "start", "title": "À partir de quand ?", "type": "date"},
        {"ref": "consent", "title": "J'accepte le traitement de mes données", "type": "legal"},
        {"ref": "mode", "title": "Distanciel ou présentiel ?", "type": "multiple_choice",
         "properties": {"choices": [{"label": "Distanciel", "ref": "remote"}, {"label": "Présentiel", "ref": "in_person"}]}},
        {"ref": "levels", "title": "Quels niveaux ?", "type": "multiple_choice",
         "properties": {"allow_multiple_selection": True,
                        "choices": [{"label": "6e", "ref": "6e"}, {"label": "5e", "ref": "5e"}]}},
        {"ref": "capacity", "title": "Combien d'élèves ?", "type": "rating", "properties": {"steps": 5}},
    ],
}
ANSWERS = {"first_name": "Léa", "motivation": "Transmettre le goût des maths.", "email": "lea@example.org",
           "phone": "+33612345678", "hours": 2, "start": "2020-11-02", "consent": True, "mode": "Distanciel",
           "levels": ["6e", "5e"], "capacity": 2}


class Typeform:
    def __init__(self, base: str, token: str = "tfp_test"):
        self.base, self.headers = base, {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.base}{path}", headers=self.headers, timeout=5, **kwargs)


@pytest.fixture
def typeform(emulator) -> Typeform:
    """The Responses API without its lag (these tests are about listing; the lag has its own)."""
    emulator.control("POST", "/typeform/config", json={"responses_lag": 0})
    return Typeform(f"{emulator.url}/typeform")


@pytest.fixture
def form(typeform) -> dict:
    created = typeform.call("POST", "/forms", json=FORM)
    assert created.status_code == 201
    return created.json()


def submit(emulator, form_id: str, answers: dict, **extra: Any) -> requests.Response:
    return requests.post(f"{emulator.url}/_emulator/typeform/{form_id}/submit",
                         json={"answers": answers, **extra}, timeout=5)


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys and value types, not values."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


def test_create_read_replace_and_list_forms(typeform, form):
    assert len(form["id"]) == 8 and all(len(f["id"]) == 12 for f in form["fields"])
    assert typeform.call("GET", f"/forms/{form['id']}").json() == form
    changed = dict(FORM, title="Inscription bénévole (v2)")
    replaced = typeform.call("PUT", f"/forms/{form['id']}", json=changed).json()
    assert replaced["title"] == "Inscription bénévole (v2)"
    assert [f["id"] for f in replaced["fields"]] == [f["id"] for f in form["fields"]]  # ids stable by ref
    assert [i["id"] for i in typeform.call("GET", "/forms").json()["items"]] == [form["id"]]


def test_form_errors_in_typeforms_shape(typeform):
    missing = typeform.call("GET", "/forms/nope1234")
    assert missing.status_code == 404 and missing.json()["code"] == "FORM_NOT_FOUND"
    assert typeform.call("PUT", "/forms/nope1234", json=FORM).status_code == 404
    invalid = typeform.call("POST", "/forms", json={"fields": [{"ref": "x", "type": "hologram", "title": "?"}]})
    assert invalid.status_code == 400 and invalid.json()["code"] == "VALIDATION_ERROR"
    unauthenticated = requests.get(typeform.base + "/forms", timeout=5)
    assert unauthenticated.status_code == 401 and unauthenticated.json()["code"] == "AUTHENTICATION_FAILED"


def test_webhooks_create_read_list_delete(typeform, form):
    path = f"/forms/{form['id']}/webhooks/binome"
    created = typeform.call("PUT", path, json={"url": "http://127.0.0.1:9/hook", "enabled": True, "secret": SECRET,
                                               "verify_ssl": True, "event_types": {"form_response": True}}).json()
    assert created["tag"] == "binome" and created["enabled"] is True and created["form_id"] == form["id"]
    assert typeform.call("GET", path).json() == created
    assert [h["tag"] for h in typeform.call("GET", f"/forms/{form['id']}/webhooks").json()["items"]] == ["binome"]
    assert typeform.call("DELETE", path).status_code == 204
    assert typeform.call("GET", path).status_code == 404


def test_a_submission_is_the_documented_structure_field_by_field(emulator, typeform, form):
    recorded = sample_json("typeform_form_response.json")
    with Receiver() as receiver:
        typeform.call("PUT", f"/forms/{form['id']}/webhooks/binome",
                      json={"url": f"{receiver.url}/typeform_webhook/", "enabled": True, "secret": SECRET})
        result = submit(emulator, form["id"], ANSWERS, hidden={"source": "newsletter"})
        assert result.status_code == 201
        [delivery] = receiver.wait_for(1)

    payload = delivery.json()
    assert shape(payload) == shape(recorded)
    response, expected = payload["form_response"], recorded["form_response"]
    for key in ("hidden", "calculated"):
        assert response[key] == expected[key]
    for got, want in zip(response["answers"], expected["answers"]):
        assert got["type"] == want["type"] and got["field"]["ref"] == want["field"]["ref"]
        assert got["field"]["type"] == want["field"]["type"]
        value_key = want["type"]
        if value_key in ("choice", "choices"):
            assert got[value_key]["labels" if value_key == "choices" else "label"] == \
                want[value_key]["labels" if value_key == "choices" else "label"]
        else:
            assert got[value_key] == want[value_key]
    for got, want in zip(response["definition"]["fields"], expected["definition"]["fields"]):
        assert {k: v for k, v in got.items() if k not in ("id", "choices")} == \
            {k: v for k, v in want.items() if k not in ("id", "choices")}
    assert response["form_id"] == form["id"] and len(response["token"]) == 32 and len(payload["event_id"]) == 26
    assert result.json()["token"] == response["token"]


def test_webhook_signature_is_typeforms(emulator, typeform, form):
    with Receiver() as receiver:
        typeform.call("PUT", f"/forms/{form['id']}/webhooks/binome",
                      json={"url": receiver.url, "enabled": True, "secret": SECRET})
        submit(emulator, form["id"], ANSWERS)
        [delivery] = receiver.wait_for(1)
    expected = "sha256=" + base64.b64encode(hmac.new(SECRET.encode(), delivery.body, hashlib.sha256).digest()).decode()
    assert hmac.compare_digest(delivery.headers["Typeform-Signature"], expected)


def test_disabled_webhooks_and_hooks_without_secret(emulator, typeform, form):
    with Receiver() as receiver:
        typeform.call("PUT", f"/forms/{form['id']}/webhooks/off", json={"url": receiver.url, "enabled": False})
        typeform.call("PUT", f"/forms/{form['id']}/webhooks/plain", json={"url": receiver.url + "/plain", "enabled": True})
        assert submit(emulator, form["id"], ANSWERS).json()["deliveries"] == 1
        [delivery] = receiver.wait_for(1)
    assert delivery.path == "/plain" and "Typeform-Signature" not in delivery.headers


@pytest.mark.parametrize("answers, message", [
    ({**ANSWERS, "email": None}, "required"),
    ({**ANSWERS, "email": "pas-une-adresse"}, "not an email"),
    ({**ANSWERS, "mode": "Par pigeon"}, "unknown choice"),
    ({**ANSWERS, "mode": ["Distanciel", "Présentiel"]}, "one choice"),
    ({**ANSWERS, "hours": "deux"}, "expects a number"),
    ({**ANSWERS, "nope": 1}, "unknown refs"),
])
def test_submissions_typeform_would_refuse(emulator, form, answers, message):
    response = submit(emulator, form["id"], answers)
    assert response.status_code == 400 and message in response.json()["error"]


def test_invalid_submissions_can_be_forced_for_tests(emulator, form):
    response = submit(emulator, form["id"], {**ANSWERS, "email": "pas-une-adresse"}, skip_validation=True)
    assert response.status_code == 201
    answers = response.json()["payload"]["form_response"]["answers"]
    assert {"type": "email", "email": "pas-une-adresse"}.items() <= answers[2].items()


def test_the_responses_api_lags_behind_the_webhook(emulator, typeform, form):
    emulator.control("POST", "/typeform/config", json={"responses_lag": 3600})
    token = submit(emulator, form["id"], ANSWERS).json()["token"]
    assert typeform.call("GET", f"/forms/{form['id']}/responses").json()["items"] == []
    emulator.control("POST", "/typeform/config", json={"show_all_responses": True})
    assert [i["token"] for i in typeform.call("GET", f"/forms/{form['id']}/responses").json()["items"]] == [token]
    emulator.control("POST", "/typeform/config", json={"responses_lag": None})  # the default: a nominal minute
    assert emulator.control("GET", "/typeform/config")["responses_lag"] == pytest.approx(60 * 1e-4)


def test_responses_api_pages_and_filters(emulator, typeform, form):
    tokens = [submit(emulator, form["id"], ANSWERS, submitted_at=f"2020-10-0{day}T10:00:00Z").json()["token"]
              for day in range(1, 6)]
    listing = typeform.call("GET", f"/forms/{form['id']}/responses", params={"page_size": 2}).json()
    assert listing["total_items"] == 5 and listing["page_count"] == 3
    assert [i["token"] for i in listing["items"]] == [tokens[4], tokens[3]]  # newest first
    since = typeform.call("GET", f"/forms/{form['id']}/responses",
                          params={"since": "2020-10-03T00:00:00Z", "until": "2020-10-04T23:00:00Z"}).json()
    assert sorted(i["token"] for i in since["items"]) == sorted(tokens[2:4])
    after = typeform.call("GET", f"/forms/{form['id']}/responses", params={"after": tokens[2]}).json()
    assert sorted(i["token"] for i in after["items"]) == sorted(tokens[3:])
    before = typeform.call("GET", f"/forms/{form['id']}/responses", params={"before": tokens[1]}).json()
    assert [i["token"] for i in before["items"]] == [tokens[0]]
    item = listing["items"][0]
    assert {"landing_id", "token", "response_id", "landed_at", "submitted_at", "metadata", "hidden",
            "calculated", "answers"} <= set(item)
    assert typeform.call("GET", f"/forms/{form['id']}/responses", params={"page_size": 5000}).status_code == 400


def test_retries_on_slow_down_statuses_then_delivers(emulator, typeform, form):
    with Receiver(statuses=[503, 429]) as receiver:
        typeform.call("PUT", f"/forms/{form['id']}/webhooks/binome", json={"url": receiver.url, "enabled": True})
        submit(emulator, form["id"], ANSWERS)
        received = receiver.wait_for(3)
    assert len({r.body for r in received}) == 1  # the same delivery each time
    assert emulator.control("POST", "/deliveries/wait", json={"timeout": 10})["idle"]
    [delivery] = emulator.control("GET", "/deliveries")["deliveries"]
    assert delivery["state"] == "delivered"


def test_gone_disables_the_webhook(emulator, typeform, form):
    with Receiver(statuses=[410]) as receiver:
        typeform.call("PUT", f"/forms/{form['id']}/webhooks/binome", json={"url": receiver.url, "enabled": True})
        submit(emulator, form["id"], ANSWERS)
        receiver.wait_for(1)
        assert emulator.control("POST", "/deliveries/wait", json={"timeout": 10})["idle"]
    assert typeform.call("GET", f"/forms/{form['id']}/webhooks/binome").json()["enabled"] is False
    assert submit(emulator, form["id"], ANSWERS).json()["deliveries"] == 0


def test_other_failures_back_off_five_times_then_give_up(emulator, typeform, form):
    with Receiver(statuses=[500] * 10) as receiver:
        typeform.call("PUT", f"/forms/{form['id']}/webhooks/binome", json={"url": receiver.url, "enabled": True})
        submit(emulator, form["id"], ANSWERS)
        assert emulator.control("POST", "/deliveries/wait", json={"timeout": 20})["idle"]
        assert len(receiver.received) == 6  # the first try and five retries
    [delivery] = emulator.control("GET", "/deliveries")["deliveries"]
    assert delivery["state"] == "failed"


def test_forms_can_be_made_with_the_ids_the_settings_name(emulator, typeform):
    response = requests.put(f"{emulator.url}/_emulator/typeform/forms/benevoles", json=FORM, timeout=5)
    assert response.status_code == 200
    assert typeform.call("GET", "/forms/benevoles").json()["title"] == FORM["title"]


def test_injected_faults_use_typeforms_shape(emulator, typeform):
    emulator.fault(service="typeform", status=503)
    response = typeform.call("GET", "/forms")
    assert response.status_code == 503 and set(response.json()) == {"code", "description"}


def test_paging_with_before_is_exact_when_many_responses_share_a_second(emulator, typeform, form):
    tokens = {submit(emulator, form["id"], ANSWERS, submitted_at="2020-10-01T10:00:00Z").json()["token"]
              for _ in range(7)}
    seen, params = [], {"page_size": 3}
    while True:
        items = typeform.call("GET", f"/forms/{form['id']}/responses", params=params).json()["items"]
        seen += [i["token"] for i in items]
        if len(items) < 3:
            break
        params["before"] = items[-1]["token"]
    assert len(seen) == 7 and set(seen) == tokens
