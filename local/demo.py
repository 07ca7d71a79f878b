"""`make demo`: the main job, offline, on the local stack.

Starts the stack on the configured ports with a fresh store, provisions the base, publishes the
forms, then runs a whole campaign through the Typeform emulator — 2,000 volunteers and 200
structures with their pupils, a few second sign-ups and a few unusable answers — and prints what
landed. The data stays in `var/binome.sqlite3`: a `make run` afterwards serves it and the console
shows it.

To finish in minutes, the demo lifts the local Airtable's 5 requests/s limit (and the matching
client-side pacing); `make bench` keeps both on.
"""

from __future__ import annotations

import collections
import concurrent.futures
import logging
import sys
import time
from typing import Any

import requests

from emulators.server import quiet_request_logs
from local.campaign import Campaign
from local.emulator import EmulatorControl
from local.stack import DEFAULT_DB, ROOT, LocalStack
from schemas import base
from schemas.records import MODELS, JournalEntry, Structure
from shared import bootstrap
from shared.provision import provision
from shared.publish_forms import publish
from shared.settings import get_settings
from shared.typeform_client import TypeformClient

REPORT = ROOT / "var" / "rapport-demo.md"
VOLUNTEERS, STRUCTURES = 2000, 200
SECOND_SIGNUPS, UNKNOWN_POSTCODES = 40, 8
DEMO_AIRTABLE_RATE = 400.0  # requests/s the demo's own process allows itself (the emulator has no limit)


def progress(label: str, done: int, total: int) -> None:
    width = 40
    filled = width * done // max(total, 1)
    print(f"\r   {label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="", flush=True)


def submissions(campaign: Campaign, form_ids: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    volunteers = campaign.volunteers(VOLUNTEERS)
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


def run_campaign(emulator_url: str, jobs: list[tuple[str, dict[str, Any]]]) -> None:
    session = requests.Session()

    def submit(job: tuple[str, dict[str, Any]]) -> None:
        session.post(f"{emulator_url}/_emulator/typeform/{job[0]}/submit", json=job[1], timeout=30).raise_for_status()

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for done, _ in enumerate(pool.map(submit, jobs), start=1):
            if done % 50 == 0 or done == len(jobs):
                progress("réponses envoyées ", done, len(jobs))
    print()
    while True:
        summary = session.get(f"{emulator_url}/_emulator/deliveries/summary", timeout=10).json()
        settled = sum(n for state, n in summary["states"].items() if state != "pending")
        progress("réponses traitées", settled, len(jobs))
        if summary["pending"] == 0:
            break
        time.sleep(0.5)  # a progress display, not a synchronisation: the loop ends on the count
    print()


def summary_lines(stack_url: str, elapsed: float) -> list[str]:
    gateway = bootstrap.gateway()
    lines = [f"- {model.table_label()} : {len(gateway.all(model, fields=[base.table(model.table_key).primary.key]))}"
             " enregistrement(s)" for model in MODELS]
    journal = collections.Counter(e.status for e in gateway.all(JournalEntry, fields=["status"]))
    lines.append("- Journal par statut : " + ", ".join(f"{status} {n}" for status, n in sorted(journal.items())))
    twins = [s for s in gateway.all(Structure, fields=["name", "duplicate_of"]) if s.duplicate_of]
    lines.append(f"- Structures signalées comme doublons probables : {len(twins)}")
    stats = requests.get(f"{stack_url}/_emulator/stats", timeout=10).json()["requests"]
    airtable = sum(n for key, n in stats.items() if key.startswith("airtable"))
    lines.append(f"- {airtable} requêtes Airtable, {elapsed:.0f} s au total")
    return lines


def main() -> int:
    quiet_request_logs()
    logging.getLogger("shared").setLevel(logging.ERROR)  # the Journal tells the story; keep the bar readable
    settings = get_settings()
    if EmulatorControl(settings.emulator_url).healthy():
        print(f"Une pile locale tourne déjà sur {settings.emulator_url} : arrêtez `make run` (Ctrl-C) "
              "puis relancez `make demo`.", file=sys.stderr)
        return 1
    started = time.monotonic()
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
        jobs = submissions(Campaign(), settings.form_ids)
        print(f"3. Campagne : {VOLUNTEERS} bénévoles, {STRUCTURES} structures, {SECOND_SIGNUPS} réinscriptions, "
              f"{UNKNOWN_POSTCODES} codes postaux inconnus ({len(jobs)} réponses).")
        run_campaign(stack.emulators.url, jobs)
        print("4. Ce qui est arrivé dans la base :")
        lines = summary_lines(stack.emulators.url, time.monotonic() - started)
        print("\n".join(f"   {line}" for line in lines))
    REPORT.write_text("# Démo binome\n\n" + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"Rapport : {REPORT.relative_to(ROOT)}. Les données restent dans {DEFAULT_DB.relative_to(ROOT)} : "
          f"`make run` les sert, et la console {settings.emulator_url}/ les montre.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
