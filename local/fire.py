"""The campaign under fire: a seeded campaign through the local stack while the stand-ins fail at
random, then `reconcile`, then the invariants (`local/invariants.py`) and the figures.

The emulators run in this process; the functions run in a process of their own
(`local/functions_process.py`), killed with SIGKILL while a sign-up is between two writes, then
started again. Around that: Airtable 429 storms with their penalty, 500s, timeouts, dropped
connections and writes whose answer is lost, at random positions of every step (`local/salvo.py`);
SendGrid and DocuSign 5xx; webhooks delivered twice, late and so out of order (the deliverer's
chaos). The steps are the demo's: sign-ups (with second sign-ups and unusable postcodes),
signatures, first contacts, suggestions, choices, answers, weeks of follow-up.

The stand-in keeps a rate limit on the base, and each process paces itself at its share of it
(`FUNCTIONS_RATE` + `DRIVER_RATE` ≤ `AIRTABLE_LIMIT`): a 429 that is neither injected nor a
penalty's is one our own paced work caused, and an invariant says there is none. (A penalty's 429s
are counted apart: requests already in flight when a storm hits, or this process's, which does not
know of the penalty the other one is waiting out.)

`reconcile` runs as the scheduler would, in this process, whenever webhooks stay owed for a
scheduled period, and at the end: a little later than now (every backoff over, every claim stale),
with the vendors' deliveries held meanwhile so that nothing is in flight when it takes over.

`python -m local.fire` (`make soak`) runs the full campaign; the test runs a short one.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import datetime as dt
import logging
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import requests

from emulators.airtable.api import PENALTY_SECONDS
from emulators.app import EmulatorOptions, create_app
from emulators.server import BackgroundServer, quiet_request_logs
from local import weeks
from local.antennas import antennas
from local.campaign import Campaign
from local.emulator import EmulatorControl
from local.functions_process import FunctionsProcess
from local.processes import free_port
from local.invariants import Observed, Response, doubled_entries, tallies, uncertain, violations
from local.salvo import Salvo
from local.stack import webhooks_to
from schemas import options as opt
from schemas.records import CheckIn, JournalEntry, Need, Pair, Structure, Volunteer
from shared import bootstrap
from shared.errors import BinomeError
from shared.intake.reconcile import reconcile
from shared.intake.service import IntakeService
from shared.matching.suggestions import CHOICE
from shared.onboarding.service import OnboardingService
from shared.provision import provision
from shared.publish_forms import publish
from shared.settings import Settings, isolated_settings
from shared.typeform_client import TypeformClient

TIME_SCALE = 1 / 100  # nominal seconds of the vendors' delays → real seconds (the 30 s penalty: 0.3 s)
AIRTABLE_LIMIT = 100.0  # requests/s the stand-in allows the base for the run
FUNCTIONS_RATE, DRIVER_RATE = 70.0, 25.0  # each process's share, under the limit together
CHAOS = {"duplicate": 0.1, "late": 0.15, "late_by": 600}  # of the webhooks: twice, late by up to 10 nominal min
KILL_HOLD = 4.0  # seconds the write under which the functions die is held in the stand-in
SIGN, DECLINE, FIRST_CONTACTS, CHOOSE, ACCEPT, DECLINE_PROPOSAL = 0.88, 0.03, 0.7, 0.85, 0.8, 0.12
CLICKS = 5  # a person whose click answers 5xx tries again, a few times
SCHEDULER_TRIES = 10  # Cloud Scheduler retries a job that failed: this many times, and once per fault thrown
# How much later each reconcile runs than the last (or than now): every backoff over (12 hours at
# most, for the Journal's entries and the failed sends alike), every claim on a send stale (15 min).
LATER = dt.timedelta(hours=13)
RECONCILE_EVERY = 15 * 60 * TIME_SCALE  # the scheduler's period (15 nominal minutes), in real seconds
SETTLE_PERIODS = 40
LINK = re.compile(r"https?://\S+/(choose_mentor|first_contact)/\?t=\S+")


@dataclass(frozen=True)
class Size:
    volunteers: int
    structures: int
    second_signups: int
    unknown_postcodes: int
    weeks: int
    faults: int  # Airtable faults per step (vendors get half as many)


SHORT = Size(volunteers=200, structures=20, second_signups=8, unknown_postcodes=3, weeks=3, faults=12)
SOAK = Size(volunteers=2000, structures=200, second_signups=40, unknown_postcodes=8, weeks=8, faults=60)


@dataclass
class Outcome:
    figures: list[str]
    violations: dict[str, list[str]]
    uncertain: list[str]
    counts: dict[str, int] = field(default_factory=dict)


class Run:
    """One campaign under fire; `settings` are the functions', this process paces at its own share."""

    def __init__(self, settings: Settings, functions: FunctionsProcess, size: Size, rng: random.Random,
                 say: Callable[[str], None]):
        self.settings = settings
        self.size = size
        self.functions = functions
        self.control = EmulatorControl(settings.emulator_url)
        self.rng = rng
        self.salvo = Salvo(self.control, random.Random(rng.random()))
        self.say = say
        self.reconcile_runs = 0
        self.reconcile_failures = 0
        self.scheduler_retries = 0
        self.later = dt.datetime.now(dt.timezone.utc)

    # --- the steps -------------------------------------------------------------------------------

    def setup(self, seed: int) -> None:
        self.control.ensure_base(self.settings.AIRTABLE_BASE_ID)
        provision(bootstrap.gateway())
        publish(self.settings, TypeformClient(self.settings), self.control.create_form)
        bootstrap.gateway().create(antennas())
        self.control.call("POST", "/deliveries/chaos", json={**CHAOS, "seed": seed})

    def intake(self, size: Size) -> None:
        jobs = submissions(Campaign(self.rng.randrange(10 ** 6)), self.settings.form_ids, size)
        # The kill's fault goes first: the board applies faults in turn, each counting its own `after`.
        self.control.call("POST", "/faults", json={"service": "airtable", "latency": KILL_HOLD, "match": "PATCH ",
                                                     "after": self.rng.randrange(5)})
        self.salvo.fire(size.faults, size.faults // 2, spread=len(jobs) * 8)
        half = len(jobs) // 2
        self.parallel(self.submit, jobs[:half])
        self.kill_between_two_writes()
        self.parallel(self.submit, jobs[half:])  # while the functions are down: Typeform retries
        self.functions.restart()
        self.settle()
        self.say(f"   inscriptions : {len(jobs)} réponses envoyées, fonctions tuées une fois et relancées")

    def kill_between_two_writes(self) -> None:
        """Once one of the functions' Airtable updates is held in the stand-in (`KILL_HOLD`), kill the
        process while it waits for the answer: the write lands after its writer died, the next one
        never comes."""
        while any(f["latency"] == KILL_HOLD for f in self.control.call("GET", "/faults")["pending"]):
            if self.control.call("GET", "/deliveries/summary")["pending"] == 0:
                raise RuntimeError("every webhook was delivered before an update could be held")
            time.sleep(0.05)  # polling the fault board: it has no endpoint to wait on
        self.functions.kill()

    def reconcile(self, tries: int = 1) -> bool:
        """`reconcile` as the scheduler runs it, `LATER` after its last run: every backoff over,
        every claim on a send stale (its clock only moves forward, so what a run stamps is never in
        the next one's future). Run between two of the vendors' retries (their deliveries held, none
        in flight), so that being later is all it changes. A run that fails (a fault on its way) is
        left to the next, as with the scheduler; up to `tries` runs now. True once one completed."""
        assert self.control.call("POST", "/deliveries/hold", json={"held": True, "timeout": 120}, timeout=150)["idle"]
        try:
            gateway = bootstrap.gateway()
            for _ in range(tries):
                later = self.later = max(self.later, dt.datetime.now(dt.timezone.utc)) + LATER
                onboarding = OnboardingService(gateway, bootstrap.mailer(), bootstrap.esign(), self.settings,
                                               bootstrap.alerts(), clock=lambda: later)
                self.reconcile_runs += 1
                try:
                    reconcile(IntakeService(gateway, self.settings, onboarding), TypeformClient(self.settings),
                              self.settings, now=later)
                    return True
                except BinomeError:
                    self.reconcile_failures += 1
            return False
        finally:
            self.control.call("POST", "/deliveries/hold", json={"held": False})

    def signatures(self) -> None:
        self.salvo.fire(self.size.faults, 0, spread=self.size.faults * 40)
        actions = []
        for envelope in self.control.call("GET", "/envelopes")["envelopes"]:
            draw = self.rng.random()
            if draw < SIGN + DECLINE:
                actions.append((envelope["envelopeId"], "complete" if draw < SIGN else "decline"))
        self.parallel(lambda a: self.control.call("POST", f"/envelopes/{a[0]}/{a[1]}"), actions)
        self.settle()
        self.say(f"   signatures : {len(actions)} enveloppes signées ou refusées")

    def first_contacts(self) -> None:
        self.salvo.fire(self.size.faults, 2, spread=self.size.faults * 20)
        self.scheduler("follow_up")
        links = [m for m in self.links("liste-antenne") if self.rng.random() < FIRST_CONTACTS]
        self.parallel(self.click, [(link, {}) for link in links])
        self.settle()
        self.say(f"   premiers contacts : {len(links)} confirmés")

    def matching(self) -> None:
        self.salvo.fire(self.size.faults, 2, spread=self.size.faults * 30)
        seen: set[str] = set()
        self.scheduler("suggest_mentors")
        for round_ in (1, 2):
            self.choose(seen)
            self.answer(seen)
            if round_ == 1:
                self.scheduler("suggest_mentors")
        self.settle()
        pairs = collections.Counter(p.status for p in bootstrap.gateway().all(Pair, fields=["status"]))
        self.say("   mise en relation : " + ", ".join(f"{s} {n}" for s, n in pairs.most_common()))

    def follow_up(self, size: Size, page: Path) -> None:
        """Weeks of daily runs (in this process) while the check-ins' webhooks meet faults on the
        only writes that are theirs alone: the check-ins' creation."""
        check_ins = f"POST /airtable/v0/{self.settings.AIRTABLE_BASE_ID}/{CheckIn.table_label()}"

        def submit_all(form: str, responses: list[dict[str, Any]]) -> None:
            if responses:
                self.salvo.fire(max(len(responses) // 8, 1), 0, spread=len(responses), storms=False,
                                timeouts=False, match=check_ins)
            self.parallel(lambda body: self.control.call("POST", f"/typeform/{form}/submit", json=body), responses)
            self.settle()

        weeks.simulate(self.settings, self.control, self.rng, page, submit_all, weeks=size.weeks)
        self.salvo.hold_fire()

    def final_reconcile(self) -> None:
        """The faults withdrawn, reconcile must complete (the scheduler's next runs would)."""
        self.salvo.hold_fire()
        if not self.reconcile(tries=SCHEDULER_TRIES):
            raise RuntimeError(f"reconcile failed {SCHEDULER_TRIES} times in a row without faults")
        self.settle()

    # --- people and the scheduler ------------------------------------------------------------------

    def submit(self, job: tuple[str, dict[str, Any]]) -> None:
        self.control.call("POST", f"/typeform/{job[0]}/submit", json=job[1])

    def scheduler(self, function: str) -> dict[str, Any]:
        """What Cloud Scheduler does: POST with the automation secret, again after a failure (a
        failed run took at least one fault: there are only so many)."""
        for _ in range(SCHEDULER_TRIES + sum(self.salvo.sent.values())):
            try:
                answer = requests.post(f"{self.settings.PUBLIC_URL}/{function}/", json={}, timeout=1800,
                                       headers={"Authorization": f"Bearer {self.settings.AUTOMATION_SECRET}"})
                if answer.ok:
                    result: dict[str, Any] = answer.json()
                    return result
            except requests.RequestException:
                pass
            self.scheduler_retries += 1
        raise RuntimeError(f"{function} kept failing")

    def click(self, target: tuple[str, dict[str, str]]) -> int:
        """A person's click on a link, tried again while the page answers 5xx or nothing."""
        url, _, token = target[0].partition("?t=")
        status = 0
        for _ in range(CLICKS):
            try:
                status = requests.post(url, data={"t": token, **target[1]}, timeout=60).status_code
            except requests.RequestException:
                status = 0
            if 0 < status < 500:
                break
        return status

    def links(self, category: str, seen: set[str] | None = None) -> list[str]:
        found = [match.group(0) for m in self.control.call("GET", "/outbox")["messages"] if category in m["categories"]
                 for match in LINK.finditer(m["text"])]
        fresh = [link for link in found if seen is None or link not in seen]
        if seen is not None:
            seen.update(fresh)
        return fresh

    def choose(self, seen: set[str]) -> None:
        """Each structure clicks, for most needs, its best suggestion, or the next when taken."""
        by_need: dict[str, list[str]] = {}
        links = bootstrap.links()
        for link in self.links("suggestions", seen):
            by_need.setdefault(links.read(CHOICE, link.partition("?t=")[2], 10 ** 9)["n"], []).append(link)

        def choose_one(options: list[str]) -> None:
            for link in options:
                if self.click((link, {})) == 200:
                    return

        self.parallel(choose_one, [o for o in by_need.values() if self.rng.random() < CHOOSE])

    def answer(self, seen: set[str]) -> None:
        answers = []
        reasons = [opt.PairReason.UNAVAILABLE.value, opt.PairReason.NOT_A_FIT.value]
        for link in self.links("proposition", seen):
            draw = self.rng.random()
            if draw < ACCEPT:
                answers.append((link, {"action": "accept"}))
            elif draw < ACCEPT + DECLINE_PROPOSAL:
                answers.append((link, {"action": "decline", "reason": self.rng.choice(reasons)}))
        self.parallel(self.click, answers)

    # --- waiting ---------------------------------------------------------------------------------

    def parallel(self, action: Callable[[Any], Any], work: list[Any]) -> None:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(action, work))

    def settle(self) -> None:
        """Until every webhook the stand-ins owe is delivered or given up, with `reconcile` every
        scheduled period meanwhile: an event about a sign-up the kill interrupted is refused until
        reconcile has finished that sign-up, and the vendor retries it."""
        for _ in range(SETTLE_PERIODS):
            if self.control.call("POST", "/deliveries/wait", json={"timeout": RECONCILE_EVERY},
                                 timeout=RECONCILE_EVERY + 30)["idle"]:
                return
            self.reconcile()
        raise RuntimeError(f"webhooks still owed after {SETTLE_PERIODS} runs of reconcile")


def submissions(campaign: Campaign, form_ids: dict[str, str], size: Size) -> list[tuple[str, dict[str, Any]]]:
    """Every answer of the campaign, shuffled: sign-ups, second sign-ups, unusable postcodes."""
    volunteers = campaign.volunteers(size.volunteers)
    jobs = [(form_ids["volunteer"], {"answers": v}) for v in volunteers]
    jobs += [(form_ids["structure"], {"answers": s}) for s in campaign.structures(size.structures)]
    for again in volunteers[:size.second_signups]:
        jobs.append((form_ids["volunteer"], {"answers": {**again, "slots": campaign.slots(5, pupil=False)}}))
    for n, bad in enumerate(campaign.volunteers(size.unknown_postcodes)):
        jobs.append((form_ids["volunteer"], {"answers": {**bad, "postcode": f"9{n}999",
                                                         "email": f"code.postal.{n}@exemple.fr"}}))
    campaign.rng.shuffle(jobs)
    return jobs


# --- reading what happened ---------------------------------------------------------------------

def answer_values(item: dict[str, Any]) -> dict[str, Any]:
    """A Typeform response's answers by field ref."""
    return {a["field"]["ref"]: a.get(a["type"]) for a in item.get("answers") or []}


def typeform_responses(settings: Settings) -> list[Response]:
    client = TypeformClient(settings)
    found = []
    for kind, form_id in settings.form_ids.items():
        for item in client.responses(form_id):
            values = answer_values(item)
            found.append(Response(item["token"], kind, str(values.get("email") or ""),
                                  int(values.get("pupil_count") or 0)))
    return found


def observe(control: EmulatorControl, settings: Settings) -> tuple[Observed, dict[str, Any]]:
    gateway = bootstrap.gateway()
    deliveries = control.call("GET", "/deliveries")["deliveries"]
    troubled = {d["description"].split(" ")[1] for d in deliveries if d["service"] == "typeform"
                and any(a.get("status", 0) // 100 != 2 for a in d["attempts"])}
    messages = control.call("GET", "/outbox")["messages"]
    airtable = control.airtable_config()
    seen = Observed(
        responses=typeform_responses(settings), journal=gateway.all(JournalEntry),
        volunteers=gateway.all(Volunteer), structures=gateway.all(Structure), needs=gateway.all(Need),
        pairs=gateway.all(Pair), check_ins=gateway.all(CheckIn),
        welcomes=[m["recipients"][0] for m in messages if "accuse" in m["categories"]],
        envelopes=[e["recipients"]["signers"][0]["email"] for e in control.call("GET", "/envelopes")["envelopes"]],
        troubled_tokens=troubled, refused_over_limit=airtable["refused"]["limit"])
    return seen, {"deliveries": deliveries, "taken": control.call("GET", "/faults")["taken"], "airtable": airtable}


def figures(seen: Observed, raw: dict[str, Any], run: Run, found: dict[str, list[str]],
            elapsed: float) -> tuple[list[str], dict[str, int]]:
    deliveries = raw["deliveries"]
    by_service: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for d in deliveries:
        service = by_service[d["service"]]
        service["envoyés"] += 1
        service[d["state"]] += 1
        service["tentatives"] += len(d["attempts"])
        service["en double"] += bool(d["twin_of"])
        service["en retard"] += bool(d["late_by"])
    taken = collections.Counter(f"{f['service']} {f['kind']}" for f in raw["taken"])
    steps = {re.sub(r"/rec\w+", "", f"{f['service']} {f['request']}") for f in raw["taken"]}
    twins_ok = sum(1 for d in deliveries if d["twin_of"] and d["state"] == "delivered")
    attempts = sum(e.attempts or 1 for e in seen.journal if e.source == opt.JournalSource.TYPEFORM)
    counts = {**tallies(seen), "faults": sum(taken.values()), "kills": run.functions.kills,
              "twins_delivered": twins_ok, "refused_over_limit": seen.refused_over_limit,
              "fault_kinds": len(taken), "uncertain": len(uncertain(seen))}
    lines = [
        f"Réponses Typeform : {len(seen.responses)} ; bénévoles {len(seen.volunteers)}, structures "
        f"{len(seen.structures)}, besoins {len(seen.needs)}, binômes {len(seen.pairs)}, points d'étape "
        f"{len(seen.check_ins)}",
        "Webhooks : " + " ; ".join(f"{service} " + ", ".join(f"{k} {n}" for k, n in sorted(c.items()))
                                   for service, c in sorted(by_service.items())),
        f"Pannes injectées et subies : {sum(taken.values())} ("
        + ", ".join(f"{k} {n}" for k, n in sorted(taken.items()))
        + f") sur {len(steps)} sortes de requêtes ; processus des fonctions tué {run.functions.kills} fois",
        f"429 d'Airtable : {taken['airtable 429']} injectés, {raw['airtable']['refused']['penalty']} pendant une "
        f"pénalité, {seen.refused_over_limit} de notre fait",
        f"Reprises : {sum(c['tentatives'] - c['envoyés'] for c in by_service.values())} nouvelles tentatives de "
        f"webhook, {attempts - len([e for e in seen.journal if e.source == opt.JournalSource.TYPEFORM])} essais "
        f"repris depuis le Journal, {run.reconcile_runs} passages de reconcile ({run.reconcile_failures} "
        f"interrompus par une panne), {run.scheduler_retries} tâches planifiées relancées",
        f"Échecs de nos fonctions notés au Journal : "
        f"{sum(1 for e in seen.journal if e.external_ref.startswith('échec:'))}",
        f"Doublons absorbés : {twins_ok} webhooks livrés deux fois ; incertains pour un·e coordinateur·rice : "
        f"{len(uncertain(seen))}",
        *([f"Entrées du Journal en double : {', '.join(doubled_entries(seen))}"] if doubled_entries(seen) else []),
        f"Perdus : {counts['lost']} ; en double : {counts['doubled']} ; au-delà de leur capacité : "
        f"{counts['over_capacity']} ; {elapsed:.0f} s au total",
    ]
    return lines, counts


# --- the whole run ---------------------------------------------------------------------------------

def say_now(line: str) -> None:
    print(line, flush=True)


def run(size: Size, seed: int = 2020, say: Callable[[str], None] = say_now) -> Outcome:
    started = time.monotonic()
    quiet_request_logs()
    loud = {name: logging.getLogger(name).level for name in ("shared", "binome.requests")}
    for name in loud:
        logging.getLogger(name).setLevel(logging.CRITICAL)  # the faults make them loud; the figures say it
    rng = random.Random(seed)
    plain = isolated_settings()
    emulators = BackgroundServer(create_app(EmulatorOptions(
        airtable_rate_limit=AIRTABLE_LIMIT, time_scale=TIME_SCALE,
        docusign_connect_key=plain.DOCUSIGN_CONNECT_KEY, docusign_template_volunteer=plain.DOCUSIGN_TEMPLATE_VOLUNTEER,
        docusign_template_charter=plain.DOCUSIGN_TEMPLATE_CHARTER)))
    settings = isolated_settings(BINOME_EMULATOR_PORT=emulators.port, BINOME_FUNCTIONS_PORT=free_port(),
                                 BINOME_AIRTABLE_RATE=FUNCTIONS_RATE,
                                 BINOME_AIRTABLE_PENALTY=PENALTY_SECONDS * TIME_SCALE)
    emulators.app.extensions["emulators"].configure(webhooks_to(settings.PUBLIC_URL))
    previous = bootstrap.configure(settings.rebuilt(BINOME_AIRTABLE_RATE=DRIVER_RATE))
    emulators.start()
    try:
        with FunctionsProcess(settings) as functions, tempfile.TemporaryDirectory() as scratch:
            fire = Run(settings, functions, size, rng, say)
            say(f"Campagne sous le feu : {size.volunteers} bénévoles, {size.structures} structures, "
                f"graine {seed}")
            steps: list[tuple[str, Callable[[], object]]] = [
                ("base et formulaires", lambda: fire.setup(seed)), ("inscriptions", lambda: fire.intake(size)),
                ("reconcile", fire.reconcile), ("signatures", fire.signatures),
                ("premiers contacts", fire.first_contacts), ("mise en relation", fire.matching),
                ("suivi", lambda: fire.follow_up(size, Path(scratch) / "synthese.html")),
                ("reconcile final", fire.final_reconcile)]
            for label, step in steps:
                began = time.monotonic()
                step()
                say(f"   ({label} : {time.monotonic() - began:.0f} s)")
            seen, raw = observe(fire.control, settings)
            found = violations(seen)
            lines, counts = figures(seen, raw, fire, found, time.monotonic() - started)
            for line in lines:
                say(f"   {line}")
            for name, problems in found.items():
                say(f"   ÉCHEC {name} : {len(problems)} — " + " ; ".join(problems[:5]))
            return Outcome(lines, found, uncertain(seen), counts)
    finally:
        bootstrap.configure(previous)
        emulators.stop()
        for name, level in loud.items():
            logging.getLogger(name).setLevel(level)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="La campagne sous le feu : pannes au hasard, puis les invariants.")
    parser.add_argument("--court", action="store_true", help="la campagne courte du test")
    parser.add_argument("--graine", type=int, default=2020)
    args = parser.parse_args(argv)
    outcome = run(SHORT if args.court else SOAK, args.graine)
    return 1 if outcome.violations else 0


if __name__ == "__main__":
    sys.exit(main())
