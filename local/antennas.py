"""The demo's antennas: the collective's member associations and their local antennas, as the
collective was organised, and the collective's own antenna for everyone else."""

from __future__ import annotations

from schemas import options as opt
from schemas.records import Antenna

# (association, antenna, départements covered)
ANTENNAS = [
    ("AFEV", "AFEV Paris", ["75", "92", "93", "94"]),
    ("AFEV", "AFEV Lyon", ["69", "01"]),
    ("AFEV", "AFEV Lille", ["59", "62"]),
    ("AFEV", "AFEV Marseille", ["13", "83", "84"]),
    ("AFEV", "AFEV Toulouse", ["31", "81", "82"]),
    ("AFEV", "AFEV Bordeaux", ["33"]),
    ("AFEV", "AFEV Nantes", ["44", "49", "85"]),
    ("AFEV", "AFEV Rennes", ["35", "22", "56"]),
    ("AFEV", "AFEV Strasbourg", ["67", "68"]),
    ("Article 1", "Article 1 Île-de-France", ["75", "77", "78", "91", "92", "93", "94", "95"]),
    ("Article 1", "Article 1 Lyon", ["69", "38", "42"]),
    ("Article 1", "Article 1 Lille", ["59"]),
    ("Télémaque", "Télémaque Paris", ["75", "92", "93"]),
    ("Télémaque", "Télémaque Marseille", ["13"]),
    ("NQT", "NQT Île-de-France", ["75", "91", "92", "93", "94"]),
    ("Socrate", "Socrate Montpellier", ["34", "30"]),
    ("Entraide scolaire amicale", "Entraide scolaire amicale Paris", ["75", "92", "94"]),
    ("Collectif", "Collectif — coordination nationale", []),
]


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


def antennas() -> list[Antenna]:
    names = {opt.departement_code(d.value): d.value for d in opt.Departement}
    return [Antenna(name=name, association=association, departements=[names[code] for code in codes],
                    email=f"coordination.{slug(name)[:40]}@antennes.exemple.fr")
            for association, name, codes in ANTENNAS]
