"""The intake queue: the Cloud Tasks stand-in driven by Google's own client (named tasks refused
while queued and for an hour after, FULL view carrying the body, dispatching at the queue's rate and
concurrency, retried until a 2xx), then the Typeform webhook queueing deliveries that
`intake_writer` writes once each, whatever the repeats and the failures of Airtable."""

from __future__ import annotations

import json
import threading
import time

import google.oauth2.credentials
import pytest
import requests
from google.api_core import exceptions
from google.cloud import tasks_v2

from schemas.records import JournalEntry, Volunteer
from shared import bootstrap
from shared.intake.queue import task_id
from tests.receiver import Receiver
from tests.test_intake_crashes import DOUBTFUL, FAULTS, check_every_point
from tests.test_intake_reconcile import unplug_webhooks
from tests.test_intake_webhook import VOLUNTEER, payload_for
from tests.test_matching_flow import call

LOCATION = "projects/binome-test/locations/europe-west1"


def client_for(emulator_url: str) -> tasks_v2.CloudTasksClient:
    return tasks_v2.CloudTasksClient(credentials=google.oauth2.credentials.Credentials(token="local"), transport="rest",
                                     client_options={"api_endpoint": f"{emulator_url}/cloudtasks"})


def queue(client: tasks_v2.CloudTasksClient, name: str, per_second: float = 100, concurrent: int = 1) -> str:
    return client.create_queue(parent=LOCATION, queue=tasks_v2.Queue(
        name=f"{LOCATION}/queues/{name}", rate_limits=tasks_v2.RateLimits(
            max_dispatches_per_second=per_second, max_concurrent_dispatches=concurrent),
        retry_config=tasks_v2.RetryConfig(min_backoff={"seconds": 1}, max_backoff={"seconds": 10}))).name


def http_task(queue_name: str, task: str, url: str, body: bytes = b"{}") -> tasks_v2.Task:
    return tasks_v2.Task(name=f"{queue_name}/tasks/{task}", http_request=tasks_v2.HttpRequest(
        url=url, http_method=tasks_v2.HttpMethod.POST, body=body, headers={"Content-Type": "application/json"}))


def test_a_named_task_is_refused_while_queued_and_after_it_ran(emulator):
    client = client_for(emulator.url)
    name = queue(client, "noms")
    emulator.control("POST", "/config", json={"time_scale": 1e-3})
    with Receiver(statuses=[503, 200]) as receiver:
        client.pause_queue(name=name)  # held, so that it can be looked at before it runs
        client.create_task(parent=name, task=http_task(name, "t1", receiver.url, b'{"n": 1}'))
        with pytest.raises(exceptions.Conflict):
            client.create_task(parent=name, task=http_task(name, "t1", receiver.url))
        [listed] = client.list_tasks(request={"parent": name, "response_view": tasks_v2.Task.View.FULL})
        assert listed.http_request.body == b'{"n": 1}'
        [basic] = client.list_tasks(parent=name)
        assert basic.http_request.body == b""  # only the FULL view carries payloads
        client.resume_queue(name=name)
        assert emulator.control("POST", "/deliveries/wait", json={"timeout": 10})["idle"]
    retries = [{k.lower(): v for k, v in r.headers.items()}["x-cloudtasks-taskretrycount"] for r in receiver.received]
    assert retries == ["0", "1"]  # 503, then 200
    assert list(client.list_tasks(parent=name)) == []
    with pytest.raises(exceptions.Conflict):  # ran: its name stays taken
        client.create_task(parent=name, task=http_task(name, "t1", receiver.url))
    anonymous = requests.get(f"{emulator.url}/cloudtasks/v2/{name}", timeout=10)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["status"] == "UNAUTHENTICATED"


def test_tasks_go_one_at_a_time_and_no_faster_than_the_queues_rate(emulator):
    client = client_for(emulator.url)
    name = queue(client, "rythme", per_second=20, concurrent=1)
    running, overlaps, lock = [0], [0], threading.Lock()

    def slow(_request):
        with lock:
            running[0] += 1
            overlaps[0] = max(overlaps[0], running[0])
        time.sleep(0.02)  # the receiver's own work, so that overlaps could happen
        with lock:
            running[0] -= 1
        return 200

    with Receiver(handler=slow) as receiver:
        for n in range(30):
            client.create_task(parent=name, task=http_task(name, f"t{n}", receiver.url))
        assert emulator.control("POST", "/deliveries/wait", json={"timeout": 30})["idle"]
    times = sorted(r.received_at for r in receiver.received)
    assert len(times) == 30 and overlaps[0] == 1
    # The bucket starts with one token and refills at 20 a second: 29 more take at least 1.45 s.
    assert times[-1] - times[0] >= 29 / 20 * 0.9


