"""The matching loops, compiled (numba) and run in parallel over needs.

For each need only the mentors that can possibly fit are visited: an index lists mentors by level and
subject (those who work remotely), and by level, subject and région (those who meet in person).
A mentor listed under several of a need's subjects is counted once, at the first of them. Every hard
constraint is checked on the way (a free place, a common slot, the mode, the distance the mentor
accepts, a pair never to suggest again), and the best candidates are kept, best first. Ties go to
the mentor with the lower index, so results depend neither on the visiting order nor on threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

REMOTE, IN_PERSON = 1, 2
# Score weights: common slots, proximity, subject overlap, waiting time, low load.
WEIGHTS = np.array([3.0, 2.0, 2.0, 1.0, 1.0], dtype=np.float32)
MAX_WAIT_DAYS = 60.0
REMOTE_PROXIMITY = 0.3  # how much closeness still counts when the pair meets remotely


@njit(cache=True, inline="always")
def popcount(x: int) -> int:
    count = 0
    while x:
        x &= x - 1
        count += 1
    return count


@njit(cache=True, inline="always")
def band_between(n, v, n_com, n_epci, n_dept, n_reg, v_com, v_epci, v_dept, v_reg):
    if n_com[n] >= 0 and n_com[n] == v_com[v]:
        return 0
    if n_epci[n] >= 0 and n_epci[n] == v_epci[v]:
        return 1
    if n_dept[n] >= 0 and n_dept[n] == v_dept[v]:
        return 2
    if n_reg[n] >= 0 and n_reg[n] == v_reg[v]:
        return 3
    return 4


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
def pair_score(n, v, n_subj, n_slots, n_mode, n_com, n_epci, n_dept, n_reg, excl_ptr, excl_idx,
               v_levels_ok, v_subj, v_slots, v_mode, v_com, v_epci, v_dept, v_reg, v_maxband, v_free, v_wait, v_load,
               weights):
    """The score of mentor `v` for need `n`, or -inf when they do not fit (the level, checked by
    whoever lists the mentor, is `v_levels_ok`)."""
    if not v_levels_ok or v_free[v] <= 0:
        return -np.inf
    if n_subj[n] != 0 and (n_subj[n] & v_subj[v]) == 0:
        return -np.inf
    common = n_slots[n] & v_slots[v]
    if common == 0:
        return -np.inf
    band = band_between(n, v, n_com, n_epci, n_dept, n_reg, v_com, v_epci, v_dept, v_reg)
    meets = (n_mode[n] & IN_PERSON) != 0 and (v_mode[v] & IN_PERSON) != 0 and band <= v_maxband[v]
    remote = (n_mode[n] & REMOTE) != 0 and (v_mode[v] & REMOTE) != 0
    if not (meets or remote):
        return -np.inf
    if excluded(n, v, excl_ptr, excl_idx):
        return -np.inf
    need_subjects = popcount(n_subj[n])
    overlap = popcount(n_subj[n] & v_subj[v]) / need_subjects if need_subjects else 1.0
    proximity = (4 - band) / 4.0
    if not meets:
        proximity *= REMOTE_PROXIMITY
    return (weights[0] * min(popcount(common), 3) / 3.0 + weights[1] * proximity + weights[2] * overlap
            + weights[3] * min(v_wait[v], MAX_WAIT_DAYS) / MAX_WAIT_DAYS + weights[4] / (1.0 + v_load[v]))


@njit(cache=True, inline="always")
def consider(n, v, s, subjects, top_idx, top_score, top_len, L,
             n_subj, n_slots, n_mode, n_com, n_epci, n_dept, n_reg, excl_ptr, excl_idx,
             v_subj, v_slots, v_mode, v_com, v_epci, v_dept, v_reg, v_maxband, v_free, v_wait, v_load, weights):
    """Keep mentor `v`, met under subject `s` of the need's `subjects` (all of them when the need
    names none), among need `n`'s best if they fit. Returns 1 if they fit, else 0."""
    if (v_subj[v] & subjects & ((1 << s) - 1)) != 0:
        return 0  # listed under an earlier subject of this need: counted there
    score = pair_score(n, v, n_subj, n_slots, n_mode, n_com, n_epci, n_dept, n_reg, excl_ptr, excl_idx, True,
                       v_subj, v_slots, v_mode, v_com, v_epci, v_dept, v_reg, v_maxband, v_free, v_wait, v_load,
                       weights)
    if score == -np.inf:
        return 0
    # Insert into the top list, sorted by score, then by mentor (so the order they were met in,
    # which differs between the indexed and the exhaustive search, never matters).
    length = top_len[0]
    if length == L and not ahead(score, v, top_score[n, L - 1], top_idx[n, L - 1]):
        return 1
    position = length if length < L else L - 1
    while position > 0 and ahead(score, v, top_score[n, position - 1], top_idx[n, position - 1]):
        top_score[n, position] = top_score[n, position - 1]
        top_idx[n, position] = top_idx[n, position - 1]
        position -= 1
    top_score[n, position] = score
    top_idx[n, position] = v
    if length < L:
        top_len[0] = length + 1
    return 1


