"""Check-ins of live binômes through the daily run against the stack: asked on schedule once per
side, reminded once, caught up after missed runs without a burst, alerts raised once; structures
that do not choose nudged once. Time is injected, never slept."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import unquote

from schemas import options as opt
from schemas.records import CheckIn, Pair
from shared import bootstrap
from shared.clock import PARIS
from shared.followup.daily import DailyFollowUp
from shared.matching.suggestions import SuggestionService
from shared.pairs import after_check_in
from tests.test_matching_flow import campaign

STARTED = dt.date(2020, 11, 2)  # first check-in due on 16 November, then 16 December


def on(day: dt.date, hour: int = 8) -> DailyFollowUp:
    """The daily run as it would go at `hour` in Paris on `day`."""
    moment = dt.datetime.combine(day, dt.time(hour), PARIS)
    return DailyFollowUp.build(bootstrap.gateway(), bootstrap.mailer(), bootstrap.alerts(), bootstrap.get_settings(),
                               clock=lambda: moment)


def active(live) -> tuple[Pair, object, object]:
    lea, _, college, first = campaign(live)
    [pair] = live.gateway.create([Pair(name="Léa × CJM-1", need=[first.record_id], volunteer=[lea.record_id],
                                       structure=[college.record_id], status=opt.PairStatus.ACTIVE,
                                       known_status=opt.PairStatus.ACTIVE, started_on=STARTED)])
    return pair, lea, college


def mail(live, category: str) -> list[dict]:
    return [m for m in live.control("GET", "/outbox")["messages"] if category in m["categories"]]


def answer(live, pair: Pair, day: dt.date, side: opt.CheckInAuthor, mood=opt.CheckInMood.GOOD, sessions=2,
           needs_help=False) -> None:
    """A check-in as intake writes it: the record, then what it changes on the binôme."""
    [check_in] = live.gateway.create([CheckIn(pair=[pair.record_id], date=day, author=side, mood=mood,
                                              sessions=sessions, needs_help=needs_help,
                                              typeform_token=f"{pair.record_id}{day}{side.name}")])
    changes = after_check_in(live.gateway.get(Pair, pair.record_id), check_in)
    if changes is not None:
        live.gateway.update([changes])


def test_each_side_is_asked_on_the_day_once_with_the_form_and_the_binome(live):
    live.unplug_vendor_events()
    pair, lea, college = active(live)
    on(dt.date(2020, 11, 15)).run()
    assert mail(live, "suivi") == []
    assert live.gateway.get(Pair, pair.record_id).next_check_in == dt.date(2020, 11, 16)
    first = on(dt.date(2020, 11, 16)).run()
    second = on(dt.date(2020, 11, 16), hour=20).run()  # run twice the same day
    asked = mail(live, "suivi")
    assert first.check_ins.asked == 2 and second.check_ins.asked == 0 and len(asked) == 2
    assert sorted(m["recipients"][0] for m in asked) == sorted([lea.email, college.email])
    to_mentor = next(m for m in asked if m["recipients"] == [lea.email])
    link = re.search(r"https?://\S+/to/suivis#\S+", to_mentor["text"]).group(0)
    assert unquote(link).endswith(f"#binome={pair.record_id}&par=Bénévole")
    assert live.gateway.get(Pair, pair.record_id).next_check_in == dt.date(2020, 12, 16)


def test_only_the_side_that_did_not_answer_is_reminded_once_a_week_later(live):
    live.unplug_vendor_events()
    pair, lea, college = active(live)
    on(dt.date(2020, 11, 16)).run()
    answer(live, pair, dt.date(2020, 11, 18), opt.CheckInAuthor.MENTOR)
    answer(live, pair, dt.date(2020, 11, 10), opt.CheckInAuthor.STRUCTURE)  # before the date: not this one's answer
    assert on(dt.date(2020, 11, 22)).run().check_ins.reminded == 0  # not a week yet
    report = on(dt.date(2020, 11, 23)).run()
    again = on(dt.date(2020, 11, 24)).run()
    reminders = [m for m in mail(live, "suivi") if m["subject"].startswith("Rappel")]
    assert report.check_ins.reminded == 1 and again.check_ins.reminded == 0
    assert [m["recipients"] for m in reminders] == [[college.email]]


def test_after_missed_runs_only_the_latest_check_in_goes_and_no_reminder_with_it(live):
    live.unplug_vendor_events()
    active(live)
    report = on(dt.date(2021, 1, 20)).run()  # nothing ran since the start: three dates have passed
    assert report.check_ins.asked == 2 and report.check_ins.reminded == 0
    assert {m["subject"] for m in mail(live, "suivi")} == {"Comment se passe l'accompagnement de l'élève CJM-1 ?"}


def alerts(live) -> list[dict]:
    return mail(live, "alerte")


def test_a_worrying_check_in_alerts_the_coordinators_once(live):
    live.unplug_vendor_events()
    pair, _, _ = active(live)
    answer(live, pair, dt.date(2020, 11, 17), opt.CheckInAuthor.STRUCTURE, mood=opt.CheckInMood.VERY_DIFFICULT,
           needs_help=True)
    first = on(dt.date(2020, 11, 18)).run()
    on(dt.date(2020, 11, 19)).run()
    assert first.check_ins.alerts == 1 and len(alerts(live)) == 1
    flagged = live.gateway.get(Pair, pair.record_id)
    assert flagged.status == opt.PairStatus.AT_RISK
    assert "Coordination alertée : point du 17/11/2020 (Structure : Très difficile, besoin d'aide demandé)" \
        in flagged.alert


def test_a_call_for_help_alerts_even_when_the_other_sides_later_answer_is_fine(live):
    live.unplug_vendor_events()
    pair, _, _ = active(live)
    answer(live, pair, dt.date(2020, 11, 16), opt.CheckInAuthor.MENTOR, mood=opt.CheckInMood.DIFFICULT,
           needs_help=True)
    answer(live, pair, dt.date(2020, 11, 17), opt.CheckInAuthor.STRUCTURE, mood=opt.CheckInMood.VERY_GOOD)
    assert on(dt.date(2020, 11, 18)).run().check_ins.alerts == 1
    assert "(Bénévole : Difficile, besoin d'aide demandé)" in live.gateway.get(Pair, pair.record_id).alert


def test_check_ins_late_twice_or_out_of_order(live):
    """An answer after its reminder, the same side answering twice, and an older answer landing
    after a newer one: every answer is kept, `Dernier suivi` never goes back, no email is owed
    twice, and a late worrying answer is still alerted, once."""
    live.unplug_vendor_events()
    pair, _, _ = active(live)
    on(dt.date(2020, 11, 16)).run()  # both sides asked
    on(dt.date(2020, 11, 23)).run()  # both reminded
    answer(live, pair, dt.date(2020, 11, 25), opt.CheckInAuthor.MENTOR)  # late: after the reminder
    answer(live, pair, dt.date(2020, 11, 26), opt.CheckInAuthor.MENTOR, sessions=1)  # twice
    assert live.gateway.get(Pair, pair.record_id).last_check_in == dt.date(2020, 11, 26)
    answer(live, pair, dt.date(2020, 11, 20), opt.CheckInAuthor.STRUCTURE, mood=opt.CheckInMood.VERY_DIFFICULT)
    after = live.gateway.get(Pair, pair.record_id)
    assert after.last_check_in == dt.date(2020, 11, 26) and after.status == opt.PairStatus.ACTIVE  # out of order
    report = on(dt.date(2020, 11, 30)).run()
    assert (report.check_ins.asked, report.check_ins.reminded, report.check_ins.alerts) == (0, 0, 1)
    assert "point du 20/11/2020 (Structure : Très difficile)" in live.gateway.get(Pair, pair.record_id).alert
    assert len(live.gateway.all(CheckIn)) == 3
    assert on(dt.date(2020, 12, 1)).run().check_ins.alerts == 0
    assert len([m for m in mail(live, "suivi")]) == 4  # two asks, two reminders: nothing more
    # the next window: the answers of November do not count for December
    december = on(dt.date(2020, 12, 16)).run()
    assert december.check_ins.asked == 2


def test_no_session_three_weeks_after_the_start_alerts(live):
    live.unplug_vendor_events()
    pair, _, _ = active(live)
    answer(live, pair, dt.date(2020, 11, 17), opt.CheckInAuthor.MENTOR, sessions=0)
    assert on(dt.date(2020, 11, 22)).run().check_ins.alerts == 0
    assert on(dt.date(2020, 11, 23)).run().check_ins.alerts == 1
    assert "Aucune séance déclarée 21 jours" in live.gateway.get(Pair, pair.record_id).alert
    answer(live, pair, dt.date(2020, 11, 24), opt.CheckInAuthor.MENTOR, sessions=1)
    assert on(dt.date(2020, 11, 25)).run().check_ins.alerts == 0


def test_two_check_ins_in_a_row_that_nobody_answered_alert(live):
    live.unplug_vendor_events()
    pair, _, _ = active(live)
    answer(live, pair, dt.date(2020, 11, 3), opt.CheckInAuthor.MENTOR, sessions=1)  # sessions, then silence
    assert on(dt.date(2020, 12, 16)).run().check_ins.alerts == 0  # one window closed unanswered
    report = on(dt.date(2021, 1, 16)).run()  # two
    assert report.check_ins.alerts == 1
    assert "2 points d'étape de suite" in live.gateway.get(Pair, pair.record_id).alert


def test_a_structure_that_has_not_chosen_after_a_week_is_nudged_once(live):
    live.unplug_vendor_events()
    _, _, college, first = campaign(live)
    suggested = dt.datetime(2020, 11, 2, 9, tzinfo=dt.timezone.utc)
    SuggestionService(bootstrap.gateway(), bootstrap.mailer(), bootstrap.links(), clock=lambda: suggested).suggest_all()
    assert on(dt.date(2020, 11, 8)).run().nudged == 0
    assert on(dt.date(2020, 11, 9), hour=11).run().nudged == 1
    assert on(dt.date(2020, 11, 10)).run().nudged == 0
    [nudge] = mail(live, "relance-choix")
    assert nudge["recipients"] == [college.email] and "CJM-1 — suggestions du 02/11/2020" in nudge["text"]
