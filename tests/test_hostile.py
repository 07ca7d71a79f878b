"""Hostile requests against every entry point of `main.ENTRY_POINTS`, on the running local stack:
forged, missing and replayed signatures, missing or misplaced automation secrets, 10 MB bodies,
bodies that are not UTF-8 or nest deeper than any parser, answers crafted to break an Airtable
formula or to inject HTML, expired links, path traversal and oversized values.

Each entry point is classified once (`GUARDS`); a new one fails `test_every_entry_point_is_guarded`
until it is, and is then covered by every parametrized test here. What other modules already
prove is listed in docs/security.md rather than repeated.
"""

from __future__ import annotations

import html
import json
import re
import time
from typing import Any

import itsdangerous
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

import main
from schemas.records import Antenna, JournalEntry, Need, Structure, Volunteer
from shared.airtable import AirtableRejected
from shared.links import Links
from shared.matching.choices import ANSWER
from shared.matching.suggestions import CHOICE
from shared.onboarding.daily import FIRST_CONTACT
from shared.signatures import AUTOMATION_HEADER, sign_docusign, sign_sendgrid, sign_typeform
from tests.test_intake_webhook import VOLUNTEER, journal, payload_for
from tests.test_matching_flow import call, campaign, links_in, mentor, need, outbox, structure
from tests.conftest import sample_json
from tests.test_onboarding import DEV_SENDGRID_KEY

WEBHOOK, AUTOMATION, LINK = "webhook", "automation", "link"
GUARDS = {"typeform_webhook": WEBHOOK, "docusign_connect": WEBHOOK, "sendgrid_events": WEBHOOK,
          "reconcile": AUTOMATION, "suggest_mentors": AUTOMATION, "follow_up": AUTOMATION, "retention": AUTOMATION,
          "intake_writer": AUTOMATION, "choose_mentor": LINK, "first_contact": LINK}
WEBHOOKS = [name for name in main.ENTRY_POINTS if GUARDS.get(name) == WEBHOOK]
AUTOMATIONS = [name for name in main.ENTRY_POINTS if GUARDS.get(name) == AUTOMATION]
TEN_MB = 10 * 1024 * 1024
NOT_UTF8 = b'{"event_type": "form_response", "form_response": {"token": "\xff\xfe\x80"}}'
DEEP = b"[" * 200_000 + b"]" * 200_000  # 400 kB: under the size cap, far over any recursion limit


def url(live, name: str) -> str:
    return f"{live.functions_url}/{name}/"


def writes(live) -> int:
    """Airtable writes the stack has answered so far."""
    counts = live.control("GET", "/stats")["requests"]
    return sum(counts.get(f"airtable {verb}", 0) for verb in ("POST", "PATCH", "PUT", "DELETE"))


def forged_sendgrid(body: bytes, stamp: str) -> str:
    """A well-formed ECDSA signature made with a key that is not SendGrid's."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return sign_sendgrid(pem, body, stamp)


def signature_headers(live, name: str, body: bytes, forged: bool = False) -> dict[str, str]:
    """The headers the vendor behind webhook `name` would send with `body` (or a forger would)."""
    if name == "typeform_webhook":
        return {"Typeform-Signature": sign_typeform("forged" if forged else live.settings.TYPEFORM_SECRET, body)}
    if name == "docusign_connect":
        return {"X-DocuSign-Signature-1": sign_docusign("forged" if forged else live.settings.DOCUSIGN_CONNECT_KEY,
                                                        body)}
    stamp = str(int(time.time()))
    signature = forged_sendgrid(body, stamp) if forged else sign_sendgrid(DEV_SENDGRID_KEY.read_bytes(), body, stamp)
    return {"X-Twilio-Email-Event-Webhook-Timestamp": stamp, "X-Twilio-Email-Event-Webhook-Signature": signature}


def genuine_body(live, name: str) -> bytes:
    """A body the endpoint would act on, were it authenticated."""
    if name == "typeform_webhook":
        return payload_for(live, "volunteer")
    if name == "docusign_connect":
        return json.dumps({"event": "envelope-completed", "apiVersion": "v2.1", "generatedDateTime":
                           "2020-11-05T10:00:00.0000000Z", "data": {"accountId": "a", "envelopeId": "e-1"}}).encode()
    if name == "sendgrid_events":
        return json.dumps([{"email": "x@exemple.fr", "event": "delivered", "timestamp": int(time.time()),
                            "sg_event_id": "hostile-1"}]).encode()
    return b"{}"


def automation_headers(live) -> dict[str, str]:
    return {"Authorization": f"Bearer {live.settings.AUTOMATION_SECRET}"}


def authenticated(live, name: str, body: bytes) -> dict[str, str]:
    """The headers that get `body` past the endpoint's authentication (none for links)."""
    kind = GUARDS[name]
    if kind == WEBHOOK:
        return signature_headers(live, name, body)
    return automation_headers(live) if kind == AUTOMATION else {}


