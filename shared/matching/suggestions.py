"""`suggest_mentors`: compute suggestions, write back only what changed, tell structures.

For all waiting needs (the scheduler) or one (an Airtable automation when a need appears). The
base is read in four paged requests — for one need, from a snapshot at most ten minutes old plus
the need itself. A need's current list is kept while every mentor in it still fits and it is
within 5 % of the fresh list (so a day of small changes rewrites few needs); otherwise
`Mentors suggérés`, `Explications` and `Suggestions calculées le` are written, 10 needs a request.
Each structure then gets one email listing its needs' new suggestions — a mentor's first name,
levels, subjects, slots, mode and distance band, never a contact — with one signed link per
suggestion to choose.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from schemas import options as opt
from schemas.records import Need, Pair, Structure
from shared.airtable import AirtableGateway
from shared.airtable.diff import update_of
from shared.claims import Job, claim
from shared.clock import now as utcnow
from shared import geo
from shared.geo import Band
from shared.links import Links
from shared.mail.message import Email, MailError, Mailer
from shared.mail.templates import render
from shared.matching import engine
from shared.matching.engine import lower_day
from shared.matching.model import Mentor, NoFit, Result, Shortage, Suggestion
from shared.matching.snapshot import Snapshot, read

log = logging.getLogger(__name__)
CHOICE = "choix"
CHOICE_LINK_DAYS = 14
SNAPSHOT_FRESH_FOR = dt.timedelta(minutes=10)


@dataclass
class SuggestReport:
    needs: int = 0
    written: int = 0
    kept: int = 0
    no_fit: int = 0
    explained: int = 0  # needs without fit whose explanation was (re)written
    emails: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    shortage: list[Shortage] = field(default_factory=list)

    def line(self) -> str:
        return (f"{self.needs} besoin(s) examiné(s) : {self.written} liste(s) écrite(s), {self.kept} gardée(s), "
                f"{self.no_fit} sans solution ({self.explained} explication(s) écrite(s)) ; {self.emails} email(s) "
                "aux structures.")


class SuggestionService:
    def __init__(self, gateway: AirtableGateway, mailer: Mailer, links: Links, k: int = engine.K,
                 clock: Callable[[], dt.datetime] = utcnow):
        self.gateway = gateway
        self.mailer = mailer
        self.links = links
        self.k = k
        self.clock = clock
        self._snapshot: Snapshot | None = None
        self._pool: engine.Pool | None = None
        self._pool_of: list[Mentor] | None = None  # the list the pool was last checked against

    def snapshot(self, fresh: bool = False) -> Snapshot:
        now = self.clock()
        if fresh or self._snapshot is None or self._snapshot.read_at is None \
                or now - self._snapshot.read_at > SNAPSHOT_FRESH_FOR:
            self._snapshot = read(self.gateway, now)
        return self._snapshot

    def suggest_all(self) -> SuggestReport:
        snap = self.snapshot(fresh=True)
        return self._suggest(snap, snap.waiting_needs(), capacity_aware=True)

    def suggest_one(self, need_id: str) -> SuggestReport:
        snap = self.snapshot()
        need = self.gateway.get(Need, need_id)  # the need and its binômes as they are now
        snap.needs[need_id] = need
        if need.pair:
            snap.refresh_pairs(self.gateway.by_ids(Pair, need.pair))
        if need.structure and need.structure[0] not in snap.structures:
            snap.structures[need.structure[0]] = self.gateway.get(Structure, need.structure[0])
        return self._suggest(snap, [n for n in snap.waiting_needs() if n.record_id == need_id], capacity_aware=False)

    # --- computing and writing --------------------------------------------------------------

    def _suggest(self, snap: Snapshot, needs: list[Need], capacity_aware: bool) -> SuggestReport:
        report = SuggestReport(needs=len(needs))
        if not needs:
            return report
        mentors = snap.mentors()
        today = self.clock().date()
        pupils = [snap.pupil(n) for n in needs]
        pool = engine.Pool.build(mentors, pupils, today) if capacity_aware else self._mentor_pool(mentors, today) \
            .with_needs(pupils)
        current = [n.suggested_mentors if n.status == opt.NeedStatus.SUGGESTED else [] for n in needs]
        result = engine.compute(pool, k=self.k, capacity_aware=capacity_aware, today=today, current=current)
        if not capacity_aware:
            result = self._spread(snap, mentors, result)
        report.shortage = engine.shortage(pupils, list(result.no_fit))
        changed: list[tuple[Need, list[Suggestion]]] = []
        updates = []
        by_id = {m.id: m for m in mentors}
        index = {m.id: i for i, m in enumerate(pool.mentors)}
        for n, need in enumerate(needs):
            suggestions = result.suggestions.get(need.record_id or "")
            no_fit = result.no_fit.get(need.record_id or "")
            if suggestions and self._still_good(pool, index, n, need, suggestions):
                report.kept += 1
                continue
            if no_fit is not None:
                report.no_fit += 1
                report.reasons[no_fit.kind] = report.reasons.get(no_fit.kind, 0) + 1
            values = written_values(suggestions, no_fit, by_id)
            if no_fit is not None and need.status == opt.NeedStatus.NO_MATCH \
                    and uncounted(need.explanations) == uncounted(values["explanations"]):
                continue  # the same reason: only its counts moved
            update = update_of(need, values)
            if update is None:
                continue
            updates.append(update.model_copy(update={"suggested_at": self.clock()}))
            if suggestions:
                report.written += 1
                changed.append((need, suggestions))
            else:
                report.explained += 1
        self.gateway.update(updates)
        report.emails = self._notify(snap, changed, by_id)
        return report

    def _mentor_pool(self, mentors: list[Mentor], today: dt.date) -> engine.Pool:
        """The mentors' index, kept while they are the same: one need is then matched in a
        millisecond instead of rebuilding the index for every automation call."""
        pool = self._pool
        if pool is None or pool.today != today or (self._pool_of is not mentors and pool.mentors != mentors):
            pool = self._pool = engine.Pool.build(mentors, [], today)
        self._pool_of = mentors
        return pool

    def _still_good(self, pool: engine.Pool, index: dict[str, int], n: int, need: Need,
                    fresh: list[Suggestion]) -> bool:
        current = need.suggested_mentors
        if not current or need.status != opt.NeedStatus.SUGGESTED:
            return False
        if any(m not in index for m in current):
            return False  # someone in it can no longer be suggested
        scores = engine.rescore(pool, np.full(len(current), n), np.array([index[m] for m in current]))
        return engine.keep(list(scores), [s.score for s in fresh])

    def _spread(self, snap: Snapshot, mentors: list[Mentor], result: Result) -> Result:
        """For one need: prefer mentors not already offered to many needs (as the whole-pool pass
        does), keeping the best order among them."""
        offers: dict[str, int] = {}
        for other in snap.needs.values():
            for mentor in other.suggested_mentors:
                offers[mentor] = offers.get(mentor, 0) + 1
        budget = {m.id: int(np.ceil(m.free * engine.OVERBOOKING)) for m in mentors}
        for need_id, suggestions in result.suggestions.items():
            result.suggestions[need_id] = sorted(suggestions, key=lambda s: offers.get(s.mentor, 0) >= budget[s.mentor])
        return result

    # --- telling structures -----------------------------------------------------------------

    def _notify(self, snap: Snapshot, changed: list[tuple[Need, list[Suggestion]]], mentors: dict[str, Mentor]) -> int:
        by_structure: dict[str, list[tuple[Need, list[Suggestion]]]] = {}
        for need, suggestions in changed:
            if need.structure:
                by_structure.setdefault(need.structure[0], []).append((need, suggestions))
        emails = {}
        for structure_id, needs in sorted(by_structure.items()):
            structure = snap.structures.get(structure_id)
            if structure is None or not structure.email:
                continue
            digest = hashlib.sha256(repr(sorted((n.record_id, [s.mentor for s in ss]) for n, ss in needs))
                                    .encode()).hexdigest()[:16]
            job = Job(f"suggestions:{structure_id}:{digest}", f"Suggestions envoyées à {structure.name}")
            emails[job.key] = (job, structure, needs)
        sent = 0
        for claimed in claim(self.gateway, [job for job, _, _ in emails.values()]):  # a request per 10 structures
            if not claimed.owned:
                continue
            _, structure, needs = emails[claimed.job.key]
            try:
                self.mailer.send(self.email(structure, needs, mentors))
                sent += 1
            except MailError as exc:
                log.warning("suggestions for %s not sent: %s", structure.record_id, exc)
        return sent

    def email(self, structure: Structure, needs: list[tuple[Need, list[Suggestion]]],
              mentors: dict[str, Mentor]) -> Email:
        cards = [{"need": need, "suggestions": [card(s, mentors[s.mentor], self.links.url(
                      "choose_mentor", CHOICE, {"n": need.record_id, "v": s.mentor, "s": structure.record_id}))
                      for s in suggestions if s.mentor in mentors]}
                 for need, suggestions in needs]
        rendered = render("suggestions", structure=structure, needs=cards)
        return Email(to=structure.email, to_name=structure.contact, subject=rendered.subject, html=rendered.html,
                     text=rendered.text, custom_args={"binome_email": "suggestions",
                                                      "binome_record": structure.record_id or ""},
                     category="suggestions")


def shortage_line(row: Shortage) -> str:
    """« 3e · Mathématiques · Rhône (69) : 4 besoins sans bénévole (mercredi 14h-16h, …) »."""
    where = f"{geo.departement_name(row.departement)} ({row.departement})" if row.departement else "lieu inconnu"
    return (f"{row.level} · {row.subjects} · {where} : {row.needs} besoin(s) sans bénévole "
            f"({', '.join(lower_day(s) for s in row.slots)})")


def uncounted(text: str) -> str:
    return re.sub(r"\d+", "#", text)


def card(suggestion: Suggestion, mentor: Mentor, link: str) -> dict[str, Any]:
    """What a structure may know of a suggested mentor before choosing: no contact detail."""
    return {"first_name": mentor.first_name, "levels": ", ".join(mentor.levels),
            "subjects": ", ".join(suggestion.common_subjects or mentor.subjects),
            "slots": ", ".join(lower_day(s) for s in suggestion.common_slots),
            "mode": "en présentiel" if suggestion.in_person else "à distance",
            "band": Band(suggestion.band).label, "link": link}


def written_values(suggestions: list[Suggestion] | None, no_fit: NoFit | None,
                   mentors: dict[str, Mentor]) -> dict[str, Any]:
    """What the need's record says after a computation."""
    if suggestions:
        lines = [f"{n}. {mentors[s.mentor].first_name} — {s.explanation}" for n, s in enumerate(suggestions, 1)]
        return {"suggested_mentors": [s.mentor for s in suggestions], "explanations": "\n".join(lines),
                "status": opt.NeedStatus.SUGGESTED}
    counts = " ; ".join(f"{label} : {n}" for label, n in (no_fit.counts if no_fit else ()))
    reason = no_fit.reason if no_fit else "Aucun·e bénévole ne correspond."
    return {"suggested_mentors": [], "explanations": f"{reason} ({counts})" if counts else reason,
            "status": opt.NeedStatus.NO_MATCH}
