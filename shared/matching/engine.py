"""The matching engine: for every pupil's need, a short list of mentors who really fit, best first,
each with its explanation in French; for a need nobody fits, the constraint that left nobody.

Pure: data in (`Mentor`, `Pupil`), data out (`Result`). The whole pool is matched at once: every
need's best candidates are found by the compiled search of `kernels`, then (capacity-aware, the
default) the K suggestions per need are shared out so that no mentor is offered to far more needs
than their free places (`overbooking` × free places), scarcest needs first — the way the best
mentoring platforms cap "top match" lists. Independent top-K stays available, to measure against.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import numpy.typing as npt

from shared.geo import Band
from shared.matching import kernels
from shared.matching.places import band_of
from shared.matching.model import (IN_PERSON, LEVELS, MODE_BITS, REMOTE, SLOTS, SUBJECTS, Mentor, NoFit, Pupil,
                                   Result, Shortage, Suggestion)
from shared.text import MONTHS

K = 5
INDEX_TABLES = ("everyone", "remote", "meet", "only")  # the index's lists (see `Pool._index`)
CANDIDATES = 20  # best candidates kept per need before sharing out
OVERBOOKING = 3.0  # a mentor is offered to at most this many needs per free place
HYSTERESIS = 0.05  # a current list within 5% of the fresh one's total score is kept
MIN_CHOICE = 3  # a kept list still offers at least this many suggestions (when the fresh one could)
Array = npt.NDArray[np.int64]


def bits_of(vocabulary: list[str]) -> dict[str, int]:
    return {value: 1 << n for n, value in enumerate(vocabulary)}


LEVEL_BITS, SUBJECT_BITS, SLOT_BITS = bits_of(LEVELS), bits_of(SUBJECTS), bits_of(SLOTS)


def mask(values: Sequence[str], bits: dict[str, int]) -> int:
    return sum(bits[v] for v in values if v in bits)


class Codes:
    """Interns place codes: equal codes, equal integers; unknown, -1."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def __call__(self, code: str) -> int:
        if not code:
            return -1
        return self.ids.setdefault(code, len(self.ids))


