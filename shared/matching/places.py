"""People's places for matching: a postcode (and town) turned into commune, intercommunalité,
département and région codes, and how close two places are, in the same bands as `geo.Band`."""

from __future__ import annotations

import functools

from shared import geo
from shared.matching.model import Place


@functools.lru_cache(maxsize=1 << 16)  # a campaign's people share a few thousand places
def place_of(postcode: str, town: str = "") -> Place:
    commune = geo.resolve(postcode, town) if postcode else None
    if commune is None:
        return Place()
    return Place(commune.insee, geo.epci_of(commune) or "", commune.departement, commune.region)


def band_of(a: Place, b: Place) -> int:
    if a.commune and a.commune == b.commune:
        return geo.Band.SAME_COMMUNE
    if a.epci and a.epci == b.epci:
        return geo.Band.SAME_EPCI
    if a.departement and a.departement == b.departement:
        return geo.Band.SAME_DEPARTEMENT
    if a.region and a.region == b.region:
        return geo.Band.SAME_REGION
    return geo.Band.ELSEWHERE
