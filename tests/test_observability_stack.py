"""The functions' logs on the local stack: one summary line per request with the right counts,
failures in the Journal, and — over a small but complete campaign — no email or phone number in
anything the processes wrote."""

from __future__ import annotations

import json
import logging
import random

import phonenumbers
import pytest
import requests

from local import demo, weeks
from local.antennas import antennas
from local.campaign import Campaign
from local.emulator import EmulatorControl
from schemas.records import JournalEntry
from shared import bootstrap
from shared.observability.redaction import E164, EMAIL, FRENCH_PHONE
from shared.observability.summary import observed
from shared.signatures import sign_typeform
from tests.test_intake_webhook import VOLUNTEER, payload_for

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SUMMARY_FIELDS = {"function", "method", "status", "outcome", "duration_ms", "airtable_requests", "sendgrid_calls",
                  "docusign_calls"}


def summaries(text: str) -> list[dict]:
    """The summary lines among the JSON lines of captured stdout."""
    found = []
    for line in text.splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("logger") == "binome.requests" and "outcome" in entry:
                found.append(entry)
    return found


def test_a_volunteer_sign_up_is_one_line_with_its_vendor_calls_and_trace(live, capfd):
    bootstrap.configure(live.settings.rebuilt(GOOGLE_CLOUD_PROJECT="binome-test"))
    live.unplug_vendor_events()
    body = payload_for(live, "volunteer")
    answer = requests.post(f"{live.functions_url}/typeform_webhook/", data=body, timeout=30, headers={
        "Typeform-Signature": sign_typeform(live.settings.TYPEFORM_SECRET, body),
        "Content-Type": "application/json", "X-Cloud-Trace-Context": f"{TRACE_ID}/7;o=1"})
    assert answer.status_code == 200
    [line] = summaries(capfd.readouterr().out)
    assert SUMMARY_FIELDS <= set(line)
    assert (line["function"], line["method"], line["status"], line["outcome"]) == ("typeform_webhook", "POST", 200,
                                                                                   "ok")
    # Intake's three requests and onboarding's one (the record's creation claimed the sends); the
    # welcome email; the agreement to sign.
    assert (line["airtable_requests"], line["sendgrid_calls"], line["docusign_calls"]) == (4, 1, 1)
    assert line["severity"] == "INFO" and line["logging.googleapis.com/labels"] == {"function": "typeform_webhook"}
    assert line["logging.googleapis.com/trace"] == f"projects/binome-test/traces/{TRACE_ID}"
    assert line["logging.googleapis.com/spanId"] == "0000000000000007"
    assert "Typeform-Signature" not in json.dumps(line) and "form_response" not in json.dumps(line)


def test_concurrent_requests_each_count_their_own_calls(live, capfd):
    live.unplug_vendor_events()
    for n in range(4):  # Typeform delivers side by side: the stand-in posts these concurrently
        live.submit("volunteer", {**VOLUNTEER, "email": f"personne.{n}@exemple.fr"})
    live.settle()
    lines = [s for s in summaries(capfd.readouterr().out) if s["function"] == "typeform_webhook"]
    assert [(s["airtable_requests"], s["sendgrid_calls"], s["docusign_calls"]) for s in lines] == [(4, 1, 1)] * 4


def test_an_unauthenticated_request_leaves_a_log_line_and_nothing_in_the_journal(live, capfd):
    answer = requests.post(f"{live.functions_url}/follow_up/", json={}, timeout=30,
                           headers={"Authorization": "Bearer wrong"})
    assert answer.status_code == 401
    [line] = summaries(capfd.readouterr().out)
    assert (line["function"], line["status"], line["outcome"], line["severity"]) == ("follow_up", 401, "refused",
                                                                                     "WARNING")
    assert live.gateway.all(JournalEntry) == []


def test_a_failure_of_ours_leaves_a_journal_entry(live, capfd):
    live.control("POST", "/faults", json={"service": "airtable", "status": 422, "count": 1})
    answer = requests.post(f"{live.functions_url}/follow_up/", json={}, timeout=30,
                           headers={"Authorization": f"Bearer {live.settings.AUTOMATION_SECRET}"})
    assert answer.status_code == 500
    [line] = summaries(capfd.readouterr().out)
    assert (line["outcome"], line["severity"]) == ("failed", "ERROR")
    [entry] = live.gateway.all(JournalEntry)
    assert (entry.status, entry.source, entry.event) == ("Erreur", "binome", "Échec de follow_up")
    assert "follow_up" in entry.detail


def test_a_crash_leaves_a_journal_entry_then_goes_on_to_the_framework(live, capfd):
    @observed
    def broken_function(request: object) -> object:
        raise RuntimeError("bug in lea.martin@exemple.fr's record")

    class Request:
        method = "POST"
        headers: dict[str, str] = {}

    with pytest.raises(RuntimeError):
        broken_function(Request())
    [line] = summaries(capfd.readouterr().out)
    assert (line["outcome"], line["status"]) == ("crashed", 500)
    assert "RuntimeError: bug in <email>'s record" in line["message"]
    [entry] = live.gateway.all(JournalEntry)
    assert (entry.status, entry.event) == ("Erreur", "Échec de broken_function")


