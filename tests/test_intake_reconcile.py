"""`reconcile` backfills what the webhook missed; replay reprocesses a fixed entry."""

from __future__ import annotations

import json

import requests

from schemas.records import JournalEntry, Structure, Volunteer
from shared import bootstrap
from shared.intake.reconcile import reconcile
from shared.intake.replay import ReplayRefused, replay
from shared.journal import Journal
from shared.typeform_client import TypeformClient
from tests.test_intake_webhook import STRUCTURE, VOLUNTEER, journal


def run_reconcile(live) -> list:
    service = bootstrap.intake()
    return reconcile(service, TypeformClient(live.settings), Journal(service.gateway))


def call_function(live, body: dict, secret: str | None = None) -> requests.Response:
    return requests.post(f"{live.functions_url}/reconcile/", json=body, timeout=60,
                         headers={"Authorization": f"Bearer {secret or live.settings.AUTOMATION_SECRET}"})


def unplug_webhooks(live) -> None:
    for kind in ("volunteer", "structure", "checkin"):
        requests.delete(f"{live.settings.TYPEFORM_API_URL}/forms/{live.form_id(kind)}/webhooks/binome",
                        headers={"Authorization": "Bearer t"}, timeout=5).raise_for_status()


def test_reconcile_processes_what_the_webhook_never_delivered(live):
    unplug_webhooks(live)
    for n in range(3):
        live.submit("volunteer", {**VOLUNTEER, "email": f"v{n}@exemple.fr"})
    live.submit("structure", STRUCTURE)
    assert live.gateway.all(Volunteer) == []

    reports = {r.form_id: r for r in run_reconcile(live)}

    assert reports[live.form_id("volunteer")].processed == {"Traité": 3}
    assert reports[live.form_id("structure")].processed == {"Traité": 1}
    assert len(live.gateway.all(Volunteer)) == 3 and len(live.gateway.all(Structure)) == 1
    again = {r.form_id: r for r in run_reconcile(live)}
    assert again[live.form_id("volunteer")].processed == {} and again[live.form_id("volunteer")].already == 3
    assert len(journal(live)) == 4  # one entry per response, whatever the number of runs


def test_reconcile_after_an_outage_lands_each_response_exactly_once(live):
    live.control("POST", "/faults", json={"service": "airtable", "status": 503, "count": 1000})
    live.submit("volunteer", VOLUNTEER)
    live.control("POST", "/deliveries/wait", json={"timeout": 5})  # Typeform keeps retrying meanwhile
    live.control("DELETE", "/faults")
    run_reconcile(live)
    live.settle()  # the webhook's own retries arrive after the backfill: they must change nothing
    assert len(live.gateway.all(Volunteer)) == 1
    [entry] = journal(live)
    assert entry.status == "Traité"


def test_reconcile_keeps_a_watermark(live):
    live.submit("volunteer", VOLUNTEER)
    live.settle()
    run_reconcile(live)
    [mark] = [e for e in live.gateway.all(JournalEntry) if e.external_ref.startswith("reconcile:")]
    assert mark.external_ref == f"reconcile:{live.form_id('volunteer')}"  # forms without answers have none yet
    [volunteer] = live.gateway.all(Volunteer)
    assert mark.detail == volunteer.registered_at.isoformat()  # the newest submission seen


def test_reconcile_function_needs_the_automation_secret(live):
    assert call_function(live, {}, secret="wrong").status_code == 401
    answer = call_function(live, {})
    assert answer.status_code == 200 and len(answer.json()["formulaires"]) == 3


def test_replay_reprocesses_a_rejected_entry_once_the_cause_is_fixed(live):
    payload = live.submit("volunteer", VOLUNTEER)["payload"]
    live.settle()
    # the regular delivery landed; this copy comes from a form the settings do not know (yet)
    payload["form_response"]["form_id"] = "ancien01"
    payload["form_response"]["token"] = "f" * 32
    body = json.dumps(payload).encode()
    assert live.post_webhook(body).json()["statut"] == "Rejeté"

    service = bootstrap.intake()
    service.forms["ancien01"] = service.forms[live.form_id("volunteer")]  # the coordinator fixed the cause
    try:
        outcome = replay(service, "f" * 32)
    finally:
        del service.forms["ancien01"]
    assert outcome.status == "Mis à jour"  # the same person: no second record
    entry = Journal(service.gateway).find("f" * 32)
    assert entry.status == "Mis à jour"
    assert len(live.gateway.all(Volunteer)) == 1


def test_replay_refuses_entries_that_are_not_rejected_or_in_error(live):
    token = live.submit("volunteer", VOLUNTEER)["token"]
    live.settle()
    service = bootstrap.intake()
    for reference in (token, "recNoSuchEntry001", "no-such-token"):
        try:
            replay(service, reference)
        except ReplayRefused as exc:
            assert str(exc)
        else:
            raise AssertionError(f"{reference} should not replay")
    answer = call_function(live, {"replay": token})
    assert answer.status_code == 200 and answer.json()["statut"] == "refusé"
