"""`make demo`: the main job, offline, on the local stack.

Starts the stack (or uses one already running on the configured ports), provisions the base,
loads a small campaign through the Airtable gateway, prints what the base holds and writes a
report under `var/`. Loading is idempotent: running the demo twice changes nothing the second
time. The data stays in `var/binome.sqlite3`, so a `make run` afterwards serves it.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any, ContextManager

import requests

from emulators.stack import DEFAULT_DB, ROOT, LocalStack
from emulators.server import quiet_request_logs
from schemas import options as opt
from schemas.records import MODELS, CheckIn, JournalEntry, Need, Pair, Structure, Volunteer
from shared.airtable import AirtableGateway
from shared.provision import ensure_local_base, provision
from shared.settings import Settings, get_settings

REPORT = ROOT / "var" / "rapport-demo.md"
FIRST_NAMES = ["Camille", "Léa", "Hugo", "Inès", "Lucas", "Chloé", "Yanis", "Manon", "Nathan", "Sarah",
               "Mehdi", "Emma", "Louis", "Aïcha", "Jules", "Zoé", "Adam", "Lina", "Théo", "Maëlys"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
              "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "Benali", "Nguyen", "Diallo"]
TOWNS = [("75011", "Paris"), ("69003", "Lyon"), ("13001", "Marseille"), ("59000", "Lille"),
         ("31000", "Toulouse"), ("33000", "Bordeaux"), ("44000", "Nantes"), ("67000", "Strasbourg"),
         ("93200", "Saint-Denis"), ("35000", "Rennes")]
STRUCTURES = [("Collège Jean Moulin", opt.StructureType.COLLEGE), ("Lycée Victor Hugo", opt.StructureType.LYCEE),
              ("Association Coup de Pouce", opt.StructureType.ASSOCIATION),
              ("Collège Louise Michel", opt.StructureType.COLLEGE)]
SUBJECTS = list(opt.Subject)
LEVELS = list(opt.Level)
SLOTS = list(opt.Slot)  # type: ignore[var-annotated]


def sample_volunteers(rng: random.Random, count: int) -> list[Volunteer]:
    volunteers = []
    for i in range(count):
        first, last = FIRST_NAMES[i % len(FIRST_NAMES)], rng.choice(LAST_NAMES)
        postcode, town = rng.choice(TOWNS)
        start = rng.randrange(len(LEVELS) - 2)
        volunteers.append(Volunteer(
            full_name=f"{first} {last}", first_name=first, last_name=last,
            email=f"{first}.{last}.{i}@exemple.fr".lower().replace("ï", "i").replace("ë", "e").replace("è", "e"),
            phone=f"+336{rng.randrange(10**7, 10**8)}", postcode=postcode, town=town,
            levels=LEVELS[start:start + rng.randint(2, 3)], subjects=rng.sample(SUBJECTS, rng.randint(1, 3)),
            slots=sorted(rng.sample(SLOTS, rng.randint(3, 6)), key=SLOTS.index),
            mode=rng.choice(list(opt.Mode)), capacity=rng.randint(1, 3), hours_per_week=rng.choice([1, 1.5, 2, 3]),
            association="AFEV" if i % 2 else "Article 1", status=opt.VolunteerStatus.REGISTERED,
            agreement=opt.EnvelopeStatus.NOT_SENT, consent=True,
            registered_at=dt.datetime(2020, 10, 1, tzinfo=dt.timezone.utc) + dt.timedelta(hours=7 * i),
        ))
    return volunteers


def sample_structures(rng: random.Random) -> list[Structure]:
    return [Structure(name=name, type=kind, email=f"contact{i}@structure-exemple.fr",
                      contact=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                      postcode=TOWNS[i][0], town=TOWNS[i][1], charter=opt.EnvelopeStatus.NOT_SENT)
            for i, (name, kind) in enumerate(STRUCTURES)]


def sample_needs(rng: random.Random, structures: list[Structure], per_structure: int) -> list[Need]:
    needs = []
    for s_index, structure in enumerate(structures):
        for n in range(per_structure):
            needs.append(Need(
                reference=f"E-{s_index + 1:02d}-{n + 1:02d}", structure=[structure.record_id],
                level=rng.choice(LEVELS), subjects=rng.sample(SUBJECTS[:6], rng.randint(1, 2)),
                difficulties=rng.choice(["Décrochage en mathématiques", "Manque de méthode",
                                         "Difficultés de lecture", "Besoin de confiance en soi"]),
                slots=sorted(rng.sample(SLOTS, rng.randint(2, 4)), key=SLOTS.index),
                mode=rng.choice(list(opt.Mode)), status=opt.NeedStatus.OPEN))
    return needs


def load_sample(gateway: AirtableGateway) -> dict[str, Any]:
    """Write the sample campaign; returns what each table's sync did."""
    rng = random.Random(2020)
    outcomes = {"Bénévoles": gateway.sync(sample_volunteers(rng, 24), key="email")}
    outcomes["Structures"] = gateway.sync(sample_structures(rng), key="email")
    structures = gateway.all(Structure)
    outcomes["Besoins"] = gateway.sync(sample_needs(rng, structures, 3), key="reference")
    volunteers = {v.email: v for v in gateway.all(Volunteer)}
    needs = sorted(gateway.all(Need), key=lambda n: n.reference)
    mentor = next(iter(sorted(volunteers)))
    pair = Pair(name=f"{volunteers[mentor].first_name} × {needs[0].reference}", need=[needs[0].record_id],
                volunteer=[volunteers[mentor].record_id], structure=needs[0].structure,
                status=opt.PairStatus.ACTIVE, started_on=dt.date(2020, 11, 2), next_check_in=dt.date(2020, 11, 16))
    outcomes["Binômes"] = gateway.sync([pair], key="name")
    pair_id = gateway.all(Pair)[0].record_id
    outcomes["Suivis"] = gateway.sync([CheckIn(title=f"{pair.name} — 2020-11-09", pair=[pair_id],
                                               date=dt.date(2020, 11, 9), author=opt.CheckInAuthor.MENTOR,
                                               mood=opt.CheckInMood.GOOD, sessions=2)], key="title")
    outcomes["Journal"] = gateway.sync([JournalEntry(
        event="Chargement de l'échantillon de démonstration", source=opt.JournalSource.BINOME,
        type="démo", external_ref="demo-sample-v1", status=opt.JournalStatus.DONE,
        received_at=dt.datetime(2020, 10, 1, tzinfo=dt.timezone.utc))], key="external_ref")
    return outcomes


