"""France's administrative geography, from the official data in `schemas/geo/`: postcodes and their
communes, and for each commune its intercommunalité (EPCI), département and région, so that two
places can be compared in bands a person understands."""

from __future__ import annotations

import functools
import gzip
import json
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

from shared.text import fold

GEO = Path(__file__).resolve().parent.parent / "schemas" / "geo"
POSTCODES_FILE = GEO / "postcodes.json.gz"
TERRITORIES_FILE = GEO / "territories.json.gz"


@dataclass(frozen=True)
class Commune:
    name: str
    insee: str
    departement: str
    region: str
    population: int


class Band(IntEnum):
    """How close two places are, from the same commune to anywhere else (smaller is closer)."""

    SAME_COMMUNE = 0
    SAME_EPCI = 1
    SAME_DEPARTEMENT = 2
    SAME_REGION = 3
    ELSEWHERE = 4

    @property
    def label(self) -> str:
        return BAND_LABELS[self]


BAND_LABELS = {Band.SAME_COMMUNE: "même commune", Band.SAME_EPCI: "même intercommunalité",
               Band.SAME_DEPARTEMENT: "même département", Band.SAME_REGION: "même région",
               Band.ELSEWHERE: "autre région"}


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, list[list[Any]]]:
    with gzip.open(POSTCODES_FILE, "rt", encoding="utf-8") as source:
        table: dict[str, list[list[Any]]] = json.load(source)
    return table


@functools.lru_cache(maxsize=1)
def _territories() -> dict[str, dict[str, Any]]:
    with gzip.open(TERRITORIES_FILE, "rt", encoding="utf-8") as source:
        territories: dict[str, dict[str, Any]] = json.load(source)
    return territories


def communes(postcode: str) -> list[Commune]:
    """The communes a postcode serves, most populous first (empty for an unknown postcode)."""
    return [Commune(*entry) for entry in _table().get(postcode, [])]


def resolve(postcode: str, town: str = "") -> Commune | None:
    """The commune of a postcode; where it serves several, the one named `town`, else the largest."""
    candidates = communes(postcode)
    if not candidates:
        return None
    wanted = fold(town)
    return next((c for c in candidates if wanted and fold(c.name) == wanted), candidates[0])


def all_postcodes() -> list[str]:
    return list(_table())


def epci_of(commune: Commune) -> str | None:
    """The intercommunalité a commune belongs to (None for the few that belong to none)."""
    epci: str | None = _territories()["commune_epci"].get(commune.insee)
    return epci


def band(a: Commune, b: Commune) -> Band:
    if a.insee == b.insee:
        return Band.SAME_COMMUNE
    epci = epci_of(a)
    if epci is not None and epci == epci_of(b):
        return Band.SAME_EPCI
    if a.departement == b.departement:
        return Band.SAME_DEPARTEMENT
    return Band.SAME_REGION if a.region == b.region else Band.ELSEWHERE


def departement_name(code: str) -> str:
    entry = _territories()["departements"].get(code)
    return str(entry[0]) if entry else code


def region_of_departement(code: str) -> str | None:
    entry = _territories()["departements"].get(code)
    return str(entry[1]) if entry else None
