"""The routing table: which Airtable base holds the people of which départements.

An Airtable base holds at most 50,000 records on the Team plan and 125,000 on Business, fewer than
a national programme needs; so the programme runs on several bases (one per member association or
region), each with its own 5 requests/s. A person goes to the base that covers the département of
their postcode; exactly one base is the default and takes whatever no other base covers (and
postcodes that name no known département).

Written in the setting `BINOME_BASES`, either compactly:

    idf=appAAAAAAAAAAAAAA:75,77,78,91,92,93,94,95;national=appBBBBBBBBBBBBBB:*

(`*` marks the default base) or as JSON:

    [{"key": "idf", "base_id": "appAAAAAAAAAAAAAA", "departements": ["75", "92"]},
     {"key": "national", "base_id": "appBBBBBBBBBBBBBB", "default": true}]

Unset, the single base of `AIRTABLE_BASE_ID` covers everything.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEPARTEMENTS_FILE = Path(__file__).resolve().parent / "geo" / "departements.json"
SINGLE = "base"  # the key of the one base when no table is configured
BASE_ID = r"^app[A-Za-z0-9]{14}$"
KEY = r"^[a-z][a-z0-9-]{0,19}$"  # short: it goes into queue and job names, links and custom fields


class RoutingError(ValueError):
    """The routing table cannot be used; the message says why, in French."""


@functools.lru_cache(maxsize=1)
def known_departements() -> frozenset[str]:
    return frozenset(code for code, _ in json.loads(DEPARTEMENTS_FILE.read_text(encoding="utf-8")))


class BaseRoute(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str = Field(pattern=KEY)
    base_id: str = Field(pattern=BASE_ID)
    departements: tuple[str, ...] = ()
    default: bool = False

    @field_validator("departements")
    @classmethod
    def _known(cls, departements: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(departements) - known_departements())
        if unknown:
            raise ValueError(f"département(s) inconnu(s) : {', '.join(unknown)}")
        return departements


class RoutingTable(BaseModel):
    model_config = ConfigDict(frozen=True)

    bases: tuple[BaseRoute, ...]

    @model_validator(mode="after")
    def _one_owner_each(self) -> "RoutingTable":
        if not self.bases:
            raise ValueError("aucune base")
        for attribute, what in (("key", "clé"), ("base_id", "identifiant de base")):
            values = [getattr(b, attribute) for b in self.bases]
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise ValueError(f"{what} en double : {', '.join(repeated)}")
        defaults = [b.key for b in self.bases if b.default]
        if len(defaults) != 1:
            raise ValueError("il faut exactement une base par défaut (« * »), "
                             f"{'aucune' if not defaults else 'pas ' + str(len(defaults))} ici")
        owners: dict[str, str] = {}
        for base in self.bases:
            for departement in base.departements:
                if departement in owners and owners[departement] != base.key:
                    raise ValueError(f"le département {departement} est couvert par deux bases "
                                     f"({owners[departement]} et {base.key})")
                owners[departement] = base.key
        return self

    @classmethod
    def single(cls, base_id: str) -> "RoutingTable":
        return cls(bases=(BaseRoute(key=SINGLE, base_id=base_id, default=True),))

    @property
    def default(self) -> BaseRoute:
        return next(b for b in self.bases if b.default)

    @property
    def keys(self) -> list[str]:
        return [b.key for b in self.bases]

    @property
    def several(self) -> bool:
        return len(self.bases) > 1

    def get(self, key: str | None) -> BaseRoute:
        """The base named `key`; the default for None. An unknown key is an error (a caller names
        a base that is not, or no longer, in the table)."""
        if key is None:
            return self.default
        found = next((b for b in self.bases if b.key == key), None)
        if found is None:
            raise RoutingError(f"Base inconnue : « {key} » (bases : {', '.join(self.keys)}).")
        return found

    def known(self, key: str | None) -> BaseRoute:
        """The base named `key` when there is one, else the default."""
        return next((b for b in self.bases if b.key == key), self.default)

    def for_departement(self, departement: str) -> BaseRoute:
        return next((b for b in self.bases if departement and departement in b.departements), self.default)


def parse(text: str) -> RoutingTable:
    """The table written in `BINOME_BASES` (compact or JSON); refused with a reason in French."""
    text = text.strip()
    try:
        if text.startswith("["):
            return RoutingTable(bases=tuple(BaseRoute.model_validate(item) for item in _json_list(text)))
        return RoutingTable(bases=tuple(_compact(part) for part in text.split(";") if part.strip()))
    except ValidationError as exc:
        raise RoutingError("BINOME_BASES : " + "; ".join(_reason(e) for e in exc.errors())) from None


def _json_list(text: str) -> list[Any]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RoutingError(f"BINOME_BASES : JSON illisible ({exc.msg}, caractère {exc.pos}).") from None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise RoutingError("BINOME_BASES : une liste d'objets {key, base_id, departements, default} est attendue.")
    return items


def _compact(part: str) -> BaseRoute:
    """`key=appID:75,92` or `key=appID:*`."""
    key, equals, rest = part.strip().partition("=")
    base_id, colon, covered = rest.partition(":")
    if not equals or not colon:
        raise RoutingError(f"BINOME_BASES : « {part.strip()} » ne suit pas la forme clé=appXXXXXXXXXXXXXX:75,92 "
                           "(ou clé=appXXXXXXXXXXXXXX:* pour la base par défaut).")
    codes = [c.strip() for c in covered.split(",") if c.strip()]
    default = "*" in codes
    return BaseRoute.model_validate({"key": key.strip(), "base_id": base_id.strip(),
                                     "departements": tuple(c for c in codes if c != "*"), "default": default})


def _reason(error: Any) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()))
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    if error.get("type") == "string_pattern_mismatch":
        message = f"valeur {error.get('input')!r} mal formée"
    return f"{where} : {message}" if where else message
