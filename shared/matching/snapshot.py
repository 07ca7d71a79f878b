"""The campaign as matching sees it, read from the base in a few paged requests: who can mentor
(agreement signed, not held by a coordinator, a free place), which needs wait for a mentor, and
the pairs that fill places or must never be suggested again."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from schemas import options as opt
from schemas.records import Need, Pair, Structure, Volunteer
from shared.airtable import AirtableGateway
from shared.matching.model import DEFAULT_BAND, DISTANCE_BANDS, Mentor, Pupil
from shared.matching.places import place_of
from shared.pairs import LIVE

HELD = {opt.VolunteerStatus.PAUSED.value, opt.VolunteerStatus.LEFT.value}
WAITING = {opt.NeedStatus.OPEN.value, opt.NeedStatus.SUGGESTED.value, opt.NeedStatus.NO_MATCH.value}
VOLUNTEER_FIELDS = ["first_name", "levels", "subjects", "slots", "mode", "max_distance", "capacity", "postcode",
                    "town", "status", "envelope_status", "registered_at"]
NEED_FIELDS = ["reference", "structure", "level", "subjects", "slots", "mode", "status", "suggested_mentors",
               "explanations", "pair"]
STRUCTURE_FIELDS = ["name", "email", "contact", "postcode", "town", "envelope_status"]
PAIR_FIELDS = ["need", "volunteer", "status"]


@dataclass
class Snapshot:
    volunteers: dict[str, Volunteer] = field(default_factory=dict)
    needs: dict[str, Need] = field(default_factory=dict)
    structures: dict[str, Structure] = field(default_factory=dict)
    pairs: list[Pair] = field(default_factory=list)
    read_at: dt.datetime | None = None
    _mentors: list[Mentor] | None = field(default=None, repr=False, compare=False)

    def refresh_pairs(self, fresh: list[Pair]) -> None:
        """Pairs re-read since the snapshot: they replace their old versions (and free or fill places)."""
        ids = {p.record_id for p in fresh}
        pairs = [p for p in self.pairs if p.record_id not in ids] + fresh
        if pairs != self.pairs:
            self.pairs, self._mentors = pairs, None

    def live_pairs_of_volunteer(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for pair in self.pairs:
            if pair.status in LIVE:
                for volunteer in pair.volunteer:
                    counts[volunteer] = counts.get(volunteer, 0) + 1
        return counts

    def mentors(self) -> list[Mentor]:
        """Everyone who can be suggested: agreement signed, not held, a free place (the same list
        while the snapshot's pairs are)."""
        if self._mentors is None:
            self._mentors = self._available()
        return self._mentors

    def _available(self) -> list[Mentor]:
        load = self.live_pairs_of_volunteer()
        mentors = []
        for v in self.volunteers.values():
            if v.envelope_status != opt.EnvelopeStatus.SIGNED or v.status in HELD or not v.record_id:
                continue
            live = load.get(v.record_id, 0)
            free = (v.capacity or 1) - live
            if free <= 0:
                continue
            mentors.append(Mentor(
                id=v.record_id, first_name=v.first_name, levels=tuple(v.levels), subjects=tuple(v.subjects),
                slots=tuple(v.slots), mode=v.mode or "", place=place_of(v.postcode, v.town),
                max_band=DISTANCE_BANDS.get(v.max_distance or "", DEFAULT_BAND), free=free, load=live,
                registered=v.registered_at))
        return mentors

    def waiting_needs(self) -> list[Need]:
        """Needs without a live binôme, still to be matched."""
        live_needs = {n for p in self.pairs if p.status in LIVE for n in p.need}
        return [n for n in self.needs.values() if n.status in WAITING and n.record_id not in live_needs]

    def pupil(self, need: Need) -> Pupil:
        structure = self.structures.get(need.structure[0]) if need.structure else None
        place = place_of(structure.postcode, structure.town) if structure else place_of("")
        # Anyone this need was already paired with, whatever became of it, is not suggested again.
        excluded = frozenset(v for p in self.pairs if need.record_id in p.need for v in p.volunteer)
        return Pupil(id=need.record_id or "", structure=need.structure[0] if need.structure else "",
                     level=need.level or "", subjects=tuple(need.subjects), slots=tuple(need.slots),
                     mode=need.mode or "", place=place, excluded=excluded)


def read(gateway: AirtableGateway, now: dt.datetime) -> Snapshot:
    """Four tables, the fields matching uses, 100 records a page."""
    return Snapshot(
        volunteers={v.record_id or "": v for v in gateway.all(Volunteer, fields=VOLUNTEER_FIELDS)},
        needs={n.record_id or "": n for n in gateway.all(Need, fields=NEED_FIELDS)},
        structures={s.record_id or "": s for s in gateway.all(Structure, fields=STRUCTURE_FIELDS)},
        pairs=gateway.all(Pair, fields=PAIR_FIELDS),
        read_at=now)
