"""What one weekly digest says, for the whole collective or for one antenna. Pure: the records and
the day in, the figures and lists out; rendering and sending are elsewhere.

An antenna's scope is its départements: the structures there, the volunteers attached to it (or,
before they are attached, living there), and the binômes and needs of those.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

from schemas import options as opt
from schemas.records import Antenna, Need, Pair, Structure, Volunteer
from shared.digest.funnel import Stage, day, evolution, funnel, reached, suggested_days
from shared.followup.nudges import NUDGE_AFTER
from shared.matching.model import reason_kind
from shared.matching.places import place_of
from shared.onboarding.antennas import departements_of
from shared.pairs import LIVE
from shared.text import MONTHS

SHOWN = 10  # rows of each list; the rest is counted


@dataclass(frozen=True)
class Records:
    volunteers: Sequence[Volunteer]
    structures: Sequence[Structure]
    needs: Sequence[Need]
    pairs: Sequence[Pair]


@dataclass(frozen=True)
class Scope:
    title: str  # « Ensemble du collectif » or the antenna's name
    departements: frozenset[str] | None = None  # None: everywhere
    antenna: str = ""  # its record id

    @classmethod
    def of(cls, antenna: Antenna) -> "Scope":
        return cls(f"Antenne {antenna.name}", frozenset(departements_of(antenna)),
                   antenna.record_id or "")

    def holds(self, home: str) -> bool:
        return self.departements is None or home in self.departements

    def holds_volunteer(self, volunteer: Volunteer, home: str) -> bool:
        if self.departements is None:
            return True
        return self.antenna in volunteer.antenna if volunteer.antenna else self.holds(home)


@dataclass(frozen=True)
class Attention:
    pair: str
    structure: str
    status: str
    why: str


@dataclass(frozen=True)
class UnsolvedNeed:
    reference: str
    structure: str
    level: str
    subjects: str
    why: str


@dataclass(frozen=True)
class Silent:
    """A structure with suggestions unanswered for a week or more, and how it answered so far."""

    structure: str
    waiting: int  # needs whose suggestions wait for a choice since a week or more
    since: dt.date  # the oldest of them
    answered: int  # needs it chose a mentor for
    asked: int  # needs it got suggestions for

    @property
    def responsiveness(self) -> int:
        return round(100 * self.answered / self.asked) if self.asked else 0


@dataclass(frozen=True)
class WaitingVolunteer:
    name: str
    note: str


@dataclass
class Digest:
    scope: Scope
    today: dt.date
    funnel: list[Stage]
    evolution: list[tuple[dt.date, tuple[int, ...]]]
    live_pairs: int
    active_pairs: int
    attention: list[Attention] = field(default_factory=list)
    unsolved: list[UnsolvedNeed] = field(default_factory=list)
    reasons: list[tuple[str, int]] = field(default_factory=list)
    silent: list[Silent] = field(default_factory=list)
    waiting: list[WaitingVolunteer] = field(default_factory=list)

    @property
    def period(self) -> str:
        start = self.today - dt.timedelta(days=6)
        if start.month == self.today.month:
            return f"du {'1er' if start.day == 1 else start.day} au {french_date(self.today)}"
        return f"du {french_date(start, year=start.year != self.today.year)} au {french_date(self.today)}"

    @property
    def week(self) -> str:
        year, week, _ = self.today.isocalendar()
        return f"{year}-S{week:02d}"


def french_date(when: dt.date, year: bool = True) -> str:
    """« 29 novembre 2026 » (« 1er » for the first of the month)."""
    text = f"{'1er' if when.day == 1 else when.day} {MONTHS[when.month - 1]}"
    return f"{text} {when.year}" if year else text


def build(scope: Scope, records: Records, today: dt.date) -> Digest:
    homes = {s.record_id: place_of(s.postcode, s.town).departement for s in records.structures}
    structures = {s.record_id or "": s for s in records.structures if scope.holds(homes[s.record_id])}
    volunteers = {v.record_id or "": v for v in records.volunteers
                  if scope.holds_volunteer(v, place_of(v.postcode, v.town).departement)}
    pairs_by_id = {p.record_id or "": p for p in records.pairs}
    pairs = [p for p in records.pairs
             if any(s in structures for s in p.structure) or any(v in volunteers for v in p.volunteer)]
    needs = [n for n in records.needs if any(s in structures for s in n.structure)]
    suggested_on = suggested_days(records.needs)
    milestones = [reached(v, pairs_by_id, suggested_on) for v in volunteers.values()]
    history = evolution(milestones, today)
    digest = Digest(scope, today, funnel(history[-1][1]), history,
                    live_pairs=sum(1 for p in pairs if p.status in LIVE),
                    active_pairs=sum(1 for p in pairs if p.status == opt.PairStatus.ACTIVE))
    names = {s: structure.name for s, structure in structures.items()}
    digest.attention = needing_attention(pairs, names)
    digest.unsolved, digest.reasons = without_solution(needs, names)
    digest.silent = not_answering(needs, structures, today)
    digest.waiting = sorted((WaitingVolunteer(v.full_name or v.first_name, v.waiting)
                             for v in volunteers.values() if v.waiting), key=lambda w: w.note.splitlines()[0])
    return digest


def needing_attention(pairs: Sequence[Pair], names: dict[str, str]) -> list[Attention]:
    """Live binômes with an alert or « En difficulté », those in difficulty first."""
    rows = [Attention(p.name, names.get(p.structure[0], "") if p.structure else "", str(p.status),
                      (p.alert.strip().splitlines() or ["En difficulté"])[-1])
            for p in pairs if p.status in LIVE and (p.alert.strip() or p.status == opt.PairStatus.AT_RISK)]
    return sorted(rows, key=lambda a: (a.status != opt.PairStatus.AT_RISK, a.pair))


def without_solution(needs: Sequence[Need], names: dict[str, str]) -> tuple[list[UnsolvedNeed], list[tuple[str, int]]]:
    """The needs nobody fits, with their explanation, and how many there are for each reason."""
    unsolved = [n for n in needs if n.status == opt.NeedStatus.NO_MATCH]
    rows = [UnsolvedNeed(n.reference, names.get(n.structure[0], "") if n.structure else "", str(n.level or ""),
                         ", ".join(n.subjects), n.explanations.splitlines()[0] if n.explanations else "")
            for n in sorted(unsolved, key=lambda n: n.reference)]
    reasons = Counter(reason_kind(n.explanations) for n in unsolved)
    return rows, sorted(reasons.items(), key=lambda r: (-r[1], r[0]))


def not_answering(needs: Sequence[Need], structures: dict[str, Structure], today: dt.date) -> list[Silent]:
    """Structures with suggestions waiting a week or more for a choice, the longest waiting first.

    Responsiveness is scored as comparable platforms do: of the needs a structure got suggestions
    for, the share it chose a mentor for."""
    by_structure: dict[str, list[Need]] = {}
    for need in needs:
        if need.structure:
            by_structure.setdefault(need.structure[0], []).append(need)
    rows = []
    for structure_id, theirs in by_structure.items():
        waiting = [d for n in theirs if n.status == opt.NeedStatus.SUGGESTED and (d := day(n.suggested_at))
                   and today - d >= NUDGE_AFTER]
        if not waiting or structure_id not in structures:
            continue
        asked = [n for n in theirs if n.pair or n.suggested_at is not None]
        rows.append(Silent(structures[structure_id].name, len(waiting), min(waiting),
                           sum(1 for n in asked if n.pair), len(asked)))
    return sorted(rows, key=lambda s: (s.since, s.structure))