@njit(parallel=True, cache=True)
def best_candidates(L, S, R,
                    n_level, n_subj, n_slots, n_mode, n_com, n_epci, n_dept, n_reg, excl_ptr, excl_idx,
                    v_subj, v_slots, v_mode, v_com, v_epci, v_dept, v_reg, v_maxband, v_free, v_wait, v_load,
                    rem_ptr, rem_idx, meet_ptr, meet_idx, only_ptr, only_idx, weights):
    """For every need: its `L` best mentors (indices, -1 when fewer), their scores, and how many
    mentors fit in all."""
    N = n_level.shape[0]
    top_idx = np.full((N, L), -1, np.int64)
    top_score = np.full((N, L), -np.inf, np.float64)
    fitting = np.zeros(N, np.int64)
    for n in prange(N):
        top_len = np.zeros(1, np.int64)
        found = 0
        subjects = n_subj[n] if n_subj[n] != 0 else (1 << S) - 1
        for s in range(S):
            if ((subjects >> s) & 1) == 0:
                continue
            key = n_level[n] * S + s
            if n_mode[n] & REMOTE:
                for p in range(rem_ptr[key], rem_ptr[key + 1]):
                    found += consider(n, rem_idx[p], s, subjects, top_idx, top_score, top_len, L, n_subj, n_slots,
                                      n_mode, n_com, n_epci, n_dept, n_reg, excl_ptr, excl_idx, v_subj, v_slots,
                                      v_mode, v_com, v_epci, v_dept, v_reg, v_maxband, v_free, v_wait, v_load,
                                      weights)
            if (n_mode[n] & IN_PERSON) and n_reg[n] >= 0:
                region_key = key * R + n_reg[n]
                if n_mode[n] & REMOTE:  # remote-capable mentors were met above: the others now
                    for p in range(only_ptr[region_key], only_ptr[region_key + 1]):
                        found += consider(n, only_idx[p], s, subjects, top_idx, top_score, top_len, L, n_subj, n_slots,
                                          n_mode, n_com, n_epci, n_dept, n_reg, excl_ptr, excl_idx, v_subj,
                                          v_slots, v_mode, v_com, v_epci, v_dept, v_reg, v_maxband, v_free, v_wait,
                                          v_load, weights)
                else:
                    for p in range(meet_ptr[region_key], meet_ptr[region_key + 1]):
                        found += consider(n, meet_idx[p], s, subjects, top_idx, top_score, top_len, L, n_subj, n_slots,
                                          n_mode, n_com, n_epci, n_dept, n_reg, excl_ptr, excl_idx, v_subj,
                                          v_slots, v_mode, v_com, v_epci, v_dept, v_reg, v_maxband, v_free, v_wait,
                                          v_load, weights)
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
def constraint_counts(needs, S, n_level, n_subj, n_slots, v_subj, v_slots, v_free,
                      all_ptr, all_idx, level_available):
    """For needs nobody fits: how many mentors are left after each constraint in turn — available
    with the level, then the subjects, then a common slot (mode and distance come last)."""
    counts = np.zeros((needs.shape[0], 3), np.int64)
    for i in prange(needs.shape[0]):
        n = needs[i]
        counts[i, 0] = level_available[n_level[n]]
        subjects = n_subj[n] if n_subj[n] != 0 else (1 << S) - 1
        with_subject = 0
        with_slot = 0
        for s in range(S):
            if ((subjects >> s) & 1) == 0:
                continue
            key = n_level[n] * S + s
            for p in range(all_ptr[key], all_ptr[key + 1]):
                v = all_idx[p]
                if v_free[v] <= 0 or (v_subj[v] & subjects & ((1 << s) - 1)) != 0:
                    continue
                with_subject += 1
                if n_slots[n] & v_slots[v]:
                    with_slot += 1
        counts[i, 1] = with_subject
        counts[i, 2] = with_slot
    return counts


@njit(cache=True)
def naive_best(L, n_level, n_subj, n_slots, n_mode, n_com, n_epci, n_dept, n_reg, excl_ptr, excl_idx,
               v_levels, v_subj, v_slots, v_mode, v_com, v_epci, v_dept, v_reg, v_maxband, v_free, v_wait, v_load,
               weights):
    """The same answer by visiting every pair: the reference the indexed search is checked against."""
    N, V = n_level.shape[0], v_subj.shape[0]
    top_idx = np.full((N, L), -1, np.int64)
    top_score = np.full((N, L), -np.inf, np.float64)
    fitting = np.zeros(N, np.int64)
    for n in range(N):
        top_len = np.zeros(1, np.int64)
        for v in range(V):
            subjects = n_subj[n] & v_subj[v] if n_subj[n] != 0 else v_subj[v]
            if ((v_levels[v] >> n_level[n]) & 1) == 0 or subjects == 0:
                continue
            s = 0
            while ((subjects >> s) & 1) == 0:
                s += 1
            fitting[n] += consider(n, v, s, subjects, top_idx, top_score, top_len, L, n_subj, n_slots, n_mode, n_com, n_epci,
                                   n_dept, n_reg, excl_ptr, excl_idx, v_subj, v_slots, v_mode, v_com, v_epci, v_dept,
                                   v_reg, v_maxband, v_free, v_wait, v_load, weights)
    return top_idx, top_score, fitting


@njit(parallel=True, cache=True)
def pair_scores(needs, mentors, n_level, n_subj, n_slots, n_mode, n_com, n_epci, n_dept, n_reg, excl_ptr, excl_idx,
                v_levels, v_subj, v_slots, v_mode, v_com, v_epci, v_dept, v_reg, v_maxband, v_free, v_wait, v_load,
                weights):
    """The score of each (need, mentor) pair, -inf where they no longer fit (to keep a list that is
    still good, or tell why it is not)."""
    out = np.empty(needs.shape[0], np.float64)
    for i in prange(needs.shape[0]):
        n, v = needs[i], mentors[i]
        level_ok = ((v_levels[v] >> n_level[n]) & 1) == 1
        out[i] = pair_score(n, v, n_subj, n_slots, n_mode, n_com, n_epci, n_dept, n_reg, excl_ptr, excl_idx, level_ok,
                            v_subj, v_slots, v_mode, v_com, v_epci, v_dept, v_reg, v_maxband, v_free, v_wait, v_load,
                            weights)
    return out
