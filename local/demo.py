"""`make demo`: the main job, offline, on the local stack.

Starts the stack on the configured ports with a fresh store, provisions the base, publishes the
forms, seeds the member associations' antennas, then runs a whole campaign through the Typeform
emulator — 2,000 volunteers and 200 structures with their pupils, a few second sign-ups, a few
unusable answers and a few mistyped addresses that bounce. Every sign-up is acknowledged and sent
its agreement or charter; most people sign (through DocuSign's stand-in), a few decline; the daily
follow-up sends each antenna its list of volunteers to contact, and the antennas confirm most first
contacts through their links. Then matching: suggestions for every pupil's need, emailed to the
structures, who mostly choose (with the race for a last place happening for real, four at a time);
the chosen mentors mostly accept, some decline and their needs get new suggestions, a few stay
silent. Then eight weeks of follow-up with an injected clock (`local/weeks.py`): check-ins asked,
answered or not, reminders, alerts, one binôme that falls out, one that finishes, and the weekly
digests. The report shows the funnel, the coverage, why some needs have nobody and where to
recruit; the last digest is written as a page. The data stays in `var/binome.sqlite3`: a `make run`
afterwards serves it and the console shows it.

To finish in minutes, the demo lifts the local Airtable's 5 requests/s limit (and the matching
client-side pacing); `make bench` keeps both on.
"""

from __future__ import annotations

import collections
import concurrent.futures
import logging
import random
import re
import sys
import time
from typing import Any

import requests

from emulators.server import quiet_request_logs
from local.antennas import antennas
from local.campaign import Campaign
from local import weeks
from local.emulator import EmulatorControl
from local.stack import DEFAULT_DB, ROOT, LocalStack
from schemas import base
from schemas import options as opt
from schemas.records import MODELS, Antenna, JournalEntry, Need, Pair, Structure, Volunteer
from shared import bootstrap
from shared.matching.suggestions import CHOICE
from shared.provision import provision
from shared.publish_forms import publish
from shared.settings import Settings, get_settings
from shared.typeform_client import TypeformClient

REPORT = ROOT / "var" / "rapport-demo.md"
DIGEST = ROOT / "var" / "synthese.html"
VOLUNTEERS, STRUCTURES = 2000, 200
SECOND_SIGNUPS, UNKNOWN_POSTCODES, BOUNCING = 40, 8, 15
SIGN, DECLINE = 0.88, 0.03  # of the documents sent; the rest stay unsigned
FIRST_CONTACTS = 0.7  # of the volunteers listed to their antenna
CHOOSE = 0.85  # of the needs with suggestions, the structure chooses someone
ACCEPT, DECLINE_PROPOSAL = 0.8, 0.12  # of the mentors chosen; the others stay silent for now
SHORTAGE_SHOWN = 8
DEMO_AIRTABLE_RATE = 400.0  # requests/s the demo's own process allows itself (the emulator has no limit)


