"""Onboarding end to end on the local stack, with the real `sendgrid` and `docusign-esign` clients:
one acknowledgement and one document per sign-up whatever the retries and failures, Connect and
SendGrid events that only move statuses forward, alerts, the coordinators' resend."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import requests

from schemas import options as opt
from schemas.records import Antenna, JournalEntry, Need, Structure, Volunteer
from shared import bootstrap
from shared.intake.reconcile import reconcile
from shared.intake.service import with_owed_sends
from shared.intake.signups import plan_sign_up
from shared.onboarding.service import OnboardingService
from shared.signatures import sign_docusign, sign_sendgrid
from shared.typeform_client import TypeformClient
from tests.test_intake_webhook import STRUCTURE, VOLUNTEER, payload_for

DEV_SENDGRID_KEY = Path(__file__).resolve().parent.parent / "emulators" / "sendgrid" / "dev_key.pem"
WELCOME = "Bienvenue, Léa : votre inscription est bien reçue"


def outbox(live, to: str | None = None) -> list[dict]:
    messages = live.control("GET", "/outbox")["messages"]
    return [m for m in messages if to is None or m["recipients"] == [to]]


def envelopes(live) -> list[dict]:
    return live.control("GET", "/envelopes")["envelopes"]


def volunteer(live) -> Volunteer:
    [person] = live.gateway.all(Volunteer)
    return person


def alerts(live) -> list[JournalEntry]:
    return [e for e in live.gateway.all(JournalEntry) if e.type == "alerte"]


def sweep(live, minutes: float = 0) -> None:
    """`reconcile`'s pass over owed sends, `minutes` from now."""
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes)
    OnboardingService(bootstrap.gateway(), bootstrap.mailer(), bootstrap.esign(), live.settings, bootstrap.alerts(),
                      clock=lambda: later).sweep_all()
    live.settle()


def post_connect(live, payload: dict, key: str | None = None, header: str = "X-DocuSign-Signature-1") -> requests.Response:
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", header: sign_docusign(key or live.settings.DOCUSIGN_CONNECT_KEY, body)}
    return requests.post(f"{live.functions_url}/docusign_connect/", data=body, headers=headers, timeout=30)


def connect_event(event: str, envelope_id: str, at: str) -> dict:
    return {"event": event, "apiVersion": "v2.1", "retryCount": 0, "generatedDateTime": at,
            "data": {"accountId": "a", "envelopeId": envelope_id}}


def post_events(live, events: list[dict], timestamp: str | None = None) -> requests.Response:
    body = json.dumps(events).encode()
    stamp = timestamp or str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
               "X-Twilio-Email-Event-Webhook-Signature": sign_sendgrid(DEV_SENDGRID_KEY.read_bytes(), body, stamp)}
    return requests.post(f"{live.functions_url}/sendgrid_events/", data=body, headers=headers, timeout=30)


# --- a sign-up, once ------------------------------------------------------------------------------

def test_a_new_volunteer_gets_one_welcome_and_one_agreement(live):
    live.submit("volunteer", VOLUNTEER)
    live.settle()
    [mail] = outbox(live)
    assert mail["subject"] == WELCOME and mail["recipients"] == ["lea.martin@exemple.fr"]
    assert "Lyon (69003)" in mail["text"] and "Mercredi 14h-16h" in mail["html"]
    person = volunteer(live)
    assert mail["custom_args"] == {"binome_table": "volunteers", "binome_record": person.record_id,
                                   "binome_email": "accuse", "binome_attempt": "0"}
    [envelope] = envelopes(live)
    signer = envelope["recipients"]["signers"][0]
    assert (envelope["templateId"], signer["roleName"], signer["email"]) == (
        "convention-benevole", "Bénévole", "lea.martin@exemple.fr")
    assert {t["tabLabel"]: t["value"] for t in signer["tabs"]["textTabs"]}["niveaux"] == "4e, 3e"
    assert envelope["customFields"]["textCustomFields"][0]["value"] == f"{person.record_id}:convention"
    assert (person.email_status, person.envelope_status, person.status) == ("Délivré", "Envoyée", "Convention envoyée")
    assert person.envelope_id == envelope["envelopeId"] and person.email_message_id == mail["x_message_id"]


def test_a_structure_gets_its_acknowledgement_with_its_pupils_and_the_charter(live):
    live.submit("structure", STRUCTURE)
    live.settle()
    [mail] = outbox(live)
    assert mail["recipients"] == ["cdi@college.fr"] and "les 2 élèves de Collège Jean-Moulin" in mail["text"]
    [structure] = live.gateway.all(Structure)
    needs = live.gateway.all(Need)
    assert len(needs) == 2 and all(need.reference in mail["text"] and need.reference in mail["html"] for need in needs)
    [envelope] = envelopes(live)
    assert (envelope["templateId"], envelope["recipients"]["signers"][0]["roleName"]) == ("charte-structure", "Structure")
    assert structure.envelope_status == "Envoyée"