def summary(gateway: AirtableGateway) -> list[str]:
    lines = []
    for model in MODELS:
        records = gateway.all(model)
        lines.append(f"- {model.table_label()} : {len(records)} enregistrement(s)")
    need = sorted(gateway.all(Need), key=lambda n: n.reference)[0]
    lines.append(f"- Exemple de besoin : {need.reference}, niveau {need.level}, "
                 f"{', '.join(need.subjects)}, {need.mode}")
    return lines


def stack_for(settings: Settings) -> ContextManager[Any]:
    """Start the local stack unless one already answers on the configured port."""
    try:
        requests.get(f"{settings.emulator_url}/_emulator/health", timeout=1).raise_for_status()
        print(f"Pile locale déjà lancée sur {settings.emulator_url} : elle sert à la démo.")
        return nullcontext()
    except requests.RequestException:
        DEFAULT_DB.parent.mkdir(parents=True, exist_ok=True)
        return LocalStack(settings.BINOME_EMULATOR_PORT, settings.BINOME_FUNCTIONS_PORT, str(DEFAULT_DB))


def main() -> int:
    quiet_request_logs()
    settings = get_settings()
    started = time.monotonic()
    with stack_for(settings):
        ensure_local_base(settings)
        gateway = AirtableGateway(settings)
        print("1. Base Airtable locale :")
        for line in provision(gateway).lines():
            print(f"   {line}")
        print("2. Chargement de l'échantillon :")
        for table, outcome in load_sample(gateway).items():
            print(f"   {table} : {len(outcome.created)} créé(s), {len(outcome.updated)} mis à jour, "
                  f"{outcome.unchanged} inchangé(s)")
        print("3. Contenu de la base :")
        lines = summary(gateway)
        print("\n".join(f"   {line}" for line in lines))
    elapsed = time.monotonic() - started
    footer = (f"{gateway.request_count} requêtes Airtable en {elapsed:.1f} s "
              f"(au plus 5 requêtes/s, la limite d'Airtable par base).")
    print(footer)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("# Démo binome\n\n" + "\n".join(lines) + f"\n\n{footer}\n", encoding="utf-8")
    print(f"Rapport : {REPORT.relative_to(ROOT)}. Les données restent dans {DEFAULT_DB.relative_to(ROOT)} : "
          f"`make run` les sert, et la console {settings.emulator_url}/ les montre.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