def post(live, name: str, body: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(url(live, name), data=body, headers={"Content-Type": "application/json", **headers},
                         timeout=60)


def test_every_entry_point_is_guarded():
    """A new function must say how it authenticates before it is deployed (and then is covered here)."""
    assert set(GUARDS) == set(main.ENTRY_POINTS)


# --- authentication ----------------------------------------------------------------------------

CASES = {WEBHOOK: ("forged", "missing"), AUTOMATION: ("none", "wrong", "bare", "bearer-in-own-header", "elsewhere")}


def unauthenticated_headers(live, name: str, case: str, body: bytes) -> dict[str, str]:
    secret = live.settings.AUTOMATION_SECRET
    return {"forged": lambda: signature_headers(live, name, body, forged=True),
            "missing": dict,
            "none": dict,
            "wrong": lambda: {"Authorization": "Bearer not-the-secret", AUTOMATION_HEADER: "not-the-secret"},
            "bare": lambda: {"Authorization": secret},
            "bearer-in-own-header": lambda: {AUTOMATION_HEADER: f"Bearer {secret}"},
            "elsewhere": lambda: {"X-Automation-Secret": secret, "Typeform-Signature": secret},
            }[case]()


@pytest.mark.parametrize("name", WEBHOOKS + AUTOMATIONS)
def test_unauthenticated_calls_get_401_and_write_nothing(live, name):
    body = genuine_body(live, name)
    before = writes(live)
    for case in CASES[GUARDS[name]]:
        answer = post(live, name, body, unauthenticated_headers(live, name, case, body))
        assert answer.status_code == 401 and answer.json() == {"erreur": "signature ou secret invalide"}, case
    assert writes(live) == before and live.gateway.all(JournalEntry) == []


def test_a_sendgrid_delivery_replayed_within_the_hour_is_a_no_op(live):
    """The timestamp window cannot stop a replay inside it: the event ids do."""
    body = genuine_body(live, "sendgrid_events")
    headers = signature_headers(live, "sendgrid_events", body)
    first = post(live, "sendgrid_events", body, headers)
    written = writes(live)
    again = post(live, "sendgrid_events", body, headers)
    assert (first.status_code, again.status_code) == (200, 200) and again.json()["status"] == "Doublon"
    assert writes(live) == written
    assert len([e for e in live.gateway.all(JournalEntry) if e.source == "SendGrid"]) == 1


# --- bodies no parser should meet ----------------------------------------------------------------

@pytest.mark.parametrize("name", main.ENTRY_POINTS)
def test_a_10_mb_body_is_refused_unread_in_french(live, name):
    body = b"t=" + b"x" * TEN_MB if GUARDS[name] == LINK else b'{"a": "' + b"x" * TEN_MB + b'"}'
    headers = authenticated(live, name, body)
    if GUARDS[name] == LINK:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    before = writes(live)
    answer = requests.post(url(live, name), data=body, headers={"Content-Type": "application/json", **headers},
                           timeout=60)
    assert answer.status_code == 413
    assert answer.json() == {"erreur": "corps de requête au-delà de 1000000 octets"}
    assert writes(live) == before


def ten_mb_in_chunks() -> Any:
    yield b"t="
    for _ in range(10):
        yield b"x" * (1024 * 1024)


BODY_READERS = set(WEBHOOKS) | {"suggest_mentors", "reconcile", "intake_writer"}


def test_a_10_mb_body_sent_in_chunks_is_measured_not_trusted(live):
    """Without `Content-Length`, the body is measured as it is read: 413 wherever one is read; the
    link pages find no token in it; `follow_up` and `retention` never read it."""
    for name in main.ENTRY_POINTS:
        headers = {**authenticated(live, name, b""), "Content-Type": "application/x-www-form-urlencoded"}
        answer = requests.post(url(live, name), data=ten_mb_in_chunks(), headers=headers, timeout=60)
        assert answer.status_code < 500, (name, answer.status_code)
        if name in BODY_READERS:
            assert answer.status_code == 413, name
        elif GUARDS[name] == LINK:
            assert answer.status_code == 400, name


@pytest.mark.parametrize("name", main.ENTRY_POINTS)
def test_unreadable_bodies_get_a_clear_answer_never_a_crash(live, name):
    for label, body in (("not UTF-8", NOT_UTF8), ("nested 200,000 deep", DEEP)):
        answer = post(live, name, body, authenticated(live, name, body))
        assert 200 <= answer.status_code < 500, (label, answer.text[:300])
        if name == "typeform_webhook":  # authentic: kept for a coordinator, not retried
            assert answer.json()["statut"] == "Rejeté", label
    if name == "typeform_webhook":
        assert [(e.status, "illisible" in e.detail) for e in journal(live)] == [("Rejeté", True)] * 2
    assert not [e for e in live.gateway.all(JournalEntry) if e.status == "Erreur"]


# --- formulas ------------------------------------------------------------------------------------

HOSTILE_EMAILS = ["lea.martin'&{email}&'@exemple.fr", "x'}=1&{'@exemple.fr", "lea.martin'or'1'='1@exemple.fr",
                  "{Email}@exemple.fr"]


@pytest.mark.parametrize("email", HOSTILE_EMAILS)
def test_an_email_crafted_for_a_formula_matches_nobody_else(live, email):
    """Sign-ups are matched to earlier ones by email: a crafted address must not find Léa."""
    live.post_webhook(payload_for(live, "volunteer"))
    [lea] = live.gateway.all(Volunteer)
    payload = json.loads(payload_for(live, "volunteer"))
    payload["form_response"]["token"] = "hostile-token-1"
    for item in payload["form_response"]["answers"]:
        if item["type"] == "email":
            item["email"] = email
    answer = live.post_webhook(json.dumps(payload).encode())
    assert answer.status_code == 200 and answer.json()["statut"] == "Traité", answer.text
    people = {p.record_id: p for p in live.gateway.all(Volunteer)}
    assert len(people) == 2 and people[lea.record_id].email == lea.email


@pytest.mark.parametrize("value", ['x", OR(TRUE()), "', "x', OR(TRUE()), '", '"}) & ', "{Prénom}", "\\\"", "a\\"])
def test_text_in_a_formula_finds_only_itself(live, value):
    from pyairtable.formulas import EQ, Field

    created = live.gateway.create([mentor(value, "a@exemple.fr"), mentor("Sam", "sam@exemple.fr")])
    found = live.gateway.all(Volunteer, formula=EQ(Field(Volunteer.label("first_name")), value))
    assert [p.record_id for p in found] == [created[0].record_id]


# --- HTML in emails and pages --------------------------------------------------------------------

SCRIPT, IMG = "<script>alert(1)</script>", '<img src=x onerror="alert(1)">'


def assert_escaped(markup: str) -> None:
    assert "<script" not in markup.lower() and "<img" not in markup.lower(), markup[:500]
    assert "&lt;script&gt;" in markup or "&lt;img" in markup


def test_html_typed_into_a_sign_up_comes_out_escaped_in_every_email(live):
    live.submit("volunteer", {**VOLUNTEER, "first_name": SCRIPT, "last_name": IMG}, skip_validation=True)
    live.settle()
    messages = live.control("GET", "/outbox")["messages"]
    assert messages
    for message in messages:
        assert_escaped(message["html"])


def test_html_in_records_comes_out_escaped_in_every_page(live):
    live.unplug_vendor_events()
    [hostile] = live.gateway.create([mentor(SCRIPT, "lea@exemple.fr", last_name=IMG)])
    [college] = live.gateway.create([structure(IMG, "cdi@college.fr")])
    live.gateway.create([need("CJM-1", college.record_id)])
    call(live, "suggest_mentors", {})
    [mail] = outbox(live, "suggestions")
    assert_escaped(mail["html"])
    [link] = links_in(mail)
    assert_escaped(requests.get(link, timeout=30).text)
    [lyon] = live.gateway.create([Antenna(name=SCRIPT, association="AFEV", departements=["69 Rhône"],
                                          email="lyon@afev.example")])
    live.gateway.update([Volunteer(record_id=hostile.record_id, antenna=[lyon.record_id])])
    token = Links(live.settings).token(FIRST_CONTACT, {"v": hostile.record_id, "a": lyon.record_id})
    assert_escaped(requests.get(url(live, "first_contact"), params={"t": token}, timeout=30).text)


# --- links -------------------------------------------------------------------------------------

def token_signed_days_ago(links: Links, purpose: str, claims: dict[str, Any], days: float,
                          monkeypatch: pytest.MonkeyPatch) -> str:
    """A genuine token, as if emailed `days` ago (the signer's clock turned back while it signs)."""
    then = int(time.time() - days * 86400)
    with monkeypatch.context() as patch:
        patch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: then)
        return links.token(purpose, claims)


