"""Retention of personal data: the pure core across its boundaries (the period to the second,
month ends, a live binôme, activity after the warning), then the job against the stack: one
warning across runs, anonymisation a month later, a second run that changes nothing. Time is
injected, never slept."""

from __future__ import annotations

import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta

from schemas import options as opt
from schemas.records import CheckIn, JournalEntry, Pair, Structure, Volunteer
from shared import bootstrap
from shared.privacy.retention import RetentionPolicy, last_activity, plan_retention
from shared.privacy.service import RetentionJob

UTC = dt.timezone.utc
POLICY = RetentionPolicy()
SIGNED_UP = dt.datetime(2021, 3, 31, 10, 0, tzinfo=UTC)  # a month end: deadline 31/03/2023, warning from 28/02


def person(record_id: str = "recVolunteer00001", **values) -> Volunteer:
    return Volunteer(**{"record_id": record_id, "full_name": "Zoé Quidam", "first_name": "Zoé",
                        "email": "zoe@exemple.fr", "registered_at": SIGNED_UP, **values})


def plan(people, now, pairs=(), check_ins=()):
    return plan_retention(list(people), list(pairs), list(check_ins), now, POLICY)


def test_the_deadline_follows_calendar_months_and_month_ends():
    assert POLICY.deadline(SIGNED_UP) == dt.datetime(2023, 3, 31, 10, tzinfo=UTC)
    assert POLICY.warn_from(SIGNED_UP) == dt.datetime(2023, 2, 28, 10, tzinfo=UTC)
    leap = dt.datetime(2020, 2, 29, tzinfo=UTC)
    assert POLICY.deadline(leap) == dt.datetime(2022, 2, 28, tzinfo=UTC)


def test_nobody_is_warned_before_a_month_ahead_of_the_deadline():
    warn_from = POLICY.warn_from(SIGNED_UP)
    assert plan([person()], warn_from - dt.timedelta(seconds=1)).warn == []
    [due] = plan([person()], warn_from).warn
    assert due.deadline == POLICY.deadline(SIGNED_UP)


def test_a_warned_person_is_anonymised_at_24_months_not_a_day_before():
    warned = person(retention_warned_at=POLICY.warn_from(SIGNED_UP))
    almost = SIGNED_UP + relativedelta(months=23, days=29)
    assert plan([warned], almost).anonymise == [] and plan([warned], almost).warn == []
    exactly = SIGNED_UP + relativedelta(months=24)
    assert [s.person for s in plan([warned], exactly).anonymise] == [warned]


def test_nobody_is_anonymised_without_a_months_notice_even_long_past_the_period():
    never_warned = person()
    late = SIGNED_UP + relativedelta(months=30)
    result = plan([never_warned], late)
    assert result.anonymise == [] and [s.person for s in result.warn] == [never_warned]
    warned_late = person(retention_warned_at=late)
    assert plan([warned_late], late + relativedelta(months=1) - dt.timedelta(seconds=1)).anonymise == []
    assert len(plan([warned_late], late + relativedelta(months=1)).anonymise) == 1


def test_someone_without_an_address_is_anonymised_when_the_period_ends():
    unreachable = person(email="")
    assert plan([unreachable], POLICY.warn_from(SIGNED_UP)).warn == []
    assert len(plan([unreachable], POLICY.deadline(SIGNED_UP)).anonymise) == 1


@pytest.mark.parametrize("status", [opt.PairStatus.PROPOSED, opt.PairStatus.ACTIVE, opt.PairStatus.AT_RISK,
                                    opt.PairStatus.PAUSED])
def test_a_live_binome_protects_however_old_the_record(status):
    old = person(retention_warned_at=POLICY.warn_from(SIGNED_UP))
    pair = Pair(record_id="recPair0000000001", volunteer=[old.record_id], status=status)
    result = plan([old], SIGNED_UP + relativedelta(months=40), pairs=[pair])
    assert result.warn == [] and result.anonymise == [] and result.protected == 1


def test_an_ended_binome_only_moves_the_last_activity():
    pair = Pair(record_id="recPair0000000001", volunteer=["recVolunteer00001"], status=opt.PairStatus.ENDED,
                started_on=dt.date(2021, 9, 1))
    check_in = CheckIn(pair=[pair.record_id], date=dt.date(2022, 1, 10))
    assert last_activity(person(), [pair], [check_in]) == dt.datetime(2022, 1, 9, 23, tzinfo=UTC)  # Paris midnight
    assert plan([person()], POLICY.deadline(SIGNED_UP), pairs=[pair], check_ins=[check_in]).warn == []


def test_activity_after_the_warning_cancels_the_anonymisation():
    warned_at = POLICY.warn_from(SIGNED_UP)
    came_back = person(retention_warned_at=warned_at, last_response_at=warned_at + dt.timedelta(days=3))
    result = plan([came_back], POLICY.deadline(SIGNED_UP) + relativedelta(months=1))
    assert result.anonymise == [] and result.warn == [] and result.void_warnings == [came_back]


def test_anonymised_people_are_left_alone():
    done = person(anonymised_at=dt.datetime(2023, 4, 1, tzinfo=UTC), email="")
    result = plan([done], SIGNED_UP + relativedelta(months=60))
    assert (result.warn, result.anonymise, result.void_warnings) == ([], [], [])


# --- the job, against the stack ----------------------------------------------------------------

def job(live, moment: dt.datetime) -> RetentionJob:
    return RetentionJob(live.gateway, bootstrap.mailer(), bootstrap.eraser(), live.settings, clock=lambda: moment)


def warnings(live) -> list[dict]:
    return [m for m in live.control("GET", "/outbox")["messages"] if "conservation" in m["categories"]]


