"""Erasing people: the base scrubbed (see `scrub`), their Typeform responses deleted, binome's
local files scrubbed, and a Journal entry per person saying it happened, without saying who.

Order matters for a retry: Typeform first (its tokens are read from records that are about to
lose them), then every other table, and the person's own record last, so that an erasure cut
short can be run again with the same address and finish the job.

What stays on purpose, and is said so in the report: SendGrid's suppression lists (a bounce or an
unsubscribe is what keeps the address from being mailed again; deleting it would undo that) and
its activity feed, which SendGrid expires itself; DocuSign envelopes (a signed agreement is the
record of the engagement, kept under the account's retention policy); Airtable's revision history,
which only Airtable expires.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol, Sequence

from schemas import base
from schemas import options as opt
from schemas.records import JournalEntry
from shared.airtable import AirtableGateway
from shared.clock import now as utcnow
from shared.privacy.footprint import Footprint, Person, footprint, pattern, people_with
from shared.privacy.local_files import scrub_files
from shared.privacy.scrub import scrub_plan
from shared.privacy.snapshot import Snapshot, read_snapshot
from shared.settings import Settings

ERASURE_TYPE = "effacement"
PEOPLE_TABLES = ("volunteers", "structures")  # written last: see the module's docstring
IDS_PER_LISTING = 1000


class Responses(Protocol):
    """The part of the Typeform client erasure uses."""

    def responses(self, form_id: str, since: dt.datetime | None = None, query: str | None = None,
                  ids: Sequence[str] = ()) -> Iterator[dict[str, Any]]: ...

    def delete_responses(self, form_id: str, ids: Sequence[str]) -> None: ...


@dataclass
class ErasureReport:
    people: list[str] = field(default_factory=list)  # record ids (or « sans fiche »)
    changed: dict[str, int] = field(default_factory=dict)  # table label -> records changed
    responses_deleted: int = 0
    files: list[Path] = field(default_factory=list)
    envelopes: list[str] = field(default_factory=list)  # kept at DocuSign

    def lines(self) -> list[str]:
        changed = ", ".join(f"{label} : {n}" for label, n in self.changed.items()) or "aucune"
        return [f"Fiches concernées : {', '.join(self.people) or 'aucune'}.",
                f"Enregistrements modifiés dans la base : {changed}.",
                f"Réponses Typeform supprimées : {self.responses_deleted}.",
                f"Fichiers locaux nettoyés : {len(self.files)}.",
                f"Enveloppes DocuSign conservées (convention signée : preuve de l'engagement, supprimée selon "
                f"la durée de conservation du compte DocuSign) : {', '.join(self.envelopes) or 'aucune'}.",
                "Listes de suppression SendGrid conservées volontairement : elles empêchent qu'un email reparte "
                "vers une adresse qui a rebondi ou s'est désinscrite."]


class Eraser:
    def __init__(self, gateway: AirtableGateway, typeform: Responses, settings: Settings,
                 local_folder: Path | None = None, clock: Callable[[], dt.datetime] = utcnow):
        self.gateway = gateway
        self.typeform = typeform
        self.settings = settings
        self.local_folder = local_folder
        self.clock = clock

    def erase_email(self, email: str) -> ErasureReport:
        """The right to erasure, for one address."""
        snapshot = read_snapshot(self.gateway)
        return self.erase(snapshot, people_with(snapshot, email), search_typeform=True,
                          event="Données effacées à la demande de la personne")

    def erase(self, snapshot: Snapshot, people: Sequence[Person], search_typeform: bool, event: str,
              now: dt.datetime | None = None) -> ErasureReport:
        """Erase these people; `search_typeform` also looks their address up in every form's responses.
        `now` is the moment recorded (a scheduled run's own clock)."""
        now = now or self.clock()
        footprints = [footprint(snapshot, person) for person in people]
        report = ErasureReport(people=[p.record_id or "sans fiche" for p in people])
        report.envelopes = [p.record.envelope_id for p in people if p.record is not None and p.record.envelope_id]
        report.responses_deleted = self._delete_responses(footprints, search_typeform)
        plan = scrub_plan(snapshot, footprints, now)
        for table_key in sorted(plan.updates, key=lambda key: key in PEOPLE_TABLES):
            self.gateway.update(plan.updates[table_key])
            report.changed[base.table_label(table_key)] = len(plan.updates[table_key])
        if self.local_folder is not None:
            report.files = scrub_files(self.local_folder, people)
        self.gateway.upsert([self._entry(f, event, report, now) for f in footprints], key="external_ref")
        return report

    def _delete_responses(self, footprints: Sequence[Footprint], search: bool) -> int:
        """Their responses in every form: those the base knows, and with `search` those that
        mention their address (a response the webhook and `reconcile` both missed, a rejected one)."""
        records = [f.person.record for f in footprints if f.person.record is not None]
        own_form = {"volunteer": [r for r in records if r.table_key == "volunteers"],
                    "structure": [r for r in records if r.table_key == "structures"]}
        own = {token for f in footprints for token in f.tokens()}
        naming = [(f.related_tokens(), pattern(f.person.names())) for f in footprints]
        known = sorted(own | {token for tokens, _ in naming for token in tokens})
        deleted = 0
        for kind, form_id in self.settings.form_ids.items():
            listed = [r for start in range(0, len(known), IDS_PER_LISTING)
                      for r in self.typeform.responses(form_id, ids=known[start:start + IDS_PER_LISTING])]
            # The other side's answers stay at Typeform unless they name the person (the base keeps
            # its own copy, scrubbed).
            ids = {r["token"] for r in listed if r["token"] in own or any(
                r["token"] in tokens and names is not None and names.search(json.dumps(r, ensure_ascii=False))
                for tokens, names in naming)}
            if search:
                ids |= {r["token"] for f in footprints if f.person.email
                        for r in self.typeform.responses(form_id, query=f.person.email)}
            # responses too recent for the Responses API to list yet are deleted by their token
            ids |= {t for r in own_form.get(kind, []) for t in (r.first_token, r.typeform_token) if t}
            if ids:
                self.typeform.delete_responses(form_id, sorted(ids))
                deleted += len(ids)
        return deleted

    def _entry(self, found: Footprint, event: str, report: ErasureReport, now: dt.datetime) -> JournalEntry:
        """The trace of an erasure: the record id, or a keyed hash of an address with no record,
        so a second request for the same address lands on the same entry; never the address."""
        person = found.person
        reference = person.record_id or "adresse-" + hmac.new(self.settings.LINK_SECRET.encode(),
                                                              person.email.encode(), hashlib.sha256).hexdigest()[:16]
        detail = (f"Fiche {person.record_id or '(aucune)'} : {len(found.pairs)} binôme(s), {len(found.check_ins)} "
                  f"suivi(s), {len(found.journal)} entrée(s) du Journal nettoyées ; "
                  f"{report.responses_deleted} réponse(s) Typeform supprimée(s) pour cette demande.")
        return JournalEntry(external_ref=f"{ERASURE_TYPE}:{reference}", source=opt.JournalSource.BINOME,
                            type=ERASURE_TYPE, status=opt.JournalStatus.DONE, event=event, detail=detail,
                            received_at=now)