def progress(label: str, done: int, total: int) -> None:
    width = 40
    filled = width * done // max(total, 1)
    print(f"\r   {label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="", flush=True)


def submissions(campaign: Campaign, form_ids: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    volunteers = campaign.volunteers(VOLUNTEERS)
    # A few addresses mistyped beyond repair: the acknowledgement bounces, the coordinators are told.
    for n in range(100, 100 + BOUNCING):
        volunteers[n]["email"] = volunteers[n]["email"].replace("@exemple.fr", "@bounce.example")
    jobs = [(form_ids["volunteer"], {"answers": v}) for v in volunteers]
    jobs += [(form_ids["structure"], {"answers": s}) for s in campaign.structures(STRUCTURES)]
    # People who fill the form twice (a new phone, more slots): one record each, journaled « Mis à jour ».
    for again in volunteers[:SECOND_SIGNUPS]:
        jobs.append((form_ids["volunteer"], {"answers": {**again, "slots": campaign.slots(5, pupil=False)}}))
    # Postcodes Typeform cannot check: kept in the Journal as « Rejeté » for a coordinator.
    for n, bad in enumerate(campaign.volunteers(UNKNOWN_POSTCODES)):
        jobs.append((form_ids["volunteer"], {"answers": {**bad, "postcode": f"9{n}999",
                                                         "email": f"code.postal.{n}@exemple.fr"}}))
    campaign.rng.shuffle(jobs)
    return jobs


def in_parallel(label: str, work: list[Any], action: Any) -> None:
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for done, _ in enumerate(pool.map(action, work), start=1):
            if done % 50 == 0 or done == len(work):
                progress(label, done, len(work))
    print()


def settle(control: EmulatorControl, label: str) -> None:
    """Wait until every webhook the stand-ins owe (Typeform, SendGrid, DocuSign) is delivered."""
    while True:
        summary = control.call("GET", "/deliveries/summary")
        settled = sum(n for state, n in summary["states"].items() if state != "pending")
        progress(label, settled, settled + summary["pending"])
        if summary["pending"] == 0:
            break
        time.sleep(0.5)  # a progress display, not a synchronisation: the loop ends on the count
    print()


def submit_all(control: EmulatorControl, form_id: str, responses: list[dict[str, Any]]) -> None:
    """Post these responses to one form and wait until their webhooks are delivered."""
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda body: control.call("POST", f"/typeform/{form_id}/submit", json=body), responses))
    while not control.call("POST", "/deliveries/wait", json={"timeout": 60}, timeout=90)["idle"]:
        pass  # each call waits up to a minute on the stand-ins' own condition


def run_campaign(control: EmulatorControl, jobs: list[tuple[str, dict[str, Any]]]) -> None:
    in_parallel("réponses envoyées ", jobs, lambda job: control.call("POST", f"/typeform/{job[0]}/submit", json=job[1]))
    settle(control, "réponses, accusés et envois")


def sign(control: EmulatorControl, rng: random.Random) -> collections.Counter[str]:
    """Most people sign what DocuSign sent them, a few decline, the rest have not yet."""
    decisions: collections.Counter[str] = collections.Counter()
    actions = []
    for envelope in control.call("GET", "/envelopes")["envelopes"]:
        draw = rng.random()
        action = "complete" if draw < SIGN else "decline" if draw < SIGN + DECLINE else None
        decisions[action or "en attente"] += 1
        if action:
            actions.append((envelope["envelopeId"], action))
    in_parallel("signatures       ", actions, lambda a: control.call("POST", f"/envelopes/{a[0]}/{a[1]}"))
    settle(control, "événements DocuSign")
    return decisions


