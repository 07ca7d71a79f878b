"""`reconcile` backfills what the webhook missed, retries what failed, and is not stopped by one
bad response; replay reprocesses a fixed entry."""

from __future__ import annotations

import datetime as dt
import json

import requests

from schemas import options as opt
from schemas.records import JournalEntry, Structure, Volunteer
from shared import bootstrap
from shared.intake.reconcile import MAX_ATTEMPTS, ReconcileReport, reconcile, retry_due
from shared.intake.replay import ReplayRefused, replay
from shared.journal import Journal
from shared.typeform_client import TypeformClient
from tests.test_intake_webhook import STRUCTURE, VOLUNTEER, journal


def run_reconcile(live, now: dt.datetime | None = None) -> ReconcileReport:
    return reconcile(bootstrap.intake(), TypeformClient(live.settings), live.settings, now)


def by_form(report: ReconcileReport) -> dict:
    return {r.form_id: r for r in report.forms}


def call_function(live, body, secret: str | None = None) -> requests.Response:
    return requests.post(f"{live.functions_url}/reconcile/", json=body, timeout=60,
                         headers={"Authorization": f"Bearer {secret or live.settings.AUTOMATION_SECRET}"})


def unplug_webhooks(live) -> None:
    """Responses reach binome only through `reconcile`, which lists them at once (the lag of the
    Responses API has a test of its own)."""
    for kind in ("volunteer", "structure", "checkin"):
        requests.delete(f"{live.settings.TYPEFORM_API_URL}/forms/{live.form_id(kind)}/webhooks/binome",
                        headers={"Authorization": "Bearer t"}, timeout=5).raise_for_status()
    live.control("POST", "/typeform/config", json={"responses_lag": 0})


def test_reconcile_processes_what_the_webhook_never_delivered(live):
    unplug_webhooks(live)
    for n in range(3):
        live.submit("volunteer", {**VOLUNTEER, "email": f"v{n}@exemple.fr"})
    live.submit("structure", STRUCTURE)
    assert live.gateway.all(Volunteer) == []

    reports = by_form(run_reconcile(live))

    assert reports[live.form_id("volunteer")].processed == {"Traité": 3}
    assert reports[live.form_id("structure")].processed == {"Traité": 1}
    assert len(live.gateway.all(Volunteer)) == 3 and len(live.gateway.all(Structure)) == 1
    again = by_form(run_reconcile(live))
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


def test_a_response_the_api_lists_late_is_caught_by_the_overlap(live):
    """The Responses API lists a response minutes after the webhook would have delivered it. A run
    that did not see it moves the watermark past it; the next run lists again from a little before
    the watermark — as far back as the lag — and catches it. Without that overlap it is lost."""
    unplug_webhooks(live)
    live.control("POST", "/typeform/config", json={"responses_lag": 3600})
    late = live.submit("volunteer", {**VOLUNTEER, "email": "tard@exemple.fr"},
                       submitted_at="2020-11-02T17:25:00Z")["token"]
    live.control("POST", "/typeform/config", json={"responses_lag": 0})
    live.submit("volunteer", VOLUNTEER, submitted_at="2020-11-02T17:30:00Z")
    first = by_form(run_reconcile(live))[live.form_id("volunteer")]
    assert first.processed == {"Traité": 1}  # the late one is not listed yet

    live.control("POST", "/typeform/config", json={"show_all_responses": True})
    without_overlap = live.settings.rebuilt(BINOME_TYPEFORM_LAG=0)
    report = reconcile(bootstrap.intake(), TypeformClient(live.settings), without_overlap)
    assert by_form(report)[live.form_id("volunteer")].processed == {}  # missed: 17:25 is before 17:29
    by_form(run_reconcile(live))  # the configured lag: ten minutes back
    assert Journal(live.gateway).find(late).status == "Traité"
    assert {v.email for v in live.gateway.all(Volunteer)} == {"tard@exemple.fr", "lea.martin@exemple.fr"}


def test_reconcile_keeps_a_watermark(live):
    live.submit("volunteer", VOLUNTEER)
    live.settle()
    run_reconcile(live)
    [mark] = [e for e in live.gateway.all(JournalEntry) if e.external_ref.startswith("reconcile:")]
    assert mark.external_ref == f"reconcile:{live.form_id('volunteer')}"  # forms without answers have none yet
    [volunteer] = live.gateway.all(Volunteer)
    assert mark.detail == volunteer.last_response_at.isoformat()  # the newest submission seen


