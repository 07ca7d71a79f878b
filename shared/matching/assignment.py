"""Whole-pool assignment for coordinators: one mentor per need, chosen for the whole campaign at
once — as many needs covered as possible, then the best total score, with a fairness term so that
no structure is starved — to be reviewed before it is published.

A min-cost flow (OR-Tools' `SimpleMinCostFlow`) over each need's best candidates: the source feeds
each structure, whose k-th covered need costs a little more than its (k-1)-th (a convex cost: the
fairness term), each structure feeds its needs, each need its candidate mentors, each mentor the
sink up to their free places. Covering a need is worth more than any difference of scores, so
coverage comes first.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from shared.matching import kernels
from shared.matching.engine import Pool, Search, search

SCALE = 1000  # scores to integer costs
ROUNDS = 3  # flows: the first over the best candidates, then over the places left
FAIRNESS = 200  # cost added for each further need of the same structure (a fifth of a score point)
Array = npt.NDArray[np.int64]


def assign(pool: Pool, found: Search, fairness: int = FAIRNESS, rounds: int = ROUNDS) -> Array:
    """The mentor index proposed for each need (-1: none). Each need is linked to its best
    candidates only, and under scarcity the same popular mentors head many lists: a need whose
    candidates were all taken is searched again among the places left, and a flow over those
    fills what it can, up to `rounds` times."""
    chosen = flow(pool, found, fairness)
    free = np.maximum(pool.arrays["mentors"][:, kernels.FREE], 0).astype(np.int64)
    for _ in range(rounds - 1):
        waiting = np.nonzero((chosen < 0) & (found.fitting > 0))[0]
        left = free - np.bincount(chosen[chosen >= 0], minlength=len(free))
        if len(waiting) == 0 or not left.any():
            break
        residual = pool.with_free_places(left).with_needs([pool.pupils[n] for n in waiting])
        again = search(residual, found.candidates.shape[1])
        extra = flow(residual, again, fairness)
        if not (extra >= 0).any():
            break
        chosen[waiting[extra >= 0]] = extra[extra >= 0]
    return chosen


def flow(pool: Pool, found: Search, fairness: int = FAIRNESS) -> Array:
    """One min-cost flow over each need's candidates, within each mentor's free places."""
    needs, width = found.candidates.shape
    mentors = len(pool.mentors)
    structures = {s: i for i, s in enumerate(sorted({p.structure for p in pool.pupils}))}
    of_structure = np.array([structures[p.structure] for p in pool.pupils], np.int64)
    per_structure = np.bincount(of_structure, minlength=len(structures))
    # Nodes: source, structures, needs, mentors, sink.
    source, first_structure = 0, 1
    first_need = first_structure + len(structures)
    first_mentor = first_need + needs
    sink = first_mentor + mentors
    worth = int(found.scores[found.candidates >= 0].max(initial=0) * SCALE) + fairness * int(per_structure.max(initial=1)) + 1

    tails: list[Array] = []
    heads: list[Array] = []
    capacities: list[Array] = []
    costs: list[Array] = []

    def arcs(t: Array, h: Array, cap: Array, cost: Array) -> None:
        for column, values in ((tails, t), (heads, h), (capacities, cap), (costs, cost)):
            column.append(values)

    # source → structure: one arc per need it has, each a little dearer (the convex fairness cost)
    rank = np.arange(per_structure.sum()) - np.repeat(np.cumsum(per_structure) - per_structure, per_structure)
    owners = np.repeat(np.arange(len(structures)), per_structure)
    arcs(np.zeros(len(owners), np.int64), first_structure + owners, np.ones(len(owners), np.int64), rank * fairness)
    # structure → need
    arcs(first_structure + of_structure, first_need + np.arange(needs), np.ones(needs, np.int64),
         np.zeros(needs, np.int64))
    # need → candidate mentor: covering a need is worth more than any score
    need_of, position = np.nonzero(found.candidates >= 0)
    mentor_of = found.candidates[need_of, position]
    score_cost = -(worth + np.round(found.scores[need_of, position] * SCALE)).astype(np.int64)
    arcs(first_need + need_of, first_mentor + mentor_of, np.ones(len(need_of), np.int64), score_cost)
    # mentor → sink, up to their free places; and the source's unused supply straight to the sink
    free = np.maximum(pool.arrays["mentors"][:, kernels.FREE], 0).astype(np.int64)
    arcs(first_mentor + np.arange(mentors), np.full(mentors, sink, np.int64), free, np.zeros(mentors, np.int64))
    arcs(np.array([source]), np.array([sink]), np.array([needs]), np.array([0]))

    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(np.concatenate(tails), np.concatenate(heads),
                                              np.concatenate(capacities), np.concatenate(costs))
    flow.set_nodes_supplies(np.array([source, sink]), np.array([needs, -needs]))
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("min-cost flow without an optimal solution")
    chosen = np.full(needs, -1, np.int64)
    first_candidate_arc = len(owners) + needs
    used = np.nonzero(flow.flows(np.arange(first_candidate_arc, first_candidate_arc + len(need_of))) > 0)[0]
    chosen[need_of[used]] = mentor_of[used]
    return chosen
