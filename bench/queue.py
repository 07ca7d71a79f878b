"""A burst of signed Typeform deliveries posted straight to the webhook, 32 at a time, Airtable's
limit on — once written by the webhook itself, once through the base's queue (Cloud Tasks stand-in,
`intake_writer` one task at a time). For each: the webhook's answer times (p50, p95, max), answers
that were not 2xx, the time until every sign-up is in the base against the floor (two records per
sign-up, 10 a request, 5 requests/s), the Airtable requests (per second, per sign-up, and by method
and table, as the stand-in counts them: which step costs what; the last count of the base is in
them), and 429s.

    python -m bench.queue                    # 200 written by the webhook, then 2,000 through the queue
    QUEUE_BURST=500 QUEUE_DIRECT=0 python -m bench.queue   # 500 through the queue only
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

import google.oauth2.credentials
import requests
from google.cloud import tasks_v2

from bench.stack import provisioned
from local.campaign import Campaign
from local.emulator import EmulatorControl
from local.instances import FunctionInstance
from local.stack import LocalStack
from schemas.forms import FORMS
from schemas.records import Volunteer
from shared import bootstrap
from shared.airtable.pacer import AIRTABLE_REQUESTS_PER_SECOND
from shared.signatures import sign_typeform

CONCURRENCY = 32
TYPEFORM_TIMEOUT = 30.0  # seconds Typeform waits for an answer
QUEUE = "projects/binome-bench/locations/europe-west1/queues/airtable-base"


def payloads(control: EmulatorControl, form_id: str, count: int, first: int) -> list[bytes]:
    """Real-format deliveries built by the Typeform stand-in (its form has no webhook here)."""
    campaign = Campaign(seed=first)
    return [json.dumps(control.call("POST", f"/typeform/{form_id}/submit",
                                    json={"answers": campaign.volunteer(first + n)})["payload"],
                       ensure_ascii=False).encode() for n in range(count)]


def post(url: str, secret: str, body: bytes) -> tuple[float, int]:
    started = time.perf_counter()
    try:
        status = requests.post(url, data=body, timeout=TYPEFORM_TIMEOUT, headers={
            "Content-Type": "application/json", "Typeform-Signature": sign_typeform(secret, body)}).status_code
    except requests.Timeout:
        status = 0
    return time.perf_counter() - started, status


def percentiles(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (f"p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
            f"max {ordered[-1] * 1000:.0f} ms")


def use_intake_queue(stack: LocalStack, name: str) -> None:
    """Create the base's queue in the Cloud Tasks stand-in (the base's rate, one task at a time)
    and have the functions queue into it."""
    client = tasks_v2.CloudTasksClient(credentials=google.oauth2.credentials.Credentials(token="bench"),
                                       transport="rest",
                                       client_options={"api_endpoint": stack.settings.BINOME_CLOUD_TASKS_ENDPOINT})
    client.create_queue(parent=name.rsplit("/queues/", 1)[0], queue=tasks_v2.Queue(
        name=name, rate_limits=tasks_v2.RateLimits(max_dispatches_per_second=AIRTABLE_REQUESTS_PER_SECOND,
                                                   max_concurrent_dispatches=1)))
    bootstrap.configure(stack.settings.rebuilt(BINOME_INTAKE_QUEUE=name))


def airtable_counts(control: EmulatorControl) -> tuple[int, int]:
    stats = control.call("GET", "/stats")
    return (sum(n for key, n in stats["requests"].items() if key.startswith("airtable")),
            stats["errors"].get("airtable 429", 0))


def steps(control: EmulatorControl) -> dict[str, int]:
    """Airtable's requests so far by method and table (the stand-in counts them by path)."""
    return dict(control.call("GET", "/stats")["tables"])


def step_changes(before: dict[str, int], after: dict[str, int]) -> str:
    return ", ".join(f"{key} {after[key] - before.get(key, 0)}" for key in sorted(after)
                     if after[key] != before.get(key, 0))