@dataclass
class Pool:
    """Mentors and needs as rows of 32-bit integers (see `kernels`: half the memory to walk of
    64-bit rows), with the index the search walks. `with_needs` and `with_mentors` make pools that
    share this one's codes (and, for needs, its index): one new need or one new mentor is matched
    without rebuilding the campaign."""

    mentors: list[Mentor]
    pupils: list[Pupil]
    arrays: dict[str, npt.NDArray[Any]]
    codes: tuple[Codes, Codes, Codes, Codes]
    today: dt.date

    @classmethod
    def build(cls, mentors: Sequence[Mentor], pupils: Sequence[Pupil], today: dt.date | None = None) -> "Pool":
        codes = (Codes(), Codes(), Codes(), Codes())
        for place in [*(m.place for m in mentors), *(p.place for p in pupils)]:  # régions first, to size the index
            codes[3](place.region)
        pool = cls(list(mentors), [], {}, codes, today or dt.date.today())
        pool.arrays.update(pool._mentor_rows(mentors))
        pool.arrays.update(pool._need_rows(pupils))
        pool.pupils = list(pupils)
        pool._index(max(len(codes[3].ids), 1))
        return pool

    def with_needs(self, pupils: Sequence[Pupil]) -> "Pool":
        """These needs against this pool's mentors and index."""
        pool = Pool(self.mentors, list(pupils), dict(self.arrays), self.codes, self.today)
        pool.arrays.update(pool._need_rows(pupils))
        return pool

    def with_mentors(self, mentors: Sequence[Mentor]) -> "Pool":
        """These mentors (without an index: for `naive_search`) against this pool's needs."""
        pool = Pool(list(mentors), self.pupils, dict(self.arrays), self.codes, self.today)
        pool.arrays.update(pool._mentor_rows(mentors))
        pool.arrays.update(pool._exclusions(self.pupils))  # they point at mentor indices: renumbered
        return pool

    def with_free_places(self, free: npt.NDArray[np.int64]) -> "Pool":
        """The same pool with each mentor's free places set to `free` (in every copy the index holds)."""
        pool = Pool(self.mentors, self.pupils, dict(self.arrays), self.codes, self.today)
        for name in ("mentors", *INDEX_TABLES):
            table = pool.arrays[name] = self.arrays[name].copy()
            offset = 0 if name == "mentors" else 1
            rows = np.arange(len(table)) if name == "mentors" else table[:, 0]
            table[:, offset + kernels.FREE] = free[rows]
        return pool

    def _row(self, subjects: Sequence[str], slots: Sequence[str], mode: str, place: Any, max_band: int, free: int,
             levels: int) -> list[int]:
        communes, epcis, departements, regions = self.codes
        region = regions(place.region)
        if region >= int(self.arrays.get("R", np.array(2 ** 30))):
            region = -1  # a région no indexed mentor lives in: nobody there to meet
        return [mask(subjects, SUBJECT_BITS), mask(slots, SLOT_BITS), MODE_BITS.get(mode, 0), communes(place.commune),
                epcis(place.epci), departements(place.departement), region, max_band, free, levels]

    def _mentor_rows(self, mentors: Sequence[Mentor]) -> dict[str, npt.NDArray[Any]]:
        rows = np.array([self._row(m.subjects, m.slots, m.mode, m.place, m.max_band, m.free, mask(m.levels, LEVEL_BITS))
                         for m in mentors], np.int32).reshape(len(mentors), kernels.MENTOR_COLUMNS)
        waited = np.array([(self.today - m.registered.date()).days if m.registered else 0 for m in mentors],
                          np.float64)
        load = np.array([m.load for m in mentors], np.float64)
        w = kernels.WEIGHTS
        statics = w[3] * np.minimum(waited, kernels.MAX_WAIT_DAYS) / kernels.MAX_WAIT_DAYS + w[4] / (1.0 + load)
        return {"mentors": rows, "statics": statics}

    def _need_rows(self, pupils: Sequence[Pupil]) -> dict[str, npt.NDArray[Any]]:
        rows = np.array([self._row(p.subjects, p.slots, p.mode, p.place, 0, 0,
                                   LEVELS.index(p.level) if p.level in LEVELS else -1)
                         for p in pupils], np.int32).reshape(len(pupils), kernels.MENTOR_COLUMNS)
        return {"needs": rows, **self._exclusions(pupils)}

    def _exclusions(self, pupils: Sequence[Pupil]) -> dict[str, npt.NDArray[Any]]:
        index = {m.id: n for n, m in enumerate(self.mentors)} if any(p.excluded for p in pupils) else {}
        excluded = [sorted(index[m] for m in p.excluded if m in index) if p.excluded else [] for p in pupils]
        return {"excl_ptr": np.concatenate([[0], np.cumsum([len(e) for e in excluded])]).astype(np.int64),
                "excl_idx": np.array([v for e in excluded for v in e], np.int64)}

    def _index(self, regions: int) -> None:
        a, S = self.arrays, len(SUBJECTS)
        mentors = a["mentors"]
        a["R"] = np.array(regions)
        levels = (mentors[:, kernels.LEVELS][:, None] >> np.arange(len(LEVELS))) & 1
        subjects = (mentors[:, kernels.SUBJ][:, None] >> np.arange(S)) & 1
        mentor, level, subject = np.nonzero(levels[:, :, None] * subjects[:, None, :])  # mentor × level × subject
        key = level * S + subject
        mode, region = mentors[mentor, kernels.MODE], mentors[mentor, kernels.REG]
        remote = (mode & REMOTE) != 0
        meets = ((mode & IN_PERSON) != 0) & (region >= 0)
        only = meets & ~remote
        region_key = key * regions + np.maximum(region, 0)
        buckets = len(LEVELS) * S
        for name, chosen, keys, size in (("everyone", slice(None), key, buckets), ("remote", remote, key, buckets),
                                         ("meet", meets, region_key, buckets * regions),
                                         ("only", only, region_key, buckets * regions)):
            entries, ptr = csr(keys[chosen], mentor[chosen], size)
            a[name] = np.hstack([entries[:, None].astype(np.int32), mentors[entries]])
            a[f"{name}_static"] = a["statics"][entries]
            a[f"{name}_ptr"] = ptr

    def valid_needs(self) -> npt.NDArray[np.bool_]:
        needs = self.arrays["needs"]
        return (needs[:, kernels.LEVEL] >= 0) & (needs[:, kernels.MODE] > 0)


