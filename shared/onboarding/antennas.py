"""The antenna that makes a volunteer's first contact, pure: the association they named when one
of its antennas covers their département, else an antenna covering their département, else one
in their région, else the collective's own. Ties go to the antenna with the fewest volunteers, then
by name, so the choice is stable."""

from __future__ import annotations

from dataclasses import dataclass

from schemas import options as opt
from schemas.records import Antenna, Volunteer
from shared import geo
from shared.text import fold

COLLECTIVE = "collectif"  # the association name of the collective's own antenna(s), folded


@dataclass(frozen=True)
class Choice:
    antenna: Antenna
    reason: str


def departements_of(antenna: Antenna) -> set[str]:
    return {opt.departement_code(d) for d in antenna.departements}


def choose(volunteer: Volunteer, antennas: list[Antenna]) -> Choice | None:
    commune = geo.resolve(volunteer.postcode, volunteer.town)
    departement = commune.departement if commune else ""
    region = commune.region if commune else None
    ranked = sorted(antennas, key=lambda a: (len(a.volunteers), a.name))
    named = fold(volunteer.association)
    covering = [a for a in ranked if departement in departements_of(a)]
    own = [a for a in covering if named and fold(a.association) and fold(a.association) in named]
    if own:
        return Choice(own[0], f"son association ({own[0].association}) couvre le {departement}")
    if covering:
        return Choice(covering[0], f"l'antenne couvre son département ({departement})")
    nearby = [a for a in ranked if region and any(geo.region_of_departement(d) == region for d in departements_of(a))]
    if nearby:
        return Choice(nearby[0], "l'antenne couvre sa région")
    collective = [a for a in ranked if fold(a.association) == COLLECTIVE]
    if collective:
        return Choice(collective[0], "aucune antenne proche : l'antenne du collectif")
    return None