def test_expired_links_are_refused_and_change_nothing(live, monkeypatch):
    lea, sam, college, first = campaign(live)
    links = Links(live.settings)
    [lyon] = live.gateway.create([Antenna(name="AFEV Lyon", association="AFEV", departements=["69 Rhône"],
                                          email="lyon@afev.example")])
    live.gateway.update([Volunteer(record_id=lea.record_id, antenna=[lyon.record_id])])
    cases = [("choose_mentor", CHOICE, {"n": first.record_id, "v": lea.record_id, "s": college.record_id}, 60),
             ("choose_mentor", ANSWER, {"p": "recNoSuchPair0001", "v": lea.record_id}, 60),
             ("first_contact", FIRST_CONTACT, {"v": lea.record_id, "a": lyon.record_id}, 400)]
    before = writes(live)
    for name, purpose, claims, days in cases:
        token = token_signed_days_ago(links, purpose, claims, days, monkeypatch)
        for method in ("GET", "POST"):
            where = "params" if method == "GET" else "data"
            answer = requests.request(method, url(live, name), timeout=30, **{where: {"t": token}})
            shown = html.unescape(answer.text)
            assert answer.status_code == 400 and "Ce lien a expiré." in shown, (name, purpose, re.findall("<p>.*", shown))
    assert writes(live) == before


