"""The base's budget shared across functions, as deployed: a burst of sign-ups drained by the
queue's writer while the scheduled suggestions and the daily follow-up run, each function a real
process of its own, their budget in one Redis, Airtable's limit and its 30-second penalty on. Not
one 429, and each did its whole work; the webhook answered from the queue without touching the base."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
from typing import Iterator

import pytest
import requests

from schemas import options as opt
from schemas.records import Need, Pair, Volunteer
from shared.clock import PARIS
from shared.signatures import sign_typeform
from local.instances import FunctionInstance
from tests.redis_server import redis_server
from tests.test_intake_queue import client_for, queue
from tests.test_intake_reconcile import unplug_webhooks
from tests.test_intake_webhook import VOLUNTEER
from tests.test_matching_flow import mentor, need, structure

BURST = 150
PAIRS = 8


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    yield from redis_server()


def seed(live) -> None:
    """Needs for the suggestions to fill, live binômes whose first check-in is due today."""
    today = dt.datetime.now(PARIS).date()
    mentors = live.gateway.create([mentor(f"M{n}", f"m{n}@exemple.fr", capacity=2) for n in range(2 * PAIRS)])
    schools = live.gateway.create([structure(f"Collège {n}", f"c{n}@college.fr") for n in range(PAIRS)])
    needs = live.gateway.create([need(f"C{n}-{k}", s.record_id) for n, s in enumerate(schools) for k in (1, 2)])
    live.gateway.create([Pair(name=f"M{n} × C{n}-1", need=[needs[2 * n].record_id], volunteer=[mentors[n].record_id],
                              structure=[schools[n].record_id], status=opt.PairStatus.ACTIVE,
                              known_status=opt.PairStatus.ACTIVE, started_on=today - dt.timedelta(days=15))
                         for n in range(PAIRS)])
    live.gateway.update([Need(record_id=needs[2 * n].record_id, status=opt.NeedStatus.MATCHED) for n in range(PAIRS)])


def test_the_writer_suggestions_and_follow_up_share_the_base_during_a_burst(live, redis_url, tmp_path):
    unplug_webhooks(live)  # deliveries come from the test, to the webhook's own instance
    live.unplug_vendor_events()
    seed(live)
    bodies = [json.dumps(live.submit("volunteer", {**VOLUNTEER, "email": f"burst{n}@exemple.fr"})["payload"]).encode()
              for n in range(BURST)]
    intake = queue(client_for(live.emulator_url), "budget", per_second=5, concurrent=1)
    common = {"BINOME_EMULATOR_PORT": str(live.stack.emulators.port), "AIRTABLE_BASE_ID": live.settings.AIRTABLE_BASE_ID,
              "BINOME_AIRTABLE_RATE": "5", "BINOME_AIRTABLE_PENALTY": "30", "BINOME_AIRTABLE_BUDGET_URL": redis_url,
              "BINOME_INTAKE_QUEUE": intake}
    background = {**common, "BINOME_AIRTABLE_PRIORITY": "background",
                  "BINOME_FUNCTIONS_PORT": str(live.stack.functions.port)}
    writer = FunctionInstance("intake_writer", background, tmp_path)
    # The queue calls the writer where the webhook's settings say the functions are: its own process.
    webhook = FunctionInstance("typeform_webhook", {**common, "PUBLIC_URL": f"http://127.0.0.1:{writer.port}"}, tmp_path)
    suggest = FunctionInstance("suggest_mentors", background, tmp_path)
    follow = FunctionInstance("follow_up", background, tmp_path)
    with writer, webhook, suggest, follow:
        live.control("POST", "/airtable/config", json={"rate_limit": 5, "penalty_seconds": 30})
        before = live.control("GET", "/stats")

        def deliver(body: bytes) -> int:
            return requests.post(webhook.url, data=body, timeout=30, headers={
                "Content-Type": "application/json",
                "Typeform-Signature": sign_typeform(live.settings.TYPEFORM_SECRET, body)}).status_code

        def run(instance: FunctionInstance) -> requests.Response:
            return requests.post(instance.url, json={}, timeout=600,
                                 headers={"Authorization": f"Bearer {live.settings.AUTOMATION_SECRET}"})

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            jobs = [pool.submit(run, suggest), pool.submit(run, follow)]
            answers = list(pool.map(deliver, bodies))
            finished = [job.result() for job in jobs]
        assert requests.post(f"{live.emulator_url}/_emulator/deliveries/wait", json={"timeout": 600},
                             timeout=610).json()["idle"]
        after = live.control("GET", "/stats")
        live.control("POST", "/airtable/config", json={"rate_limit": None})

    assert answers == [200] * BURST and [r.status_code for r in finished] == [200, 200], [r.text for r in finished]
    throttled = after["errors"].get("airtable 429", 0) - before["errors"].get("airtable 429", 0)
    assert throttled == 0  # three functions at work at once, not one 429
    emails = {v.email for v in live.gateway.all(Volunteer, fields=["email"])}
    assert {f"burst{n}@exemple.fr" for n in range(BURST)} <= emails  # every sign-up written
    open_needs = [n for n in live.gateway.all(Need) if n.status != opt.NeedStatus.MATCHED]
    assert len(open_needs) == PAIRS and all(n.suggested_mentors for n in open_needs)  # every need suggested
    asked = [m for m in live.control("GET", "/outbox")["messages"] if "suivi" in m["categories"]]
    assert len(asked) == 2 * PAIRS  # each side of each binôme asked for its check-in
