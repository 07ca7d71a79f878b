"""The matching loops, compiled (numba) and run in parallel over needs.

For each need only the mentors that can possibly fit are visited: an index lists mentors by level and
subject (those who work remotely), and by level, subject and région (those who meet in person).
Each entry of a list carries a copy of its mentor's facts, so walking a list reads memory in order.
A mentor listed under several of a need's subjects is counted once, at the first of them. Every hard
constraint is checked on the way (a free place, a common slot, the mode, the distance the mentor
accepts, a pair never to suggest again), and the best candidates are kept, best first. Ties go to
the mentor with the lower index, so results depend neither on the visiting order nor on threads.

Tables are int64 rows. A mentor row: the columns below; an entry of a list: the mentor's index,
then the mentor row. A need row: LEVEL and the same place and mask columns.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

REMOTE, IN_PERSON = 1, 2
SUBJ, SLOTS, MODE, COM, EPCI, DEPT, REG, MAXBAND, FREE, LEVELS = range(10)  # mentor columns
MENTOR_COLUMNS = 10
LEVEL = LEVELS  # a need's level index sits where a mentor's level mask does
# Score weights: common slots, proximity, subject overlap, waiting time, low load.
WEIGHTS = np.array([3.0, 2.0, 2.0, 1.0, 1.0], dtype=np.float64)
MAX_WAIT_DAYS = 60.0
REMOTE_PROXIMITY = 0.3  # how much closeness still counts when the pair meets remotely


@njit(cache=True, inline="always")
def popcount(x):
    count = 0
    while x:
        x &= x - 1
        count += 1
    return count


@njit(cache=True, inline="always")
def fit_score(need, table, row, offset, static, weights):
    """The score of the mentor in `table[row]` (columns from `offset`) for a need, -inf when they
    do not fit (level and exclusions are checked by the caller). `static` is the mentor's own part:
    waiting time and low load. Rows are read in place: no view is made in the hot loop."""
    common = need[SLOTS] & table[row, offset + SLOTS]
    if common == 0 or table[row, offset + FREE] <= 0:
        return -np.inf
    subjects = need[SUBJ] & table[row, offset + SUBJ]
    if need[SUBJ] != 0 and subjects == 0:
        return -np.inf
    if need[COM] >= 0 and need[COM] == table[row, offset + COM]:
        band = 0
    elif need[EPCI] >= 0 and need[EPCI] == table[row, offset + EPCI]:
        band = 1
    elif need[DEPT] >= 0 and need[DEPT] == table[row, offset + DEPT]:
        band = 2
    elif need[REG] >= 0 and need[REG] == table[row, offset + REG]:
        band = 3
    else:
        band = 4
    mode = table[row, offset + MODE]
    meets = (need[MODE] & IN_PERSON) != 0 and (mode & IN_PERSON) != 0 and band <= table[row, offset + MAXBAND]
    if not meets and ((need[MODE] & REMOTE) == 0 or (mode & REMOTE) == 0):
        return -np.inf
    need_subjects = popcount(need[SUBJ])
    overlap = popcount(subjects) / need_subjects if need_subjects else 1.0
    proximity = (4 - band) / 4.0
    if not meets:
        proximity *= REMOTE_PROXIMITY
    return weights[0] * min(popcount(common), 3) / 3.0 + weights[1] * proximity + weights[2] * overlap + static


@njit(cache=True, inline="always")
def excluded(n, v, excl_ptr, excl_idx):
    for p in range(excl_ptr[n], excl_ptr[n + 1]):
        if excl_idx[p] == v:
            return True
    return False


@njit(cache=True, inline="always")
def ahead(score, v, other_score, other_v):
    return score > other_score or (score == other_score and v < other_v)


@njit(cache=True, inline="always")
def keep_best(n, v, score, top_idx, top_score, top_len, L):
    """Insert a candidate into need `n`'s sorted top list (by score, then by mentor index)."""
    length = top_len[0]
    if length == L and not ahead(score, v, top_score[n, L - 1], top_idx[n, L - 1]):
        return
    position = length if length < L else L - 1
    while position > 0 and ahead(score, v, top_score[n, position - 1], top_idx[n, position - 1]):
        top_score[n, position] = top_score[n, position - 1]
        top_idx[n, position] = top_idx[n, position - 1]
        position -= 1
    top_score[n, position] = score
    top_idx[n, position] = v
    if length < L:
        top_len[0] = length + 1


@njit(cache=True, inline="always")
def walk(n, need, subjects, s, entries, statics, start, stop, excl_ptr, excl_idx, top_idx, top_score, top_len, L,
         weights):
    """Visit one list of the index for need `n`; how many mentors fit."""
    found = 0
    lower = (1 << s) - 1
    has_exclusions = excl_ptr[n + 1] > excl_ptr[n]
    for p in range(start, stop):
        if (entries[p, 1 + SUBJ] & subjects & lower) != 0:
            continue  # listed under an earlier subject of this need: counted there
        score = fit_score(need, entries, p, 1, statics[p], weights)
        if score == -np.inf:
            continue
        v = entries[p, 0]
        if has_exclusions and excluded(n, v, excl_ptr, excl_idx):
            continue
        found += 1
        keep_best(n, v, score, top_idx, top_score, top_len, L)
    return found