def test_task_ids_are_the_responses_hashed():
    body = json.dumps({"form_response": {"token": "abc"}}).encode()
    assert task_id(body) == task_id(json.dumps({"form_response": {"token": "abc"}, "x": 1}).encode())
    assert task_id(b"not json") != task_id(b"not json either") and task_id(body).startswith("typeform-")


# --- through the stack ------------------------------------------------------------------------

@pytest.fixture
def queued(live):
    """The live stack with the base's queue on: the webhook queues, `intake_writer` writes."""
    client = client_for(live.emulator_url)
    name = queue(client, "airtable-base", per_second=50)
    bootstrap.configure(live.settings.rebuilt(BINOME_INTAKE_QUEUE=name))
    return live


def test_the_webhook_queues_and_the_writer_writes_each_sign_up_once(queued):
    live = queued
    answers = [live.post_webhook(sign_up(live, n)) for n in range(12)]
    again = live.post_webhook(sign_up(live, 3))  # Typeform repeating a delivery
    assert [a.json()["statut"] for a in answers] == ["En file"] * 12 and again.json()["statut"] == "Doublon"
    live.settle()
    volunteers = live.gateway.all(Volunteer)
    assert sorted(v.email for v in volunteers) == sorted(f"p{n}@exemple.fr" for n in range(12))
    entries = [e for e in live.gateway.all(JournalEntry) if e.source == "Typeform"]
    assert sorted(e.status for e in entries) == ["Traité"] * 12
    welcomes = [m for m in live.control("GET", "/outbox")["messages"] if "accuse" in m["categories"]]
    assert sorted(m["recipients"][0] for m in welcomes) == sorted(v.email for v in volunteers)


def test_the_writer_takes_queued_sign_ups_along_and_writes_them_ten_a_request(queued):
    live = queued
    client = client_for(live.emulator_url)
    name = bootstrap.get_settings().BINOME_INTAKE_QUEUE
    live.unplug_vendor_events()  # count the writer's own requests
    client.pause_queue(name=name)  # a campaign's spike: deliveries pile up faster than the base takes them
    for n in range(25):
        assert live.post_webhook(sign_up(live, n)).json()["statut"] == "En file"
    live.post_webhook(sign_up(live, 7))  # a repeat, refused by the queue
    before = live.control("GET", "/stats")["requests"]
    client.resume_queue(name=name)
    live.settle()
    after = live.control("GET", "/stats")["requests"]
    used = sum(after.get(k, 0) - before.get(k, 0) for k in after if k.startswith("airtable"))
    assert len(live.gateway.all(Volunteer)) == 25
    entries = [e for e in live.gateway.all(JournalEntry) if e.source == "Typeform"]
    assert sorted(e.status for e in entries) == ["Traité"] * 25
    welcomes = [m["recipients"][0] for m in live.control("GET", "/outbox")["messages"] if "accuse" in m["categories"]]
    assert sorted(welcomes) == sorted(f"p{n}@exemple.fr" for n in range(25))  # once each
    # One by one: 4 requests a sign-up (100). Together, one run: a read for all 25, then the people
    # (their creation claims their sends), the sends' outcomes and the Journal, 10 records a request.
    assert used == 1 + 3 + 3 + 3, used
    assert list(client.list_tasks(parent=name)) == []


def test_airtable_down_makes_the_queue_retry_and_the_sign_up_lands_once(queued):
    live = queued
    live.control("POST", "/faults", json={"service": "airtable", "status": 503, "count": 6})
    assert live.post_webhook(sign_up(live, 1)).json()["statut"] == "En file"  # answered, whatever Airtable does
    live.settle()
    assert [v.email for v in live.gateway.all(Volunteer)] == ["p1@exemple.fr"]
    [entry] = [e for e in live.gateway.all(JournalEntry) if e.source == "Typeform"]
    assert entry.status == "Traité"


def test_a_queue_that_does_not_answer_is_a_503_so_typeform_retries(queued):
    live = queued
    live.control("POST", "/faults", json={"service": "cloudtasks", "status": 503, "count": 1})
    refused = live.post_webhook(sign_up(live, 1))
    assert refused.status_code == 503 and live.gateway.all(Volunteer) == []
    assert live.post_webhook(sign_up(live, 1)).json()["statut"] == "En file"


