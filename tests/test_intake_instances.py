"""Exactly once across processes: two instances of `typeform_webhook` (real `functions-framework`
processes) and `reconcile` handle the same responses at the same moment. No person gets a twin
record, every response ends with the right Journal status, and each person gets one welcome and
one agreement, with no lock shared between them."""

from __future__ import annotations

import collections
import concurrent.futures
import json

import requests

from schemas.records import Volunteer
from shared import bootstrap
from shared.intake.reconcile import reconcile
from shared.signatures import sign_typeform
from shared.typeform_client import TypeformClient
from local.instances import FunctionInstance
from tests.test_intake_reconcile import unplug_webhooks
from tests.test_intake_webhook import VOLUNTEER, journal

PEOPLE = 10


def instance_settings(live) -> dict[str, str]:
    return {"BINOME_EMULATOR_PORT": str(live.stack.emulators.port),
            "BINOME_FUNCTIONS_PORT": str(live.stack.functions.port),
            "AIRTABLE_BASE_ID": live.settings.AIRTABLE_BASE_ID, "BINOME_AIRTABLE_RATE": "1000",
            "BINOME_AIRTABLE_PENALTY": str(live.settings.BINOME_AIRTABLE_PENALTY)}


def deliver_everywhere(live, instances, payloads) -> list[tuple[str, str]]:
    """Each payload to every instance, and `reconcile` meanwhile, all at once; (token, status) of each."""
    def post(instance: FunctionInstance, payload: dict) -> tuple[str, str]:
        body = json.dumps(payload).encode()
        answer = requests.post(instance.url, data=body, timeout=60, headers={
            "Content-Type": "application/json", "Typeform-Signature": sign_typeform(live.settings.TYPEFORM_SECRET, body)})
        assert answer.status_code == 200, answer.text
        return payload["form_response"]["token"], answer.json()["statut"]

    def backfill() -> list[tuple[str, str]]:
        report = reconcile(bootstrap.intake(), TypeformClient(live.settings), live.settings)
        return [("reconcile", status) for form in report.forms for status in form.processed.elements()]

    with concurrent.futures.ThreadPoolExecutor(2 * len(instances) * 2) as pool:
        posts = [pool.submit(post, instance, payload) for payload in payloads for instance in instances]
        reconciling = pool.submit(backfill)
        return [f.result() for f in posts] + reconciling.result()


def test_two_instances_and_reconcile_on_the_same_responses(live, tmp_path):
    unplug_webhooks(live)  # the test delivers, to both instances at once
    first = [live.submit("volunteer", {**VOLUNTEER, "email": f"p{n}@exemple.fr"})["payload"] for n in range(PEOPLE)]
    # Every Airtable request takes a little while, so handlers of the same response overlap for sure.
    live.control("POST", "/faults", json={"service": "airtable", "latency": 0.05, "count": 100_000})
    settings = instance_settings(live)
    with FunctionInstance("typeform_webhook", settings, tmp_path) as a, \
            FunctionInstance("typeform_webhook", settings, tmp_path) as b:
        answers = deliver_everywhere(live, [a, b], first)
        again = [live.submit("volunteer", {**VOLUNTEER, "email": f"p{n}@exemple.fr", "capacity": 3})["payload"]
                 for n in range(0, PEOPLE, 2)]
        answers += deliver_everywhere(live, [a, b], again)
    live.control("DELETE", "/faults")

    volunteers = live.gateway.all(Volunteer)
    assert sorted(v.email for v in volunteers) == sorted(f"p{n}@exemple.fr" for n in range(PEOPLE))  # no twin
    assert all(v.capacity == (3 if int(v.email[1:].split("@")[0]) % 2 == 0 else 2) for v in volunteers)
    statuses = {e.external_ref: e.status for e in journal(live)}
    assert len(journal(live)) == len(first) + len(again)  # one entry per response
    assert all(statuses[p["form_response"]["token"]] == "Traité" for p in first)
    assert all(statuses[p["form_response"]["token"]] == "Mis à jour" for p in again)
    # one welcome and one agreement per person, one update per second sign-up: no send doubled
    outbox = live.control("GET", "/outbox")["messages"]
    for n in range(PEOPLE):
        subjects = sorted(m["subject"] for m in outbox if m["recipients"] == [f"p{n}@exemple.fr"])
        expected = ["Bienvenue, Léa : votre inscription est bien reçue"]
        if n % 2 == 0:
            expected.append("Nous avons mis à jour votre inscription")
        assert subjects == sorted(expected), n
    signers = [e["recipients"]["signers"][0]["email"] for e in live.control("GET", "/envelopes")["envelopes"]]
    assert sorted(signers) == sorted(f"p{n}@exemple.fr" for n in range(PEOPLE))
    # the race was real: some responses were worked through by more than one handler at once
    worked = collections.Counter(token for token, status in answers if token != "reconcile" and status != "Doublon")
    assert max(worked.values()) >= 2