@njit(parallel=True, cache=True)
def best_candidates(L, S, R, needs, excl_ptr, excl_idx, remote, remote_static, remote_ptr,
                    meet, meet_static, meet_ptr, only, only_static, only_ptr, weights):
    """For every need: its `L` best mentors (indices, -1 when fewer), their scores, and how many
    mentors fit in all."""
    N = needs.shape[0]
    top_idx = np.full((N, L), -1, np.int64)
    top_score = np.full((N, L), -np.inf, np.float64)
    fitting = np.zeros(N, np.int64)
    for n in prange(N):
        need = needs[n]
        top_len = np.zeros(1, np.int64)
        found = 0
        subjects = need[SUBJ] if need[SUBJ] != 0 else (1 << S) - 1
        for s in range(S):
            if ((subjects >> s) & 1) == 0:
                continue
            key = need[LEVEL] * S + s
            if need[MODE] & REMOTE:
                found += walk(n, need, subjects, s, remote, remote_static, remote_ptr[key], remote_ptr[key + 1],
                              excl_ptr, excl_idx, top_idx, top_score, top_len, L, weights)
            if (need[MODE] & IN_PERSON) and need[REG] >= 0:
                region_key = key * R + need[REG]
                if need[MODE] & REMOTE:  # remote-capable mentors were met above: the others now
                    found += walk(n, need, subjects, s, only, only_static, only_ptr[region_key],
                                  only_ptr[region_key + 1], excl_ptr, excl_idx, top_idx, top_score, top_len, L, weights)
                else:
                    found += walk(n, need, subjects, s, meet, meet_static, meet_ptr[region_key],
                                  meet_ptr[region_key + 1], excl_ptr, excl_idx, top_idx, top_score, top_len, L, weights)
        fitting[n] = found
    return top_idx, top_score, fitting


@njit(cache=True)
def allocate(cand_idx, fitting, budget, K):
    """Capacity-aware suggestions: K per need from its best candidates, round by round (every need
    its best, then its second…), scarcest needs first, a mentor offered at most `budget` times.
    A need left with none though it had candidates gets its best one anyway."""
    N, L = cand_idx.shape
    order = np.argsort(fitting, kind="mergesort")
    chosen = np.full((N, K), -1, np.int64)
    taken = np.zeros(N, np.int64)
    left = budget.copy()
    for r in range(L):
        for i in range(N):
            n = order[i]
            if taken[n] >= K:
                continue
            v = cand_idx[n, r]
            if v < 0:
                continue
            if left[v] > 0:
                chosen[n, taken[n]] = v
                taken[n] += 1
                left[v] -= 1
    for n in range(N):
        if taken[n] == 0 and cand_idx[n, 0] >= 0:
            chosen[n, 0] = cand_idx[n, 0]
            taken[n] = 1
    return chosen, taken


@njit(parallel=True, cache=True)
def constraint_counts(selected, S, needs, everyone, everyone_ptr, level_available):
    """For needs nobody fits: how many mentors are left after each constraint in turn — available
    with the level, then the subjects, then a common slot (mode and distance come last)."""
    counts = np.zeros((selected.shape[0], 3), np.int64)
    for i in prange(selected.shape[0]):
        need = needs[selected[i]]
        counts[i, 0] = level_available[need[LEVEL]]
        subjects = need[SUBJ] if need[SUBJ] != 0 else (1 << S) - 1
        with_subject = 0
        with_slot = 0
        for s in range(S):
            if ((subjects >> s) & 1) == 0:
                continue
            key = need[LEVEL] * S + s
            for p in range(everyone_ptr[key], everyone_ptr[key + 1]):
                if everyone[p, 1 + FREE] <= 0 or (everyone[p, 1 + SUBJ] & subjects & ((1 << s) - 1)) != 0:
                    continue
                with_subject += 1
                if need[SLOTS] & everyone[p, 1 + SLOTS]:
                    with_slot += 1
        counts[i, 1] = with_subject
        counts[i, 2] = with_slot
    return counts


@njit(cache=True)
def naive_best(L, needs, excl_ptr, excl_idx, mentors, statics, weights):
    """The same answer by visiting every pair: the reference the indexed search is checked against.
    (Remote-capable mentors match in-person needs only within their région, as the index lists them.)"""
    N, V = needs.shape[0], mentors.shape[0]
    top_idx = np.full((N, L), -1, np.int64)
    top_score = np.full((N, L), -np.inf, np.float64)
    fitting = np.zeros(N, np.int64)
    for n in range(N):
        need = needs[n]
        top_len = np.zeros(1, np.int64)
        for v in range(V):
            mentor = mentors[v]
            if ((mentor[LEVELS] >> need[LEVEL]) & 1) == 0:
                continue
            listed_remotely = (need[MODE] & REMOTE) != 0 and (mentor[MODE] & REMOTE) != 0
            if not listed_remotely and (need[REG] < 0 or need[REG] != mentor[REG]):
                continue
            score = fit_score(need, mentors, v, 0, statics[v], weights)
            if score == -np.inf or excluded(n, v, excl_ptr, excl_idx):
                continue
            fitting[n] += 1
            keep_best(n, v, score, top_idx, top_score, top_len, L)
    return top_idx, top_score, fitting


@njit(parallel=True, cache=True)
def pair_scores(pairs_need, pairs_mentor, needs, excl_ptr, excl_idx, mentors, statics, weights):
    """The score of each (need, mentor) pair, -inf where they no longer fit (to keep a list that is
    still good, or tell why it is not)."""
    out = np.empty(pairs_need.shape[0], np.float64)
    for i in prange(pairs_need.shape[0]):
        n, v = pairs_need[i], pairs_mentor[i]
        need, mentor = needs[n], mentors[v]
        if ((mentor[LEVELS] >> need[LEVEL]) & 1) == 0 or excluded(n, v, excl_ptr, excl_idx):
            out[i] = -np.inf
        else:
            out[i] = fit_score(need, mentors, v, 0, statics[v], weights)
    return out