def scheduler(settings: Settings, function: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """What Cloud Scheduler does: POST with the automation secret."""
    answer = requests.post(f"{settings.PUBLIC_URL}/{function}/", json=body or {}, timeout=1800,
                           headers={"Authorization": f"Bearer {settings.AUTOMATION_SECRET}"})
    answer.raise_for_status()
    result: dict[str, Any] = answer.json()
    return result


def post_link(link: str, **form: str) -> int:
    url, _, token = link.partition("?t=")
    return requests.post(url, data={"t": token, **form}, timeout=60).status_code


def first_contacts(settings: Settings, control: EmulatorControl, rng: random.Random) -> int:
    """The daily follow-up sends each antenna its list; the antennas confirm most first contacts."""
    scheduler(settings, "follow_up")
    links = [link for message in control.call("GET", "/outbox")["messages"]
             if "liste-antenne" in message["categories"]
             for link in re.findall(r"https?://\S+/first_contact/\?t=\S+", message["text"])]
    chosen = [link for link in links if rng.random() < FIRST_CONTACTS]

    in_parallel("premiers contacts", chosen, post_link)
    return len(chosen)


def links_in(control: EmulatorControl, category: str) -> list[str]:
    return [link for message in control.call("GET", "/outbox")["messages"] if category in message["categories"]
            for link in re.findall(r"https?://\S+/choose_mentor/\?t=\S+", message["text"])]


def structures_choose(control: EmulatorControl, rng: random.Random, seen: set[str]) -> collections.Counter[str]:
    """Each structure opens its email and, for most needs, clicks its best suggestion — or, when
    another structure took that place first, the next one the page offers."""
    by_need: dict[str, list[str]] = {}
    links = bootstrap.links()
    for link in links_in(control, "suggestions"):
        if link not in seen:
            seen.add(link)
            by_need.setdefault(links.read(CHOICE, link.partition("?t=")[2], 10 ** 9)["n"], []).append(link)
    chosen = [options for options in by_need.values() if rng.random() < CHOOSE]
    outcomes: collections.Counter[str] = collections.Counter()

    def choose(options: list[str]) -> None:
        for tries, link in enumerate(options):
            if post_link(link) == 200:
                outcomes["au 1er clic" if tries == 0 else "après une place déjà prise"] += 1
                return
        outcomes["toutes les places prises"] += 1

    in_parallel("choix des structures", chosen, choose)
    return outcomes


def mentors_answer(control: EmulatorControl, rng: random.Random, seen: set[str]) -> collections.Counter[str]:
    """Mentors answer their proposals: most accept, some decline (with a reason), a few stay silent."""
    answers: list[tuple[str, dict[str, str]]] = []
    decisions: collections.Counter[str] = collections.Counter()
    reasons = [opt.PairReason.UNAVAILABLE.value, opt.PairReason.NOT_A_FIT.value]
    for link in links_in(control, "proposition"):
        if link in seen:
            continue
        seen.add(link)
        draw = rng.random()
        if draw < ACCEPT:
            answers.append((link, {"action": "accept"}))
            decisions["acceptées"] += 1
        elif draw < ACCEPT + DECLINE_PROPOSAL:
            answers.append((link, {"action": "decline", "reason": rng.choice(reasons)}))
            decisions["déclinées"] += 1
        else:
            decisions["sans réponse"] += 1
    in_parallel("réponses des bénévoles", answers, lambda a: post_link(a[0], **a[1]))
    return decisions


def matching(settings: Settings, control: EmulatorControl, rng: random.Random) -> list[str]:
    """Suggestions for every need, two rounds of choices and answers (declines cascade to new
    suggestions in between), then what came of it."""
    first = scheduler(settings, "suggest_mentors")
    print(f"   Suggestions : {first['detail']}")
    seen: set[str] = set()
    for round_ in (1, 2):
        chosen = structures_choose(control, rng, seen)
        answered = mentors_answer(control, rng, seen)
        print(f"   Tour {round_} : choix {dict(chosen)} ; réponses {dict(answered)}")
        if round_ == 1:
            print(f"   Après les refus : {scheduler(settings, 'suggest_mentors')['detail']}")
    return matching_lines(first)


def matching_lines(first: dict[str, Any]) -> list[str]:
    gateway = bootstrap.gateway()
    needs = gateway.all(Need, fields=["status"])
    pairs = collections.Counter(p.status for p in gateway.all(Pair, fields=["status"]))
    statuses = collections.Counter(n.status for n in needs)
    active = pairs.get(opt.PairStatus.ACTIVE.value, 0)
    lines = [f"- Besoins des élèves : {len(needs)} ; " + ", ".join(f"{s} {n}" for s, n in statuses.most_common()),
             "- Binômes : " + ", ".join(f"{s} {n}" for s, n in pairs.most_common())
             + f" ; couverture {active / max(len(needs), 1):.0%} des besoins par un binôme actif",
             "- Sans solution, la contrainte qui ne laisse personne : "
             + (", ".join(f"{r} {n}" for r, n in sorted(first["sans_solution"].items(), key=lambda r: -r[1]))
                or "aucune")]
    if first["manques"]:
        lines.append("- Où recruter (besoins sans bénévole) : " + " ; ".join(first["manques"][:SHORTAGE_SHOWN]))
    return lines


def funnel_lines() -> list[str]:
    gateway = bootstrap.gateway()
    volunteers = gateway.all(Volunteer)
    structures = gateway.all(Structure)
    sent = {opt.EmailStatus.SENT.value, opt.EmailStatus.DELIVERED.value}
    out = {opt.EnvelopeStatus.SENT.value, opt.EnvelopeStatus.SIGNED.value, opt.EnvelopeStatus.DECLINED.value}

    def count(people: list[Any], test: Any) -> int:
        return sum(1 for p in people if test(p))

    steps = [("inscrits", len(volunteers)),
             ("accusé envoyé", count(volunteers, lambda v: v.email_status in sent)),
             ("convention envoyée", count(volunteers, lambda v: v.envelope_status in out)),
             ("signée", count(volunteers, lambda v: v.envelope_status == opt.EnvelopeStatus.SIGNED.value)),
             ("premier contact", count(volunteers, lambda v: v.first_contact_on is not None))]
    lines = ["- Bénévoles : " + " → ".join(f"{label} {n}" for label, n in steps)]
    lines.append(f"- Structures : inscrites {len(structures)} → accusé envoyé "
                 f"{count(structures, lambda s: s.email_status in sent)} → charte envoyée "
                 f"{count(structures, lambda s: s.envelope_status in out)} → signée "
                 f"{count(structures, lambda s: s.envelope_status == opt.EnvelopeStatus.SIGNED.value)}")
    problems = collections.Counter(v.email_status for v in volunteers + structures
                                   if v.email_status not in sent)  # type: ignore[operator]
    declined = count(volunteers + structures, lambda p: p.envelope_status == opt.EnvelopeStatus.DECLINED.value)
    lines.append(f"- Adresses inutilisables ou envois en suspens : {dict(problems) or 'aucun'} ; documents refusés : "
                 f"{declined}")
    attached = collections.Counter(a for v in volunteers for a in v.antenna)
    names = {a.record_id: a.name for a in gateway.all(Antenna)}
    busiest = ", ".join(f"{names.get(a, a)} {n}" for a, n in attached.most_common(4))
    lines.append(f"- Bénévoles rattachés à une antenne : {sum(attached.values())} ({busiest}…)")
    return lines


def once_each_lines(control: EmulatorControl) -> list[str]:
    """Exactly once, seen from people: no address got two welcomes, no one two documents."""
    messages = control.call("GET", "/outbox")["messages"]
    welcomes = collections.Counter(m["recipients"][0] for m in messages if "accuse" in m["categories"])
    updates = sum(1 for m in messages if "mise-a-jour" in m["categories"])
    envelopes = collections.Counter(e["recipients"]["signers"][0]["email"]
                                    for e in control.call("GET", "/envelopes")["envelopes"])
    alerts = sum(1 for m in messages if "alerte" in m["categories"])
    lists = sum(1 for m in messages if "liste-antenne" in m["categories"])
    return [f"- Emails : {sum(welcomes.values())} accusés (au plus {max(welcomes.values(), default=0)} par adresse), "
            f"{updates} mises à jour, {lists} listes d'antenne, {alerts} alertes aux coordinateurs",
            f"- Documents à signer : {sum(envelopes.values())} (au plus {max(envelopes.values(), default=0)} par "
            "personne)"]


def summary_lines(stack_url: str, elapsed: float) -> list[str]:
    gateway = bootstrap.gateway()
    lines = [f"- {model.table_label()} : {len(gateway.all(model, fields=[base.table(model.table_key).primary.key]))}"
             " enregistrement(s)" for model in MODELS]
    intake = collections.Counter(e.status for e in gateway.all(JournalEntry, fields=["status", "source"])
                                 if e.source == opt.JournalSource.TYPEFORM.value)
    lines.append("- Réponses Typeform au Journal : " + ", ".join(f"{status} {n}" for status, n in sorted(intake.items())))
    twins = [s for s in gateway.all(Structure, fields=["name", "duplicate_of"]) if s.duplicate_of]
    lines.append(f"- Structures signalées comme doublons probables : {len(twins)}")
    stats = requests.get(f"{stack_url}/_emulator/stats", timeout=10).json()["requests"]
    calls = {service: sum(n for key, n in stats.items() if key.startswith(service))
             for service in ("airtable", "sendgrid", "docusign")}
    lines.append(f"- {calls['airtable']} requêtes Airtable, {calls['sendgrid']} appels SendGrid, {calls['docusign']} "
                 f"appels DocuSign, {elapsed:.0f} s au total")
    return lines


def main() -> int:
    quiet_request_logs()
    # The Journal tells the story; keep the bar readable (a line per request would bury it).
    for name in ("shared", "binome.requests"):
        logging.getLogger(name).setLevel(logging.ERROR)
    settings = get_settings()
    if EmulatorControl(settings.emulator_url).healthy():
        print(f"Une pile locale tourne déjà sur {settings.emulator_url} : arrêtez `make run` (Ctrl-C) "
              "puis relancez `make demo`.", file=sys.stderr)
        return 1
    started = time.monotonic()
    rng = random.Random(2020)
    DEFAULT_DB.parent.mkdir(parents=True, exist_ok=True)
    DEFAULT_DB.unlink(missing_ok=True)
    print("La démo lève la limite de 5 requêtes/s de l'Airtable local pour finir en quelques minutes "
          "(`make bench` la garde).")
    with LocalStack(settings.rebuilt(BINOME_AIRTABLE_RATE=DEMO_AIRTABLE_RATE),
                    emulator_port=settings.BINOME_EMULATOR_PORT, functions_port=settings.BINOME_FUNCTIONS_PORT,
                    db=str(DEFAULT_DB), airtable_rate_limit=None, time_scale=1 / 600) as stack:
        settings = stack.settings
        control = EmulatorControl(stack.emulators.url)
        control.ensure_base(settings.AIRTABLE_BASE_ID)
        print("1. Base Airtable :")
        for line in provision(bootstrap.gateway()).lines():
            print(f"   {line}")
        print("2. Formulaires Typeform :")
        for line in publish(settings, TypeformClient(settings), control.create_form):
            print(f"   {line}")
        created = bootstrap.gateway().create(antennas())
        print(f"3. Antennes : {len(created)} antennes des associations membres, et celle du collectif.")
        jobs = submissions(Campaign(), settings.form_ids)
        print(f"4. Campagne : {VOLUNTEERS} bénévoles, {STRUCTURES} structures, {SECOND_SIGNUPS} réinscriptions, "
              f"{UNKNOWN_POSTCODES} codes postaux inconnus, {BOUNCING} adresses qui rebondissent ({len(jobs)} réponses).")
        run_campaign(control, jobs)
        decisions = sign(control, rng)
        print(f"5. Signatures : {decisions['complete']} signés, {decisions['decline']} refusés, "
              f"{decisions['en attente']} en attente.")
        confirmed = first_contacts(settings, control, rng)
        print(f"6. Premiers contacts confirmés par les antennes : {confirmed}.")
        print("7. Mise en relation :")
        matched = matching(settings, control, rng)
        print(f"8. Suivi des binômes sur {weeks.WEEKS} semaines :")
        followed = weeks.simulate(settings, control, rng, DIGEST, lambda form, responses: submit_all(
            control, form, responses))
        print("9. Ce qui est arrivé :")
        lines = funnel_lines() + matched + followed + once_each_lines(control) + summary_lines(
            stack.emulators.url, time.monotonic() - started)
        print("\n".join(f"   {line}" for line in lines))
    REPORT.write_text("# Démo binome\n\n" + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"Rapport : {REPORT.relative_to(ROOT)} ; synthèse de la dernière semaine : {DIGEST.relative_to(ROOT)}. "
          f"Les données restent dans {DEFAULT_DB.relative_to(ROOT)} : "
          f"`make run` les sert, et la console {settings.emulator_url}/ les montre.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
