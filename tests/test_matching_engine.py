"""The matching engine against an oracle written from the rules alone, in plain Python: every
suggestion satisfies every hard constraint, no mentor who fits is passed over for a worse one,
results are deterministic; capacity-aware sharing caps offers; the reasons a need has no fit."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from shared.matching import assignment, engine, plain
from shared.matching.model import LEVELS, SLOTS, SUBJECTS, Mentor, Place, Pupil

TODAY = dt.date(2020, 11, 16)
PLACES = [Place("69123", "200046977", "69", "84"), Place("69266", "200046977", "69", "84"),  # Lyon, Villeurbanne
          Place("69091", "200040574", "69", "84"), Place("01053", "200071751", "01", "84"),  # Givors, Bourg
          Place("75056", "200054781", "75", "11"), Place("", "", "", "")]  # Paris, unknown
MODES = ["Distanciel", "Présentiel", "Les deux"]


def oracle_score(mentor: Mentor, pupil: Pupil) -> float | None:
    """The rules, written plainly (`plain`): None when the pair does not fit."""
    return plain.score(mentor, pupil, TODAY)


@st.composite
def campaigns(draw: st.DrawFn) -> tuple[list[Mentor], list[Pupil]]:
    mentors = []
    for n in range(draw(st.integers(1, 25))):
        level = draw(st.integers(0, 5))
        mentors.append(Mentor(
            f"m{n}", "Camille", tuple(LEVELS[level:level + draw(st.integers(1, 2))]),
            tuple(draw(st.lists(st.sampled_from(SUBJECTS[:4]), min_size=1, max_size=2, unique=True))),
            tuple(draw(st.lists(st.sampled_from(SLOTS[:6]), min_size=1, max_size=3, unique=True))),
            draw(st.sampled_from(MODES)), draw(st.sampled_from(PLACES)), draw(st.integers(0, 3)),
            draw(st.integers(0, 2)), draw(st.integers(0, 2)),
            dt.datetime.combine(TODAY - dt.timedelta(days=draw(st.integers(0, 90))), dt.time(), dt.timezone.utc)))
    pupils = []
    for n in range(draw(st.integers(1, 15))):
        pupils.append(Pupil(
            f"n{n}", f"s{draw(st.integers(0, 3))}", draw(st.sampled_from(LEVELS)),
            tuple(draw(st.lists(st.sampled_from(SUBJECTS[:4]), max_size=2, unique=True))),
            tuple(draw(st.lists(st.sampled_from(SLOTS[:6]), min_size=1, max_size=3, unique=True))),
            draw(st.sampled_from(MODES)), draw(st.sampled_from(PLACES)),
            frozenset(draw(st.lists(st.sampled_from([m.id for m in mentors]), max_size=2)))))
    return mentors, pupils


SETTINGS = hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(campaigns())
def test_every_suggestion_satisfies_every_hard_constraint(campaign):
    mentors, pupils = campaign
    by_id = {m.id: m for m in mentors}
    result = engine.suggest(mentors, pupils, today=TODAY)
    for pupil in pupils:
        for suggestion in result.suggestions.get(pupil.id, []):
            assert oracle_score(by_id[suggestion.mentor], pupil) is not None, (pupil, suggestion)
    assert set(result.suggestions) | set(result.no_fit) == {p.id for p in pupils}


@SETTINGS
@given(campaigns())
def test_no_mentor_who_fits_is_passed_over_for_a_worse_one(campaign):
    """Independent top-K equals the oracle's: same scores, ties to the mentor listed first."""
    mentors, pupils = campaign
    result = engine.suggest(mentors, pupils, k=5, capacity_aware=False, today=TODAY)
    for pupil in pupils:
        scored = [(score, -n, m.id) for n, m in enumerate(mentors)
                  if (score := oracle_score(m, pupil)) is not None]
        best = [m for _, _, m in sorted(scored, reverse=True)[:5]]
        got = [s.mentor for s in result.suggestions.get(pupil.id, [])]
        assert got == best, pupil
        for s in result.suggestions.get(pupil.id, []):
            assert abs(s.score - round(oracle_score(next(m for m in mentors if m.id == s.mentor), pupil), 4)) < 1e-3
        if not scored:
            assert pupil.id in result.no_fit


@SETTINGS
@given(campaigns())
def test_results_are_deterministic_and_the_index_agrees_with_every_pair(campaign):
    mentors, pupils = campaign
    assert engine.suggest(mentors, pupils, today=TODAY) == engine.suggest(mentors, pupils, today=TODAY)
    pool = engine.Pool.build(mentors, pupils, TODAY)
    indexed, exhaustive = engine.search(pool), engine.naive_search(pool)
    assert np.array_equal(indexed.candidates, exhaustive.candidates)
    assert np.array_equal(indexed.fitting, exhaustive.fitting)


