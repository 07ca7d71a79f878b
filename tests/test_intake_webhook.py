"""Typeform → typeform_webhook → Airtable, end to end on the local stack, with real-format payloads."""

from __future__ import annotations

import concurrent.futures
import copy
import json

import pytest

from schemas import options as opt
from schemas.records import CheckIn, JournalEntry, Need, Pair, Structure, Volunteer
from shared.signatures import sign_typeform
from tests.conftest import sample_json

VOLUNTEER = {"first_name": "Léa", "last_name": "Martin", "email": "lea.martin@exemple.fr", "phone": "0612345678",
             "postcode": "69003", "levels": ["4e", "3e"], "subjects": ["Mathématiques"],
             "slots": ["Lundi 18h-20h", "Mercredi 14h-16h"], "mode": "Les deux", "capacity": 2,
             "hours_per_week": 2, "motivation": "Transmettre.", "consent": True}
STRUCTURE = {"name": "Collège Jean-Moulin", "type": "Collège", "contact": "Anne Dupont", "email": "cdi@college.fr",
             "postcode": "75011", "pupil_count": 2,
             "pupil_1_level": "4e", "pupil_1_subjects": ["Mathématiques"], "pupil_1_slots": ["Mercredi 14h-16h"],
             "pupil_1_mode": "Présentiel",
             "pupil_2_level": "3e", "pupil_2_subjects": ["Français"], "pupil_2_slots": ["Mardi 16h-18h"],
             "pupil_2_mode": "Distanciel"}


def journal(live) -> list[JournalEntry]:
    """The entries of Typeform deliveries (not onboarding's claims and events, nor the watermark)."""
    return [e for e in live.gateway.all(JournalEntry) if e.source == "Typeform"]


def payload_for(live, kind: str) -> bytes:
    """A recorded real-format payload, addressed to this stack's form."""
    payload = copy.deepcopy(sample_json(f"typeform_{kind}.json"))
    payload["form_response"]["form_id"] = live.form_id(kind)
    return json.dumps(payload, ensure_ascii=False).encode()


def test_volunteer_sign_up_lands_once_in_four_requests(live):
    """Intake's three (read, write, Journal) and onboarding's one (the sends' outcome: the write
    that created the record claimed them)."""
    live.unplug_vendor_events()  # what SendGrid and DocuSign report back is counted on its own
    before = live.control("GET", "/stats")["requests"]
    live.submit("volunteer", VOLUNTEER)
    live.settle()
    after = live.control("GET", "/stats")["requests"]
    airtable_calls = sum(after.get(k, 0) - before.get(k, 0) for k in after if k.startswith("airtable"))
    assert airtable_calls == 4

    [volunteer] = live.gateway.all(Volunteer)
    assert (volunteer.email, volunteer.phone, volunteer.town) == ("lea.martin@exemple.fr", "+33612345678", "Lyon")
    [entry] = journal(live)
    assert (entry.status, entry.source, entry.external_ref) == ("Traité", "Typeform", volunteer.typeform_token)
    assert json.loads(entry.payload)["form_response"]["token"] == volunteer.typeform_token
    assert "lea.martin" not in entry.event  # the event names the person, not their email


def test_second_sign_up_updates_the_same_record_and_says_so(live):
    live.submit("volunteer", VOLUNTEER)
    live.settle()  # Typeform delivers side by side: this test is about one sign-up after the other
    live.submit("volunteer", {**VOLUNTEER, "email": "LEA.MARTIN@exemple.fr", "capacity": 3})
    live.settle()
    [volunteer] = live.gateway.all(Volunteer)
    assert volunteer.capacity == 3
    assert sorted(e.status for e in journal(live)) == ["Mis à jour", "Traité"]


def test_structure_its_pupils_and_a_probable_duplicate(live):
    live.submit("structure", STRUCTURE)
    live.settle()
    live.submit("structure", {**STRUCTURE, "name": "COLLEGE JEAN MOULIN", "email": "principal@college.fr"})
    live.settle()
    structures = {s.email: s for s in live.gateway.all(Structure)}
    assert structures["cdi@college.fr"].duplicate_of == ""
    assert structures["principal@college.fr"].duplicate_of.startswith("Doublon probable de : Collège Jean-Moulin")
    needs = live.gateway.all(Need)
    assert len(needs) == 4 and all(n.status == "À pourvoir" and len(n.structure) == 1 for n in needs)
    assert len(structures["cdi@college.fr"].needs) == 2
    assert not any("Jean" in n.reference and "Moulin" in n.reference for n in needs)  # a reference, no name


