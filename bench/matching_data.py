"""A synthetic campaign for the matching benchmarks, at any scale, with the shapes a real one has
(as `local/campaign.py` and `../matching-notes`): places drawn by population across France;
mentors covering two or three neighbouring levels, maths the most common subject, 3 to 8 weekly
slots leaning to evenings, 35 % remote / 30 % in person / 35 % both, 1 to 5 places (about 2);
needs with one level, one or two subjects, 2 to 6 slots leaning to Wednesday afternoons and
16h-18h, 25 % / 45 % / 30 %, grouped in structures of a few pupils. Deterministic for a seed."""

from __future__ import annotations

import datetime as dt

import numpy as np

from local.campaign import SUBJECT_WEIGHTS, slot_weight
from shared import geo
from shared.matching.model import DISTANCE_BANDS, LEVELS, SLOTS, SUBJECTS, Mentor, Place, Pupil
from shared.matching.places import place_of

MODES = ["Distanciel", "Présentiel", "Les deux"]
TODAY = dt.date(2020, 11, 16)


class Synthetic:
    def __init__(self, seed: int = 2020):
        self.rng = np.random.default_rng(seed)
        postcodes = geo.all_postcodes()
        weights = np.array([max(geo.communes(p)[0].population, 1) ** 0.8 for p in postcodes])
        self.postcodes, self.p_postcode = postcodes, weights / weights.sum()
        self._places: dict[str, Place] = {}
        self.postcode_of: dict[Place, str] = {}  # to write synthetic people into a base
        subjects = np.array(SUBJECT_WEIGHTS, float)
        self.p_subject = subjects / subjects.sum()
        self.p_slot = {pupil: self._slot_p(pupil) for pupil in (False, True)}

    @staticmethod
    def _slot_p(pupil: bool) -> np.ndarray:
        weights = np.array([slot_weight(s, pupil) for s in SLOTS])
        return weights / weights.sum()

    def places(self, count: int) -> list[Place]:
        drawn = self.rng.choice(len(self.postcodes), size=count, p=self.p_postcode)
        out = []
        for index in drawn:
            code = self.postcodes[index]
            if code not in self._places:
                self._places[code] = place_of(code)
                self.postcode_of.setdefault(self._places[code], code)
            out.append(self._places[code])
        return out

    def pick(self, universe: list[str], p: np.ndarray, count: int) -> tuple[str, ...]:
        chosen = self.rng.choice(len(universe), size=count, replace=False, p=p)
        return tuple(universe[i] for i in sorted(chosen))

    def mentors(self, count: int) -> list[Mentor]:
        rng, places = self.rng, self.places(count)
        spans = rng.choice([2, 3, 3], size=count)
        starts = rng.integers(0, len(LEVELS) - 1, size=count)
        modes = rng.choice(MODES, size=count, p=[0.35, 0.30, 0.35])
        bands = rng.choice(list(DISTANCE_BANDS.values()), size=count, p=[0.10, 0.30, 0.45, 0.15])
        capacity = rng.choice([1, 2, 3, 4, 5], size=count, p=[0.40, 0.35, 0.15, 0.06, 0.04])
        waited = rng.integers(0, 60, size=count)
        return [Mentor(id=f"m{n}", first_name="Camille", levels=tuple(LEVELS[starts[n]:starts[n] + spans[n]]),
                       subjects=self.pick(SUBJECTS, self.p_subject, int(rng.choice([1, 2, 2, 3]))),
                       slots=self.pick(SLOTS, self.p_slot[False], int(rng.integers(3, 9))), mode=str(modes[n]),
                       place=places[n], max_band=int(bands[n]), free=int(capacity[n]),
                       registered=dt.datetime.combine(TODAY - dt.timedelta(days=int(waited[n])), dt.time(),
                                                      dt.timezone.utc))
                for n in range(count)]

    def pupils(self, count: int, per_structure: int = 4) -> list[Pupil]:
        rng = self.rng
        structures = max(count // per_structure, 1)
        places = self.places(structures)
        owner = rng.integers(0, structures, size=count)
        levels = rng.integers(0, len(LEVELS), size=count)
        modes = rng.choice(MODES, size=count, p=[0.25, 0.45, 0.30])
        return [Pupil(id=f"n{n}", structure=f"s{owner[n]}", level=LEVELS[levels[n]],
                      subjects=self.pick(SUBJECTS, self.p_subject, int(rng.choice([1, 1, 2]))),
                      slots=self.pick(SLOTS, self.p_slot[True], int(rng.integers(2, 7))), mode=str(modes[n]),
                      place=places[owner[n]])
                for n in range(count)]
