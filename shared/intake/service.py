"""Process one Typeform delivery: map it, write it, journal it, exactly once.

Rules (DESIGN §4): a repeated delivery is a no-op; an authentic but unusable submission is kept
(`Rejeté`, with its reason and payload); a failure of Airtable raises, so the caller answers 5xx
and Typeform (or `reconcile`) tries again.

Sign-ups decide "new or known" and "already applied" from the person's record itself (see
`signups`), which also tells which fields changed: a volunteer sign-up costs three requests (read
the record, write what changed with what the sign-up owes the person, write the Journal entry),
plus onboarding's: a new volunteer's sends are claimed by the record's creation, so one request
(record their outcome); a known volunteer's or a structure's two (claim the sends, record their
outcome; see `shared.onboarding`). Check-ins
and rejections look the Journal up first. Every write is idempotent — people upserted by email, needs by their key, check-ins by
their token, the Journal by the response token — so two processes handling the same response (the
webhook and `reconcile`, two instances on a retry) end in the same base as one would. The striped
lock only saves work when retries of one response meet in one process.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass

from pydantic import ValidationError
from pyairtable.formulas import EQ, OR, Field

from schemas import options as opt
from schemas.forms import FORMS, FormSpec
from schemas.records import CheckIn, Need, Pair, Structure, Volunteer
from schemas.typeform import FormResponse, WebhookPayload
from shared import jsonbody
from shared.airtable import AirtableGateway, AirtableRejected, AirtableUnavailable
from shared.errors import BinomeError
from shared.intake import mapping
from shared.intake.mapping import IntakeRejected
from shared.clock import now
from shared.intake.signups import R, SignUp, TwinRecords, plan_sign_up
from shared.journal import FINAL, Journal
from shared.onboarding.rules import sign_up_intents
from shared.onboarding.service import OnboardingService
from shared.pairs import OVER, after_check_in, alert_for, is_worrying
from shared.settings import Settings
from shared.text import structure_key

log = logging.getLogger(__name__)
SOURCE = opt.JournalSource.TYPEFORM
KINDS = {"volunteer": "inscription bénévole", "structure": "inscription structure", "checkin": "point d'étape"}
LOCK_STRIPES = 64
MAX_SAME_EMAIL = 3  # enough to name the twins a coordinator must merge


@dataclass
class Outcome:
    status: str  # a Journal status, or "Doublon" for a delivery already handled
    detail: str
    token: str = ""

    DUPLICATE = "Doublon"


@dataclass
class Applied:
    status: opt.JournalStatus
    event: str
    detail: str


class AlreadyHandled(BinomeError):
    """The Journal says this response was handled for good: nothing more to do."""

    def __init__(self, status: str):
        super().__init__(f"Déjà traité ({status}).")


class IntakeService:
    def __init__(self, gateway: AirtableGateway, settings: Settings, onboarding: OnboardingService):
        self.gateway = gateway
        self.journal = Journal(gateway)
        self.onboarding = onboarding
        self.alerts = onboarding.alerts
        self.forms: dict[str, FormSpec] = {form_id: FORMS[kind] for kind, form_id in settings.form_ids.items()}
        self._locks = [threading.Lock() for _ in range(LOCK_STRIPES)]

    # --- entry points -------------------------------------------------------------------------

    def receive(self, raw: bytes) -> Outcome:
        """An authenticated webhook body, as received."""
        text = raw.decode("utf-8", errors="replace")
        try:
            payload = WebhookPayload.model_validate(jsonbody.loads(raw))
        except (ValueError, ValidationError) as exc:
            reference = _token_in(raw) or "sha256:" + hashlib.sha256(raw).hexdigest()
            return self._reject(reference, "réception", f"Contenu illisible : {_first_line(exc)}", text)
        if payload.event_type != "form_response":
            # Journaled under a reference of its own: the response's token stays free for the
            # real submission, which must not be taken for a repeat of this event.
            reference = f"{payload.event_type}:{payload.form_response.token}"
            return self._reject(reference, "réception", f"Événement non pris en charge : {payload.event_type}.", text)
        return self.process(payload.form_response, text)

    def process(self, response: FormResponse, raw: str, replay: bool = False) -> Outcome:
        """Handle one response, from the webhook, `reconcile`, or a replay (a coordinator's, or
        `reconcile` retrying an entry that ended « Erreur »), which skips the repeat checks."""
        with self._locks[hash(response.token) % LOCK_STRIPES]:
            return self._process(response, raw, replay)

    def _process(self, response: FormResponse, raw: str, replay: bool) -> Outcome:
        spec = self.forms.get(response.form_id)
        if spec is None:
            return self._reject(response.token, "réception", f"Formulaire inconnu : {response.form_id}.", raw, replay)
        kind = KINDS[spec.kind]
        try:
            applied = self._apply(spec, response, replay)
        except AlreadyHandled as exc:
            return Outcome(Outcome.DUPLICATE, str(exc), response.token)
        except IntakeRejected as exc:
            return self._reject(response.token, kind, exc.reason, raw, replay)
        except TwinRecords as exc:
            return self._twins(response.token, kind, exc, raw, replay)
        except AirtableRejected as exc:
            self._record_error(response.token, kind, f"Airtable a refusé l'écriture : {exc}", raw)
            raise
        except AirtableUnavailable as exc:
            self._record_error(response.token, kind, f"Airtable indisponible : {exc}", raw)
            raise
        self.journal.record(response.token, SOURCE, kind, applied.status, applied.event, applied.detail, raw)
        log.info("typeform %s: %s", response.token, applied.status.value)
        return Outcome(applied.status.value, applied.detail, response.token)

    def _apply(self, spec: FormSpec, response: FormResponse, replay: bool) -> Applied:
        if spec.kind == "volunteer":
            mapped = mapping.map_volunteer(response, spec)
            applied = self._volunteer(mapped.record, response, replay)
        elif spec.kind == "structure":
            mapped = mapping.map_structure(response, spec)
            applied = self._structure(mapped, response, replay)
        else:
            mapped = mapping.map_checkin(response, spec)
            applied = self._checkin(mapped.record, response, replay)
        if mapped.notes:
            applied.detail += " " + " ".join(mapped.notes)
        return applied

    def _stop_if_handled(self, token: str, replay: bool) -> None:
        if not replay and (entry := self.journal.find(token)) is not None and entry.status in FINAL:
            raise AlreadyHandled(entry.status)

    # --- per form -------------------------------------------------------------------------------

    def _volunteer(self, volunteer: Volunteer, response: FormResponse, replay: bool) -> Applied:
        existing = self.gateway.all(Volunteer, formula=email_is(Volunteer, volunteer.email),
                                    max_records=MAX_SAME_EMAIL)
        plan = with_owed_sends(plan_sign_up(volunteer, existing, response.token, response.submitted_at), response.token)
        if not plan.writes:
            self._stop_if_handled(response.token, replay)
        person, created = self._write(plan)
        self.onboarding.after_sign_up(person, created=created)
        name = f"{volunteer.first_name} {volunteer.last_name[:1]}.".strip()
        return Applied(journal_status(plan), f"Inscription bénévole : {name}",
                       sign_up_detail(plan, person.record_id or ""))

    def _structure(self, mapped: mapping.Mapped, response: FormResponse, replay: bool) -> Applied:
        structure: Structure = mapped.record
        key = structure_key(structure.name)
        nearby = self.gateway.all(Structure, formula=OR(email_is(Structure, structure.email),
                                                        EQ(Field(Structure.label("postcode")), structure.postcode)))
        twins = [s for s in nearby if s.email != structure.email and s.postcode == structure.postcode
                 and structure_key(s.name) == key]
        if twins:
            structure.duplicate_of = "Doublon probable de : " + ", ".join(f"{s.name} ({s.record_id})" for s in twins)
        same_email = [s for s in nearby if s.email == structure.email][:MAX_SAME_EMAIL]
        plan = with_owed_sends(plan_sign_up(structure, same_email, response.token, response.submitted_at),
                               response.token)
        if not plan.writes:
            self._stop_if_handled(response.token, replay)
        person, _ = self._write(plan)
        structure_id = person.record_id or ""
        needs = need_records(mapped.needs, key, structure_id, response.token)
        written = self.gateway.upsert(needs, key="key")  # keyed by response and rank: a retry cannot add them twice
        self.onboarding.after_sign_up(person, written.records)  # its sends are claimed in the Journal
        detail = (f"{len(needs)} besoin(s) : {', '.join(n.reference for n in needs)}. "
                  + sign_up_detail(plan, structure_id))
        if twins:
            detail += f" {structure.duplicate_of}."
        return Applied(journal_status(plan), f"Inscription structure : {structure.name}", detail)

    def _checkin(self, check_in: CheckIn, response: FormResponse, replay: bool) -> Applied:
        self._stop_if_handled(response.token, replay)
        try:
            pair = self.gateway.get(Pair, check_in.pair[0])
        except AirtableRejected as exc:
            if exc.status in (403, 404):
                raise IntakeRejected(f"Binôme introuvable : {check_in.pair[0]}.") from None
            raise
        self.gateway.upsert([check_in], key="typeform_token")
        changes = after_check_in(pair, check_in)
        if changes is not None:
            self.gateway.update([changes])
        return Applied(opt.JournalStatus.DONE, f"Point d'étape ({check_in.author or 'inconnu'})",
                       check_in_detail(pair, check_in))

    def _write(self, plan: SignUp[R]) -> tuple[R, bool]:
        """Write what the plan says; the person's record as it now stands, and whether this
        request created it (its process then owns the sends the creation claimed)."""
        if plan.create is not None:
            # An upsert, not a create: had another process created this person meanwhile,
            # Airtable merges into that record instead of making a twin.
            outcome = self.gateway.upsert([plan.create], key="email")
            return outcome.records[0], outcome.records[0].record_id in outcome.created
        if plan.update is not None:
            return self.gateway.update([plan.update])[0], False
        assert plan.current is not None
        return plan.current, False

    # --- journaling -----------------------------------------------------------------------------

    def _reject(self, reference: str, kind: str, reason: str, raw: str, replay: bool = False) -> Outcome:
        try:
            self._stop_if_handled(reference, replay)
        except AlreadyHandled as exc:
            return Outcome(Outcome.DUPLICATE, str(exc), reference)
        self.journal.record(reference, SOURCE, kind, opt.JournalStatus.REJECTED, f"Réponse rejetée ({kind})",
                            reason, raw)
        log.warning("typeform %s rejected: %s", reference, kind)
        return Outcome(opt.JournalStatus.REJECTED.value, reason, reference)

    def _twins(self, token: str, kind: str, twins: TwinRecords, raw: str, replay: bool) -> Outcome:
        reason = (f"{twins} Fusionnez-les (ou corrigez l'adresse de l'une) puis rejouez cette réponse : "
                  "elle n'a été appliquée à aucune des deux.")
        self.alerts.raise_once(f"doublon:{'+'.join(sorted(twins.record_ids))}",
                               f"Fiches en double ({kind})", reason)
        return self._reject(token, kind, reason, raw, replay)

    def _record_error(self, token: str, kind: str, reason: str, raw: str) -> None:
        """Best effort: with Airtable down, the entry cannot be written either; the retry will."""
        try:
            previous = self.journal.find(token)
            attempts = (previous.attempts or 0) + 1 if previous is not None else 1
            self.journal.record(token, SOURCE, kind, opt.JournalStatus.ERROR, f"Échec de traitement ({kind})",
                                reason, raw, attempts=attempts)
        except (AirtableUnavailable, AirtableRejected):
            log.error("typeform %s: could not journal the failure", token)


def need_records(pupils: list[Need], key: str, structure_id: str, token: str) -> list[Need]:
    """One `Besoins` record per pupil. `Clé` (the response's token and the pupil's rank) identifies
    it; `Référence` is what people read: initials of the structure, a few characters, the rank."""
    prefix = "".join(word[0] for word in key.split()[:4]).upper() or "S"
    return [pupil.model_copy(update={"key": f"{token}-{n}", "reference": f"{prefix}-{token[:6]}-{n}",
                                     "structure": [structure_id], "status": opt.NeedStatus.OPEN})
            for n, pupil in enumerate(pupils, start=1)]


def check_in_detail(pair: Pair, check_in: CheckIn) -> str:
    """What a check-in did, from facts that stay true on a retry (not from what was written)."""
    assert check_in.date is not None
    detail = "Point d'étape enregistré."
    if pair.status in OVER:
        return detail + f" Binôme « {pair.status} » : inchangé."
    if pair.last_check_in is not None and check_in.date < pair.last_check_in:
        return detail + " Point plus ancien que le dernier suivi : binôme inchangé."
    return detail + (f" Alerte : {alert_for(check_in)}." if is_worrying(check_in) else "")


def with_owed_sends(plan: SignUp[R], token: str) -> SignUp[R]:
    """The plan, writing also what the sign-up owes the person (see `onboarding.rules`)."""
    return plan.with_intents(sign_up_intents(plan.new, plan.current, token, now()))


def email_is(model: type[Volunteer] | type[Structure], email: str) -> EQ:
    return EQ(Field(model.label("email")), email)


def journal_status(plan: SignUp[R]) -> opt.JournalStatus:
    return opt.JournalStatus.DONE if plan.new else opt.JournalStatus.UPDATED


def sign_up_detail(plan: SignUp[R], record_id: str) -> str:
    """What the sign-up did, from the record's durable state, so a retry says the same."""
    if plan.new:
        return f"Nouvelle inscription ({record_id})."
    if plan.stale:
        return f"Déjà inscrit·e : fiche {record_id} inchangée, elle tient une réponse plus récente."
    return f"Déjà inscrit·e : fiche {record_id} mise à jour avec cette réponse, aucune nouvelle fiche créée."


def _token_in(raw: bytes) -> str | None:
    """The response token of a body that is JSON but not a valid payload, if it has one."""
    try:
        token = jsonbody.loads(raw)["form_response"]["token"]
    except (ValueError, KeyError, TypeError):
        return None
    return token if isinstance(token, str) and token else None


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300]