def test_the_writer_refuses_calls_without_the_secret(queued):
    answer = requests.post(f"{queued.functions_url}/intake_writer/", data=sign_up(queued, 1), timeout=10,
                           headers={"Authorization": "Bearer wrong"})
    assert answer.status_code == 401 and queued.gateway.all(Volunteer) == []


def sign_up(live, n: int) -> bytes:
    """A real-format volunteer sign-up of its own (token, event, address)."""
    payload = json.loads(payload_for(live, "volunteer"))
    payload["event_id"] = f"01EVENT{n:019d}"
    payload["form_response"]["token"] = f"queuetoken{n:06d}"
    for answer in payload["form_response"]["answers"]:
        if answer["field"]["ref"] == "email":
            answer["email"] = f"p{n}@exemple.fr"
    return json.dumps(payload, ensure_ascii=False).encode()


# --- a batch interrupted at each of its requests ------------------------------------------------

BATCH_REQUESTS = ["read", "person", "outcome", "journal"]  # the people, outcomes and entries of all three


def queued_sign_ups(live, count: int) -> list[str]:
    """Sign-ups queued while the queue is paused, then let through together (the fault, if any, is
    armed before: it hits the batch's n-th request)."""
    client = client_for(live.emulator_url)
    name = queue(client, "airtable-base", per_second=50)
    bootstrap.configure(live.settings.rebuilt(BINOME_INTAKE_QUEUE=name))
    client.pause_queue(name=name)
    for n in range(count):
        assert live.post_webhook(sign_up(live, n)).json()["statut"] == "En file"
    client.resume_queue(name=name)
    return [f"queuetoken{n:06d}" for n in range(count)]


@pytest.mark.parametrize("fault", FAULTS)
def test_a_batch_interrupted_at_every_request_is_retried_by_the_queue_and_lands_once(live, fault):
    check_every_point(live, lambda: queued_sign_ups(live, 3), BATCH_REQUESTS, fault, DOUBTFUL,
                      through_reconcile=False)


# Twelve sign-ups: two requests for each step. The people written before a failed request own the
# sends their creation claimed, so the batch sends and journals them before it raises: the second
# request of people refused ends as cleanly as no fault at all.
BIG_BATCH_REQUESTS = ["read", "people 1-10", "people 11-12", "outcomes 1-10", "outcomes 11-12", "journal 1-10",
                      "journal 11-12"]
BIG_BATCH_DOUBTFUL = {("people 1-10", "lose"), ("people 11-12", "lose"), ("outcomes 1-10", "refuse"),
                      ("outcomes 11-12", "refuse")}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_batch_of_several_requests_a_step_interrupted_at_every_request_lands_once(live, fault):
    check_every_point(live, lambda: queued_sign_ups(live, 12), BIG_BATCH_REQUESTS, fault, BIG_BATCH_DOUBTFUL,
                      through_reconcile=False)


# --- reconcile through the queue -----------------------------------------------------------------

def test_reconcile_queues_what_the_webhook_missed_and_the_queue_refuses_what_it_holds(queued):
    """Missed responses go through the writer (its budget, its batches); one whose delivery is
    still queued is refused by the queue rather than handled twice at once."""
    live = queued
    client = client_for(live.emulator_url)
    name = bootstrap.get_settings().BINOME_INTAKE_QUEUE
    unplug_webhooks(live)
    client.pause_queue(name=name)
    first = live.submit("volunteer", {**VOLUNTEER, "email": "p0@exemple.fr"})
    delivered = json.dumps(first["payload"], ensure_ascii=False).encode()
    assert live.post_webhook(delivered).json()["statut"] == "En file"  # delivered, waiting its turn
    for n in (1, 2, 3):  # submitted while the webhook was unreachable
        live.submit("volunteer", {**VOLUNTEER, "email": f"p{n}@exemple.fr"})
    line = volunteer_line(live, call(live, "reconcile", {}))
    assert "1 déjà en file" in line and "3 mise(s) en file" in line
    client.resume_queue(name=name)
    live.settle()
    assert sorted(v.email for v in live.gateway.all(Volunteer)) == [f"p{n}@exemple.fr" for n in range(4)]
    assert "rien à rattraper" in volunteer_line(live, call(live, "reconcile", {}))


def volunteer_line(live, report: dict) -> str:
    return next(line for line in report["formulaires"] if live.form_id("volunteer") in line)
