"""Volunteers left waiting: signed three weeks ago or more and still without a binôme get a note
saying since when and what is missing where they live; the note is written once, kept while
nothing changes, and cleared when a binôme comes. Time is injected, never slept."""

from __future__ import annotations

import datetime as dt

from schemas import options as opt
from schemas.records import Need, Pair, Volunteer
from shared.clock import PARIS
from shared.followup.limbo import Unsolved, in_limbo, notes_to_write
from tests.test_followup_checkins import on
from tests.test_matching_flow import mentor, need, structure

SIGNED_AT = dt.datetime(2020, 10, 1, 22, 30, tzinfo=dt.timezone.utc)  # 2 October in Paris


def signed(name: str, **more) -> Volunteer:
    return mentor(name, f"{name.lower()}@exemple.fr", envelope_signed_at=SIGNED_AT, record_id=f"rec{name}", **more)


def unsolved(reference: str, departement: str = "69", **more) -> Unsolved:
    return Unsolved(need(reference, "recCollege", status=opt.NeedStatus.NO_MATCH, **more), departement)


def test_three_weeks_after_the_paris_day_of_signing_not_a_day_before():
    lea = signed("Lea")
    assert in_limbo([lea], {}, [], dt.date(2020, 10, 22)) == []  # 20 days after 2 October
    [waiting] = in_limbo([lea], {}, [], dt.date(2020, 10, 23))
    assert waiting.signed_on == dt.date(2020, 10, 2)
    assert waiting.note.splitlines()[0] == "Sans binôme depuis la signature du 02/10/2020."


def test_a_live_binome_or_a_pause_keeps_a_volunteer_out_an_interrupted_one_does_not():
    day = dt.date(2020, 11, 30)
    pairs = {"recLive": Pair(status=opt.PairStatus.PAUSED), "recOver": Pair(status=opt.PairStatus.INTERRUPTED)}
    assert in_limbo([signed("Lea", pairs=["recLive"])], pairs, [], day) == []
    assert in_limbo([signed("Lea", status=opt.VolunteerStatus.LEFT)], pairs, [], day) == []
    assert len(in_limbo([signed("Lea", pairs=["recOver"])], pairs, [], day)) == 1
    unsigned = mentor("Sam", "sam@exemple.fr", record_id="recSam")
    assert in_limbo([unsigned], {}, [], day) == []


def test_the_note_reads_the_shortage_where_they_live_and_what_fits_them():
    day = dt.date(2020, 11, 30)
    lea = signed("Lea")  # 4e and 3e, mathematics, Lyon (Rhône), in person or remote
    shortage = [unsolved("A", level="4e", subjects=["Mathématiques"]),
                unsolved("B", level="Terminale", subjects=["Physique-chimie"]),
                unsolved("C", level="Terminale", subjects=["Physique-chimie"]),
                unsolved("D", departement="13", level="3e", subjects=["Mathématiques"], mode="Distanciel"),
                unsolved("E", departement="13", level="3e", subjects=["Mathématiques"], mode="Présentiel")]
    [waiting] = in_limbo([lea], {}, shortage, day)
    lines = waiting.note.splitlines()
    assert lines[1] == "Rhône (69) : 3 besoin(s) sans bénévole — Terminale · Physique-chimie (2), 4e · Mathématiques (1)."
    assert lines[2].startswith("2 de ces besoins sans bénévole sont à ses niveaux et matières")  # A here, D remote
    [far] = in_limbo([signed("Noe", levels=["6e"])], {}, shortage, day)
    assert far.note.splitlines()[2].startswith("Aucun besoin sans bénévole à ses niveaux et matières")
    [nowhere] = in_limbo([signed("Eve", postcode="", town="")], {}, [], day)
    assert nowhere.note.splitlines()[1] == "Département inconnu : aucun besoin sans bénévole."


def test_only_notes_that_change_are_written_and_notes_of_those_no_longer_waiting_are_cleared():
    day = dt.date(2020, 11, 30)
    lea, sam = signed("Lea"), signed("Sam", pairs=["recLive"])
    [waiting] = in_limbo([lea], {}, [], day)
    kept = lea.model_copy(update={"waiting": waiting.note})
    stale = sam.model_copy(update={"waiting": "Sans binôme depuis …"})
    pairs = {"recLive": Pair(status=opt.PairStatus.ACTIVE)}
    updates = notes_to_write([kept, stale], in_limbo([kept, stale], pairs, [], day))
    assert [(u.record_id, u.waiting, u.model_fields_set) for u in updates] == [("recSam", "", {"record_id", "waiting"})]


def test_the_daily_run_notes_a_waiting_volunteer_once_and_clears_the_note_when_a_binome_comes(live):
    live.unplug_vendor_events()
    [lea, sam] = live.gateway.create([mentor("Léa", "lea@exemple.fr", envelope_signed_at=SIGNED_AT),
                                      mentor("Sam", "sam@exemple.fr", envelope_signed_at=SIGNED_AT)])
    [college] = live.gateway.create([structure("Collège Jean-Moulin", "cdi@college.fr")])
    [nobody, first] = live.gateway.create([
        need("CJM-1", college.record_id, level="Terminale", subjects=["Physique-chimie"],
             status=opt.NeedStatus.NO_MATCH),
        need("CJM-2", college.record_id)])
    live.gateway.create([Pair(name="Sam × CJM-2", need=[first.record_id], volunteer=[sam.record_id],
                              structure=[college.record_id], status=opt.PairStatus.ACTIVE,
                              known_status=opt.PairStatus.ACTIVE, started_on=dt.date(2020, 10, 20))])
    day = dt.date(2020, 10, 23)
    assert on(day).run().waiting == 1
    noted = live.gateway.get(Volunteer, lea.record_id)
    assert noted.waiting.splitlines()[1] == "Rhône (69) : 1 besoin(s) sans bénévole — Terminale · Physique-chimie (1)."
    assert live.gateway.get(Volunteer, sam.record_id).waiting == ""

    before = live.control("GET", "/stats")["requests"].get("airtable PATCH", 0)
    assert on(day + dt.timedelta(days=1)).run().waiting == 1
    assert live.control("GET", "/stats")["requests"].get("airtable PATCH", 0) == before  # same note: no write

    live.gateway.create([Pair(name="Léa × CJM-1", need=[nobody.record_id], volunteer=[lea.record_id],
                              structure=[college.record_id], status=opt.PairStatus.PROPOSED,
                              known_status=opt.PairStatus.PROPOSED,
                              proposed_at=dt.datetime.combine(day, dt.time(9), PARIS))])
    assert on(day + dt.timedelta(days=2)).run().waiting == 0
    assert live.gateway.get(Volunteer, lea.record_id).waiting == ""
    assert live.gateway.get(Need, nobody.record_id).status == opt.NeedStatus.NO_MATCH  # the note changed nothing else
