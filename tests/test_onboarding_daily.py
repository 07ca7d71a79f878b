"""Onboarding's daily work and the first-contact link, with the clock injected (never slept):
one reminder after 3 days, the 10-day list, one email per antenna per day, the « premier contact
fait » page."""

from __future__ import annotations

import datetime as dt
import html
import re

import requests

from schemas.records import Antenna, JournalEntry, Volunteer
from shared import bootstrap
from shared.links import Links
from shared.clock import PARIS
from shared.onboarding.daily import FIRST_CONTACT, DailyOnboarding
from tests.test_intake_webhook import VOLUNTEER


def daily(live, days: float, at: dt.datetime | None = None) -> DailyOnboarding:
    later = at or dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=days)
    return DailyOnboarding(bootstrap.gateway(), bootstrap.mailer(), bootstrap.esign(), bootstrap.links(),
                           bootstrap.alerts(), clock=lambda: later)


def next_noon() -> dt.datetime:
    """Noon in Paris, today or tomorrow: a time of day far from the day's change."""
    now = dt.datetime.now(PARIS)
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    return noon if noon > now else noon + dt.timedelta(days=1)


def signed_volunteer(live, email: str = "lea.martin@exemple.fr") -> Volunteer:
    live.submit("volunteer", {**VOLUNTEER, "email": email, "association": "AFEV"})
    live.settle()
    person = live.gateway.first(Volunteer, f"{{Email}} = '{email}'")
    live.control("POST", f"/envelopes/{person.envelope_id}/complete")
    live.settle()
    return live.gateway.get(Volunteer, person.record_id)


def antenna(live) -> Antenna:
    [created] = live.gateway.create([Antenna(name="AFEV Lyon", association="AFEV", departements=["69 Rhône"],
                                             email="lyon@afev.example")])
    return created


def resent(live) -> list[dict]:
    return [h for e in live.control("GET", "/envelopes")["envelopes"] for h in [e] if "resentDateTime" in e]


def test_one_reminder_after_three_days_then_the_ten_day_list(live):
    live.submit("volunteer", VOLUNTEER)
    live.settle()
    assert daily(live, 2).run().reminded == 0  # not yet
    assert daily(live, 3.1).run().reminded == 1
    assert daily(live, 3.2).run().reminded == 0  # one reminder, whatever the runs
    assert len(resent(live)) == 1 and live.gateway.all(Volunteer)[0].envelope_reminded_at is not None
    noon = dt.datetime.now(PARIS).replace(hour=12, minute=0) + dt.timedelta(days=11)  # well past 10 days
    report = daily(live, 0, at=noon).run()
    assert report.unsigned == 1
    [alert] = [e for e in live.gateway.all(JournalEntry) if e.type == "alerte"]
    assert "non signé(s) depuis 10 jours" in alert.event and "Léa Martin" in alert.detail
    daily(live, 0, at=noon + dt.timedelta(hours=3)).run()  # the same day: no second alert
    assert len([e for e in live.gateway.all(JournalEntry) if e.type == "alerte"]) == 1


def test_a_signature_whose_event_was_lost_is_put_right_instead_of_reminded(live):
    live.submit("volunteer", VOLUNTEER)
    live.settle()
    live.unplug_vendor_events()  # Connect's « completed » never arrives
    envelope_id = live.gateway.all(Volunteer)[0].envelope_id
    live.control("POST", f"/envelopes/{envelope_id}/complete")
    report = daily(live, 4).run()
    assert (report.reminded, report.corrected) == (0, 1)
    assert live.gateway.all(Volunteer)[0].envelope_status == "Signée" and resent(live) == []


def test_each_antenna_gets_one_list_a_day_with_a_working_link(live):
    lyon = antenna(live)
    person = signed_volunteer(live)
    assert person.antenna == [lyon.record_id]
    noon = next_noon()
    first = daily(live, 0, at=noon).run()
    again = daily(live, 0, at=noon + dt.timedelta(hours=2)).run()  # the same day
    assert (first.digests, first.volunteers_listed, again.digests) == (1, 1, 0)
    [digest] = [m for m in live.control("GET", "/outbox")["messages"] if m["recipients"] == ["lyon@afev.example"]]
    assert "Léa Martin" in digest["text"] and "Nouveaux depuis hier" in digest["text"]
    assert "+33612345678" in digest["text"]  # the antenna needs the number to call
    link = re.search(r"https?://\S+/first_contact/\?t=\S+", digest["text"]).group(0)

    page = requests.get(link, timeout=10)
    assert page.status_code == 200 and "Oui, le premier contact est fait" in page.text
    assert live.gateway.get(Volunteer, person.record_id).first_contact_on is None  # opening writes nothing
    token = re.search(r'name="t" value="([^"]+)"', page.text).group(1)
    done = requests.post(link.split("?")[0], data={"t": token}, timeout=10)
    assert done.status_code == 200 and "c'est noté" in html.unescape(done.text)
    assert live.gateway.get(Volunteer, person.record_id).first_contact_on is not None
    twice = requests.post(link.split("?")[0], data={"t": token}, timeout=10)
    assert "Déjà noté" in twice.text
    assert daily(live, 1.1).run().digests == 0  # nobody left to contact


def test_tampered_foreign_and_expired_links_are_refused_and_change_nothing(live):
    lyon = antenna(live)
    person = signed_volunteer(live)
    url = f"{live.functions_url}/first_contact/"
    links = Links(live.settings)
    good = links.token(FIRST_CONTACT, {"v": person.record_id, "a": lyon.record_id})
    for token, reason in ((good[:-3] + "abc", "pas valide"),
                          (Links(live.settings.rebuilt(LINK_SECRET="other")).token(FIRST_CONTACT, {"v": person.record_id,
                                                                                                   "a": lyon.record_id}),
                           "pas valide"),
                          (links.token(FIRST_CONTACT, {"v": person.record_id, "a": "recSomeOtherAnt01"}),
                           "autre antenne"),
                          (links.token("choix", {"v": person.record_id, "a": lyon.record_id}), "pas valide")):
        answer = requests.post(url, data={"t": token}, timeout=10)
        assert answer.status_code == 400 and reason in answer.text, reason
    assert live.gateway.get(Volunteer, person.record_id).first_contact_on is None


def test_the_follow_up_function_needs_the_automation_secret(live):
    url = f"{live.functions_url}/follow_up/"
    assert requests.post(url, timeout=10).status_code == 401
    assert requests.post(url, headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 401
    answer = requests.post(url, headers={"Authorization": f"Bearer {live.settings.AUTOMATION_SECRET}"}, timeout=30)
    assert answer.status_code == 200 and "Relances" in answer.json()["detail"]
