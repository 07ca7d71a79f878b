"""The coordinators' weekly digest: figures from dated records, an antenna's scope, the lists that
ask for action, the chart, and the sending once a week for the collective and each antenna through
the daily run against the stack, the console showing it as a mail client would. Time is injected."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import requests
from PIL import Image

from schemas import options as opt
from schemas.records import Antenna, Need, Pair, Structure, Volunteer
from shared.clock import PARIS
from shared.digest.chart import evolution_png
from shared.digest.content import Records, Scope, build, french_date
from shared.digest.funnel import STAGES
from shared.digest.weekly import COLLECTIVE, digest_email, digest_page
from shared.matching.engine import reason_for
from shared.matching.model import REASON_MARKS, Pupil, reason_kind
from tests.test_followup_checkins import on

TODAY = dt.date(2020, 11, 30)  # a Monday
LYON = Antenna(name="Lyon", association="AFEV", departements=["69 Rhône"], email="lyon@afev.example",
               record_id="recLyon")


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), PARIS)


def volunteer(name: str, postcode: str = "69003", registered: dt.date = dt.date(2020, 10, 1), **more) -> Volunteer:
    return Volunteer(record_id=f"rec{name}", full_name=f"{name} Martin", first_name=name, postcode=postcode,
                     registered_at=at(registered), **more)


def records() -> Records:
    """Five volunteers at every stage, two structures (Lyon and Marseille), their needs and binômes."""
    volunteers = [
        volunteer("Ana"),
        volunteer("Bob", envelope_signed_at=at(dt.date(2020, 10, 5))),
        volunteer("Cleo", envelope_signed_at=at(dt.date(2020, 10, 5)), first_contact_on=dt.date(2020, 10, 9),
                  waiting="Sans binôme depuis la signature du 05/10/2020.\nRhône (69) : aucun besoin sans bénévole."),
        volunteer("Dan", envelope_signed_at=at(dt.date(2020, 10, 6)), first_contact_on=dt.date(2020, 10, 9),
                  pairs=["recP1"]),
        volunteer("Eve", postcode="13001", registered=dt.date(2020, 11, 25), envelope_signed_at=at(TODAY),
                  pairs=["recP2"], antenna=["recLyon"]),  # lives in Marseille, attached to Lyon by hand
        volunteer("Fox", postcode="13001"),
    ]
    structures = [Structure(record_id="recCJM", name="Collège Jean-Moulin", postcode="69100", town="Villeurbanne"),
                  Structure(record_id="recMAR", name="Lycée du Port", postcode="13001", town="Marseille")]
    needs = [
        Need(record_id="recN1", reference="CJM-1", structure=["recCJM"], status=opt.NeedStatus.MATCHED,
             suggested_at=at(dt.date(2020, 10, 20)), pair=["recP1"]),
        Need(record_id="recN2", reference="CJM-2", structure=["recCJM"], status=opt.NeedStatus.SUGGESTED,
             suggested_at=at(dt.date(2020, 11, 20)), suggested_mentors=["recCleo"]),
        Need(record_id="recN3", reference="CJM-3", structure=["recCJM"], status=opt.NeedStatus.NO_MATCH,
             level=opt.Level.TERMINALE, subjects=[opt.Subject.PHILOSOPHY],
             explanations="Aucun·e bénévole disponible pour le niveau Terminale. (disponibles : 3)"),
        Need(record_id="recN4", reference="MAR-1", structure=["recMAR"], status=opt.NeedStatus.NO_MATCH,
             explanations="Aucun·e bénévole disponible (convention signée et place libre)."),
        Need(record_id="recN5", reference="MAR-2", structure=["recMAR"], status=opt.NeedStatus.SUGGESTED,
             suggested_at=at(dt.date(2020, 11, 27)), pair=["recP2"]),
    ]
    pairs = [
        Pair(record_id="recP1", name="Dan × CJM-1", structure=["recCJM"], volunteer=["recDan"], need=["recN1"],
             status=opt.PairStatus.AT_RISK, proposed_at=at(dt.date(2020, 10, 22)), started_on=dt.date(2020, 10, 26),
             alert="Point du 16/11 : « Difficile » (Bénévole)."),
        Pair(record_id="recP2", name="Eve × MAR-2", structure=["recMAR"], volunteer=["recEve"], need=["recN5"],
             status=opt.PairStatus.PROPOSED, proposed_at=at(TODAY)),
    ]
    return Records(volunteers, structures, needs, pairs)


def test_the_funnel_counts_who_reached_each_stage_and_its_evolution_is_dated_from_the_records():
    digest = build(COLLECTIVE, records(), TODAY)
    assert [(s.label, s.count, s.share) for s in digest.funnel] == [
        ("Inscrits", 6, None), ("Convention signée", 4, 67), ("Premier contact", 2, 33), ("Suggérés", 3, 50),
        ("En binôme", 2, 33), ("Actifs", 1, 17)]
    assert [d for d, _ in digest.evolution] == [TODAY - dt.timedelta(weeks=k) for k in range(7, -1, -1)]
    assert dict(digest.evolution)[dt.date(2020, 10, 12)] == (5, 3, 2, 0, 0, 0)  # Eve signed up in November
    assert dict(digest.evolution)[dt.date(2020, 11, 23)] == (5, 3, 2, 2, 1, 1)
    assert digest.live_pairs == 2 and digest.active_pairs == 0
    assert digest.period == "du 24 au 30 novembre 2020" and digest.week == "2020-S49"


def test_an_antenna_sees_its_departements_and_the_volunteers_attached_to_it():
    digest = build(Scope.of(LYON), records(), TODAY)
    assert digest.scope.title == "Antenne Lyon"
    assert digest.funnel[0].count == 5  # Ana, Bob, Cleo, Dan in the Rhône; Eve attached; not Fox
    assert [a.pair for a in digest.attention] == ["Dan × CJM-1"]
    assert [u.reference for u in digest.unsolved] == ["CJM-3"]  # Marseille's need is not Lyon's
    assert [s.structure for s in digest.silent] == ["Collège Jean-Moulin"]


def test_the_lists_say_what_to_act_on():
    digest = build(COLLECTIVE, records(), TODAY)
    [attention] = digest.attention
    assert (attention.pair, attention.structure, attention.status) == ("Dan × CJM-1", "Collège Jean-Moulin",
                                                                       "En difficulté")
    assert attention.why == "Point du 16/11 : « Difficile » (Bénévole)."
    assert [(u.reference, u.level) for u in digest.unsolved] == [("CJM-3", "Terminale"), ("MAR-1", "")]
    assert digest.reasons == [("niveau", 1), ("personne de disponible", 1)]
    [silent] = digest.silent  # CJM-2 waits since 20/11; MAR-2 was suggested 3 days ago
    assert (silent.structure, silent.waiting, silent.since) == ("Collège Jean-Moulin", 1, dt.date(2020, 11, 20))
    assert (silent.answered, silent.asked, silent.responsiveness) == (1, 2, 50)
    assert [w.name for w in digest.waiting] == ["Cleo Martin"]


@pytest.mark.parametrize("steps, kind", [
    ((("disponibles", 0), ("niveau", 0), ("matières", 0), ("créneaux", 0)), "personne de disponible"),
    ((("disponibles", 5), ("niveau", 0), ("matières", 0), ("créneaux", 0)), "niveau"),
    ((("disponibles", 5), ("niveau", 3), ("matières", 0), ("créneaux", 0)), "matières"),
    ((("disponibles", 5), ("niveau", 3), ("matières", 2), ("créneaux", 0)), "créneaux"),
    ((("disponibles", 5), ("niveau", 3), ("matières", 2), ("créneaux", 1)), "distance"),
])
def test_every_reason_the_engine_writes_is_counted_under_its_own_kind(steps, kind):
    pupil = Pupil(id="recN", structure="recCJM", level="3e", subjects=("Mathématiques",), slots=("Mercredi 14h-16h",),
                  mode="Présentiel", place=None)  # type: ignore[arg-type]
    found, sentence = reason_for(pupil, steps)
    assert found == kind and reason_kind(f"{sentence} (disponibles : 5)") == kind
    assert reason_kind("Vu avec la structure : attendre la rentrée.") == "autre"
    assert len({mark for _, mark in REASON_MARKS}) == len(REASON_MARKS)


def test_the_chart_is_a_png_that_fits_an_email_and_is_the_same_for_the_same_figures():
    points = build(COLLECTIVE, records(), TODAY).evolution
    png = evolution_png(points)
    assert Image.open(io.BytesIO(png)).size == (600, 280)
    assert png == evolution_png(points) and png != evolution_png(points[:-1])


def test_the_email_shows_the_chart_by_content_id_and_its_text_twin_says_the_same():
    digest = build(COLLECTIVE, records(), TODAY)
    email = digest_email(digest, "coordination@example.org", "Coordination")
    [chart] = email.inline
    assert f'src="cid:{chart.content_id}"' in email.html and chart.mime == "image/png"
    assert email.subject == "Synthèse de la semaine — Ensemble du collectif (du 24 au 30 novembre 2020)"
    for text in (email.html, email.text):
        assert "Dan × CJM-1" in text and "CJM-3" in text and "Collège Jean-Moulin" in text and "Cleo Martin" in text
        assert "réactivité 50 % (1 choix sur 2 propositions)" in text
    assert "30/11 | 6 | 4 | 2 | 3 | 2 | 1" in email.text  # the chart's figures, as a table
    assert " | ".join(STAGES) in email.text
    page = digest_page(digest)
    assert "cid:" not in page and re.search(r'src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"', page)


def test_french_dates():
    assert french_date(dt.date(2020, 12, 1)) == "1er décembre 2020"
    assert french_date(dt.date(2021, 1, 4), year=False) == "4 janvier"
    later = build(COLLECTIVE, records(), dt.date(2021, 1, 3))
    assert later.period == "du 28 décembre 2020 au 3 janvier 2021"


def sample_digest():
    """A realistic digest, for the template checks of every email."""
    return build(COLLECTIVE, records(), TODAY)


# --- sent by the daily run, against the stack ------------------------------------------------

def digests(live) -> list[dict]:
    return [m for m in live.control("GET", "/outbox")["messages"] if "synthese" in m["categories"]]


def test_the_weeks_first_run_sends_one_digest_to_the_coordinators_and_one_to_each_antenna(live):
    live.unplug_vendor_events()
    live.gateway.create([Antenna(name="Lyon", association="AFEV", departements=["69 Rhône"],
                                 email="lyon@afev.example"),
                         Antenna(name="Sans adresse", association="AFEV", departements=["13 Bouches-du-Rhône"])])
    live.gateway.create([Volunteer(full_name="Léa Martin", first_name="Léa", email="lea@exemple.fr",
                                   postcode="69003", town="Lyon", registered_at=at(dt.date(2020, 11, 2)))])
    monday = dt.date(2020, 11, 30)
    assert on(monday - dt.timedelta(days=1)).run().digests == 2  # Sunday 29: that week's first run
    assert on(monday).run().digests == 2  # a new week
    before = live.control("GET", "/stats")["requests"]
    again = on(monday, hour=20).run()
    after = live.control("GET", "/stats")["requests"]
    assert again.digests == 0 and len(digests(live)) == 4
    assert after.get("airtable PATCH", 0) == before.get("airtable PATCH", 0)
    assert after.get("airtable POST", 0) - before.get("airtable POST", 0) <= 2  # reads by formula only
    assert on(monday + dt.timedelta(days=3)).run().digests == 0
    # a missed Monday: the Tuesday catches up, once
    assert on(monday + dt.timedelta(days=8)).run().digests == 2
    assert on(monday + dt.timedelta(days=9)).run().digests == 0

    sent = digests(live)[-2:]
    assert sorted(m["recipients"][0] for m in sent) == sorted([live.settings.COORDINATION_EMAIL, "lyon@afev.example"])
    lyon = next(m for m in sent if m["recipients"] == ["lyon@afev.example"])
    assert lyon["subject"].startswith("Synthèse de la semaine — Antenne Lyon")
    [chart] = lyon["attachments"]
    assert (chart["disposition"], chart["content_id"], chart["type"]) == ("inline", "evolution", "image/png")
    assert "- Inscrits : 1" in lyon["text"]


def test_the_console_shows_the_digest_with_its_chart_as_a_mail_client_would(live):
    live.unplug_vendor_events()
    on(TODAY).run()
    [mail] = digests(live)
    page = requests.get(f"{live.emulator_url}/console/outbox/{mail['index']}", timeout=30)
    part = re.search(r"/console/outbox/\d+/cid/evolution", page.text)
    assert page.status_code == 200 and part and "cid:evolution" not in page.text
    image = requests.get(live.emulator_url + part.group(0), timeout=30)
    assert image.headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == (600, 280)


def test_long_lists_show_ten_rows_and_count_the_rest():
    many = records()
    pairs = [Pair(record_id=f"recQ{n}", name=f"Binôme {n:02d}", structure=["recCJM"], status=opt.PairStatus.ACTIVE,
                  alert=f"Alerte {n}") for n in range(12)]
    digest = build(COLLECTIVE, Records(many.volunteers, many.structures, many.needs, [*many.pairs, *pairs]), TODAY)
    email = digest_email(digest, "coordination@example.org", "Coordination")
    assert len(digest.attention) == 13
    for text in (email.html, email.text):
        assert "Binômes à suivre (13)" in text and "Et 3 autres dans Airtable" in text
        assert "Binôme 08" in text and "Binôme 09" not in text  # in difficulty first, then by name