def csr(keys: Array, values: Array, size: int) -> tuple[Array, Array]:
    """Values grouped by key (in ascending value order within a key), and each key's offsets."""
    order = np.lexsort((values, keys))
    counts = np.bincount(keys, minlength=size) if len(keys) else np.zeros(size, np.int64)
    return values[order].astype(np.int64), np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


@dataclass
class Search:
    """The raw answer of the search: candidates per need (mentor indices, -1 for none), scores,
    and how many mentors fit each need in all."""

    candidates: Array
    scores: npt.NDArray[np.float64]
    fitting: Array


def _answer(pool: Pool, top: Array, scores: npt.NDArray[np.float64], fitting: Array) -> Search:
    invalid = ~pool.valid_needs()
    top[invalid], scores[invalid], fitting[invalid] = -1, -np.inf, 0
    return Search(top, scores, fitting)


def search(pool: Pool, width: int = CANDIDATES) -> Search:
    a = pool.arrays
    return _answer(pool, *kernels.best_candidates(
        width, len(SUBJECTS), int(a["R"]), a["needs"], a["excl_ptr"], a["excl_idx"], a["remote"], a["remote_static"],
        a["remote_ptr"], a["meet"], a["meet_static"], a["meet_ptr"], a["only"], a["only_static"], a["only_ptr"],
        kernels.WEIGHTS))


def naive_search(pool: Pool, width: int = CANDIDATES) -> Search:
    """Every pair visited, compiled too: the reference the indexed search is checked against."""
    a = pool.arrays
    return _answer(pool, *kernels.naive_best(width, a["needs"], a["excl_ptr"], a["excl_idx"], a["mentors"],
                                             a["statics"], kernels.WEIGHTS))


def rescore(pool: Pool, needs: Array, mentors: Array) -> npt.NDArray[np.float64]:
    """The score of each (need, mentor) pair as things stand, -inf where they no longer fit."""
    a = pool.arrays
    return np.asarray(kernels.pair_scores(needs.astype(np.int64), mentors.astype(np.int64), a["needs"],
                                          a["excl_ptr"], a["excl_idx"], a["mentors"], a["statics"], kernels.WEIGHTS))


def keep(current: list[float], fresh: list[float], tolerance: float = HYSTERESIS) -> bool:
    """Keep a need's current list rather than write the fresh one (a day of small changes should
    rewrite few needs): every mentor in it still fits, it is nearly as good as as many of the
    fresh list's best, and it leaves a real choice — as many suggestions as the fresh list, or
    at least `MIN_CHOICE`. A list one short of five is kept; a single suggestion is not when
    there could be two."""
    if not current or any(score == -np.inf for score in current):
        return False
    if len(current) < min(len(fresh), MIN_CHOICE):
        return False
    best = sorted(fresh, reverse=True)[:len(current)]
    return sum(current) >= (1 - tolerance) * sum(best)


def share_out(pool: Pool, found: Search, k: int = K, overbooking: float = OVERBOOKING) -> Array:
    """The capacity-aware K suggestions per need (mentor indices, -1 for none)."""
    budget = np.ceil(np.maximum(pool.arrays["mentors"][:, kernels.FREE], 0) * overbooking).astype(np.int64)
    chosen, _ = kernels.allocate(found.candidates, found.fitting, budget, k)
    return np.asarray(chosen)


def listed(pool: Pool, lists: Sequence[Sequence[str]], k: int = K) -> Array:
    """Lists of mentor ids as an array of this pool's mentor indices (-1: none, or not in the pool)."""
    index = {m.id: n for n, m in enumerate(pool.mentors)}
    out = np.full((len(lists), k), -1, np.int64)
    for n, ids in enumerate(lists):
        found = [index.get(i, -1) for i in ids[:k]]
        out[n, :len(found)] = found
    return out


