"""Replay a Journal entry that ended `Rejeté` or `Erreur`, once a coordinator fixed the cause.

    python -m shared.intake.replay <journal record id or response token>
"""

from __future__ import annotations

import json
import sys

from pydantic import ValidationError

from schemas import options as opt
from schemas.records import JournalEntry
from schemas.typeform import WebhookPayload
from shared import bootstrap
from shared.airtable import AirtableError, AirtableRejected
from shared.intake.service import IntakeService, Outcome

REPLAYABLE = {opt.JournalStatus.REJECTED.value, opt.JournalStatus.ERROR.value}


class ReplayRefused(Exception):
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
    if entry.status not in REPLAYABLE:
        raise ReplayRefused(f"L'entrée {entry.external_ref} est « {entry.status} » : seules les entrées "
                            "« Rejeté » ou « Erreur » se rejouent.")
    try:
        payload = WebhookPayload.model_validate(json.loads(entry.payload))
    except (ValueError, ValidationError):
        raise ReplayRefused(f"Les données de l'entrée {entry.external_ref} ne sont pas une réponse Typeform.") from None
    return service.process(payload.form_response, entry.payload, replay=True)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        outcome = replay(bootstrap.intake(), argv[0])
    except ReplayRefused as exc:
        print(exc, file=sys.stderr)
        return 1
    except AirtableError as exc:
        print(f"Airtable indisponible : {exc}", file=sys.stderr)
        return 1
    print(f"{outcome.status} : {outcome.detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