def test_duplicate_deliveries_send_nothing_twice(live):
    body = payload_for(live, "volunteer")
    for _ in range(3):
        assert live.post_webhook(body).status_code == 200
    live.settle()
    assert len(outbox(live)) == 1 and len(envelopes(live)) == 1


def test_a_new_volunteers_first_sends_belong_to_the_process_whose_write_created_the_record(live):
    """Two processes write the same new sign-up: Airtable tells one that it created the record,
    and only that one sends; the other leaves the sends to it, and no claim is written for them."""
    live.unplug_vendor_events()
    sign_up = Volunteer(first_name="Léa", last_name="Martin", full_name="Léa Martin", email="lea.martin@exemple.fr")
    plan = with_owed_sends(plan_sign_up(sign_up, [], "tok-1", dt.datetime.now(dt.timezone.utc)), "tok-1")
    assert plan.create is not None
    first = live.gateway.upsert([plan.create], key="email")
    second = live.gateway.upsert([plan.create], key="email")  # merged into the first's record
    assert len(first.created) == 1 and second.created == [] and len(live.gateway.all(Volunteer)) == 1
    onboarding = bootstrap.onboarding()
    other = onboarding.after_sign_up(second.records[0], created=False)
    assert (other.emails, other.envelopes, other.left) == (0, 0, 2) and outbox(live) == []
    creator = onboarding.after_sign_up(first.records[0], created=True)
    assert (creator.emails, creator.envelopes) == (1, 1)
    live.settle()
    sweep(live, minutes=60)  # long after: the sends are recorded, nothing is owed
    assert [m["subject"] for m in outbox(live)] == [WELCOME] and len(envelopes(live)) == 1
    assert [e for e in live.gateway.all(JournalEntry) if e.type == "envoi"] == []


def test_a_second_sign_up_gets_one_update_and_no_second_welcome_nor_envelope(live):
    live.submit("volunteer", VOLUNTEER)
    live.settle()
    live.submit("volunteer", {**VOLUNTEER, "capacity": 3})
    live.settle()
    assert [m["subject"] for m in outbox(live)] == [WELCOME, "Nous avons mis à jour votre inscription"]
    assert "Élèves accompagnés au plus : 3" in outbox(live)[1]["text"]
    assert len(envelopes(live)) == 1


# --- vendors failing --------------------------------------------------------------------------------

def test_sendgrid_down_then_the_sweep_sends_after_the_backoff(live):
    live.control("POST", "/faults", json={"service": "sendgrid", "status": 503, "count": 1})
    live.submit("volunteer", VOLUNTEER)
    live.settle()
    person = volunteer(live)
    assert (person.email_status, person.email_attempts) == ("Échec", 1) and outbox(live) == []
    assert person.envelope_status == "Envoyée"  # the envelope did not wait for the email
    sweep(live, minutes=1)
    assert outbox(live) == []  # too early
    sweep(live, minutes=6)
    assert [m["subject"] for m in outbox(live)] == [WELCOME]
    assert volunteer(live).email_status in ("Envoyé", "Délivré")
    sweep(live, minutes=60)
    assert len(outbox(live)) == 1


def test_an_email_whose_answer_is_lost_is_uncertain_and_never_sent_twice(live):
    live.unplug_vendor_events()  # no event says it went (see the next test)
    live.control("POST", "/faults", json={"service": "sendgrid", "lose": True, "count": 1})
    live.submit("volunteer", VOLUNTEER)
    live.settle()
    assert volunteer(live).email_status == "Incertain" and len(outbox(live)) == 1  # it did go
    sweep(live, minutes=60)
    assert len(outbox(live)) == 1 and volunteer(live).email_status == "Incertain"


def test_the_events_of_an_uncertain_email_settle_it_instead_of_being_refused_for_days(live):
    """The send went but binome never learnt its message id: SendGrid's events, named by the
    record and the attempt, say it went; the batch is taken, not refused until SendGrid gives up."""
    live.unplug_vendor_events()
    live.control("POST", "/faults", json={"service": "sendgrid", "lose": True, "count": 1})
    live.submit("volunteer", VOLUNTEER)
    live.settle()
    person = volunteer(live)
    assert person.email_status == "Incertain" and not person.email_message_id
    [sent] = outbox(live)
    events = [{"email": person.email, "event": event, "timestamp": n, "sg_event_id": f"late-{n}",
               "sg_message_id": f"{sent['x_message_id']}.filter0001.0.0", "binome_table": "volunteers",
               "binome_record": person.record_id, "binome_attempt": str(person.email_attempts or 0)}
              for n, event in enumerate(["processed", "delivered"], start=1)]
    assert post_events(live, events).status_code == 200
    person = volunteer(live)
    assert person.email_status == "Délivré" and person.email_message_id == sent["x_message_id"]
    other_attempt = [{**events[0], "sg_event_id": "other", "binome_attempt": "7"}]
    live.gateway.update([Volunteer(record_id=person.record_id, email_status=opt.EmailStatus.UNCERTAIN,
                                   email_message_id="")])
    assert post_events(live, other_attempt).status_code == 503  # another attempt's events: still unknown
    sweep(live, minutes=60)
    assert len(outbox(live)) == 1