def landed_by(expected: int, patience: float = 600.0) -> int:
    """How many volunteers the base holds once it holds `expected` (or patience ran out). A request
    whose sender gave up is still written by the function, later: the next burst must not count it.
    Counted every two seconds, through the same pacer as the functions (a page a poll)."""
    deadline = time.monotonic() + patience
    while True:
        count = len(bootstrap.gateway().all(Volunteer, fields=["email"]))
        if count >= expected or time.monotonic() > deadline:
            return count
        time.sleep(2)  # a poll for a benchmark's clock, not a synchronisation


def burst(stack: LocalStack, control: EmulatorControl, bodies: list[bytes], url: str = "") -> str:
    url, secret = url or f"{stack.functions.url}/typeform_webhook/", stack.settings.TYPEFORM_SECRET
    before = len(bootstrap.gateway().all(Volunteer, fields=["email"]))
    requests_before, throttled_before = airtable_counts(control)
    steps_before = steps(control)
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
        answers = list(pool.map(lambda body: post(url, secret, body), bodies))
    answered = time.perf_counter() - started
    control.call("POST", "/deliveries/wait", json={"timeout": 3600}, timeout=3700)
    landed = landed_by(before + len(bodies)) - before
    complete = time.perf_counter() - started
    used, throttled = (a - b for a, b in zip(airtable_counts(control), (requests_before, throttled_before)))
    floor = 2 * len(bodies) / 10 / AIRTABLE_REQUESTS_PER_SECOND
    failed = sum(1 for _, status in answers if not 200 <= status < 300)
    return (f"webhook {percentiles([t for t, _ in answers])} ({failed} not 2xx, all answered in {answered:.1f} s); "
            f"{landed} sign-ups in "
            f"the base after {complete:.1f} s (floor {floor:.0f} s, {complete / floor:.1f}×); {used} Airtable "
            f"requests = {used / complete:.2f}/s ({used / len(bodies):.2f} a sign-up); 429 answers: {throttled}\n"
            f"    by step: {step_changes(steps_before, steps(control))}")


def webhook_instance(stack: LocalStack, folder: str) -> FunctionInstance:
    """The webhook in a process of its own, as deployed (an instance of its own service), queueing
    into the stack's queue, whose tasks the stack's writer takes."""
    settings = stack.settings
    return FunctionInstance("typeform_webhook", {
        "BINOME_EMULATOR_PORT": str(stack.emulators.port), "BINOME_FUNCTIONS_PORT": str(stack.functions.port),
        "AIRTABLE_BASE_ID": settings.AIRTABLE_BASE_ID, "BINOME_INTAKE_QUEUE": QUEUE,
        "BINOME_LOG_FORMAT": "text"}, Path(folder))


def main() -> None:
    count = int(os.environ.get("QUEUE_BURST", "2000"))
    direct = int(os.environ.get("QUEUE_DIRECT", "200"))
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)  # 32 senders share one local process
    with provisioned() as (stack, control):
        control.airtable_config(rate_limit=AIRTABLE_REQUESTS_PER_SECOND)
        form_id = stack.settings.TYPEFORM_FORM_VOLUNTEER
        control.create_form(form_id, FORMS["volunteer"].definition)
        print(f"A burst of signed sign-ups posted to the webhook, {CONCURRENCY} at a time "
              "(Airtable limit on, vendors' events unplugged):")
        if direct:  # QUEUE_DIRECT=0: the queue alone
            print(f"  {direct} written by the webhook: "
                  f"{burst(stack, control, payloads(control, form_id, direct, 0))}", flush=True)
        use_intake_queue(stack, QUEUE)
        bodies = payloads(control, form_id, count, direct)
        with tempfile.TemporaryDirectory() as folder, webhook_instance(stack, folder) as webhook:
            print(f"  {count} through the queue, the webhook in a process of its own: "
                  f"{burst(stack, control, bodies, webhook.url)}")


if __name__ == "__main__":
    main()
