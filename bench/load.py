"""The campaign's two peaks against the local stack, Airtable's limit (5 requests/s) and its
30-second penalty on:

1. 2,000 signed sign-ups arriving within one minute (evenly, as after a broadcast), through the
   base's queue: the webhook's answer times, the time until every sign-up is in the base, and that
   time against the ceiling 5 requests/s sets for the requests the writer made (the goal: within
   10 % of it), the requests/s put on the base, 429s;
2. 200 structures choosing a mentor at the same moment (each clicks the link of its suggestions
   email): their answer times, how many got their mentor or were told the place was
   taken, the time until every choice is written against the same ceiling, 429s.

    LOAD_SIGN_UPS=2000 LOAD_STRUCTURES=200 python -m bench.load
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import logging
import os
import threading
import time

import requests

from bench.queue import airtable_counts, landed_by, payloads, percentiles, use_intake_queue
from bench.stack import limit_lifted, provisioned, seeding_gateway
from local.emulator import EmulatorControl
from local.stack import LocalStack
from schemas import options as opt
from schemas.forms import FORMS
from schemas.records import Need, Pair, Structure, Volunteer
from shared import bootstrap
from shared.airtable.pacer import AIRTABLE_REQUESTS_PER_SECOND
from shared.matching.suggestions import CHOICE
from shared.signatures import sign_typeform

QUEUE = "projects/binome-bench/locations/europe-west1/queues/airtable-load"
PATIENCE = 900.0  # seconds a client waits here: the answer times are measured, not cut at a timeout


def against_ceiling(used: int, elapsed: float, earliest: float = 0.0) -> str:
    """The time the base needed against what 5 requests/s allow for the requests made (and no less
    than the arrivals took)."""
    ceiling = max(used / AIRTABLE_REQUESTS_PER_SECOND, earliest)
    return (f"{used} Airtable requests in {elapsed:.1f} s = {used / elapsed:.2f}/s; ceiling {ceiling:.1f} s, "
            f"{(elapsed / ceiling - 1) * 100:+.0f} %")


def sign_ups_within_a_minute(stack: LocalStack, control: EmulatorControl, count: int) -> str:
    form_id = stack.settings.TYPEFORM_FORM_VOLUNTEER
    control.create_form(form_id, FORMS["volunteer"].definition)
    bodies = payloads(control, form_id, count, 0)
    use_intake_queue(stack, QUEUE)
    url, secret = f"{stack.functions.url}/typeform_webhook/", stack.settings.TYPEFORM_SECRET
    before = len(bootstrap.gateway().all(Volunteer, fields=["email"]))
    used_before, throttled_before = airtable_counts(control)
    times: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()

    def deliver(n: int, started: float) -> None:
        delay = started + n * 60.0 / count - time.perf_counter()
        if delay > 0:
            time.sleep(delay)  # the n-th arrival's moment within the minute
        sent = time.perf_counter()
        try:
            status = requests.post(url, data=bodies[n], timeout=30, headers={
                "Content-Type": "application/json",
                "Typeform-Signature": sign_typeform(secret, bodies[n])}).status_code
        except requests.Timeout:
            status = 0
        with lock:
            times.append(time.perf_counter() - sent)
            statuses.append(status)

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(64) as pool:
        list(pool.map(lambda n: deliver(n, started), range(count)))
    arrived = time.perf_counter() - started
    landed = landed_by(before + count, PATIENCE) - before
    complete = time.perf_counter() - started
    used, throttled = (a - b for a, b in zip(airtable_counts(control), (used_before, throttled_before)))
    failed = sum(1 for s in statuses if not 200 <= s < 300)
    return (f"{count} sign-ups sent over {arrived:.1f} s: webhook {percentiles(times)} ({failed} not 2xx); "
            f"{landed} in the base after {complete:.1f} s; {against_ceiling(used, complete, arrived)}; "
            f"429 answers: {throttled}")


def seed_choices(stack: LocalStack, structures: int) -> list[str]:
    """`structures` structures with one need each, each need suggested its own signed mentor, and
    the link its suggestions email carries for that mentor (the race of several structures for one
    place has tests of its own; here every click can succeed)."""
    gateway = seeding_gateway(stack)
    signed = dt.datetime(2020, 11, 2, tzinfo=dt.timezone.utc)
    mentors = gateway.create([Volunteer(
        full_name=f"Mentor {n}", first_name=f"Mentor{n}", email=f"mentor{n}@exemple.fr", postcode="69003",
        town="Lyon", levels=[opt.Level.TROISIEME], subjects=[opt.Subject.MATHS], slots=["Mercredi 14h-16h"],
        mode=opt.Mode.BOTH, capacity=1, registered_at=signed, envelope_status=opt.EnvelopeStatus.SIGNED,
        status=opt.VolunteerStatus.AVAILABLE) for n in range(structures)])
    schools = gateway.create([Structure(name=f"Collège {n}", email=f"college{n}@exemple.fr", contact="Anne Dupont",
                                        postcode="69100", town="Villeurbanne") for n in range(structures)])
    needs = gateway.create([Need(reference=f"C{n}-1", structure=[s.record_id or ""], level=opt.Level.TROISIEME,
                                 subjects=[opt.Subject.MATHS], slots=["Mercredi 14h-16h"], mode=opt.Mode.IN_PERSON,
                                 status=opt.NeedStatus.SUGGESTED, suggested_mentors=[m.record_id or ""])
                            for n, (s, m) in enumerate(zip(schools, mentors))])
    return [bootstrap.links().url("choose_mentor", CHOICE, {"n": need.record_id, "v": mentor.record_id,
                                                            "s": school.record_id})
            for need, mentor, school in zip(needs, mentors, schools)]


def structures_choosing_at_once(stack: LocalStack, control: EmulatorControl, links: list[str]) -> str:
    used_before, throttled_before = airtable_counts(control)

    def choose(link: str) -> tuple[float, int]:
        url, _, token = link.partition("?t=")
        sent = time.perf_counter()
        try:
            status = requests.post(url, data={"t": token}, timeout=PATIENCE).status_code
        except requests.Timeout:
            status = 0
        return time.perf_counter() - sent, status

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(len(links)) as pool:
        answers = list(pool.map(choose, links))
    complete = time.perf_counter() - started
    used, throttled = (a - b for a, b in zip(airtable_counts(control), (used_before, throttled_before)))
    statuses = [s for _, s in answers]
    proposed = sum(1 for p in bootstrap.gateway().all(Pair, fields=["status"]) if p.status == opt.PairStatus.PROPOSED)
    within_a_minute = sum(1 for t, _ in answers if t <= 60)
    return (f"{len(links)} structures clicking at once: answers {percentiles([t for t, _ in answers])}, "
            f"{within_a_minute} within 60 s (a function's timeout); {statuses.count(200)} chose, "
            f"{statuses.count(409)} told the place was taken, {len(statuses) - statuses.count(200) - statuses.count(409)} "
            f"other; {proposed} binômes proposed; all written after {complete:.1f} s; "
            f"{against_ceiling(used, complete)} ({used / max(len(links), 1):.1f} per choice); 429 answers: {throttled}")


def main() -> None:
    sign_ups = int(os.environ.get("LOAD_SIGN_UPS", "2000"))
    structures = int(os.environ.get("LOAD_STRUCTURES", "200"))
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)  # 64 senders share one local process
    with provisioned() as (stack, control):
        control.airtable_config(rate_limit=AIRTABLE_REQUESTS_PER_SECOND, penalty_seconds=30)
        print("The campaign's peaks, Airtable's limit and its 30-second penalty on:", flush=True)
        with limit_lifted(control):
            links = seed_choices(stack, structures)
        control.airtable_config(penalty_seconds=30)
        print(f"  {structures_choosing_at_once(stack, control, links)}", flush=True)
        print(f"  {sign_ups_within_a_minute(stack, control, sign_ups)}", flush=True)


if __name__ == "__main__":
    main()
