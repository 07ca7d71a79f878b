"""Onboarding's pure parts: every template renders in French with its text twin and shows nobody
else's contact; what a sign-up owes; statuses that only move forward; the antenna chosen; links."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, strategies as st

from schemas import options as opt
from schemas.records import Antenna, Need, Structure, Volunteer
from shared.links import LinkRefused, Links
from shared.mail.templates import names, render
from shared.onboarding import antennas, rules
from shared.onboarding.content import envelope_request, person_email
from shared.settings import isolated_settings
from tests.test_digest import sample_digest

NOW = dt.datetime(2020, 11, 2, 17, 30, tzinfo=dt.timezone.utc)
LEA = Volunteer(record_id="recLea00000000001", full_name="Léa Martin", first_name="Léa", last_name="Martin",
                email="lea.martin@exemple.fr", phone="+33612345678", postcode="69003", town="Lyon",
                levels=["4e", "3e"], subjects=["Mathématiques", "Français"], slots=["Lundi 18h-20h"],
                mode="Les deux", capacity=2, hours_per_week=1.5, association="AFEV",
                email_kind=opt.EmailKind.WELCOME)
SAM = Volunteer(record_id="recSam00000000002", full_name="Sam Diallo", first_name="Sam", last_name="Diallo",
                email="sam.diallo@exemple.fr", phone="+33698765432", postcode="69100", town="Villeurbanne",
                levels=["4e"], subjects=["Anglais"], slots=["Mardi 16h-18h"], mode="Distanciel", capacity=1)
COLLEGE = Structure(record_id="recCollege0000001", name="Collège Jean-Moulin", type="Collège", contact="Anne Dupont",
                    email="cdi@college.fr", phone="+33144556677", postcode="75011", town="Paris",
                    email_kind=opt.EmailKind.WELCOME)
PUPILS = [Need(reference="JM-a1b2c3-1", level="4e", subjects=["Mathématiques"], slots=["Mercredi 14h-16h"],
               mode="Présentiel", difficulties="Manque de méthode"),
          Need(reference="JM-a1b2c3-2", level="3e", subjects=["Français"], slots=["Mardi 16h-18h"], mode="Distanciel")]
ANTENNA = Antenna(record_id="recAntenneLyon001", name="AFEV Lyon", association="AFEV", departements=["69 Rhône"],
                  email="lyon@afev.example")
CONTEXTS = {
    "volunteer_welcome": {"person": LEA},
    "structure_welcome": {"person": COLLEGE, "needs": PUPILS},
    "signup_updated": {"person": LEA, "needs": [], "kind": "volunteers"},
    "coordinator_alert": {"title": "Document refusé : Léa Martin", "detail": "Léa a refusé de signer.",
                          "record_url": ""},
    "antenna_digest": {"antenna": ANTENNA, "fresh": [{"person": LEA, "signed": "02/11/2020", "link": "https://x/1"}],
                       "waiting": [{"person": SAM, "signed": "28/10/2020", "link": "https://x/2"}]},
}
CARD = {"first_name": "Sam", "levels": "4e", "subjects": "Anglais", "slots": "mardi 16h-18h", "mode": "à distance",
        "band": "même département", "link": "https://binome.example.org/choose_mentor/?t=abc"}
CONTEXTS.update({
    "suggestions": {"structure": COLLEGE, "needs": [{"need": PUPILS[0], "suggestions": [CARD]}]},
    "mentor_proposal": {"mentor": SAM, "need": PUPILS[0], "structure": COLLEGE, "link": "https://x/r",
                        "deadline": "05/11 à 17h30"},
    "pair_confirmed_structure": {"structure": COLLEGE, "mentor": SAM, "need": PUPILS[0]},
    "pair_confirmed_mentor": {"structure": COLLEGE, "mentor": SAM, "need": PUPILS[0]},
    "pair_declined": {"structure": COLLEGE, "mentor": SAM, "need": PUPILS[0], "reason": "Bénévole indisponible"},
    "check_in": {"need": PUPILS[0], "person": "Sam Diallo", "other": "Collège Jean-Moulin", "reminder": False,
                 "link": "https://form.typeform.com/to/suivis#binome=recPair&par=B%C3%A9n%C3%A9vole",
                 "due": "16/11/2020", "started": "02/11/2020"},
    "choice_nudge": {"structure": COLLEGE, "needs": [{"reference": "JM-a1b2c3-1", "since": "02/11/2020"}]},
    "weekly_digest": {"digest": sample_digest(), "chart_src": "cid:evolution"},
})
CONTEXTS.update({
    "retention_warning": {"person_name": "Léa", "kind": "volunteers", "deadline": "02/11/2022",
                          "last_activity": "02/11/2020", "link": "https://form.typeform.com/to/benevoles"},
})
FRENCH_WORDS = {"vous", "votre", "les", "des", "est", "une", "cette", "dans", "pour", "question", "bénévole", "contact"}


def test_every_email_template_has_a_realistic_context_here():
    assert sorted(CONTEXTS) == names()


@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_every_template_renders_in_french_with_its_text_twin(name):
    rendered = render(name, **CONTEXTS[name])
    assert rendered.subject and "{" not in rendered.subject
    assert '<html lang="fr">' in rendered.html and 'name="viewport"' in rendered.html
    for image in re.findall(r"<img\b[^>]*>", rendered.html):  # readable without images: each says what it shows
        assert re.search(r'alt="[^"]{20,}"', image), image
    text_words = set(re.findall(r"[\wéèàêç]+", rendered.text.lower()))
    assert len(text_words & FRENCH_WORDS) >= 3, rendered.text
    assert "<" not in rendered.text  # a plain-text twin, not HTML
    for fragment in re.findall(r"[A-Za-zÀ-ÿ]{6,}", rendered.text)[:40]:  # the twin says what the HTML says
        assert fragment in rendered.html, fragment


def test_a_persons_email_shows_their_facts_and_nobody_elses_contact():
    welcome = render("volunteer_welcome", person=LEA)
    for fact in ("lea.martin@exemple.fr", "+33612345678", "Lyon (69003)", "4e, 3e", "Mathématiques, Français",
                 "Lundi 18h-20h", "1 h 30", "AFEV"):
        assert fact in welcome.text and fact in welcome.html
    charter = render("structure_welcome", person=COLLEGE, needs=PUPILS)
    assert "JM-a1b2c3-1" in charter.text and "Manque de méthode" in charter.text
    everyone_else = [SAM.email, SAM.phone, ANTENNA.email, "coordination@"]
    for rendered in (welcome, charter, render("signup_updated", person=LEA, needs=[], kind="volunteers")):
        for contact in everyone_else:
            assert contact not in rendered.html and contact not in rendered.text


def test_before_a_binome_is_confirmed_nobody_gets_the_others_contact():
    for name in ("suggestions", "mentor_proposal", "pair_declined"):
        rendered = render(name, **CONTEXTS[name])
        for contact in (SAM.email, SAM.phone, COLLEGE.email, COLLEGE.phone):
            assert contact not in rendered.html and contact not in rendered.text, (name, contact)
    # once both agreed, each gets the other's, and only the other's
    to_structure = render("pair_confirmed_structure", **CONTEXTS["pair_confirmed_structure"]).text
    assert SAM.email in to_structure and LEA.email not in to_structure
    to_mentor = render("pair_confirmed_mentor", **CONTEXTS["pair_confirmed_mentor"]).text
    assert COLLEGE.email in to_mentor and SAM.email not in to_mentor


def test_answers_cannot_inject_markup():
    hostile = LEA.model_copy(update={"first_name": "<script>alert(1)</script>", "association": "<b>x</b>"})
    rendered = render("volunteer_welcome", person=hostile)
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html


def test_the_email_carries_custom_args_that_find_its_record():
    email = person_email(LEA, [])
    assert email.to == LEA.email and email.custom_args == {
        "binome_table": "volunteers", "binome_record": "recLea00000000001", "binome_email": "accuse",
        "binome_attempt": "0"}
    assert all(isinstance(v, str) for v in email.custom_args.values())  # SendGrid refuses anything else


def test_envelopes_are_prefilled_and_carry_their_reference():
    settings = isolated_settings()
    request = envelope_request(LEA, settings)
    assert (request.reference, request.role, request.template) == ("recLea00000000001:convention", "Bénévole",
                                                                   settings.DOCUSIGN_TEMPLATE_VOLUNTEER)
    assert request.tabs["prenom"] == "Léa" and request.tabs["niveaux"] == "4e, 3e"
    charter = envelope_request(COLLEGE, settings)
    assert (charter.reference, charter.role) == ("recCollege0000001:charte", "Structure")


def test_a_new_person_is_owed_the_welcome_and_the_document():
    intents = rules.sign_up_intents(True, None, "tok-1", NOW)
    assert intents["email_status"] == "À envoyer" and intents["email_key"] == "accuse"
    assert intents["envelope_status"] == "À envoyer" and intents["email_prepared_at"] == NOW


def test_a_known_person_is_owed_one_update_unless_the_welcome_is_still_owed():
    sent = LEA.model_copy(update={"email_status": opt.EmailStatus.DELIVERED, "envelope_status": opt.EnvelopeStatus.SENT})
    intents = rules.sign_up_intents(False, sent, "tok-2", NOW)
    assert (intents["email_kind"], intents["email_key"]) == ("Mise à jour de l'inscription", "maj:tok-2")
    assert "envelope_status" not in intents  # one document per person
    owed = sent.model_copy(update={"email_status": opt.EmailStatus.PENDING})
    assert rules.sign_up_intents(False, owed, "tok-2", NOW) == {}  # the welcome will carry the new answers
    bounced = sent.model_copy(update={"email_status": opt.EmailStatus.BOUNCED})
    assert "email_status" not in rules.sign_up_intents(False, bounced, "tok-2", NOW)  # that address does not work


def test_a_new_volunteers_creation_claims_its_first_welcome_and_envelope_and_nothing_else():
    created = LEA.model_copy(update={"first_token": "tok-1", **rules.sign_up_intents(True, None, "tok-1", NOW)})
    assert rules.claimed_by_creation(created) == {rules.email_job_key(created), rules.envelope_job_key(created)}
    failed_once = created.model_copy(update={"email_attempts": 1, "envelope_attempts": 1})
    assert not rules.claimed_by_creation(failed_once) & {rules.email_job_key(failed_once),
                                                         rules.envelope_job_key(failed_once)}  # a retry's own claim
    updated = created.model_copy(update={"email_status": opt.EmailStatus.DELIVERED})
    updated = updated.model_copy(update=rules.sign_up_intents(False, updated, "tok-2", NOW))
    assert rules.email_job_key(updated) not in rules.claimed_by_creation(updated)  # the update's email: maj:tok-2
    assert rules.claimed_by_creation(LEA.model_copy(update={"first_token": ""})) == set()  # made by hand
    charter_owed = COLLEGE.model_copy(update={"first_token": "tok-3", **rules.sign_up_intents(True, None, "tok-3", NOW)})
    assert rules.claimed_by_creation(charter_owed) == set()  # a structure's needs come between: claims of their own


EMAIL_EVENTS = st.lists(st.sampled_from(["processed", "delivered", "deferred", "bounce", "open", "click"]), max_size=8)


@given(EMAIL_EVENTS)
def test_email_statuses_only_move_forward(events):
    status: str | None = opt.EmailStatus.SENT.value
    seen = [rules.EMAIL_RANK[opt.EmailStatus.SENT]]
    for event in events:
        new = rules.email_after(status, event)
        if new is not None:
            status = new.value
            seen.append(rules.EMAIL_RANK[new])
    assert seen == sorted(seen)


def test_a_late_sent_never_overwrites_signed_and_a_bounce_after_delivery_counts():
    assert rules.envelope_after("Signée", rules.CONNECT_EVENTS["envelope-sent"]) is None
    assert rules.envelope_after("Envoyée", rules.CONNECT_EVENTS["envelope-completed"]) == "Signée"
    assert rules.email_after("Délivré", "processed") is None
    assert rules.email_after("Délivré", "bounce") == "Rejeté"


def test_the_volunteer_status_moves_forward_and_never_over_a_coordinators_hold():
    assert rules.volunteer_status_after("Inscrit", opt.EnvelopeStatus.SIGNED) == "Disponible"
    assert rules.volunteer_status_after(None, opt.EnvelopeStatus.SENT) == "Convention envoyée"
    assert rules.volunteer_status_after("En pause", opt.EnvelopeStatus.SIGNED) is None
    assert rules.volunteer_status_after("Disponible", opt.EnvelopeStatus.SENT) is None


def test_failed_sends_wait_longer_each_time_then_give_up():
    failed_at = NOW
    assert not rules.retry_due(failed_at, 1, NOW + dt.timedelta(minutes=4))
    assert rules.retry_due(failed_at, 1, NOW + dt.timedelta(minutes=5))
    assert not rules.retry_due(failed_at, 3, NOW + dt.timedelta(minutes=19))
    assert rules.given_up(rules.MAX_ATTEMPTS) and not rules.given_up(rules.MAX_ATTEMPTS - 1)


def antenna(name: str, association: str, *departements: str, volunteers: int = 0) -> Antenna:
    codes = {opt.departement_code(d.value): d.value for d in opt.Departement}
    return Antenna(record_id=f"rec{name[:14]:0<14}", name=name, association=association,
                   departements=[codes[d] for d in departements], volunteers=[f"recV{n:013d}" for n in range(volunteers)])


def test_the_antenna_is_the_named_association_then_the_departement_then_the_region_then_the_collective():
    afev, article1 = antenna("AFEV Lyon", "AFEV", "69"), antenna("Article 1 Rhône", "Article 1", "69", "01")
    grenoble, collective = antenna("Télémaque Isère", "Télémaque", "38"), antenna("Collectif", "Collectif", "75")
    everyone = [afev, article1, grenoble, collective]
    assert antennas.choose(LEA, everyone).antenna is afev  # Léa named AFEV, which covers the Rhône
    busy_afev = antenna("AFEV Lyon", "AFEV", "69", volunteers=9)
    assert antennas.choose(SAM, [busy_afev, article1]).antenna is article1  # no association: the less loaded
    in_ain = LEA.model_copy(update={"postcode": "01000", "town": "Bourg-en-Bresse", "association": ""})
    assert antennas.choose(in_ain, everyone).antenna is article1
    in_savoie = LEA.model_copy(update={"postcode": "73000", "town": "Chambéry", "association": ""})
    assert antennas.choose(in_savoie, everyone).antenna in (afev, article1, grenoble)  # same région
    in_brest = LEA.model_copy(update={"postcode": "29200", "town": "Brest", "association": ""})
    assert antennas.choose(in_brest, everyone).antenna is collective
    assert antennas.choose(in_brest, [afev]) is None


def test_links_are_bound_to_their_purpose_and_expire():
    links = Links(isolated_settings(LINK_SECRET="s3cret", PUBLIC_URL="https://binome.example.org"))
    token = links.token("premier-contact", {"v": "recA", "a": "recB"})
    assert links.read("premier-contact", token, max_age=60) == {"v": "recA", "a": "recB"}
    with pytest.raises(LinkRefused, match="pas valide"):
        links.read("choix", token, max_age=60)  # made for another action
    with pytest.raises(LinkRefused, match="pas valide"):
        links.read("premier-contact", token[:-2] + "xx", max_age=60)
    with pytest.raises(LinkRefused, match="expiré"):
        links.read("premier-contact", token, max_age=-1)
    other = Links(isolated_settings(LINK_SECRET="another"))
    with pytest.raises(LinkRefused):
        other.read("premier-contact", token, max_age=60)
    assert links.url("first_contact", "premier-contact", {"v": "recA"}).startswith("https://binome.example.org/first_contact/?t=")