@SETTINGS
@given(campaigns(), st.floats(1.0, 3.0))
def test_capacity_aware_suggestions_cap_offers(campaign, overbooking):
    """No mentor is offered more than `overbooking` × free places, except as the only suggestion
    of a need that would otherwise have none."""
    mentors, pupils = campaign
    result = engine.suggest(mentors, pupils, overbooking=overbooking, today=TODAY)
    offers: dict[str, int] = {}
    for suggestions in result.suggestions.values():
        if len(suggestions) > 1:
            for s in suggestions:
                offers[s.mentor] = offers.get(s.mentor, 0) + 1
    free = {m.id: m.free for m in mentors}
    assert all(n <= int(np.ceil(free[m] * overbooking)) for m, n in offers.items())


@SETTINGS
@given(campaigns())
def test_whole_pool_assignment_respects_capacity_and_covers_what_can_be(campaign):
    mentors, pupils = campaign
    pool = engine.Pool.build(mentors, pupils, TODAY)
    found = engine.search(pool)
    chosen = assignment.assign(pool, found)
    counts = np.bincount(chosen[chosen >= 0], minlength=len(mentors))
    assert all(counts[n] <= max(m.free, 0) for n, m in enumerate(mentors))
    for n, v in enumerate(chosen):
        if v >= 0:
            assert oracle_score(mentors[v], pupils[n]) is not None
    # every need with a candidate that still has a free place is covered (coverage first)
    for n, v in enumerate(chosen):
        if v < 0:
            assert all(counts[c] >= mentors[c].free for c in found.candidates[n] if c >= 0)


def test_explanations_speak_french():
    mentor = Mentor("m1", "Léa", ("4e", "3e"), ("Mathématiques",), ("Mercredi 14h-16h", "Lundi 18h-20h"),
                    "Présentiel", PLACES[0], 2, 1, 0, dt.datetime(2020, 11, 4, tzinfo=dt.timezone.utc))
    pupil = Pupil("n1", "s1", "3e", ("Mathématiques",), ("Mercredi 14h-16h",), "Présentiel", PLACES[1])
    [suggestion] = engine.suggest([mentor], [pupil], today=TODAY).suggestions["n1"]
    assert suggestion.explanation == ("3e ✓ · Mathématiques ✓ · mercredi 14h-16h ✓ · même intercommunalité, "
                                      "en présentiel · inscrit·e le 4 novembre")


def test_the_reason_a_need_has_no_fit():
    mentor = Mentor("m1", "Léa", ("6e",), ("Mathématiques",), ("Lundi 18h-20h",), "Distanciel", PLACES[0])
    cases = {
        Pupil("a", "s", "3e", ("Mathématiques",), ("Lundi 18h-20h",), "Distanciel", PLACES[0]): "niveau 3e",
        Pupil("b", "s", "6e", ("Français",), ("Lundi 18h-20h",), "Distanciel", PLACES[0]): "en Français",
        Pupil("c", "s", "6e", ("Mathématiques",), ("Mardi 9h-12h",), "Distanciel", PLACES[0]): "créneaux demandés",
        Pupil("d", "s", "6e", ("Mathématiques",), ("Lundi 18h-20h",), "Présentiel", PLACES[0]): "ne se déplace",
    }
    result = engine.suggest([mentor], list(cases), today=TODAY)
    for pupil, fragment in cases.items():
        assert fragment in result.no_fit[pupil.id].reason, (pupil.id, result.no_fit[pupil.id])
    assert [result.no_fit[p.id].kind for p in cases] == ["niveau", "matières", "créneaux", "distance"]
    busy = Mentor("m2", "Sam", ("6e",), ("Mathématiques",), ("Lundi 18h-20h",), "Distanciel", PLACES[0], free=0)
    assert "Aucun·e bénévole disponible" in engine.suggest([busy], [list(cases)[1]], today=TODAY).no_fit["b"].reason


@SETTINGS
@given(campaigns(), campaigns())
def test_a_new_need_is_matched_against_the_built_index_as_in_a_rebuilt_pool(campaign, other):
    (mentors, pupils), (_, newcomers) = campaign, other
    pool = engine.Pool.build(mentors, pupils, TODAY)
    alone = engine.search(pool.with_needs(newcomers))
    rebuilt = engine.search(engine.Pool.build(mentors, newcomers, TODAY))
    assert (alone.candidates == rebuilt.candidates).all() and (alone.fitting == rebuilt.fitting).all()


