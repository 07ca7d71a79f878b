"""French postcodes and their communes, from the official data in `schemas/geo/`."""

from __future__ import annotations

import functools
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.text import fold

POSTCODES_FILE = Path(__file__).resolve().parent.parent / "schemas" / "geo" / "postcodes.json.gz"


@dataclass(frozen=True)
class Commune:
    name: str
    insee: str
    departement: str
    region: str
    population: int


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, list[list[Any]]]:
    with gzip.open(POSTCODES_FILE, "rt", encoding="utf-8") as source:
        table: dict[str, list[list[Any]]] = json.load(source)
    return table


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
