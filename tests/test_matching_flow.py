"""Matching end to end through the functions: suggestions written where they changed and emailed
with signed links, the one-click choice, the race for a last place (threads and two processes),
the mentor's answer, decline and silence cascading to new suggestions, links that cannot be
misused. Time is injected, never slept."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import html
import re

import requests

from schemas import options as opt
from schemas.records import Need, Pair, Structure, Volunteer
from shared import bootstrap
from shared.links import Links
from shared.matching.choices import ANSWER, ChoiceService
from shared.matching.suggestions import CHOICE
from local.instances import FunctionInstance

SIGNED = {"envelope_status": opt.EnvelopeStatus.SIGNED, "status": opt.VolunteerStatus.AVAILABLE}


def mentor(name: str, email: str, capacity: int = 1, **more) -> Volunteer:
    values = {"full_name": f"{name} Martin", "first_name": name, "last_name": "Martin", "email": email,
              "phone": "+33612345678", "postcode": "69003", "town": "Lyon", "levels": ["4e", "3e"],
              "subjects": ["Mathématiques"], "slots": ["Mercredi 14h-16h", "Lundi 18h-20h"], "mode": "Les deux",
              "max_distance": "Même département", "capacity": capacity,
              "registered_at": dt.datetime(2020, 11, 2, tzinfo=dt.timezone.utc), **SIGNED, **more}
    return Volunteer(**values)


def structure(name: str, email: str) -> Structure:
    return Structure(name=name, email=email, contact="Anne Dupont", phone="+33472000000", postcode="69100",
                     town="Villeurbanne")


def need(reference: str, structure_id: str, **more) -> Need:
    values = {"level": "3e", "subjects": ["Mathématiques"], "slots": ["Mercredi 14h-16h"], "mode": "Présentiel",
              "status": opt.NeedStatus.OPEN, **more}
    return Need(reference=reference, structure=[structure_id], **values)


def call(live, name: str, body: dict) -> dict:
    answer = requests.post(f"{live.functions_url}/{name}/", json=body, timeout=60,
                           headers={"Authorization": f"Bearer {live.settings.AUTOMATION_SECRET}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def links_in(message: dict) -> list[str]:
    return re.findall(r"https?://\S+/choose_mentor/\?t=\S+", message["text"])


def outbox(live, category: str | None = None, to: str | None = None) -> list[dict]:
    return [m for m in live.control("GET", "/outbox")["messages"]
            if (category is None or category in m["categories"]) and (to is None or m["recipients"] == [to])]


def post(link: str, **form) -> requests.Response:
    url, _, token = link.partition("?t=")
    return requests.post(url, data={"t": token, **form}, timeout=60)


def campaign(live):
    [lea, sam] = live.gateway.create([mentor("Léa", "lea@exemple.fr"), mentor("Sam", "sam@exemple.fr", capacity=2)])
    [college] = live.gateway.create([structure("Collège Jean-Moulin", "cdi@college.fr")])
    [first] = live.gateway.create([need("CJM-1", college.record_id)])
    return lea, sam, college, first


def test_suggestions_are_written_once_and_emailed_without_contacts(live):
    live.unplug_vendor_events()  # SendGrid's events would write the Journal meanwhile
    lea, sam, college, first = campaign(live)
    report = call(live, "suggest_mentors", {})
    assert "1 liste(s) écrite(s)" in report["detail"]
    written = live.gateway.get(Need, first.record_id)
    assert written.status == "Suggestions envoyées" and set(written.suggested_mentors) == {lea.record_id, sam.record_id}
    assert "3e ✓ · Mathématiques ✓ · mercredi 14h-16h ✓ · même intercommunalité, en présentiel" in written.explanations
    [mail] = outbox(live, "suggestions")
    assert mail["recipients"] == ["cdi@college.fr"] and len(links_in(mail)) == 2
    assert "lea@exemple.fr" not in mail["text"] + mail["html"] and "+33612345678" not in mail["text"] + mail["html"]

    before = live.control("GET", "/stats")["requests"]
    again = call(live, "suggest_mentors", {})
    after = live.control("GET", "/stats")["requests"]
    assert "0 liste(s) écrite(s), 1 gardée(s)" in again["detail"]
    assert after.get("airtable PATCH", 0) == before.get("airtable PATCH", 0)  # nothing rewritten
    assert len(outbox(live, "suggestions")) == 1  # nothing new to tell


def test_a_need_nobody_fits_says_why(live):
    lea, sam, college, first = campaign(live)
    [lonely] = live.gateway.create([need("CJM-2", college.record_id, level="Terminale")])
    call(live, "suggest_mentors", {"need": lonely.record_id})
    written = live.gateway.get(Need, lonely.record_id)
    assert written.status == "Sans solution" and "niveau Terminale" in written.explanations
    live.gateway.create([mentor("Noé", "noe@exemple.fr")])  # one more available: the counts move, not the reason
    again = bootstrap.suggestions().suggest_all()
    assert again.no_fit == 1 and again.explained == 0
    assert live.gateway.get(Need, lonely.record_id).explanations == written.explanations


def test_choose_then_accept_shares_contacts_both_ways(live):
    lea, sam, college, first = campaign(live)
    call(live, "suggest_mentors", {})
    link = next(l for l in links_in(outbox(live, "suggestions")[0]) if "Léa" in page_of(l))
    assert live.gateway.all(Pair) == []  # opening the page wrote nothing
    chosen = post(link)
    assert chosen.status_code == 200 and "72 heures" in html.unescape(chosen.text)
    assert post(link).status_code == 200  # a double click
    [pair] = live.gateway.all(Pair)
    assert (pair.status, pair.volunteer, pair.need) == ("Proposé", [lea.record_id], [first.record_id])
    assert live.gateway.get(Need, first.record_id).status == "Bénévole choisi·e"
    [proposal] = outbox(live, "proposition", to="lea@exemple.fr")
    assert "cdi@college.fr" not in proposal["text"]  # no contact before she accepts
    answer_link = re.search(r"https?://\S+/choose_mentor/\?t=\S+", proposal["text"]).group(0)
    assert "J'accepte" in html.unescape(requests.get(answer_link, timeout=30).text)
    assert post(answer_link, action="accept").status_code == 200
    pair = live.gateway.get(Pair, pair.record_id)
    assert pair.status == "Actif" and pair.started_on is not None
    assert live.gateway.get(Need, first.record_id).status == "Pourvu"
    assert live.gateway.get(Volunteer, lea.record_id).status == "En binôme"
    [to_structure] = outbox(live, "binome", to="cdi@college.fr")
    [to_mentor] = outbox(live, "binome", to="lea@exemple.fr")
    assert "lea@exemple.fr" in to_structure["text"] and "+33612345678" in to_structure["text"]
    assert "cdi@college.fr" in to_mentor["text"] and "Anne Dupont" in to_mentor["text"]
    again = post(answer_link, action="decline")
    assert "Déjà répondu" in html.unescape(again.text) and live.gateway.get(Pair, pair.record_id).status == "Actif"


def test_an_acceptance_interrupted_after_the_binome_is_finished_by_the_click_again(live):
    """The binôme is written « Actif », then the need's update fails: the mentor sees an error and
    clicks again; the need, the mentor and the contacts follow (found by the campaign under fire)."""
    lea, sam, college, first = campaign(live)
    call(live, "suggest_mentors", {})
    post(next(l for l in links_in(outbox(live, "suggestions")[0]) if "Léa" in page_of(l)))
    [proposal] = outbox(live, "proposition", to="lea@exemple.fr")
    answer_link = re.search(r"https?://\S+/choose_mentor/\?t=\S+", proposal["text"]).group(0)
    needs = f"PATCH /airtable/v0/{live.settings.AIRTABLE_BASE_ID}/{Need.table_label()}"
    live.control("POST", "/faults", json={"service": "airtable", "status": 500, "match": needs})
    assert post(answer_link, action="accept").status_code >= 500
    [pair] = live.gateway.all(Pair)
    assert pair.status == "Actif" and live.gateway.get(Need, first.record_id).status == "Bénévole choisi·e"
    assert post(answer_link, action="accept").status_code == 200
    assert live.gateway.get(Need, first.record_id).status == "Pourvu"
    assert live.gateway.get(Volunteer, lea.record_id).status == "En binôme"
    assert len(outbox(live, "binome", to="cdi@college.fr")) == 1
    assert len(outbox(live, "binome", to="lea@exemple.fr")) == 1
    again = post(answer_link, action="accept")
    assert "Déjà répondu" in html.unescape(again.text) and len(outbox(live, "binome")) == 2


def page_of(link: str) -> str:
    return html.unescape(requests.get(link, timeout=30).text)


def test_two_structures_click_the_last_place_at_once(live):
    """Léa has one place; two structures choose her at the same moment: one keeps her, the other
    is shown its remaining suggestions, and Léa is never over capacity."""
    lea, sam, college, first = campaign(live)
    [lycee] = live.gateway.create([structure("Lycée Ampère", "cpe@lycee.fr")])
    live.gateway.create([need("LA-1", lycee.record_id)])
    call(live, "suggest_mentors", {})
    links = [next(l for l in links_in(m) if "Léa" in page_of(l)) for m in outbox(live, "suggestions")]
    assert len(links) == 2
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(post, links))
    assert sorted(a.status_code for a in answers) == [200, 409]
    loser = next(a for a in answers if a.status_code == 409)
    assert "Choisir Sam" in html.unescape(loser.text)  # the remaining suggestion
    live_pairs = [p for p in live.gateway.all(Pair) if p.status == "Proposé"]
    assert len(live_pairs) == 1 and live_pairs[0].volunteer == [lea.record_id]
    assert [p.reason for p in live.gateway.all(Pair) if p.status == "Annulé"] == ["Place déjà prise"]


def test_the_race_across_two_processes(live, tmp_path):
    lea, sam, college, first = campaign(live)
    structures = live.gateway.create([structure(f"Collège {n}", f"s{n}@college.fr") for n in range(4)])
    live.gateway.create([need(f"C{n}-1", s.record_id) for n, s in enumerate(structures)])
    call(live, "suggest_mentors", {})
    links = [l for m in outbox(live, "suggestions") for l in links_in(m) if "Léa" in page_of(l)]
    assert len(links) >= 3
    settings = {"BINOME_EMULATOR_PORT": str(live.stack.emulators.port),
                "BINOME_FUNCTIONS_PORT": str(live.stack.functions.port), "BINOME_AIRTABLE_RATE": "1000",
                "AIRTABLE_BASE_ID": live.settings.AIRTABLE_BASE_ID}
    live.control("POST", "/faults", json={"service": "airtable", "latency": 0.05, "count": 100_000})
    with FunctionInstance("choose_mentor", settings, tmp_path) as a, \
            FunctionInstance("choose_mentor", settings, tmp_path) as b:
        targets = [(instance, link) for link, instance in zip(links, [a, b] * len(links))]
        with concurrent.futures.ThreadPoolExecutor(len(targets)) as pool:
            answers = list(pool.map(lambda t: post(t[0].url + "?t=" + t[1].partition("?t=")[2]), targets))
    live.control("DELETE", "/faults")
    assert sorted(a.status_code for a in answers) == [200] + [409] * (len(answers) - 1)
    kept = [p for p in live.gateway.all(Pair) if p.status == "Proposé" and p.volunteer == [lea.record_id]]
    assert len(kept) == 1  # Léa's one place, whatever process handled which click


def test_a_decline_cascades_to_new_suggestions(live):
    lea, sam, college, first = campaign(live)
    call(live, "suggest_mentors", {})
    link = next(l for l in links_in(outbox(live, "suggestions")[0]) if "Léa" in page_of(l))
    post(link)
    [proposal] = outbox(live, "proposition", to="lea@exemple.fr")
    answer_link = re.search(r"https?://\S+/choose_mentor/\?t=\S+", proposal["text"]).group(0)
    post(answer_link, action="decline", reason="Bénévole indisponible", detail="Déménagement")
    [pair] = live.gateway.all(Pair)
    assert (pair.status, pair.reason, pair.reason_detail) == ("Annulé", "Bénévole indisponible", "Déménagement")
    written = live.gateway.get(Need, first.record_id)
    assert written.status == "Suggestions envoyées" and written.suggested_mentors == [sam.record_id]
    assert len(outbox(live, "binome-non-conclu", to="cdi@college.fr")) == 1
    assert len(outbox(live, "suggestions")) == 2  # the new list, emailed
    again = bootstrap.suggestions().suggest_all()
    assert lea.record_id not in live.gateway.get(Need, first.record_id).suggested_mentors and again.written == 0


def test_silence_for_72_hours_cancels_and_cascades(live):
    lea, sam, college, first = campaign(live)
    call(live, "suggest_mentors", {})
    post(next(l for l in links_in(outbox(live, "suggestions")[0]) if "Léa" in page_of(l)))
    soon = ChoiceService(bootstrap.gateway(), bootstrap.mailer(), bootstrap.links(), bootstrap.suggestions(),
                         clock=lambda: dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=71))
    assert soon.expire() == 0
    later = ChoiceService(bootstrap.gateway(), bootstrap.mailer(), bootstrap.links(), bootstrap.suggestions(),
                          clock=lambda: dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=73))
    assert later.expire() == 1
    [pair] = live.gateway.all(Pair)
    assert (pair.status, pair.reason) == ("Annulé", "Sans réponse sous 72 h")
    assert live.gateway.get(Need, first.record_id).suggested_mentors == [sam.record_id]
    proposal = outbox(live, "proposition", to="lea@exemple.fr")[0]
    late = post(re.search(r"https?://\S+/choose_mentor/\?t=\S+", proposal["text"]).group(0), action="accept")
    assert "Déjà répondu" in html.unescape(late.text) and live.gateway.get(Pair, pair.record_id).status == "Annulé"


def test_links_that_cannot_be_misused(live):
    lea, sam, college, first = campaign(live)
    [other] = live.gateway.create([structure("Autre collège", "autre@college.fr")])
    links = Links(live.settings)
    url = f"{live.functions_url}/choose_mentor/"
    cases = [
        (links.token(CHOICE, {"n": first.record_id, "v": lea.record_id, "s": other.record_id}), "pas un élève de votre"),
        (links.token(CHOICE, {"n": first.record_id, "v": lea.record_id, "s": college.record_id})[:-4] + "AAAA",
         "pas valide"),
        (Links(live.settings.rebuilt(LINK_SECRET="forged")).token(
            CHOICE, {"n": first.record_id, "v": lea.record_id, "s": college.record_id}), "pas valide"),
        (links.token(ANSWER, {"p": "recNoSuchPair0001", "v": lea.record_id}), "n'existe plus"),
    ]
    for token, reason in cases:
        answer = requests.post(url, data={"t": token}, timeout=30)
        assert answer.status_code == 400 and reason in html.unescape(answer.text), reason
    assert live.gateway.all(Pair) == []
    assert requests.get(f"{live.functions_url}/suggest_mentors/", timeout=10).status_code == 405
    assert requests.post(f"{live.functions_url}/suggest_mentors/", json={}, timeout=10).status_code == 401


def test_whole_pool_proposals_are_reviewed_then_published(live):
    lea, sam, college, first = campaign(live)
    [lycee] = live.gateway.create([structure("Lycée Ampère", "cpe@lycee.fr")])
    [second] = live.gateway.create([need("LA-1", lycee.record_id)])
    answer = call(live, "suggest_mentors", {"mode": "affectation"})
    assert "2 besoin(s) sur 2" in answer["detail"] and "2/2 structures servies" in answer["detail"]
    proposed = {n.record_id: n.proposal for n in live.gateway.all(Need)}
    assert all(len(p) == 1 for p in proposed.values())
    assert live.gateway.all(Pair) == []  # nothing happens before coordinators review
    live.gateway.update([Need(record_id=first.record_id, proposal_approved=True)])
    assert bootstrap.proposals().publish() == 1
    [pair] = live.gateway.all(Pair)
    assert pair.status == "Proposé" and pair.need == [first.record_id] and pair.volunteer == proposed[first.record_id]
    assert live.gateway.get(Need, first.record_id).proposal_approved is False
    assert bootstrap.proposals().publish() == 0