@SETTINGS
@given(campaigns(), campaigns())
def test_a_new_mentor_enters_exactly_the_lists_a_rebuild_would_change(campaign, other):
    (mentors, pupils), (more, _) = campaign, other
    newcomer = dataclasses.replace(more[0], id="new")
    pool = engine.Pool.build(mentors, pupils, TODAY)
    entered = set(engine.entering(pool, engine.search(pool, engine.K), [newcomer]).tolist())
    rebuilt = engine.search(engine.Pool.build([*mentors, newcomer], pupils, TODAY), engine.K)
    assert entered == {n for n in range(len(pupils)) if len(mentors) in rebuilt.candidates[n]}


def test_a_list_still_good_is_kept_and_a_thin_or_worse_one_is_not():
    assert engine.keep([8.0, 7.0, 6.0, 6.0], [8.0, 7.2, 6.1, 6.0, 5.0])  # one short of five, as good
    assert not engine.keep([8.0], [8.0, 7.0])  # one suggestion when there could be two
    assert not engine.keep([6.0, 5.0, 5.0], [9.0, 8.0, 8.0])  # much worse
    assert not engine.keep([8.0, -np.inf, 6.0], [8.0, 7.0, 6.0])  # someone no longer fits


def test_current_suggestions_nearly_as_good_win_the_share_out_again():
    def waiting(name: str, days: int) -> Mentor:
        return Mentor(name, name, ("3e",), ("Mathématiques",), ("Lundi 18h-20h",), "Distanciel", PLACES[0],
                      registered=dt.datetime.combine(TODAY - dt.timedelta(days=days), dt.time(), dt.timezone.utc))
    pupil = Pupil("n1", "s1", "3e", ("Mathématiques",), ("Lundi 18h-20h",), "Distanciel", PLACES[0])
    pool = engine.Pool.build([waiting("a", 10), waiting("b", 16)], [pupil], TODAY)  # b waited a little longer
    assert [s.mentor for s in engine.compute(pool, k=1, today=TODAY).suggestions["n1"]] == ["b"]
    kept = engine.compute(pool, k=1, today=TODAY, current=[["a"]])
    assert [s.mentor for s in kept.suggestions["n1"]] == ["a"]
    far_behind = engine.Pool.build([waiting("a", 0), waiting("b", 60)], [pupil], TODAY)
    assert [s.mentor for s in engine.compute(far_behind, k=1, today=TODAY, current=[["a"]]).suggestions["n1"]] == ["b"]


def test_the_shortage_says_whom_to_recruit():
    def need(id: str, level: str, subjects: tuple[str, ...], slots: tuple[str, ...], place: Place) -> Pupil:
        return Pupil(id, "s1", level, subjects, slots, "Présentiel", place)
    pupils = [need("a", "3e", ("Mathématiques",), ("Mercredi 14h-16h", "Lundi 18h-20h"), PLACES[0]),
              need("b", "3e", ("Mathématiques",), ("Mercredi 14h-16h",), PLACES[1]),  # same département
              need("c", "3e", ("Mathématiques",), ("Mercredi 14h-16h",), PLACES[4]),  # Paris
              need("d", "6e", (), ("Mardi 9h-12h",), PLACES[0]),
              need("e", "3e", ("Mathématiques",), ("Mercredi 14h-16h",), PLACES[0])]  # has a mentor
    rows = engine.shortage(pupils, ["a", "b", "c", "d"])
    assert [(r.level, r.subjects, r.departement, r.needs) for r in rows] == [
        ("3e", "Mathématiques", "69", 2), ("6e", "toutes matières", "69", 1), ("3e", "Mathématiques", "75", 1)]
    assert rows[0].slots == ("Mercredi 14h-16h", "Lundi 18h-20h")


def test_a_need_whose_candidates_were_all_taken_is_filled_from_the_places_left():
    def mentor(name: str, days: int) -> Mentor:
        return Mentor(name, name, ("3e",), ("Mathématiques",), ("Lundi 18h-20h",), "Distanciel", PLACES[0],
                      registered=dt.datetime.combine(TODAY - dt.timedelta(days=days), dt.time(), dt.timezone.utc))
    pupils = [Pupil(f"n{n}", f"s{n}", "3e", ("Mathématiques",), ("Lundi 18h-20h",), "Distanciel", PLACES[0])
              for n in range(2)]
    pool = engine.Pool.build([mentor("a", 30), mentor("b", 0)], pupils, TODAY)  # everyone's best: a, one place
    only_the_best = engine.search(pool, width=1)
    assert (assignment.assign(pool, only_the_best, rounds=1) >= 0).sum() == 1
    assert sorted(assignment.assign(pool, only_the_best).tolist()) == [0, 1]
