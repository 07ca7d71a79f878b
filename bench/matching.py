"""The matching engine on synthetic campaigns (`matching_data`) at three scales — a campaign
(2,000 volunteers × 1,000 needs), a region (20,000 × 20,000) and the nation (100,000 × 200,000) —
each in its own process, so that its peak memory is its own:

- time of a full computation (index, search of every need's best candidates, the capacity-aware
  share-out of five suggestions each) and of incremental ones (one new need, one new volunteer);
- the speed-up over naive double loops measured on a sample of the same data in the same run
  (plain Python pair by pair, and the compiled loop without the index), and the sample's answers
  checked equal;
- the whole-pool assignment (min-cost flow): time, peak memory, fill of the needs that have a
  candidate;
- quality of independent top-5, capacity-aware top-5 and the assignment: coverage, the share of
  clicks that still find their mentor free when structures click in a random order, needs
  filled after every structure clicked, mean distance band, offers per free place;
- a simulated day of changes, with and without keeping lists that are still good (hysteresis):
  lists rewritten and the Airtable requests it costs, against a full write.
"""

from __future__ import annotations

import datetime as dt
import math
import resource
import subprocess
import sys
import time
from dataclasses import replace
from typing import Callable, TypeVar

import numpy as np
import numpy.typing as npt

from bench.matching_data import TODAY, Synthetic
from shared.airtable.pacer import AIRTABLE_REQUESTS_PER_SECOND
from shared.matching import assignment, engine, kernels, plain
from shared.matching.model import SLOTS, Mentor, Pupil

SCALES = {"campaign": (2_000, 1_000), "region": (20_000, 20_000), "nation": (100_000, 200_000)}
PLAIN_PAIRS = 2_000_000  # pairs the plain-Python loop visits (a sample of needs against every mentor)
COMPILED_NAIVE_PAIRS = 400_000_000  # pairs the compiled loop without index visits
PAGE, BATCH = 100, 10  # Airtable: records per page read, per write
Array = npt.NDArray[np.int64]
T = TypeVar("T")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def human(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1e3:.1f} ms"