# --- path traversal and oversized values ---------------------------------------------------------

TRAVERSALS = ["rec/../../Structures", "../../../meta/bases", "recAAAAAAAAAAAAAA/../x", "recAAAAAAAAAAAAAA?fields=x"]


@pytest.mark.parametrize("record_id", TRAVERSALS)
def test_a_record_id_cannot_walk_to_another_url(live, record_id):
    """pyairtable puts a record id in the URL as it is; the gateway refuses whatever is not one."""
    [college] = live.gateway.create([structure("Collège Jean-Moulin", "cdi@college.fr")])
    before = live.control("GET", "/stats")["requests"].get("airtable GET", 0)
    with pytest.raises(AirtableRejected) as refused:
        live.gateway.get(Need, record_id)
    assert refused.value.status == 404
    assert live.control("GET", "/stats")["requests"].get("airtable GET", 0) == before


@pytest.mark.parametrize("name, key", [("suggest_mentors", "need"), ("reconcile", "replay"), ("reconcile", "resend")])
def test_automations_given_a_path_for_a_record_id_answer_without_crashing(live, name, key):
    for record_id in TRAVERSALS:
        answer = post(live, name, json.dumps({key: record_id}).encode(), automation_headers(live))
        assert answer.headers["Content-Type"] == "application/json", (record_id, answer.text[:200])


VOLUNTEER_ANSWERS = [a["field"]["ref"] for a in sample_json("typeform_volunteer.json")["form_response"]["answers"]]
BIG = "x" * 200_000


def oversized(answer: dict[str, Any]) -> None:
    """Every value of one answer made 200,000 characters long, whatever its type."""
    kind = answer["type"]
    answer[kind] = {"choices": {"labels": [BIG]}, "choice": {"label": BIG}}.get(kind, BIG)


KEPT = ("Rejeté", "Traité", "Mis à jour")  # an optional answer too long is dropped with a note


def test_an_oversized_answer_in_any_field_is_never_stored_nor_a_crash(live):
    for ref in VOLUNTEER_ANSWERS:
        payload = json.loads(payload_for(live, "volunteer"))
        payload["form_response"]["token"] = f"oversized-{ref}"
        oversized(next(a for a in payload["form_response"]["answers"] if a["field"]["ref"] == ref))
        answer = live.post_webhook(json.dumps(payload).encode())
        assert answer.status_code == 200 and answer.json()["statut"] in KEPT, (ref, answer.text[:300])
    assert len(journal(live)) == len(VOLUNTEER_ANSWERS)
    for person in live.gateway.all(Volunteer):
        assert all(len(str(v)) <= 5000 for v in person.model_dump().values())


def test_path_traversal_in_a_form_id_is_an_unknown_form(live):
    payload = json.loads(payload_for(live, "volunteer"))
    payload["form_response"]["form_id"] = "../../../etc/passwd"
    answer = live.post_webhook(json.dumps(payload).encode())
    assert answer.status_code == 200 and "Formulaire inconnu" in answer.json()["detail"]
    assert live.gateway.all(Volunteer) == []
