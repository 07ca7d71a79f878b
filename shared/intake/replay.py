"""Replay a Journal entry that ended `Rejeté` or `Erreur`, once a coordinator fixed the cause."""

from __future__ import annotations

import json

from pydantic import ValidationError

from schemas import options as opt
from schemas.records import JournalEntry
from schemas.typeform import WebhookPayload
from shared.airtable import AirtableRejected
from shared.airtable.diff import update_of
from shared.errors import BinomeError
from shared.intake.service import IntakeService, Outcome

REPLAYABLE = {opt.JournalStatus.REJECTED.value, opt.JournalStatus.ERROR.value}


class ReplayRefused(BinomeError):
    """The entry cannot be replayed; the message says why, for a person."""


def find_entry(service: IntakeService, reference: str) -> JournalEntry:
    if reference.startswith("rec"):
        try:
            return service.gateway.get(JournalEntry, reference)
        except AirtableRejected:
            raise ReplayRefused(f"Aucune entrée de Journal {reference}.") from None
    entry = service.journal.find(reference)
    if entry is None:
        raise ReplayRefused(f"Aucune entrée de Journal pour {reference}.")
    return entry


def replay(service: IntakeService, reference: str) -> Outcome:
    entry = find_entry(service, reference)
    release_request(service, entry)
    if entry.status not in REPLAYABLE:
        raise ReplayRefused(f"L'entrée {entry.external_ref} est « {entry.status} » : seules les entrées "
                            "« Rejeté » ou « Erreur » se rejouent.")
    try:
        payload = WebhookPayload.model_validate(json.loads(entry.payload))
    except (ValueError, ValidationError):
        raise ReplayRefused(f"Les données de l'entrée {entry.external_ref} ne sont pas une réponse Typeform.") from None
    return service.process(payload.form_response, entry.payload, replay=True)



def release_request(service: IntakeService, entry: JournalEntry) -> None:
    """Untick « Rejouer » before anything else: the coordinators' automation fires when the box
    is ticked, so whatever this replay does (done, refused, failed), ticking it again asks again."""
    untick = update_of(entry, {"replay_requested": False})
    if untick is not None:
        service.gateway.update([untick])
