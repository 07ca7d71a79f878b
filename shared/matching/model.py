"""What the matching engine works on, as plain data: volunteers and needs reduced to the facts
that decide whether they fit, and the engine's answers. Pure: no Airtable, no I/O.

The engine keeps them as columns (numpy arrays) so a whole campaign — up to 100,000 volunteers and
200,000 needs — is matched in seconds; `Pool.from_people` builds the columns from these records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from schemas import options as opt

LEVELS = [level.value for level in opt.Level]
SUBJECTS = [subject.value for subject in opt.Subject]
SLOTS = [slot.value for slot in opt.Slot]
MODE_BITS = {opt.Mode.REMOTE.value: 1, opt.Mode.IN_PERSON.value: 2, opt.Mode.BOTH.value: 3}
REMOTE, IN_PERSON = 1, 2
DISTANCE_BANDS = {opt.Distance.COMMUNE.value: 0, opt.Distance.EPCI.value: 1,
                  opt.Distance.DEPARTEMENT.value: 2, opt.Distance.REGION.value: 3}
DEFAULT_BAND = DISTANCE_BANDS[opt.Distance.DEPARTEMENT.value]


@dataclass(frozen=True)
class Place:
    """Where someone is, at each level of France's administrative geography (codes)."""

    commune: str = ""
    epci: str = ""
    departement: str = ""
    region: str = ""


@dataclass(frozen=True)
class Mentor:
    id: str
    first_name: str
    levels: tuple[str, ...]
    subjects: tuple[str, ...]
    slots: tuple[str, ...]
    mode: str
    place: Place
    max_band: int = DEFAULT_BAND  # how far they go in person (a `geo.Band`)
    free: int = 1  # places left: capacity less their live binômes
    load: int = 0  # live binômes
    registered: dt.datetime | None = None


@dataclass(frozen=True)
class Pupil:
    """One pupil's need."""

    id: str
    structure: str
    level: str
    subjects: tuple[str, ...]
    slots: tuple[str, ...]
    mode: str
    place: Place
    excluded: frozenset[str] = frozenset()  # mentors never to suggest again (declined, ended badly)


@dataclass(frozen=True)
class Suggestion:
    mentor: str
    score: float
    band: int  # `geo.Band` between the two places
    in_person: bool
    common_slots: tuple[str, ...]
    common_subjects: tuple[str, ...]
    explanation: str


@dataclass(frozen=True)
class NoFit:
    """A need nobody fits, and the constraint that left nobody."""

    reason: str
    counts: tuple[tuple[str, int], ...]  # how many mentors remained after each constraint
    kind: str = ""  # that constraint, in a word or two: « niveau », « créneaux », « distance »…


@dataclass
class Result:
    suggestions: dict[str, list[Suggestion]] = field(default_factory=dict)  # by need id, best first
    no_fit: dict[str, NoFit] = field(default_factory=dict)


@dataclass(frozen=True)
class Shortage:
    """Needs nobody fits, grouped where recruiting would help: level, subjects, département."""

    level: str
    subjects: str
    departement: str  # its code; "" when unknown
    needs: int
    slots: tuple[str, ...]  # the slots these needs ask for most, most asked first


# What each reason's sentence says that no other does: the needs of a digest counted by reason.
REASON_MARKS = (("besoin incomplet", "Besoin incomplet"), ("personne de disponible", "disponible (convention"),
                ("niveau", "disponible pour le niveau"), ("matières", "Aucun·e bénévole disponible en "),
                ("créneaux", "créneaux demandés"), ("distance", "ne se déplace"), ("modalité", "modalité compatible"))


def reason_kind(explanation: str) -> str:
    """The kind `reason_for` gave the sentence that opens `explanation`; « autre » for a hand-written one."""
    return next((kind for kind, mark in REASON_MARKS if mark in explanation), "autre")
