"""The right of access: everything binome holds about one address, as one JSON document for the
person, with the base's French labels. It follows the same footprint `erase` clears, so what a
person is shown is what an erasure would remove, plus their Typeform responses as Typeform keeps
them, and a word on what the other vendors hold that binome cannot read back."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Sequence

from schemas.records import AirtableRecord, JournalEntry
from shared.airtable import AirtableGateway
from shared.privacy.erasure import Responses
from shared.privacy.footprint import Footprint, footprint, people_with
from shared.privacy.snapshot import read_snapshot
from shared.settings import Settings

ELSEWHERE = {
    "SendGrid": "les emails envoyés (journal d'activité gardé par SendGrid environ 30 jours) et, si l'adresse a "
                "rebondi ou s'est désinscrite, sa présence sur une liste de suppression.",
    "DocuSign": "la convention ou la charte envoyée à signer, avec son historique de signature.",
}


def as_json(record: AirtableRecord) -> dict[str, Any]:
    return {"id": record.record_id, **record.model_dump(mode="json", by_alias=True)}


def journal_json(entry: JournalEntry) -> dict[str, Any]:
    shown = as_json(entry)
    try:  # payloads are the JSON binome received: shown as such
        shown[JournalEntry.label("payload")] = json.loads(entry.payload) if entry.payload else None
    except ValueError:
        pass
    return shown


def export_document(email: str, footprints: Sequence[Footprint], responses: dict[str, list[dict[str, Any]]],
                    now: dt.datetime) -> dict[str, Any]:
    """Pure: the document, from what was found."""
    records = [f.person.record for f in footprints if f.person.record is not None]
    return {
        "adresse": email,
        "exporté le": now.isoformat(),
        "bénévole": [as_json(r) for r in records if r.table_key == "volunteers"],
        "structure": [as_json(r) for r in records if r.table_key == "structures"],
        "binômes": [as_json(p) for f in footprints for p in f.pairs],
        "suivis": [as_json(c) for f in footprints for c in f.check_ins],
        "besoins": [as_json(n) for f in footprints for n in f.needs],
        "antennes": [as_json(a) for f in footprints for a in f.antennas],
        "journal": [journal_json(e) for f in footprints for e in f.journal],
        "réponses Typeform": responses,
        "ailleurs, chez nos prestataires": ELSEWHERE,
    }


def export_email(gateway: AirtableGateway, typeform: Responses, settings: Settings, email: str,
                 now: dt.datetime) -> dict[str, Any]:
    snapshot = read_snapshot(gateway)
    people = people_with(snapshot, email)
    footprints = [footprint(snapshot, person) for person in people]
    known = sorted({token for f in footprints for token in f.tokens()})
    responses: dict[str, list[dict[str, Any]]] = {}
    for kind, form_id in settings.form_ids.items():
        found = {r["token"]: r for r in typeform.responses(form_id, query=people[0].email)}
        if known:
            found.update({r["token"]: r for r in typeform.responses(form_id, ids=known)})
        responses[form_id] = list(found.values())
    return export_document(people[0].email, footprints, responses, now)
