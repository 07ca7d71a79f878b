"""Process one Typeform delivery: journal it, map it, write it, exactly once.

Rules (DESIGN §4): a repeated delivery is a no-op; an authentic but unusable submission is kept
(`Rejeté`, with its reason and payload); a failure of Airtable raises, so the caller answers 5xx
and Typeform (or `reconcile`) tries again — the Journal entry keyed by the response token makes
that retry safe.

A volunteer sign-up costs three requests: the Journal lookup, the upsert by email (which tells a
new volunteer from a known one) and the Journal entry. Intake writes profile fields only; a
volunteer's `Statut` belongs to the stages after it, so a second sign-up never resets it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable

from pydantic import ValidationError
from pyairtable.formulas import EQ, Field

from schemas import options as opt
from schemas.forms import FORMS, FormSpec
from schemas.records import CheckIn, Need, Pair, Structure, Volunteer
from schemas.typeform import FormResponse, WebhookPayload
from shared.airtable import AirtableGateway, AirtableRejected, AirtableUnavailable
from shared.intake import mapping
from shared.intake.mapping import IntakeRejected
from shared.journal import FINAL, Journal
from shared.settings import Settings
from shared.text import structure_key

log = logging.getLogger(__name__)
SOURCE = opt.JournalSource.TYPEFORM
KINDS = {"volunteer": "inscription bénévole", "structure": "inscription structure", "checkin": "point d'étape"}
DIFFICULT = {opt.CheckInMood.DIFFICULT.value, opt.CheckInMood.VERY_DIFFICULT.value}
LOCK_STRIPES = 64


@dataclass
class Outcome:
    status: str  # a Journal status, or "Doublon" for a delivery already handled
    detail: str
    token: str = ""

    DUPLICATE = "Doublon"


class IntakeService:
    def __init__(self, gateway: AirtableGateway, settings: Settings):
        self.gateway = gateway
        self.journal = Journal(gateway)
        self.forms: dict[str, FormSpec] = {form_id: FORMS[kind] for kind, form_id in settings.form_ids.items()}
        # Deliveries of one token are handled one at a time in this process, so concurrent
        # retries of the same delivery cannot both pass the Journal check.
        self._locks = [threading.Lock() for _ in range(LOCK_STRIPES)]

    # --- entry points -------------------------------------------------------------------------

    def receive(self, raw: bytes) -> Outcome:
        """An authenticated webhook body, as received."""
        text = raw.decode("utf-8", errors="replace")
        try:
            payload = WebhookPayload.model_validate(json.loads(raw))
        except (ValueError, ValidationError) as exc:
            reference = _token_in(raw) or "sha256:" + hashlib.sha256(raw).hexdigest()
            return self._once(reference, lambda: self._reject(
                reference, "réception", f"Contenu illisible : {_first_line(exc)}", text))
        if payload.event_type != "form_response":
            token = payload.form_response.token
            return self._once(token, lambda: self._reject(
                token, "réception", f"Événement non pris en charge : {payload.event_type}.", text))
        return self.process(payload.form_response, text)

    def process(self, response: FormResponse, raw: str, replay: bool = False) -> Outcome:
        """Handle one response, from the webhook, `reconcile`, or a coordinator's replay (which
        reprocesses an entry that ended `Rejeté` or `Erreur`)."""
        return self._once(response.token, lambda: self._handle(response, raw), check_journal=not replay)

    def _once(self, reference: str, handle: Callable[[], Outcome], check_journal: bool = True) -> Outcome:
        """Run `handle` unless the Journal says this event was already handled for good."""
        with self._locks[hash(reference) % LOCK_STRIPES]:
            if check_journal:
                entry = self.journal.find(reference)
                if entry is not None and entry.status in FINAL:
                    return Outcome(Outcome.DUPLICATE, f"Déjà traité ({entry.status}).", reference)
            return handle()

    def _handle(self, response: FormResponse, raw: str) -> Outcome:
        spec = self.forms.get(response.form_id)
        if spec is None:
            return self._reject(response.token, "réception", f"Formulaire inconnu : {response.form_id}.", raw)
        try:
            return self._apply(spec, response, raw)
        except IntakeRejected as exc:
            return self._reject(response.token, KINDS[spec.kind], exc.reason, raw)
        except AirtableRejected as exc:
            if exc.status == 422 and isinstance(exc.error, dict) and exc.error.get("type") == "ROW_DOES_NOT_EXIST":
                return self._reject(response.token, KINDS[spec.kind], "Fiche liée introuvable dans la base.", raw)
            self._record_error(response.token, KINDS[spec.kind], f"Airtable a refusé l'écriture : {exc}", raw)
            raise
        except AirtableUnavailable as exc:
            self._record_error(response.token, KINDS[spec.kind], f"Airtable indisponible : {exc}", raw)
            raise

    # --- per form -------------------------------------------------------------------------------

    def _apply(self, spec: FormSpec, response: FormResponse, raw: str) -> Outcome:
        mapper, writer = {"volunteer": (mapping.map_volunteer, self._volunteer),
                          "structure": (mapping.map_structure, self._structure),
                          "checkin": (mapping.map_checkin, self._checkin)}[spec.kind]
        mapped = mapper(response, spec)
        status, event, detail = writer(mapped, response)
        if mapped.notes:
            detail += " " + " ".join(mapped.notes)
        self.journal.record(response.token, SOURCE, KINDS[spec.kind], status, event, detail, raw)
        log.info("typeform %s: %s", response.token, status.value)
        return Outcome(status.value, detail, response.token)

    def _volunteer(self, mapped: mapping.Mapped, response: FormResponse) -> tuple[opt.JournalStatus, str, str]:
        volunteer: Volunteer = mapped.record
        result = self.gateway.upsert([volunteer], key="email")
        name = f"{volunteer.first_name} {volunteer.last_name[:1]}.".strip()
        if result.created:
            status, detail = opt.JournalStatus.DONE, f"Nouvelle inscription ({result.created[0]})."
        else:
            status, detail = opt.JournalStatus.UPDATED, (f"Déjà inscrit·e : fiche {result.updated[0]} mise à jour, "
                                                         "aucune nouvelle fiche créée.")
        return status, f"Inscription bénévole : {name}", detail

    def _structure(self, mapped: mapping.Mapped, response: FormResponse) -> tuple[opt.JournalStatus, str, str]:
        structure: Structure = mapped.record
        key = structure_key(structure.name)
        neighbours = self.gateway.all(Structure, formula=EQ(Field(Structure.label("postcode")), structure.postcode),
                                      fields=["name", "email", "postcode"])
        twins = [s for s in neighbours if s.email != structure.email and structure_key(s.name) == key]
        if twins:
            structure.duplicate_of = "Doublon probable de : " + ", ".join(f"{s.name} ({s.record_id})" for s in twins)
        result = self.gateway.upsert([structure], key="email")
        structure_id = (result.created or result.updated)[0]
        prefix = "".join(word[0] for word in key.split()[:4]).upper() or "S"
        needs = [Need(reference=f"{prefix}-{response.token[:6]}-{n}", structure=[structure_id], level=d.level,
                      subjects=d.subjects, slots=d.slots, mode=d.mode, difficulties=d.difficulties,
                      status=opt.NeedStatus.OPEN)
                 for n, d in enumerate(mapped.needs, start=1)]
        self.gateway.upsert(needs, key="reference")  # keyed by token: a retry cannot add them twice
        status = opt.JournalStatus.DONE if result.created else opt.JournalStatus.UPDATED
        detail = f"{len(needs)} besoin(s) créé(s) : {', '.join(n.reference for n in needs)}."
        if result.updated:
            detail = f"Structure déjà connue ({structure_id}), fiche mise à jour. " + detail
        if twins:
            detail += f" {structure.duplicate_of}."
        return status, f"Inscription structure : {structure.name}", detail

    def _checkin(self, mapped: mapping.Mapped, response: FormResponse) -> tuple[opt.JournalStatus, str, str]:
        check_in: CheckIn = mapped.record
        self.gateway.upsert([check_in], key="title")
        alert = ""
        if check_in.needs_help or check_in.mood in DIFFICULT:
            alert = f"Point du {check_in.date:%d/%m/%Y} : {check_in.mood or ''}" + \
                    (" — besoin d'aide demandé" if check_in.needs_help else "")
        changes: dict[str, Any] = {Pair.label("last_check_in"): check_in.date.isoformat()}  # type: ignore[union-attr]
        if alert:
            changes[Pair.label("alert")] = alert
            changes[Pair.label("status")] = opt.PairStatus.AT_RISK.value
        self.gateway.update(Pair, [{"id": check_in.pair[0], "fields": changes}])
        detail = "Point d'étape enregistré." + (f" Alerte : {alert}." if alert else "")
        return opt.JournalStatus.DONE, f"Point d'étape ({check_in.author or 'inconnu'})", detail

    # --- journaling -----------------------------------------------------------------------------

    def _reject(self, token: str, kind: str, reason: str, raw: str) -> Outcome:
        self.journal.record(token, SOURCE, kind, opt.JournalStatus.REJECTED, f"Réponse rejetée ({kind})", reason, raw)
        log.warning("typeform %s rejected: %s", token, kind)
        return Outcome(opt.JournalStatus.REJECTED.value, reason, token)

    def _record_error(self, token: str, kind: str, reason: str, raw: str) -> None:
        """Best effort: with Airtable down, the entry cannot be written either; the retry will."""
        try:
            self.journal.record(token, SOURCE, kind, opt.JournalStatus.ERROR, f"Échec de traitement ({kind})",
                                reason, raw)
        except (AirtableUnavailable, AirtableRejected):
            log.error("typeform %s: could not journal the failure", token)


def _token_in(raw: bytes) -> str | None:
    """The response token of a body that is JSON but not a valid payload, if it has one."""
    try:
        token = json.loads(raw)["form_response"]["token"]
    except (ValueError, KeyError, TypeError):
        return None
    return token if isinstance(token, str) and token else None


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300]