def test_one_poisoned_response_does_not_stop_the_others(live):
    """A coordinator made a second record with a volunteer's email, and Airtable refuses a value of
    another response: both are set aside, journaled, reported; every other response lands."""
    unplug_webhooks(live)
    live.gateway.create([Volunteer(full_name="Léa Martin", email="lea.martin@exemple.fr"),
                         Volunteer(full_name="Léa M.", email="lea.martin@exemple.fr")])
    twin = live.submit("volunteer", VOLUNTEER)["token"]
    for n in range(3):
        live.submit("volunteer", {**VOLUNTEER, "email": f"v{n}@exemple.fr"})
    live.submit("structure", STRUCTURE)

    report = by_form(run_reconcile(live))

    volunteers = report[live.form_id("volunteer")]
    assert volunteers.processed == {"Traité": 3, "Rejeté": 1}
    assert report[live.form_id("structure")].processed == {"Traité": 1}
    assert {v.email for v in live.gateway.all(Volunteer)} >= {"v0@exemple.fr", "v1@exemple.fr", "v2@exemple.fr"}
    entry = Journal(live.gateway).find(twin)
    assert entry.status == "Rejeté" and "2 fiches ont la même adresse email" in entry.detail
    alerts = [e for e in live.gateway.all(JournalEntry) if e.type == "alerte"]
    assert len(alerts) == 1 and all(rid in alerts[0].detail for rid in
                                    [v.record_id for v in live.gateway.all(Volunteer)
                                     if v.email == "lea.martin@exemple.fr"])
    run_reconcile(live)  # the alert is raised once, whatever the runs
    assert len([e for e in live.gateway.all(JournalEntry) if e.type == "alerte"]) == 1


def test_a_response_airtable_refuses_is_kept_in_error_and_retried_with_backoff(live):
    unplug_webhooks(live)
    tokens = {live.submit("volunteer", {**VOLUNTEER, "email": email})["token"]
              for email in ("lea.martin@exemple.fr", "autre@exemple.fr")}
    # the first write to « Bénévoles » is refused (a 422)
    live.control("POST", "/faults", json={"service": "airtable", "status": 422, "count": 1,
                                          "match": "PATCH /airtable/v0/appBinomeLocal001/B"})
    report = by_form(run_reconcile(live))[live.form_id("volunteer")]
    [token] = report.failed
    assert report.processed == {"Erreur": 1, "Traité": 1} and token in tokens
    entry = Journal(live.gateway).find(token)
    assert entry.status == "Erreur" and entry.attempts == 1

    soon = entry.received_at + dt.timedelta(minutes=1)
    assert run_reconcile(live, now=soon).retries.waiting == 1  # too early: left alone
    later = entry.received_at + dt.timedelta(minutes=6)
    assert run_reconcile(live, now=later).retries.retried == {"Traité": 1}
    assert Journal(live.gateway).find(token).status == "Traité"
    assert len(live.gateway.all(Volunteer)) == 2


def test_retry_backoff_doubles_and_gives_up():
    start = dt.datetime(2020, 11, 2, 8, 0, tzinfo=dt.timezone.utc)
    entry = JournalEntry(received_at=start, attempts=3)
    assert not retry_due(entry, start + dt.timedelta(minutes=19))
    assert retry_due(entry, start + dt.timedelta(minutes=20))  # 5, 10, then 20 minutes
    assert retry_due(JournalEntry(received_at=start, attempts=30), start + dt.timedelta(hours=12))
    assert MAX_ATTEMPTS == 10


def test_reconcile_function_needs_the_automation_secret_and_an_object(live):
    assert call_function(live, {}, secret="wrong").status_code == 401
    answer = call_function(live, {})
    assert answer.status_code == 200 and len(answer.json()["formulaires"]) == 3
    assert call_function(live, ["replay"]).status_code == 400


def test_typeform_unavailable_answers_5xx(live):
    live.control("POST", "/faults", json={"service": "typeform", "status": 500, "count": 1})
    answer = call_function(live, {})
    assert answer.status_code == 503 and "Typeform" in answer.json()["erreur"]


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


def test_replay_after_twins_are_merged(live):
    live.gateway.create([Volunteer(full_name="Léa Martin", email="lea.martin@exemple.fr"),
                         Volunteer(full_name="Léa M.", email="lea.martin@exemple.fr")])
    token = live.submit("volunteer", VOLUNTEER)["token"]
    live.settle()
    assert Journal(live.gateway).find(token).status == "Rejeté"
    [keep, drop] = live.gateway.all(Volunteer)
    live.gateway.table(Volunteer).delete(drop.record_id)  # the coordinator merged them
    assert call_function(live, {"replay": token}).json()["statut"] == "Mis à jour"
    [volunteer] = live.gateway.all(Volunteer)
    assert volunteer.record_id == keep.record_id and volunteer.capacity == 2 and volunteer.typeform_token == token


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


def test_statuses_of_the_journal_are_the_designed_ones():
    assert {s.value for s in opt.JournalStatus} == {"Traité", "Mis à jour", "Rejeté", "Erreur"}
