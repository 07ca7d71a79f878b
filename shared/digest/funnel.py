"""The volunteers' funnel, stage by stage, and how it grew week after week.

A stage counts the volunteers who reached it, whatever happened next (a binôme that ended still
counts as « en binôme »): each stage is dated from the records, so the evolution of the weeks
before the first digest can be drawn too. Pure: records and dates in, counts out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from schemas.records import Need, Pair, Volunteer
from shared.clock import PARIS

STAGES = ("Inscrits", "Convention signée", "Premier contact", "Suggérés", "En binôme", "Actifs")
WEEKS = 8  # points on the evolution chart


@dataclass(frozen=True)
class Stage:
    label: str
    count: int
    share: int | None  # percent of those registered (stages need not nest: a first contact may come late)


def day(moment: dt.datetime | dt.date | None) -> dt.date | None:
    if isinstance(moment, dt.datetime):
        return moment.astimezone(PARIS).date()
    return moment


def earliest(*days: dt.date | None) -> dt.date | None:
    known = [d for d in days if d is not None]
    return min(known) if known else None


def reached(volunteer: Volunteer, pairs: Mapping[str, Pair], suggested_on: Mapping[str, dt.date]) \
        -> tuple[dt.date | None, ...]:
    """The day `volunteer` reached each of STAGES (None: not yet)."""
    theirs = [pairs[p] for p in volunteer.pairs if p in pairs]
    paired = earliest(*(day(p.proposed_at) for p in theirs))
    active = earliest(*(p.started_on for p in theirs))
    suggested = earliest(suggested_on.get(volunteer.record_id or ""), paired)  # chosen means suggested first
    return (day(volunteer.registered_at), day(volunteer.envelope_signed_at), volunteer.first_contact_on,
            suggested, paired, active)


def suggested_days(needs: Iterable[Need]) -> dict[str, dt.date]:
    """The first day each volunteer appears among a need's current suggestions."""
    first: dict[str, dt.date] = {}
    for need in needs:
        when = day(need.suggested_at)
        if when is None:
            continue
        for volunteer in need.suggested_mentors:
            first[volunteer] = min(first.get(volunteer, when), when)
    return first


def counts_on(milestones: Sequence[tuple[dt.date | None, ...]], on: dt.date) -> tuple[int, ...]:
    return tuple(sum(1 for m in milestones if (when := m[i]) is not None and when <= on) for i in range(len(STAGES)))


def funnel(counts: Sequence[int]) -> list[Stage]:
    registered = counts[0]
    return [Stage(label, count, round(100 * count / registered) if i and registered else None)
            for i, (label, count) in enumerate(zip(STAGES, counts))]


def week_ends(today: dt.date, weeks: int = WEEKS) -> list[dt.date]:
    """The last `weeks` days that close a week, oldest first; the last one is today."""
    return [today - dt.timedelta(weeks=k) for k in range(weeks - 1, -1, -1)]


def evolution(milestones: Sequence[tuple[dt.date | None, ...]], today: dt.date) -> list[tuple[dt.date, tuple[int, ...]]]:
    return [(end, counts_on(milestones, end)) for end in week_ends(today)]
