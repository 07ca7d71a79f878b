"""Two Airtable bases side by side, end to end through the local stack: sign-ups land in the base of
their postcode's département (and only there), acknowledgements and envelopes go out, DocuSign's
and SendGrid's events come back to the right base, suggestions and choices stay within their base,
check-ins and the intake queue follow their base, the scheduled jobs run base by base — and each
base keeps to its own 5 requests/s: the stand-in applies Airtable's limit per base and answers no
429 to either."""

from __future__ import annotations

import datetime as dt
import re
import time
from urllib.parse import unquote
from typing import Any, Iterator

import pytest
import requests

from emulators.server import quiet_request_logs
from local.emulator import EmulatorControl
from local.stack import LocalStack
from schemas import options as opt
from schemas.records import CheckIn, JournalEntry, Need, Pair, Structure, Volunteer
from shared import bootstrap
from shared.airtable import AirtableGateway
from shared.airtable.pacer import RequestPacer
from shared.clock import PARIS
from shared.followup.daily import DailyFollowUp
from shared.provision import provision
from shared.publish_forms import publish
from shared.settings import Settings, isolated_settings
from shared.typeform_client import TypeformClient
from tests.airtable_scripts import run_script
from tests.stack import Running
from tests.test_intake_queue import client_for, queue
from tests.test_intake_webhook import STRUCTURE, VOLUNTEER
from tests.test_matching_flow import links_in, mentor, need, outbox, post, structure
from tests.test_onboarding import connect_event, post_connect, post_events

IDF, SUD = "appIdfBinome00001", "appSudBinome00001"
TABLE = f"idf={IDF}:75,77,78,91,92,93,94,95;sud={SUD}:69,*"
LYON_VOLUNTEER = {**VOLUNTEER, "email": "lea.martin@exemple.fr", "postcode": "69003"}
PARIS_STRUCTURE = {**STRUCTURE, "email": "cdi@college-paris.fr", "postcode": "75011", "pupil_count": 1}
IN_PARIS = {"postcode": "75011", "town": "Paris"}


class TwoBases(Running):
    gateways: dict[str, AirtableGateway]

    def requests_per_base(self) -> dict[str, dict[str, int]]:
        counts = self.control("GET", "/airtable/requests")["bases"]
        return {key: counts.get(base, {"requests": 0, "429": 0}) for key, base in (("idf", IDF), ("sud", SUD))}

    def only_in(self, key: str, model: Any) -> list[Any]:
        """The records of `model` in base `key`, checking the other base has none."""
        other = "sud" if key == "idf" else "idf"
        assert self.gateways[other].all(model) == [], f"{model.__name__} found in {other}"
        return self.gateways[key].all(model)


@pytest.fixture(scope="module")
def two_bases() -> Iterator[TwoBases]:
    quiet_request_logs()
    # Airtable's own limit in the stand-in (5/s per base) and the functions' (5/s per base): both real.
    with LocalStack(isolated_settings(BINOME_BASES=TABLE), airtable_rate_limit=5.0, time_scale=1e-4) as stack:
        settings = stack.settings
        running = TwoBases(stack, settings, AirtableGateway(settings, pacer=RequestPacer(limit=1000)))
        # The test's own reads share each base's process-wide pacer with the functions (same process):
        # together they keep to the base's 5 requests/s, as one deployed process would.
        running.gateways = {key: AirtableGateway(settings.for_base(settings.bases.get(key))) for key in ("idf", "sud")}
        yield running


@pytest.fixture
def live2(two_bases: TwoBases) -> TwoBases:
    """Both bases provisioned and empty, the forms published, the counts of requests at zero."""
    live = two_bases
    bootstrap.configure(live.settings)
    control = EmulatorControl(live.emulator_url)
    control.call("POST", "/reset")
    control.call("POST", "/config", json=live.stack.vendor_webhooks)
    control.airtable_config(rate_limit=None)  # the tests' own setting-up is not the functions' budget
    for key, gateway in live.gateways.items():
        control.ensure_base(gateway.base_id)
        provision(AirtableGateway(live.settings.for_base(live.settings.bases.get(key)), pacer=RequestPacer(limit=1000)))
    publish(live.settings, TypeformClient(live.settings), control.create_form)
    control.airtable_config(rate_limit=5.0)
    return live


