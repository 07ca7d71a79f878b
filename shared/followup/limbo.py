"""The limbo that loses volunteers: signed three weeks ago or more and still without a binôme.

Each of them gets a note on their record that a coordinator can act on — since when, and what the
shortage table says where they live (the needs nobody fits there, and how many of those are at
their levels and subjects, which points at slots or mode rather than at a lack of needs). The note
is written only when it changes (it carries no day count, so it does not change every day) and is
cleared once a binôme comes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from schemas import options as opt
from schemas.records import Need, Pair, Volunteer
from shared import geo
from shared.airtable.diff import update_of
from shared.clock import PARIS
from shared.matching.places import place_of
from shared.pairs import LIVE

LIMBO_AFTER = dt.timedelta(days=21)
NOT_LOOKING = frozenset({opt.VolunteerStatus.PAUSED, opt.VolunteerStatus.LEFT})
REMOTE = frozenset({opt.Mode.REMOTE, opt.Mode.BOTH})
SHOWN = 3  # shortage rows spelled out in a note


@dataclass(frozen=True)
class Unsolved:
    """A need nobody fits, with the département of its structure ("" when unknown)."""

    need: Need
    departement: str


@dataclass(frozen=True)
class Waiting:
    volunteer: Volunteer
    signed_on: dt.date
    note: str


def in_limbo(volunteers: Iterable[Volunteer], pairs: Mapping[str, Pair], unsolved: Sequence[Unsolved],
             today: dt.date) -> list[Waiting]:
    """The volunteers signed at least three weeks before `today` (Paris) with no live binôme."""
    waiting = []
    for volunteer in volunteers:
        signed = volunteer.envelope_signed_at
        if signed is None or volunteer.status in NOT_LOOKING:
            continue
        signed_on = signed.astimezone(PARIS).date()
        if today - signed_on < LIMBO_AFTER:
            continue
        if any(p in pairs and pairs[p].status in LIVE for p in volunteer.pairs):
            continue
        waiting.append(Waiting(volunteer, signed_on, note(volunteer, signed_on, unsolved)))
    return waiting


def note(volunteer: Volunteer, signed_on: dt.date, unsolved: Sequence[Unsolved]) -> str:
    """« Sans binôme depuis la signature du 02/10/2026. Rhône (69) : 5 besoins sans bénévole… »"""
    home = place_of(volunteer.postcode, volunteer.town).departement
    where = f"{geo.departement_name(home)} ({home})" if home else "Département inconnu"
    lines = [f"Sans binôme depuis la signature du {signed_on:%d/%m/%Y}."]
    here = [u.need for u in unsolved if home and u.departement == home]
    if here:
        groups = Counter((n.level or "niveau ?", ", ".join(n.subjects) or "toutes matières") for n in here)
        shown = ", ".join(f"{level} · {subjects} ({count})" for (level, subjects), count
                          in sorted(groups.items(), key=lambda g: (-g[1], g[0]))[:SHOWN])
        more = " …" if len(groups) > SHOWN else ""
        lines.append(f"{where} : {len(here)} besoin(s) sans bénévole — {shown}{more}.")
    else:
        lines.append(f"{where} : aucun besoin sans bénévole.")
    fitting = sum(1 for u in unsolved if fits(volunteer, u, home))
    if fitting:
        lines.append(f"{fitting} de ces besoins sans bénévole sont à ses niveaux et matières (ici ou à distance) : "
                     "ses créneaux ou sa modalité ne conviennent pas, à revoir avec lui ou elle.")
    else:
        lines.append("Aucun besoin sans bénévole à ses niveaux et matières : le proposer à une autre antenne, "
                     "à distance, ou sur d'autres niveaux.")
    return "\n".join(lines)


def fits(volunteer: Volunteer, unsolved: Unsolved, home: str) -> bool:
    """The need is at one of the volunteer's levels, shares a subject, and is reachable: same
    département, or both accept remote mentoring."""
    need = unsolved.need
    if need.level not in volunteer.levels:
        return False
    if need.subjects and not set(need.subjects) & set(volunteer.subjects):
        return False
    nearby = bool(home) and unsolved.departement == home and volunteer.mode != opt.Mode.REMOTE
    remote = volunteer.mode in REMOTE and need.mode in REMOTE
    return nearby or remote


def notes_to_write(volunteers: Iterable[Volunteer], waiting: Sequence[Waiting]) -> list[Volunteer]:
    """The updates that bring every `En attente` note to what it should be, and no other."""
    wanted = {w.volunteer.record_id: w.note for w in waiting}
    updates = (update_of(v, {"waiting": wanted.get(v.record_id, "")}) for v in volunteers)
    return [u for u in updates if u is not None]