def test_check_in_on_a_pair_raises_an_alert_when_it_goes_badly(live):
    [pair] = live.gateway.create([Pair(name="Léa × JM-1", status=opt.PairStatus.ACTIVE)])
    live.submit("checkin", {"mood": "Très difficile", "sessions": 1, "needs_help": True},
                hidden={"binome": pair.record_id, "par": "Structure"})
    live.settle()
    [check_in] = live.gateway.all(CheckIn)
    assert check_in.pair == [pair.record_id] and check_in.author == "Structure"
    updated = live.gateway.get(Pair, pair.record_id)
    assert updated.status == "En difficulté" and "besoin d'aide" in updated.alert
    assert updated.last_check_in == check_in.date


def test_check_in_on_an_unknown_pair_is_kept_as_rejected(live):
    live.submit("checkin", {"mood": "Bien", "sessions": 1, "needs_help": False},
                hidden={"binome": "recNoSuchPair0001", "par": "Bénévole"})
    live.settle()
    [entry] = journal(live)
    assert entry.status == "Rejeté" and "introuvable" in entry.detail


def test_the_same_delivery_twice_is_a_no_op(live):
    body = payload_for(live, "volunteer")
    first, second = live.post_webhook(body), live.post_webhook(body)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["statut"] == "Doublon"
    assert len(live.gateway.all(Volunteer)) == 1 and len(journal(live)) == 1


def test_the_same_delivery_ten_times_concurrently(live):
    body = payload_for(live, "structure")
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: live.post_webhook(body), range(10)))
    assert [a.status_code for a in answers] == [200] * 10
    assert sorted(a.json()["statut"] for a in answers) == ["Doublon"] * 9 + ["Traité"]
    assert len(live.gateway.all(Structure)) == 1 and len(live.gateway.all(Need)) == 2
    assert len(journal(live)) == 1


def test_bad_or_missing_signature_is_401_and_leaves_no_trace(live):
    body = payload_for(live, "volunteer")
    assert live.post_webhook(body, signature="sha256=AAAA").status_code == 401
    assert live.post_webhook(body, signature=None).status_code == 401
    tampered = body.replace(b"Lea.Martin", b"Eve.Martin")
    assert live.post_webhook(tampered, signature=sign_typeform("another-secret", tampered)).status_code == 401
    assert live.gateway.all(JournalEntry) == [] and live.gateway.all(Volunteer) == []


def test_a_body_that_is_not_json_is_kept_as_rejected(live):
    answer = live.post_webhook(b"{ceci n'est pas du JSON")
    assert answer.status_code == 200 and answer.json()["statut"] == "Rejeté"
    [entry] = journal(live)
    assert entry.status == "Rejeté" and entry.payload == "{ceci n'est pas du JSON"
    assert entry.external_ref.startswith("sha256:")
    assert live.post_webhook(b"{ceci n'est pas du JSON").json()["statut"] == "Doublon"


def test_a_form_we_do_not_know_is_kept_as_rejected(live):
    payload = json.loads(payload_for(live, "volunteer"))
    payload["form_response"]["form_id"] = "inconnu1"
    answer = live.post_webhook(json.dumps(payload).encode())
    assert answer.status_code == 200 and "Formulaire inconnu" in answer.json()["detail"]
    assert live.gateway.all(Volunteer) == []


@pytest.mark.parametrize("answers, reason", [
    ({**VOLUNTEER, "email": None}, "Réponse obligatoire manquante"),
    ({**VOLUNTEER, "email": "lea@exemple"}, "Adresse email invalide"),
    ({**VOLUNTEER, "postcode": "99999"}, "Code postal inconnu"),
])
def test_authentic_but_invalid_submissions_are_kept_and_answered_2xx(live, answers, reason):
    live.submit("volunteer", {k: v for k, v in answers.items() if v is not None}, skip_validation=True)
    live.settle()
    [delivery] = live.deliveries()
    assert delivery["attempts"][-1]["status"] == 200 and len(delivery["attempts"]) == 1  # no retry asked
    [entry] = journal(live)
    assert entry.status == "Rejeté" and reason in entry.detail and entry.payload
    assert live.gateway.all(Volunteer) == []


@pytest.mark.parametrize("status", [429, 500])
def test_airtable_failures_answer_5xx_and_the_retry_lands_exactly_once(live, status):
    live.control("POST", "/faults", json={"service": "airtable", "status": status, "count": 8})
    live.submit("volunteer", VOLUNTEER)
    live.settle()
    [delivery] = live.deliveries()
    assert delivery["attempts"][0]["status"] == 503 and delivery["state"] == "delivered"
    assert len(live.gateway.all(Volunteer)) == 1
    [entry] = journal(live)
    assert entry.status == "Traité"


def test_methods_and_size(live):
    import requests
    assert requests.get(f"{live.functions_url}/typeform_webhook/", timeout=5).status_code == 405
    big = b"x" * 1_000_001
    assert live.post_webhook(big).status_code == 413