def timed(run: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    answer = run()
    return answer, time.perf_counter() - started


def warm_up() -> float:
    """Load (or compile, the first time) the kernels on a tiny pool: not part of any figure."""
    synthetic = Synthetic(seed=1)
    pool = engine.Pool.build(synthetic.mentors(50), synthetic.pupils(20), TODAY)
    _, seconds = timed(lambda: (engine.compute(pool), engine.naive_search(pool), assignment.assign(
        pool, engine.search(pool)), engine.entering(pool, engine.search(pool), synthetic.mentors(1))))
    return seconds


# --- quality ------------------------------------------------------------------------------

def bands(pool: engine.Pool, needs: Array, mentors: Array) -> Array:
    """The distance band of each pair (0 same commune … 4 farther than the région)."""
    a, b = pool.arrays["needs"][needs], pool.arrays["mentors"][mentors]
    out = np.full(len(needs), 4, np.int64)
    for band, column in reversed(list(enumerate((kernels.COM, kernels.EPCI, kernels.DEPT, kernels.REG)))):
        out[(a[:, column] >= 0) & (a[:, column] == b[:, column])] = band
    return out


def clicks(lists: Array, free: Array, rng: np.random.Generator) -> tuple[float, Array]:
    """Structures click in a random order, each need its suggestions best first until one is still
    free: the share of clicks that found their mentor free, and the mentor each need got (-1)."""
    free, got = free.copy(), np.full(len(lists), -1, np.int64)
    tried = succeeded = 0
    for n in rng.permutation(len(lists)):
        for mentor in lists[n]:
            if mentor < 0:
                break
            tried += 1
            if free[mentor] > 0:
                free[mentor] -= 1
                got[n] = mentor
                succeeded += 1
                break
    return succeeded / max(tried, 1), got


def quality(name: str, pool: engine.Pool, found: engine.Search, lists: Array) -> str:
    free = np.maximum(pool.arrays["mentors"][:, kernels.FREE], 0).astype(np.int64)
    feasible = found.fitting > 0
    listed = lists[:, 0] >= 0
    available, got = clicks(lists, free, np.random.default_rng(7))
    paired = np.nonzero(got >= 0)[0]
    band = bands(pool, paired, got[paired])
    offers = np.bincount(lists[lists >= 0], minlength=len(free))
    per_place = offers[free > 0] / free[free > 0]
    return (f"    {name:<22} coverage {listed.mean():6.1%}   clicks finding their mentor free {available:6.1%}   "
            f"filled {paired.size / max(feasible.sum(), 1):6.1%} of feasible   mean band {band.mean():.2f} "
            f"({(band <= 2).mean():.0%} within the département)   offers per free place: max {per_place.max():.0f}, "
            f"p99 {np.percentile(per_place, 99):.1f}; mentors offered {(offers[free > 0] > 0).mean():.0%}")


# --- a simulated day ----------------------------------------------------------------------

def a_day_later(synthetic: Synthetic, mentors: list[Mentor], pupils: list[Pupil]) -> tuple[list[Mentor], list[Pupil]]:
    """One day of a campaign: 1 % of volunteers change their slots, 0.5 % leave, 0.5 % join, 1 % new needs."""
    rng, count = synthetic.rng, len(mentors)
    leaving = set(rng.choice(count, size=count // 200, replace=False).tolist())
    editing = set(rng.choice(count, size=count // 100, replace=False).tolist()) - leaving
    kept = []
    for n, mentor in enumerate(mentors):
        if n in editing:
            mentor = replace(mentor, slots=synthetic.pick(SLOTS, synthetic.p_slot[False], len(mentor.slots)))
        if n not in leaving:
            kept.append(mentor)
    joining = [replace(m, id=f"j{n}", registered=dt.datetime.combine(TODAY + dt.timedelta(days=1), dt.time(),
                                                                       dt.timezone.utc))
               for n, m in enumerate(synthetic.mentors(count // 200))]
    new_needs = [replace(p, id=f"new{n}") for n, p in enumerate(synthetic.pupils(max(len(pupils) // 100, 1)))]
    return kept + joining, pupils + new_needs


def day(synthetic: Synthetic, mentors: list[Mentor], pupils: list[Pupil], structures: int) -> str:
    before = engine.Pool.build(mentors, pupils, TODAY)
    yesterday = engine.share_out(before, engine.search(before))
    lists = [[before.mentors[v].id for v in row if v >= 0] for row in yesterday]
    mentors2, pupils2 = a_day_later(synthetic, mentors, pupils)
    after = engine.Pool.build(mentors2, pupils2, TODAY + dt.timedelta(days=1))
    found = engine.search(after)
    index = {m.id: n for n, m in enumerate(mentors2)}

    def ids(row: Array) -> list[str]:
        return [after.mentors[v].id for v in row if v >= 0]

    afresh = engine.share_out(after, found)
    moved = sum(1 for n, now in enumerate(lists) if ids(afresh[n]) != now)
    fresh = engine.share_out(after, engine.sticky(found, engine.listed(after, lists + [[]] * (len(pupils2) - len(pupils)))))
    changed = rewritten = 0
    for n, now in enumerate(lists):
        if ids(fresh[n]) == now:
            continue
        changed += 1
        still = bool(now) and all(m in index for m in now)
        scores = engine.rescore(after, np.full(len(now), n), np.array([index[m] for m in now])) if still else []
        fresh_scores = [float(s) for v, s in zip(found.candidates[n], found.scores[n]) if v in set(fresh[n])]
        if not (still and engine.keep(list(scores), fresh_scores)):
            rewritten += 1
    new = len(pupils2) - len(pupils)
    reads = sum(math.ceil(n / PAGE) for n in (len(mentors2), len(pupils2), structures, len(pupils) // 2))
    full = reads + math.ceil(len(pupils2) / BATCH)
    with_hysteresis = reads + math.ceil((rewritten + new) / BATCH)
    per_second = AIRTABLE_REQUESTS_PER_SECOND
    return (f"  a simulated day (1 % of volunteers change slots, 0.5 % leave, 0.5 % join, 1 % new needs, one day "
            f"more of waiting for everyone):\n"
            f"    lists that differ {moved / len(pupils):.1%} when computed afresh, {changed / len(pupils):.1%} when "
            f"current lists are preferred in the share-out; rewritten when a still-good list within 5 % is kept "
            f"{rewritten / len(pupils):.1%} (+{new} new needs)\n"
            f"    Airtable requests: that day {with_hysteresis} ({with_hysteresis / per_second / 60:.1f} min at 5/s), "
            f"a full write {full} ({full / per_second / 60:.1f} min), reads included ({reads})")


# --- one scale ----------------------------------------------------------------------------

def naive_python(mentors: list[Mentor], pupils: list[Pupil], sample: Array, found: engine.Search,
                 k: int) -> tuple[float, bool]:
    """Seconds per pair of the plain-Python loop, and whether its answers equal the engine's."""
    answers, seconds = timed(lambda: [plain.best(mentors, pupils[n], TODAY, k) for n in sample])
    agree = all(
        [round(s, 6) for s, _ in answer] == [round(float(s), 6) for s in found.scores[n, :k] if s > -np.inf]
        for n, answer in zip(sample, answers))
    return seconds / (len(sample) * len(mentors)), agree


def scale(name: str) -> None:
    volunteers, needs = SCALES[name]
    compile_seconds = warm_up()
    synthetic = Synthetic(seed=2020)
    mentors, pupils = synthetic.mentors(volunteers), synthetic.pupils(needs)
    structures = len({p.structure for p in pupils})
    data_mb = peak_mb()
    pool, built = timed(lambda: engine.Pool.build(mentors, pupils, TODAY))
    found, searched = timed(lambda: engine.search(pool))
    suggested, shared = timed(lambda: engine.share_out(pool, found))
    full = built + searched + shared
    compute_mb = peak_mb()
    print(f"{name}: {volunteers:,} volunteers × {needs:,} needs ({structures:,} structures), "
          f"{volunteers * needs / 1e6:,.0f} million pairs; kernels loaded in {compile_seconds:.1f} s", flush=True)
    print(f"  full top-5: {human(full)} = index {human(built)} + search {human(searched)} + capacity-aware "
          f"share-out {human(shared)}; peak memory {compute_mb:.0f} MB (the process before computing, people as "
          f"Python objects included: {data_mb:.0f} MB); {(found.fitting > 0).mean():.1%} of needs have a candidate")

    rng = np.random.default_rng(3)
    sample = np.sort(rng.choice(needs, size=max(1, min(needs, PLAIN_PAIRS // volunteers)), replace=False))
    per_pair, agree = naive_python(mentors, pupils, sample, found, engine.K)
    compiled_sample = np.sort(rng.choice(needs, size=max(1, min(needs, COMPILED_NAIVE_PAIRS // volunteers)),
                                         replace=False))
    sub = pool.with_needs([pupils[n] for n in compiled_sample])
    naive, naive_seconds = timed(lambda: engine.naive_search(sub))
    same = bool((naive.candidates == found.candidates[compiled_sample]).all())
    naive_full = naive_seconds * needs / len(compiled_sample)
    plain_full = per_pair * volunteers * needs
    print(f"  naive double loop in plain Python: {per_pair * 1e9:.0f} ns a pair on {len(sample)} needs × every "
          f"volunteer (same answers: {'yes' if agree else 'NO'}) → {plain_full:,.0f} s for all pairs: the engine "
          f"is {plain_full / searched:,.0f}× faster (search), {plain_full / full:,.0f}× (full top-5)")
    print(f"  compiled loop without the index: {human(naive_full)} for all pairs (measured on {len(compiled_sample):,} "
          f"needs, same candidates: {'yes' if same else 'NO'}) → the index is {naive_full / searched:.0f}× faster")

    newcomers = synthetic.pupils(20)
    one_need = [timed(lambda p=p: engine.search(pool.with_needs([p])))[1] for p in newcomers]
    newcomer = [replace(m, id=f"new{n}") for n, m in enumerate(synthetic.mentors(20))]
    runs = [timed(lambda m=m: engine.entering(pool, found, [m])) for m in newcomer]
    one_mentor = [seconds for _, seconds in runs]
    entered = [len(lists) for lists, _ in runs]
    print(f"  incremental: one new need {np.median(one_need) * 1e3:.1f} ms (median of 20); one new volunteer "
          f"{np.median(one_mentor) * 1e3:.0f} ms to find the lists it enters (median {np.median(entered):.0f} needs)")

    chosen, assigned = timed(lambda: assignment.assign(pool, found))
    feasible = found.fitting > 0
    places = int(np.maximum(pool.arrays["mentors"][:, kernels.FREE], 0).sum())
    print(f"  whole-pool assignment: {human(assigned)}, peak memory {peak_mb():.0f} MB; fills "
          f"{(chosen >= 0).sum() / feasible.sum():.1%} of the {feasible.sum():,} needs with a candidate "
          f"({places:,} free places for {needs:,} needs: {'scarcity' if places < needs else 'volunteers outnumber needs'})")
    print("  quality (structures click in a random order, each down its list until a mentor is still free):")
    print(quality("independent top-5", pool, found, engine.independent(found)))
    print(quality("capacity-aware top-5", pool, found, suggested))
    print(quality("whole-pool assignment", pool, found, chosen[:, None]))
    if name != "nation":
        print(day(synthetic, mentors, pupils, structures))
    print(flush=True)


def main() -> None:
    print("Matching on synthetic campaigns (2 cores; each scale in its own process):", flush=True)
    for name in SCALES:
        subprocess.run([sys.executable, "-m", "bench.matching", name], check=True)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        scale(sys.argv[1])
    else:
        main()