def test_docusign_down_then_the_sweep_creates_the_envelope(live):
    live.control("POST", "/faults", json={"service": "docusign", "status": 500, "count": 1})
    live.submit("volunteer", VOLUNTEER)
    live.settle()
    assert volunteer(live).envelope_status == "Échec" and envelopes(live) == []
    sweep(live, minutes=6)
    assert len(envelopes(live)) == 1 and volunteer(live).envelope_status == "Envoyée"


def test_an_envelope_whose_answer_is_lost_is_found_again_not_created_twice(live):
    live.control("POST", "/faults", json={"service": "docusign", "lose": True, "count": 1})
    live.submit("volunteer", VOLUNTEER)
    live.settle()
    assert len(envelopes(live)) == 1 and volunteer(live).envelope_status == "À envoyer"
    sweep(live, minutes=5)
    assert volunteer(live).envelope_status == "À envoyer"  # the claim may still be at work: left alone
    sweep(live, minutes=16)
    [envelope] = envelopes(live)
    person = volunteer(live)
    assert (person.envelope_status, person.envelope_id) == ("Envoyée", envelope["envelopeId"])


# --- DocuSign Connect ---------------------------------------------------------------------------------

def test_signing_makes_the_volunteer_available_and_attaches_an_antenna(live):
    live.gateway.create([Antenna(name="AFEV Lyon", association="AFEV", departements=["69 Rhône"],
                                 email="lyon@afev.example")])
    live.submit("volunteer", {**VOLUNTEER, "association": "AFEV"})
    live.settle()
    live.control("POST", f"/envelopes/{envelopes(live)[0]['envelopeId']}/complete")
    live.settle()
    person = volunteer(live)
    assert (person.envelope_status, person.status) == ("Signée", "Disponible")
    [antenna] = live.gateway.all(Antenna)
    assert person.antenna == [antenna.record_id] and person.envelope_signed_at is not None


def test_a_declined_agreement_alerts_the_coordinators_once(live):
    live.submit("volunteer", VOLUNTEER)
    live.settle()
    envelope_id = envelopes(live)[0]["envelopeId"]
    live.control("POST", f"/envelopes/{envelope_id}/decline")
    live.settle()
    assert volunteer(live).envelope_status == "Refusée"
    at = "2020-11-05T10:00:00.0000000Z"
    assert post_connect(live, connect_event("envelope-declined", envelope_id, at)).status_code == 200
    [alert] = alerts(live)
    assert "Léa Martin" in alert.event
    sent = outbox(live, to=live.settings.COORDINATION_EMAIL)
    assert len(sent) == 1 and sent[0]["subject"] == "[Alerte] Document refusé : Léa Martin"


def test_connect_events_twice_late_and_out_of_order_leave_the_right_status(live):
    live.unplug_vendor_events()  # the test delivers Connect's events itself
    live.submit("volunteer", VOLUNTEER)
    live.settle()
    envelope_id = volunteer(live).envelope_id
    completed = connect_event("envelope-completed", envelope_id, "2020-11-05T10:00:00.0000000Z")
    late_sent = connect_event("envelope-sent", envelope_id, "2020-11-02T17:30:00.0000000Z")
    assert post_connect(live, completed).json()["status"] == "Traité"
    assert post_connect(live, completed).json()["status"] == "Doublon"
    assert post_connect(live, late_sent).json()["status"] == "Traité"
    assert volunteer(live).envelope_status == "Signée" and volunteer(live).status == "Disponible"
    unknown = connect_event("envelope-corrected", envelope_id, "2020-11-05T11:00:00.0000000Z")
    answer = post_connect(live, unknown)
    assert answer.status_code == 200 and "non suivi" in answer.json()["detail"]