def call(live: Running, name: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = requests.post(f"{live.functions_url}/{name}/", json=body, timeout=120,
                           headers={"Authorization": f"Bearer {live.settings.AUTOMATION_SECRET}"})
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def custom_fields(envelope: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in envelope.get("customFields", {}).get("textCustomFields", [])}


def test_sign_ups_events_suggestions_choices_and_jobs_each_stay_in_their_base(live2):
    live = live2
    before = live.requests_per_base()
    live.submit("volunteer", LYON_VOLUNTEER)
    live.submit("structure", PARIS_STRUCTURE)
    live.settle()

    # Each sign-up in the base of its département, its Journal entry beside it.
    [lea] = live.only_in("sud", Volunteer)
    [college] = live.only_in("idf", Structure)
    [pupil] = live.only_in("idf", Need)
    assert (lea.email, college.email, pupil.structure) == (LYON_VOLUNTEER["email"], PARIS_STRUCTURE["email"],
                                                           [college.record_id])
    typeform = {key: [e.type for e in live.gateways[key].all(JournalEntry) if e.source == "Typeform"]
                for key in ("idf", "sud")}
    assert typeform == {"idf": ["inscription structure"], "sud": ["inscription bénévole"]}

    # Acknowledgements and envelopes went out, each naming its base; the vendors' events came back to it.
    assert sorted(m["recipients"][0] for m in outbox(live, "accuse")) == sorted(
        [LYON_VOLUNTEER["email"], PARIS_STRUCTURE["email"]])
    envelopes = live.control("GET", "/envelopes")["envelopes"]
    assert sorted(custom_fields(e).get("binome_base", "") for e in envelopes) == ["idf", "sud"]
    for envelope in envelopes:
        live.control("POST", f"/envelopes/{envelope['envelopeId']}/complete")
    live.settle()
    lea, college = live.gateways["sud"].get(Volunteer, lea.record_id), live.gateways["idf"].get(Structure, college.record_id)
    assert (lea.envelope_status, lea.status, college.envelope_status) == ("Signée", "Disponible", "Signée")
    assert (lea.email_status, college.email_status) == (opt.EmailStatus.DELIVERED, opt.EmailStatus.DELIVERED)

    # A mentor who would fit the Paris pupil, but in the other base: suggestions never look there.
    live.gateways["sud"].create([mentor("Zoé", "zoe@exemple.fr", **IN_PARIS)])
    [sam] = live.gateways["idf"].create([mentor("Sam", "sam@exemple.fr", **IN_PARIS)])
    report = call(live, "suggest_mentors", {})
    assert set(report["bases"]) == {"idf", "sud"} and "1 liste(s) écrite(s)" in report["bases"]["idf"]["detail"]
    assert live.gateways["idf"].get(Need, pupil.record_id).suggested_mentors == [sam.record_id]
    [mail] = outbox(live, "suggestions")
    assert mail["recipients"] == [PARIS_STRUCTURE["email"]] and "Zoé" not in mail["text"]

    # The choice, through the signed link, lands in the structure's base (not the default one).
    [link] = links_in(mail)
    assert post(link).status_code == 200
    [pair] = live.only_in("idf", Pair)
    assert (pair.volunteer, pair.need, pair.status) == ([sam.record_id], [pupil.record_id], "Proposé")
    [proposal] = outbox(live, "proposition", to="sam@exemple.fr")
    answer_link = re.search(r"https?://\S+/choose_mentor/\?t=\S+", proposal["text"]).group(0)
    assert post(answer_link, action="accept").status_code == 200
    assert live.gateways["idf"].get(Pair, pair.record_id).status == "Actif"

    # A check-in names its base (the link's hidden field) and lands beside its binôme.
    live.submit("checkin", {"mood": "Bien", "sessions": 2, "needs_help": False},
                hidden={"binome": pair.record_id, "par": "Structure", "base": "idf"})
    live.settle()
    [check_in] = live.only_in("idf", CheckIn)
    assert check_in.pair == [pair.record_id]

    # Follow-up base by base, or one base only: the other base is not asked anything.
    both = call(live, "follow_up", {})
    assert set(both["bases"]) == {"idf", "sud"} and all(r["statut"] == "Traité" for r in both["bases"].values())
    live.settle()  # the vendors' events about what it sent, back in their bases
    sud_before = live.requests_per_base()["sud"]["requests"]
    one = call(live, "follow_up", {"base": "idf"})
    assert one["statut"] == "Traité" and "bases" not in one
    live.settle()
    assert live.requests_per_base()["sud"]["requests"] == sud_before
    for job in ("retention", "reconcile"):
        assert set(call(live, job, {})["bases"]) == {"idf", "sud"}
    # The backfill of each base took only its own responses: nothing was written twice, or elsewhere.
    emails = {key: sorted(v.email for v in live.gateways[key].all(Volunteer)) for key in ("idf", "sud")}
    assert emails == {"idf": ["sam@exemple.fr"], "sud": [LYON_VOLUNTEER["email"], "zoe@exemple.fr"]}
    assert len(live.only_in("idf", Structure)) == 1

    # Each base spent from its own budget, and neither was ever refused.
    after = live.requests_per_base()
    assert all(after[key]["requests"] > before[key]["requests"] for key in ("idf", "sud"))
    assert after["idf"]["429"] == after["sud"]["429"] == 0


def test_an_envelope_that_names_no_base_is_found_by_looking_in_each(live2):
    live = live2
    live.unplug_vendor_events()
    live.submit("volunteer", {**LYON_VOLUNTEER, "postcode": "92100"})
    live.settle()
    [person] = live.only_in("idf", Volunteer)
    event = connect_event("envelope-completed", person.envelope_id, "2020-11-05T10:00:00.0000000Z")
    assert "customFields" not in event["data"]  # as Connect sends it without custom fields
    assert post_connect(live, event).json()["status"] == "Traité"
    assert live.gateways["idf"].get(Volunteer, person.record_id).envelope_status == "Signée"


def test_a_sendgrid_batch_about_both_bases_updates_each_in_its_own(live2):
    live = live2
    live.unplug_vendor_events()
    live.submit("volunteer", LYON_VOLUNTEER)
    live.submit("volunteer", {**LYON_VOLUNTEER, "email": "paris@exemple.fr", "postcode": "75011"})
    live.settle()
    [lyon], [paris] = live.gateways["sud"].all(Volunteer), live.gateways["idf"].all(Volunteer)
    assert sorted(m["custom_args"]["binome_base"] for m in outbox(live, "accuse")) == ["idf", "sud"]
    batch = [{"email": p.email, "event": "delivered", "timestamp": int(time.time()), "sg_event_id": f"d-{key}",
              "sg_message_id": f"{p.email_message_id}.filter0001.0.0", "binome_table": "volunteers",
              "binome_record": p.record_id, "binome_base": key} for key, p in (("sud", lyon), ("idf", paris))]
    answer = post_events(live, batch)
    assert answer.status_code == 200 and set(answer.json()["bases"]) == {"idf", "sud"}
    assert live.gateways["sud"].get(Volunteer, lyon.record_id).email_status == opt.EmailStatus.DELIVERED
    assert live.gateways["idf"].get(Volunteer, paris.record_id).email_status == opt.EmailStatus.DELIVERED
    assert post_events(live, batch).json()["bases"]["idf"]["status"] == "Doublon"  # each base journaled its share


def test_a_job_naming_a_base_the_table_does_not_know_is_refused_in_french(live2):
    answer = requests.post(f"{live2.functions_url}/follow_up/", json={"base": "nord"}, timeout=30,
                           headers={"Authorization": f"Bearer {live2.settings.AUTOMATION_SECRET}"})
    assert answer.status_code == 400 and "Base inconnue : « nord »" in answer.json()["erreur"]


def test_each_base_has_its_queue_and_the_writer_writes_into_the_base_the_task_names(live2):
    live = live2
    client = client_for(live.emulator_url)
    prefix = queue(client, "binome-intake", per_second=50)
    for key in ("idf", "sud"):
        queue(client, f"binome-intake-{key}", per_second=50)
    settings: Settings = live.settings.rebuilt(BINOME_INTAKE_QUEUE=prefix)
    bootstrap.configure(settings)
    created = live.control("GET", "/stats")["requests"].get("cloudtasks POST", 0)
    for n in range(3):
        live.submit("volunteer", {**LYON_VOLUNTEER, "email": f"p{n}@exemple.fr", "postcode": "75011"})
    live.submit("volunteer", {**LYON_VOLUNTEER, "email": "l@exemple.fr"})
    live.settle()
    assert live.control("GET", "/stats")["requests"]["cloudtasks POST"] >= created + 4  # each one queued
    assert sorted(v.email for v in live.gateways["idf"].all(Volunteer)) == ["p0@exemple.fr", "p1@exemple.fr",
                                                                            "p2@exemple.fr"]
    assert [v.email for v in live.gateways["sud"].all(Volunteer)] == ["l@exemple.fr"]
    listed = {key: client.list_tasks(parent=f"{prefix}-{key}") for key in ("idf", "sud")}
    assert all(list(tasks) == [] for tasks in listed.values())  # each queue emptied by its writer
    assert list(client.list_tasks(parent=prefix)) == []  # the unsuffixed queue is never used


def test_an_envelope_that_names_its_base_costs_the_other_base_nothing(live2):
    live = live2
    live.unplug_vendor_events()
    live.submit("volunteer", LYON_VOLUNTEER)  # in « sud », the second base any search would ask
    live.settle()
    [person] = live.gateways["sud"].all(Volunteer)
    event = connect_event("envelope-completed", person.envelope_id, "2020-11-05T10:00:00.0000000Z")
    event["data"]["envelopeSummary"] = {"customFields": {"textCustomFields": [
        {"name": "binome", "value": f"{person.record_id}:convention"}, {"name": "binome_base", "value": "sud"}]}}
    idf_before = live.requests_per_base()["idf"]["requests"]
    assert post_connect(live, event).json()["status"] == "Traité"
    assert live.gateways["sud"].get(Volunteer, person.record_id).envelope_status == "Signée"
    assert live.requests_per_base()["idf"]["requests"] == idf_before


def test_a_job_failing_on_one_base_still_runs_on_the_others_then_asks_to_be_retried(live2):
    live = live2
    live.control("POST", "/faults", json={"service": "airtable", "status": 503, "count": 1000, "match": IDF})
    sud_before = live.requests_per_base()["sud"]["requests"]
    answer = requests.post(f"{live.functions_url}/follow_up/", json={}, timeout=120,
                           headers={"Authorization": f"Bearer {live.settings.AUTOMATION_SECRET}"})
    live.control("DELETE", "/faults")
    assert answer.status_code == 503  # the scheduler retries; the bases already done find nothing left to do
    assert live.requests_per_base()["sud"]["requests"] > sud_before  # « idf » failing first did not stop « sud »


def test_erasure_reaches_every_base(live2, capsys):
    from commands import erase

    live = live2
    live.submit("volunteer", LYON_VOLUNTEER)
    live.submit("volunteer", {**LYON_VOLUNTEER, "postcode": "75011"})  # the same person, signed up in both
    live.settle()
    assert all(len(live.gateways[key].all(Volunteer)) == 1 for key in ("idf", "sud"))
    assert erase.main([LYON_VOLUNTEER["email"]]) == 0
    assert "Base idf :" in capsys.readouterr().out
    for key in ("idf", "sud"):
        assert LYON_VOLUNTEER["email"] not in [v.email for v in live.gateways[key].all(Volunteer)], key


def test_a_check_in_asked_in_a_base_names_it_and_the_answer_comes_back_to_it(live2):
    live = live2
    live.unplug_vendor_events()
    idf = bootstrap.base("idf")
    [sam] = idf.gateway.create([mentor("Sam", "sam@exemple.fr", **IN_PARIS)])
    [college] = idf.gateway.create([structure("Collège Voltaire", "cdi@voltaire.fr")])
    [first] = idf.gateway.create([need("CV-1", college.record_id)])
    [pair] = idf.gateway.create([Pair(name="Sam × CV-1", need=[first.record_id], volunteer=[sam.record_id],
                                      structure=[college.record_id], status=opt.PairStatus.ACTIVE,
                                      known_status=opt.PairStatus.ACTIVE, started_on=dt.date(2020, 11, 2))])
    moment = dt.datetime.combine(dt.date(2020, 11, 16), dt.time(8), PARIS)
    DailyFollowUp.build(idf.gateway, idf.mailer, idf.alerts, idf.settings, clock=lambda: moment, base="idf").run()
    to_mentor = next(m for m in outbox(live, "suivi") if m["recipients"] == ["sam@exemple.fr"])
    link = re.search(r"https?://\S+/to/suivis#(\S+)", to_mentor["text"]).group(1)
    hidden = dict(part.split("=", 1) for part in unquote(link).split("&"))
    assert hidden == {"binome": pair.record_id, "par": "Bénévole", "base": "idf"}
    live.submit("checkin", {"mood": "Bien", "sessions": 2, "needs_help": False}, hidden=hidden)
    live.settle()
    [check_in] = live.only_in("idf", CheckIn)
    assert check_in.pair == [pair.record_id] and check_in.author == "Bénévole"


def test_an_automation_of_a_base_names_it_and_the_function_acts_there(live2):
    live = live2
    live.unplug_vendor_events()
    idf = bootstrap.base("idf")
    [sam] = idf.gateway.create([mentor("Sam", "sam@exemple.fr")])  # beside the school (Lyon)
    [college] = idf.gateway.create([structure("Collège Voltaire", "cdi@voltaire.fr")])
    [first] = idf.gateway.create([need("CV-1", college.record_id)])
    ran = run_script("suggerer-mentors.js", recordId=first.record_id, base="idf",
                     functionUrl=f"{live.functions_url}/suggest_mentors/", secret=live.settings.AUTOMATION_SECRET)
    assert ran.error is None and "1 liste(s) écrite(s)" in ran.outputs["detail"]
    assert idf.gateway.get(Need, first.record_id).suggested_mentors == [sam.record_id]