def test_a_failure_the_library_journaled_is_not_journaled_twice(live, capfd):
    """Intake journals its own failures by response token; the entry point adds none."""
    live.unplug_vendor_events()
    # The sign-up's write is refused: intake keeps the answer as « Erreur » and answers 500.
    live.control("POST", "/faults", json={"service": "airtable", "status": 422, "count": 1, "match": "PATCH"})
    assert live.post_webhook(payload_for(live, "volunteer")).status_code == 500
    assert [(e.source, e.status) for e in live.gateway.all(JournalEntry)] == [("Typeform", "Erreur")]
    [line] = summaries(capfd.readouterr().out)
    assert (line["function"], line["outcome"]) == ("typeform_webhook", "failed")


# --- the campaign ------------------------------------------------------------------------------------

VOLUNTEERS, STRUCTURES = 24, 4


def campaign_jobs(campaign: Campaign) -> tuple[list[tuple[str, dict]], list[dict]]:
    """A small campaign with every kind of answer the demo has: sign-ups of both kinds, a second
    sign-up, an address that bounces, a postcode Typeform could not check."""
    volunteers, structures = campaign.volunteers(VOLUNTEERS), campaign.structures(STRUCTURES)
    volunteers[3]["email"] = volunteers[3]["email"].replace("@exemple.fr", "@bounce.example")
    unknown = {**campaign.volunteers(1)[0], "postcode": "99999", "email": "code.postal@exemple.fr",
               "phone": "07 12 34 56 78"}
    jobs = ([("volunteer", {"answers": v}) for v in volunteers] + [("structure", {"answers": s}) for s in structures]
            + [("volunteer", {"answers": {**volunteers[0], "phone": "+33 6 98 76 54 32"}}),
               ("volunteer", {"answers": unknown})])
    people = volunteers + structures + [unknown, {"phone": "+33 6 98 76 54 32"}]
    return jobs, people


def personal_values(people: list[dict]) -> set[str]:
    """Each email and phone used, as written and as binome stores them (E.164)."""
    values = set()
    for person in people:
        if person.get("email"):
            values |= {person["email"], person["email"].split("@")[0]}
        if person.get("phone"):
            number = phonenumbers.parse(person["phone"], "FR")
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            values |= {person["phone"], e164, person["phone"].replace(" ", ""), e164[1:]}
    return values


def test_a_small_campaign_logs_no_email_and_no_phone(live, capfd, caplog, tmp_path, monkeypatch):
    """The demo's steps, small: sign-ups, signatures, first contacts, suggestions, choices, answers,
    weeks of check-ins and follow-up. Everything written — the functions' JSON lines, anything on
    stdout or stderr, and every record of the process at DEBUG, third-party ones included — is
    scanned for the emails and phones used."""
    bootstrap.logs()  # before raising the level: installing sets INFO
    caplog.set_level(logging.DEBUG)
    logging.getLogger().setLevel(logging.DEBUG)
    monkeypatch.setattr(weeks, "WEEKS", 2)
    control, rng = EmulatorControl(live.emulator_url), random.Random(11)
    live.gateway.create(antennas())
    jobs, people = campaign_jobs(Campaign(seed=11))
    for form, body in jobs:
        live.control("POST", f"/typeform/{live.form_id(form)}/submit", json=body)
    live.settle()
    demo.sign(control, rng)
    demo.first_contacts(live.settings, control, rng)
    demo.matching(live.settings, control, rng)
    live.settle()
    weeks.simulate(live.settings, control, rng, tmp_path / "synthese.html",
                   lambda form, responses: demo.submit_all(control, form, responses))
    demo.scheduler(live.settings, "follow_up")
    demo.scheduler(live.settings, "reconcile")
    live.settle()

    captured = capfd.readouterr()
    written = "\n".join([captured.out, captured.err, caplog.text])
    lines = summaries(captured.out)
    functions = {line["function"] for line in lines}
    assert {"typeform_webhook", "docusign_connect", "sendgrid_events", "first_contact", "suggest_mentors",
            "choose_mentor", "follow_up", "reconcile"} <= functions, functions
    assert sum(line["sendgrid_calls"] for line in lines) > len(jobs)  # the campaign did send mail through them
    leaked = sorted(value for value in personal_values(people) if value in written)
    assert leaked == []
    assert [m[0] for m in (*EMAIL.finditer(written), *FRENCH_PHONE.finditer(written), *E164.finditer(written))] == []


def test_every_entry_point_logs_its_requests():
    import main

    assert [name for name in main.ENTRY_POINTS if not hasattr(getattr(main, name), "__wrapped__")] == []