def base_contents(live) -> list:
    return [sorted((r.record_id, r.to_fields().items().__repr__()) for r in live.gateway.all(model))
            for model in (Volunteer, Structure, Pair, CheckIn, JournalEntry)]


def old_volunteers(live) -> tuple[Volunteer, Volunteer]:
    lapsed = Volunteer(full_name="Zoé Quidam", first_name="Zoé", last_name="Quidam", email="zoe@exemple.fr",
                       phone="+33611223344", postcode="69003", town="Lyon", levels=["4e"], subjects=["Anglais"],
                       motivation="Zoé aime transmettre.", registered_at=SIGNED_UP, consent=True,
                       status=opt.VolunteerStatus.AVAILABLE)
    busy = lapsed.model_copy(update={"full_name": "Yann Dupuis", "first_name": "Yann", "last_name": "Dupuis",
                                     "email": "yann@exemple.fr"})
    return tuple(live.gateway.create([lapsed, busy]))  # type: ignore[return-value]


def test_the_job_warns_once_then_anonymises_a_month_later_and_a_second_run_changes_nothing(live):
    live.unplug_vendor_events()
    lapsed, busy = old_volunteers(live)
    live.gateway.create([Pair(name="Yann × CJM-1", volunteer=[busy.record_id], status=opt.PairStatus.ACTIVE)])
    warn_day = POLICY.warn_from(SIGNED_UP)
    first = job(live, warn_day).run()
    second = job(live, warn_day + dt.timedelta(days=1)).run()
    assert (first.warned, second.warned, first.protected) == (1, 0, 1)
    [warning] = warnings(live)
    assert warning["recipients"] == ["zoe@exemple.fr"] and "31/03/2023" in warning["subject"]
    assert "formulaire" in warning["text"]
    assert live.gateway.get(Volunteer, lapsed.record_id).retention_warned_at == warn_day
    live.gateway.update([Volunteer(record_id=lapsed.record_id, retention_warned_at=None)])  # as if its write was lost
    assert job(live, warn_day).run().warned == 1 and len(warnings(live)) == 1  # the claim holds
    assert live.gateway.get(Volunteer, lapsed.record_id).retention_warned_at == warn_day

    deadline = POLICY.deadline(SIGNED_UP)
    assert job(live, deadline - dt.timedelta(seconds=1)).run().anonymised == 0
    done = job(live, deadline).run()
    assert done.anonymised == 1
    gone = live.gateway.get(Volunteer, lapsed.record_id)
    assert (gone.email, gone.phone, gone.first_name, gone.last_name, gone.town, gone.postcode, gone.motivation) == \
        ("", "", "", "", "", "", "")
    assert gone.full_name.startswith("Bénévole anonymisé·e") and gone.anonymised_at == deadline
    assert (gone.levels, gone.subjects, gone.registered_at) == (["4e"], ["Anglais"], SIGNED_UP)  # statistics kept
    assert live.gateway.get(Volunteer, busy.record_id).email == "yann@exemple.fr"
    [report] = [e for e in live.gateway.all(JournalEntry) if e.type == "conservation" and "Anonymisées : 1" in e.detail]
    assert "zoe" not in report.detail.lower()

    before, requests = base_contents(live), live.control("GET", "/stats")["requests"]
    again = job(live, deadline + dt.timedelta(days=1)).run()
    after = live.control("GET", "/stats")["requests"]
    assert not again.did_something and base_contents(live) == before
    writes = {k: after.get(k, 0) - requests.get(k, 0) for k in after if k.split()[-1] in ("POST", "PATCH", "PUT")}
    assert writes.get("airtable PATCH", 0) == 0 and writes.get("airtable POST", 0) == 0 and len(warnings(live)) == 1


def test_activity_after_the_warning_keeps_the_record_and_forgets_the_warning(live):
    live.unplug_vendor_events()
    lapsed, silent = old_volunteers(live)
    warn_day = POLICY.warn_from(SIGNED_UP)
    job(live, warn_day).run()
    live.gateway.update([Volunteer(record_id=lapsed.record_id, last_response_at=warn_day + dt.timedelta(days=2))])
    report = job(live, POLICY.deadline(SIGNED_UP) + dt.timedelta(days=1)).run()
    kept = live.gateway.get(Volunteer, lapsed.record_id)
    assert report.anonymised == 1 and report.voided == 1  # the one who stayed silent is anonymised
    assert live.gateway.get(Volunteer, silent.record_id).anonymised_at is not None
    assert kept.email == "zoe@exemple.fr" and kept.retention_warned_at is None and kept.anonymised_at is None


def test_a_warning_that_could_not_be_sent_is_sent_on_the_next_run(live):
    live.unplug_vendor_events()
    old_volunteers(live)
    live.control("POST", "/faults", json={"service": "sendgrid", "status": 503, "count": 2})
    warn_day = POLICY.warn_from(SIGNED_UP)
    failed = job(live, warn_day).run()
    assert failed.failed == 2 and warnings(live) == []
    retried = job(live, warn_day + dt.timedelta(days=1)).run()
    assert retried.warned == 2 and len(warnings(live)) == 2
    assert job(live, warn_day + dt.timedelta(days=2)).run().warned == 0 and len(warnings(live)) == 2


def test_the_retention_function_needs_the_automation_secret(live):
    import requests

    url = f"{live.functions_url}/retention/"
    assert requests.post(url, timeout=30).status_code == 401
    answer = requests.post(url, timeout=60, headers={"Authorization": f"Bearer {live.settings.AUTOMATION_SECRET}"})
    assert answer.status_code == 200 and "Personnes prévenues : 0" in answer.json()["detail"]