def sticky(found: Search, current: Array, bonus: float = HYSTERESIS) -> Search:
    """Each need's candidates reordered as if its current suggestions (mentor indices, -1 for none)
    scored `bonus` more: a list that is still good wins the share-out again instead of starting a
    cascade of small changes through every mentor's budget. Scores stay the true ones."""
    listed = (found.candidates[:, :, None] == current[:, None, :]).any(axis=2) & (found.candidates >= 0)
    boosted = np.where(listed, found.scores * (1 + bonus), found.scores)
    order = np.lexsort((found.candidates, -boosted), axis=-1)
    return Search(np.take_along_axis(found.candidates, order, axis=1),
                  np.take_along_axis(found.scores, order, axis=1), found.fitting)


def independent(found: Search, k: int = K) -> Array:
    """Each need's own top K, whatever the others get."""
    return found.candidates[:, :k]


def suggest(mentors: Sequence[Mentor], pupils: Sequence[Pupil], k: int = K, overbooking: float = OVERBOOKING,
            capacity_aware: bool = True, today: dt.date | None = None) -> Result:
    """The suggestions for every need, explained, and why the others have none."""
    return compute(Pool.build(mentors, pupils, today), k, overbooking, capacity_aware, today)


def compute(pool: Pool, k: int = K, overbooking: float = OVERBOOKING, capacity_aware: bool = True,
            today: dt.date | None = None, current: Sequence[Sequence[str]] | None = None) -> Result:
    """`current`: each need's suggestions as they stand (mentor ids), preferred in the share-out."""
    pupils = pool.pupils
    found = search(pool, max(CANDIDATES, k))
    if current is not None:
        found = sticky(found, listed(pool, current, k))
    chosen = share_out(pool, found, k, overbooking) if capacity_aware else independent(found, k)
    result = Result()
    for n, pupil in enumerate(pupils):
        picked = [int(v) for v in chosen[n] if v >= 0]
        if picked:
            scores = dict(zip(found.candidates[n].tolist(), found.scores[n].tolist()))  # this need's candidates
            result.suggestions[pupil.id] = [explain(pool, pupil, pool.mentors[v], scores[v], today) for v in picked]
    empty = np.array([n for n, p in enumerate(pupils) if p.id not in result.suggestions], np.int64)
    result.no_fit.update(no_fit_reasons(pool, empty))
    return result


def explain(pool: Pool, pupil: Pupil, mentor: Mentor, score: float, today: dt.date | None) -> Suggestion:
    band = band_of(pupil.place, mentor.place)
    in_person = (MODE_BITS.get(pupil.mode, 0) & IN_PERSON != 0 and MODE_BITS.get(mentor.mode, 0) & IN_PERSON != 0
                 and band <= mentor.max_band)
    slots = tuple(s for s in SLOTS if s in pupil.slots and s in mentor.slots)
    subjects = tuple(s for s in pupil.subjects if s in mentor.subjects)
    parts = [f"{pupil.level} ✓", *(f"{s} ✓" for s in subjects), *(f"{lower_day(s)} ✓" for s in slots[:3])]
    if len(slots) > 3:
        parts[-1] += f" (+{len(slots) - 3})"
    parts.append(f"{Band(band).label}, en présentiel" if in_person else "à distance")
    if mentor.registered is not None:  # a date, not "n days ago": the text stays the same from day to day
        parts.append(f"inscrit·e le {mentor.registered.day} {MONTHS[mentor.registered.month - 1]}")
    return Suggestion(mentor.id, round(score, 4), band, in_person, slots, subjects, " · ".join(parts))


def lower_day(slot: str) -> str:
    day, _, hours = slot.partition(" ")
    return f"{day.lower()} {hours}"


