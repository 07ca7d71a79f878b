"""`choose_mentor`: a structure chooses a suggested mentor; the mentor accepts or declines.

Links are signed (purpose-bound, expiring) and name the records they act on. Opening a link shows a
page; only its button's POST changes anything, and doing it twice changes nothing more.

Airtable has no transactions, so a place is kept by writing, then checking: the choice creates the
binôme « Proposé » (upserted on need and mentor, so a double click makes one), then reads the
mentor's and the need's live binômes; where there are more than places, the first created keep
them (`pairs.winners`: the same answer in every process) and the others cancel themselves. The loser
sees the need's remaining suggestions. The winner's mentor is emailed to accept or decline within
72 hours; on accept both sides get each other's contact details; on decline, or silence, the
structure is told and the need goes back to suggestions.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Callable

from pyairtable.formulas import EQ, Field

from schemas import options as opt
from schemas.records import Need, Pair, Structure, Volunteer
from shared.airtable import AirtableGateway, AirtableRejected
from shared.airtable.diff import update_of
from shared.claims import Job, claim
from shared.clock import PARIS
from shared.clock import now as utcnow
from shared.geo import Band
from shared.links import LinkRefused, Links
from shared.mail.message import Email, MailError, Mailer
from shared.mail.templates import render
from shared.matching.engine import lower_day
from shared.matching.places import band_of, place_of
from shared.matching.suggestions import CHOICE, CHOICE_LINK_DAYS, SuggestionService
from shared.pages import message, page
from shared.pairs import LIVE, move, winners

log = logging.getLogger(__name__)
ANSWER = "réponse"
ANSWER_WITHIN = dt.timedelta(hours=72)
ANSWER_LINK_SECONDS = int((ANSWER_WITHIN + dt.timedelta(hours=24)).total_seconds())
WAITING = {opt.NeedStatus.OPEN.value, opt.NeedStatus.SUGGESTED.value, opt.NeedStatus.NO_MATCH.value}


@dataclass
class Page:
    status: int
    html: str


class ChoiceService:
    def __init__(self, gateway: AirtableGateway, mailer: Mailer, links: Links, suggestions: SuggestionService,
                 clock: Callable[[], dt.datetime] = utcnow):
        self.gateway = gateway
        self.mailer = mailer
        self.links = links
        self.suggestions = suggestions
        self.clock = clock

    # --- the structure chooses --------------------------------------------------------------

    def show_choice(self, token: str) -> Page:
        try:
            need, volunteer, structure = self._choice(token)
        except LinkRefused as exc:
            return Page(400, message("Choix d'un·e bénévole", str(exc)))
        if self._live(need):
            return Page(200, message("Déjà choisi", f"Un·e bénévole est déjà choisi·e pour l'élève {need.reference}."))
        return Page(200, page("choice", title=f"Choisir {volunteer.first_name}", need=need,
                              mentor=self._card(need, volunteer, structure), token=token))

    def choose(self, token: str) -> Page:
        try:
            need, volunteer, structure = self._choice(token)
        except LinkRefused as exc:
            return Page(400, message("Choix d'un·e bénévole", str(exc)))
        live = self._live(need)
        mine = [p for p in live if volunteer.record_id in p.volunteer]
        if live and not mine:
            return Page(200, message("Déjà choisi", f"Un·e bénévole est déjà choisi·e pour l'élève {need.reference}."))
        if need.status not in WAITING and not mine:
            return Page(200, message("Choix impossible", f"L'élève {need.reference} n'attend plus de bénévole."))
        outcome = self.take(need, volunteer, structure)
        if outcome is None:
            return Page(409, page("taken", title="Place déjà prise", need=need, first_name=volunteer.first_name,
                                  others=self._remaining(need, volunteer, structure)))
        return Page(200, message("Merci, c'est noté",
                                 f"{volunteer.first_name} est prévenu·e et a 72 heures pour confirmer. Vous recevrez "
                                 f"ses coordonnées dès sa réponse ; sinon, d'autres suggestions pour l'élève "
                                 f"{need.reference}."))

    def take(self, need: Need, volunteer: Volunteer, structure: Structure) -> Pair | None:
        """Propose the binôme and keep the place if it is still there (None: someone was first);
        the mentor is then asked. Used by the structure's click and by a published proposal."""
        now = self.clock()
        pair = self.gateway.upsert([Pair(
            key=f"{need.record_id}:{volunteer.record_id}", name=f"{volunteer.first_name} × {need.reference}",
            need=[need.record_id or ""], volunteer=[volunteer.record_id or ""], structure=[structure.record_id or ""],
            status=opt.PairStatus.PROPOSED, known_status=opt.PairStatus.PROPOSED, proposed_at=now,
            answer_before=now + ANSWER_WITHIN)], key="key").records[0]
        if not self._keeps_its_place(pair, need, volunteer):
            lost = move(pair, opt.PairStatus.CANCELLED, reason=opt.PairReason.TAKEN)
            if lost is not None:
                self.gateway.update([lost])
            return None
        status = update_of(need, {"status": opt.NeedStatus.CHOSEN})
        if status is not None:
            self.gateway.update([status])
        self._propose(pair, need, volunteer, structure)
        return pair

    def _choice(self, token: str) -> tuple[Need, Volunteer, Structure]:
        claims = self.links.read(CHOICE, token, max_age=CHOICE_LINK_DAYS * 86400)
        need = self._get(Need, claims.get("n"))
        if claims.get("s") not in need.structure:
            raise LinkRefused("Ce lien ne concerne pas un élève de votre structure.")
        return need, self._get(Volunteer, claims.get("v")), self._get(Structure, claims.get("s"))

    def _get(self, model: Any, record_id: Any) -> Any:
        try:
            return self.gateway.get(model, str(record_id or ""))
        except AirtableRejected:
            raise LinkRefused("Ce lien renvoie à une fiche qui n'existe plus.") from None

    def _pairs(self, ids: list[str]) -> list[Pair]:
        return self.gateway.by_ids(Pair, ids)

    def _live(self, need: Need) -> list[Pair]:
        return [p for p in self._pairs(list(need.pair)) if p.status in LIVE]

    def _keeps_its_place(self, pair: Pair, need: Need, volunteer: Volunteer) -> bool:
        """Read again, after the write: within the mentor's places and the need's one place?"""
        need = self.gateway.get(Need, need.record_id or "")
        volunteer = self.gateway.get(Volunteer, volunteer.record_id or "")
        live = {p.record_id: p for p in self._pairs(sorted(set(need.pair) | set(volunteer.pairs))) if p.status in LIVE}
        of_mentor = [p for p in live.values() if volunteer.record_id in p.volunteer]
        of_need = [p for p in live.values() if need.record_id in p.need]
        return pair.record_id in {p.record_id for p in winners(of_mentor, volunteer.capacity or 1)} and \
            pair.record_id in {p.record_id for p in winners(of_need, 1)}

    def _remaining(self, need: Need, taken: Volunteer, structure: Structure) -> list[dict[str, Any]]:
        others = [v for v in need.suggested_mentors if v != taken.record_id]
        volunteers = self.gateway.by_ids(Volunteer, others)
        return [{"first_name": v.first_name, "link": self.links.url(
            "choose_mentor", CHOICE, {"n": need.record_id, "v": v.record_id, "s": structure.record_id})}
            for v in volunteers]

    def _card(self, need: Need, volunteer: Volunteer, structure: Structure) -> dict[str, Any]:
        band = band_of(place_of(structure.postcode, structure.town), place_of(volunteer.postcode, volunteer.town))
        slots = [s for s in volunteer.slots if s in need.slots]
        return {"first_name": volunteer.first_name, "levels": ", ".join(volunteer.levels),
                "subjects": ", ".join(s for s in volunteer.subjects if s in need.subjects) or ", ".join(volunteer.subjects),
                "slots": ", ".join(lower_day(s) for s in slots), "mode": volunteer.mode or "", "band": Band(band).label}

    def _propose(self, pair: Pair, need: Need, volunteer: Volunteer, structure: Structure) -> None:
        [job] = claim(self.gateway, [Job(f"proposition:{pair.record_id}", f"Proposition à {volunteer.first_name}")])
        if not job.owned:
            return
        link = self.links.url("choose_mentor", ANSWER, {"p": pair.record_id, "v": volunteer.record_id})
        rendered = render("mentor_proposal", mentor=volunteer, need=need, structure=structure, link=link,
                          deadline=f"{(pair.answer_before or self.clock()).astimezone(PARIS):%d/%m à %Hh%M}")
        self._send(volunteer.email, volunteer.full_name, rendered, "proposition", pair)

    # --- the mentor answers -----------------------------------------------------------------

    def show_answer(self, token: str) -> Page:
        try:
            pair, need, volunteer, structure = self._answer_of(token)
        except LinkRefused as exc:
            return Page(400, message("Votre réponse", str(exc)))
        if pair.status != opt.PairStatus.PROPOSED:
            return Page(200, message("Déjà répondu", f"Cette proposition est « {pair.status} » : rien à faire."))
        return Page(200, page("answer", title="Une structure vous a choisi·e", need=need, structure=structure,
                              mentor=volunteer, token=token,
                              reasons=[r.value for r in (opt.PairReason.UNAVAILABLE, opt.PairReason.NOT_A_FIT,
                                                         opt.PairReason.OTHER)]))

    def answer(self, token: str, accept: bool, reason: str = "", detail: str = "") -> Page:
        try:
            pair, need, volunteer, structure = self._answer_of(token)
        except LinkRefused as exc:
            return Page(400, message("Votre réponse", str(exc)))
        confirmed = message("Merci !", f"Le binôme est confirmé. Vous recevez par email les coordonnées de "
                            f"{structure.name}, qui reçoit les vôtres.")
        if accept and pair.status == opt.PairStatus.ACTIVE and need.status == opt.NeedStatus.CHOSEN:
            # An acceptance interrupted after its first write (the binôme): the click again finishes it.
            self._accept(pair, need, volunteer, structure)
            return Page(200, confirmed)
        if pair.status != opt.PairStatus.PROPOSED:
            return Page(200, message("Déjà répondu", f"Cette proposition est « {pair.status} » : rien n'a changé."))
        if pair.answer_before and self.clock() > pair.answer_before:
            return Page(410, message("Délai dépassé", "Le délai de 72 heures est passé : la structure a reçu "
                                     "d'autres suggestions. Merci tout de même !"))
        if accept:
            self._accept(pair, need, volunteer, structure)
            return Page(200, confirmed)
        chosen = next((r for r in opt.PairReason if r.value == reason), opt.PairReason.OTHER)
        self.decline(pair, need, volunteer, structure, chosen, detail)
        return Page(200, message("C'est noté", "Merci d'avoir répondu : la structure va choisir un·e autre bénévole."))

    def _answer_of(self, token: str) -> tuple[Pair, Need, Volunteer, Structure]:
        claims = self.links.read(ANSWER, token, max_age=ANSWER_LINK_SECONDS)
        pair = self._get(Pair, claims.get("p"))
        if claims.get("v") not in pair.volunteer:
            raise LinkRefused("Ce lien ne vous est pas destiné.")
        return (pair, self._get(Need, pair.need[0] if pair.need else ""), self._get(Volunteer, claims.get("v")),
                self._get(Structure, pair.structure[0] if pair.structure else ""))

    def _accept(self, pair: Pair, need: Need, volunteer: Volunteer, structure: Structure) -> None:
        today = self.clock().astimezone(PARIS).date()
        updates: list[Any] = [move(pair, opt.PairStatus.ACTIVE, started_on=today)]
        updates.append(update_of(need, {"status": opt.NeedStatus.MATCHED}))
        if volunteer.status in (None, opt.VolunteerStatus.REGISTERED, opt.VolunteerStatus.AGREEMENT_SENT,
                                opt.VolunteerStatus.AVAILABLE):
            updates.append(update_of(volunteer, {"status": opt.VolunteerStatus.PAIRED}))
        for update in updates:
            if update is not None:
                self.gateway.update([update])
        [job] = claim(self.gateway, [Job(f"coordonnees:{pair.record_id}", f"Binôme confirmé : {pair.name}")])
        if job.owned:
            self._send(structure.email, structure.contact, render(
                "pair_confirmed_structure", structure=structure, mentor=volunteer, need=need), "binome", pair)
            self._send(volunteer.email, volunteer.full_name, render(
                "pair_confirmed_mentor", structure=structure, mentor=volunteer, need=need), "binome", pair)

    def decline(self, pair: Pair, need: Need, volunteer: Volunteer, structure: Structure, reason: opt.PairReason,
                detail: str = "") -> None:
        """Declined or unanswered: the structure is told, the need goes back to suggestions."""
        update = move(pair, opt.PairStatus.CANCELLED, reason=reason, reason_detail=detail[:1000])
        if update is not None:
            self.gateway.update([update])
        need_update = update_of(need, {"status": opt.NeedStatus.OPEN,
                                       "suggested_mentors": [v for v in need.suggested_mentors
                                                             if v != volunteer.record_id]})
        if need_update is not None:
            self.gateway.update([need_update])
        [job] = claim(self.gateway, [Job(f"refus:{pair.record_id}", f"Binôme non conclu : {pair.name}")])
        if job.owned:
            self._send(structure.email, structure.contact, render(
                "pair_declined", structure=structure, mentor=volunteer, need=need, reason=reason.value),
                "binome-non-conclu", pair)
        self.suggestions.suggest_one(need.record_id or "")  # the cascade: new suggestions, emailed

    def expire(self) -> int:
        """Proposals unanswered after 72 hours: cancelled, the structure told (the daily run)."""
        now = self.clock()
        proposed = self.gateway.all(Pair, formula=EQ(Field(Pair.label("status")), opt.PairStatus.PROPOSED.value))
        late = [p for p in proposed if p.answer_before and p.answer_before < now]
        for pair in late:
            need = self.gateway.get(Need, pair.need[0])
            volunteer = self.gateway.get(Volunteer, pair.volunteer[0])
            structure = self.gateway.get(Structure, pair.structure[0])
            self.decline(pair, need, volunteer, structure, opt.PairReason.NO_ANSWER)
        return len(late)

    def _send(self, to: str, name: str, rendered: Any, category: str, pair: Pair) -> None:
        try:
            self.mailer.send(Email(to=to, to_name=name, subject=rendered.subject, html=rendered.html,
                                   text=rendered.text, custom_args={"binome_email": category,
                                                                    "binome_pair": pair.record_id or ""},
                                   category=category))
        except MailError as exc:
            log.warning("%s email for %s not sent: %s", category, pair.record_id, exc)