def test_connect_signatures_any_configured_key_and_nothing_else(live):
    live.unplug_vendor_events()
    live.submit("volunteer", VOLUNTEER)
    live.settle()
    event = connect_event("envelope-completed", volunteer(live).envelope_id, "2020-11-05T10:00:00.0000000Z")
    assert post_connect(live, event, key="a-key-nobody-configured").status_code == 401
    response = requests.post(f"{live.functions_url}/docusign_connect/", data=json.dumps(event).encode(), timeout=30)
    assert response.status_code == 401
    assert volunteer(live).envelope_status == "Envoyée" and not [e for e in live.gateway.all(JournalEntry)
                                                                 if e.source == "DocuSign"]
    previous = bootstrap.configure(live.settings.rebuilt(DOCUSIGN_CONNECT_KEY="new-key, " + live.settings.DOCUSIGN_CONNECT_KEY))
    try:  # during a rotation, DocuSign signs with the new key in a second header
        assert post_connect(live, event, key="new-key", header="X-DocuSign-Signature-2").status_code == 200
    finally:
        bootstrap.configure(previous)
    assert volunteer(live).envelope_status == "Signée"


# --- SendGrid events -------------------------------------------------------------------------------

def test_a_bounce_marks_the_address_unusable_and_alerts_once(live):
    live.submit("volunteer", {**VOLUNTEER, "email": "lea@bounce.example"})
    live.settle()
    person = volunteer(live)
    assert person.email_status == "Rejeté"
    [alert] = alerts(live)
    assert "Adresse email inutilisable" in alert.event and "+33612345678" in alert.detail
    bounce = [{"email": person.email, "event": "bounce", "timestamp": int(time.time()), "sg_event_id": "again-1",
               "sg_message_id": f"{person.email_message_id}.filter0001.0.0", "binome_table": "volunteers",
               "binome_record": person.record_id}]
    assert post_events(live, bounce).status_code == 200
    assert len(alerts(live)) == 1


def test_sendgrid_signatures_are_checked_and_replays_refused(live):
    events = [{"email": "x@exemple.fr", "event": "delivered", "timestamp": 1, "sg_event_id": "e1"}]
    body = json.dumps(events).encode()
    stamp = str(int(time.time()))
    bad = {"X-Twilio-Email-Event-Webhook-Timestamp": stamp, "X-Twilio-Email-Event-Webhook-Signature": "AAAA"}
    assert requests.post(f"{live.functions_url}/sendgrid_events/", data=body, headers=bad, timeout=10).status_code == 401
    assert requests.post(f"{live.functions_url}/sendgrid_events/", data=body, timeout=10).status_code == 401
    old = str(int(time.time()) - 2 * 3600)
    assert post_events(live, events, timestamp=old).status_code == 401
    assert post_events(live, events).status_code == 200
    assert [e.source for e in live.gateway.all(JournalEntry)] == ["SendGrid"]


def test_events_ahead_of_the_recorded_send_are_asked_again_later(live):
    """The delivered event of a message binome has not recorded yet answers 503: SendGrid retries."""
    live.unplug_vendor_events()
    [person] = live.gateway.create([Volunteer(full_name="Léa", email="lea@exemple.fr",
                                              email_status=opt.EmailStatus.PENDING)])
    early = [{"email": "lea@exemple.fr", "event": "delivered", "timestamp": 1, "sg_event_id": "early",
              "sg_message_id": "abc.filter0001.0.0", "binome_table": "volunteers", "binome_record": person.record_id}]
    assert post_events(live, early).status_code == 503
    live.gateway.update([Volunteer(record_id=person.record_id, email_status=opt.EmailStatus.SENT,
                                   email_message_id="abc")])
    assert post_events(live, early).status_code == 200
    assert live.gateway.get(Volunteer, person.record_id).email_status == "Délivré"


# --- coordinators -------------------------------------------------------------------------------------

def test_a_coordinator_asks_for_a_resend_and_gets_exactly_one(live):
    live.submit("volunteer", VOLUNTEER)
    live.settle()
    person = volunteer(live)
    live.gateway.update([Volunteer(record_id=person.record_id, resend_email=True)])
    call = lambda: requests.post(f"{live.functions_url}/reconcile/", json={"resend": person.record_id}, timeout=30,  # noqa: E731
                                 headers={"Authorization": f"Bearer {live.settings.AUTOMATION_SECRET}"})
    first, second = call(), call()
    assert "renvoyé" in first.json()["detail"] and "pas cochée" in second.json()["detail"]
    live.settle()
    assert [m["subject"] for m in outbox(live)] == [WELCOME, WELCOME]
    assert volunteer(live).resend_email is False


def test_reconcile_reports_the_sends_it_took_over(live):
    live.control("POST", "/faults", json={"service": "sendgrid", "status": 503, "count": 1})
    live.submit("volunteer", VOLUNTEER)
    live.settle()
    report = reconcile(bootstrap.intake(), TypeformClient(live.settings), live.settings)
    assert report.sends.emails == 0  # its backoff has not passed yet
    assert "Envois en attente repris" in report.lines()[-1]