def no_fit_reasons(pool: Pool, needs: Array) -> dict[str, NoFit]:
    """For each need nobody fits: how many mentors remain after each constraint, and the first
    constraint that left none — in words a coordinator can act on."""
    if len(needs) == 0:
        return {}
    a = pool.arrays
    available = a["mentors"][:, kernels.FREE] > 0
    levels = (a["mentors"][:, kernels.LEVELS][:, None] >> np.arange(len(LEVELS))) & 1
    level_available = (levels[available]).sum(axis=0).astype(np.int64)
    counts = kernels.constraint_counts(needs, len(SUBJECTS), a["needs"], a["everyone"], a["everyone_ptr"],
                                       level_available)
    total = int(available.sum())
    reasons = {}
    for row, n in zip(counts, needs):
        pupil = pool.pupils[int(n)]
        steps = (("disponibles", total), ("au niveau", int(row[0])), ("dans les matières", int(row[1])),
                 ("sur les créneaux", int(row[2])))
        kind, reason = reason_for(pupil, steps)
        reasons[pupil.id] = NoFit(reason, steps, kind)
    return reasons


def reason_for(pupil: Pupil, steps: tuple[tuple[str, int], ...]) -> tuple[str, str]:
    """The constraint that left nobody, in a word or two (to count needs by), and in a sentence."""
    if pupil.level not in LEVELS or MODE_BITS.get(pupil.mode, 0) == 0:
        return "besoin incomplet", "Besoin incomplet : niveau ou modalité manquants."
    available, level, subjects, slots = (count for _, count in steps)
    if available == 0:
        return "personne de disponible", "Aucun·e bénévole disponible (convention signée et place libre)."
    if level == 0:
        return "niveau", f"Aucun·e bénévole disponible pour le niveau {pupil.level}."
    if subjects == 0:
        return "matières", f"Aucun·e bénévole disponible en {', '.join(pupil.subjects)} au niveau {pupil.level}."
    if slots == 0:
        return "créneaux", (f"{subjects} bénévole(s) en {', '.join(pupil.subjects)} au niveau {pupil.level}, mais "
                            f"aucun·e sur les créneaux demandés ({', '.join(lower_day(s) for s in pupil.slots)}).")
    if MODE_BITS[pupil.mode] == IN_PERSON:
        return "distance", (f"{slots} bénévole(s) sur les créneaux et les matières, mais aucun·e ne se déplace "
                            "jusqu'à l'élève : un accompagnement à distance élargirait le choix.")
    return "modalité", (f"{slots} bénévole(s) sur les créneaux et les matières, mais aucun·e dans une modalité "
                        f"compatible ({pupil.mode}) ou ils et elles sont déjà suggéré·es à ce besoin puis écarté·es.")


def expected_coverage(found: Search) -> float:
    needs = len(found.fitting)
    return float((found.fitting > 0).sum()) / needs if needs else math.nan


def entering(pool: Pool, found: Search, newcomers: Sequence[Mentor], k: int = K) -> Array:
    """The needs whose top K new mentors would enter (beating their k-th candidate): what a new
    volunteer changes, found without searching the campaign again."""
    theirs = naive_search(pool.with_mentors(newcomers), 1)
    kth = found.scores[:, k - 1] if found.scores.shape[1] >= k else np.full(len(pool.pupils), -np.inf)
    return np.nonzero(theirs.scores[:, 0] > kth)[0]


def shortage(pupils: Sequence[Pupil], without: Sequence[str], slots: int = 3) -> list[Shortage]:
    """Where volunteers are missing: the needs nobody fits, by level × subjects × département,
    most needs first, each with the slots they ask for most — whom the collective should recruit."""
    missing = set(without)
    groups: dict[tuple[str, str, str], list[Pupil]] = {}
    for pupil in pupils:
        if pupil.id in missing:
            key = (pupil.level, ", ".join(pupil.subjects) or "toutes matières", pupil.place.departement)
            groups.setdefault(key, []).append(pupil)
    rows = []
    for (level, subjects, departement), group in groups.items():
        asked = Counter(slot for pupil in group for slot in pupil.slots)
        rows.append(Shortage(level, subjects, departement, len(group),
                             tuple(s for s, _ in sorted(asked.items(), key=lambda a: (-a[1], SLOTS.index(a[0])))[:slots])))
    return sorted(rows, key=lambda r: (-r.needs, LEVELS.index(r.level) if r.level in LEVELS else 99, r.subjects,
                                       r.departement))
