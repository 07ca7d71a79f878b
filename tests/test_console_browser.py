"""The console page in a real browser (headless Chromium driven by Playwright)."""

from __future__ import annotations

import re
import shutil
from typing import Iterator

import pytest
import requests
from docusign_esign import EnvelopeDefinition, TemplateRole
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Mail

from schemas import options as opt
from schemas.records import Need, Structure
from shared.provision import provision
from tests.conftest import envelopes_api

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ACCOUNT = "00000000-0000-4000-8000-00000000b1a0"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="fr-FR")
    yield context.new_page()
    context.close()


@pytest.fixture
def campaign(emulator, gateway):
    """A provisioned base with a structure and its need, one email sent and one envelope out."""
    provision(gateway)
    [college] = gateway.create([Structure(name="Collège Jean Moulin", email="contact@college.fr",
                                          type=opt.StructureType.COLLEGE)])
    gateway.create([Need(reference="E-01-01", structure=[college.record_id], level=opt.Level.QUATRIEME,
                         subjects=[opt.Subject.MATHS], status=opt.NeedStatus.OPEN)])
    SendGridAPIClient(api_key="SG.test", host=f"{emulator.url}/sendgrid").send(Mail(
        from_email="binome@example.org", to_emails="lea@exemple.fr", subject="Bienvenue dans binome",
        html_content="<p>Bonjour <strong>Léa</strong>, merci pour votre inscription.</p>"))
    envelope = envelopes_api(emulator.url).create_envelope(ACCOUNT, envelope_definition=EnvelopeDefinition(
        template_id="convention-benevole", status="sent", email_subject="Votre convention",
        template_roles=[TemplateRole(role_name="Bénévole", name="Léa Martin", email="lea@exemple.fr")]))
    return envelope.envelope_id


def test_browse_tables_follow_a_link_read_an_email_and_sign(emulator, page: Page, campaign):
    page.goto(emulator.url + "/")
    expect(page.get_by_role("heading", name="Console de la pile locale")).to_be_visible()

    page.get_by_role("link", name="Besoins").click()
    expect(page.get_by_role("heading", name="Besoins")).to_contain_text("1 enregistrement")
    expect(page.get_by_role("cell", name="E-01-01")).to_be_visible()
    page.get_by_role("link", name="Collège Jean Moulin").click()  # a linked record
    expect(page.get_by_role("heading", level=1)).to_have_text("Collège Jean Moulin")
    expect(page.get_by_role("link", name="E-01-01")).to_be_visible()  # the inverse link, back to the need

    page.get_by_role("link", name="Courriels").click()
    page.get_by_role("link", name="Bienvenue dans binome").click()
    expect(page.frame_locator("iframe").locator("strong")).to_have_text("Léa")

    page.get_by_role("link", name="Enveloppes").click()
    row = page.locator(f"tr[data-envelope='{campaign}']")
    expect(row.locator(".status")).to_have_text("Envoyée")
    row.get_by_role("button", name="Signer").click()
    expect(page.locator(f"tr[data-envelope='{campaign}'] .status")).to_have_text("Signée")
    assert emulator.control("GET", "/envelopes")["envelopes"][0]["status"] == "completed"


def test_journal_before_provisioning_leads_home_and_after_to_its_table(emulator, gateway, page: Page):
    page.goto(emulator.url + "/")
    page.get_by_role("link", name="Journal").click()
    expect(page).to_have_url(emulator.url + "/")
    provision(gateway)
    page.get_by_role("link", name="Journal").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Journal")
    expect(page.get_by_text("Aucun enregistrement.")).to_be_visible()


def test_a_real_acknowledgement_renders_in_the_console(live, page: Page):
    """A sign-up through the stack; its welcome opened as a coordinator would, in a real browser."""
    from tests.test_intake_webhook import VOLUNTEER

    live.submit("volunteer", VOLUNTEER)
    live.settle()
    page.goto(live.emulator_url + "/console/outbox")
    page.get_by_role("link", name="Bienvenue, Léa : votre inscription est bien reçue").click()
    mail = page.frame_locator("iframe")
    expect(mail.get_by_role("heading", level=1)).to_have_text("Bienvenue, Léa !")
    expect(mail.get_by_role("heading", name="Et maintenant ?")).to_be_visible()
    expect(mail.get_by_text("Lyon (69003)")).to_be_visible()
    expect(mail.locator("ol > li")).to_have_count(3)
    expect(page.locator("pre").first).to_contain_text("Votre convention d'engagement")  # the text twin


def loaded_width(image) -> int:
    """The width the browser decoded the image at: 0 when it did not load."""
    expect(image).to_be_visible()
    image.evaluate("img => img.complete || new Promise(done => img.addEventListener('load', done, {once: true}))")
    return int(image.evaluate("img => img.naturalWidth"))


def test_the_weekly_digest_renders_with_its_chart_in_the_console_and_as_a_page(emulator, settings, page: Page,
                                                                               tmp_path):
    """Sent through SendGrid's client like any email, opened as a coordinator would; then the same
    digest as the standalone page `make demo` writes."""
    from shared.digest.weekly import digest_email, digest_page
    from shared.mail.sendgrid import SendGridMailer
    from tests.test_digest import sample_digest

    digest = sample_digest()
    SendGridMailer(settings).send(digest_email(digest, "coordination@example.org", "Coordination"))
    page.goto(emulator.url + "/console/outbox")
    page.get_by_role("link", name=re.compile("^Synthèse de la semaine")).click()
    expect(page.get_by_text("evolution.png (image/png, dans le texte)")).to_be_visible()
    mail = page.frame_locator("iframe")
    expect(mail.get_by_role("heading", level=1)).to_have_text("Synthèse de la semaine")
    chart = mail.get_by_role("img", name=re.compile("^Évolution du parcours : Inscrits 6"))
    assert loaded_width(chart) == 600
    expect(mail.get_by_text("Dan × CJM-1")).to_be_visible()
    expect(page.locator("pre").first).to_contain_text("30/11 | 6 | 4 | 2 | 3 | 2 | 1")  # the text twin

    report = tmp_path / "synthese.html"
    report.write_text(digest_page(digest), encoding="utf-8")
    page.goto(report.as_uri())
    expect(page.get_by_role("heading", name="Structures qui ne répondent pas (1)")).to_be_visible()
    assert loaded_width(page.get_by_role("img", name=re.compile("^Évolution du parcours"))) == 600


def test_a_mentor_answers_a_check_in_from_the_emails_link_and_it_lands_on_the_binome(live, page: Page):
    """The check-in link opened in a browser: the form shows, the binôme and the author ride in the
    link's fragment as hidden fields, and the answer lands through the real webhook."""
    import datetime as dt

    from schemas.records import CheckIn, Pair
    from tests.test_followup_checkins import STARTED, active, mail, on

    live.unplug_vendor_events()
    pair, lea, _ = active(live)
    on(STARTED + dt.timedelta(days=14)).run()
    [to_mentor] = [m for m in mail(live, "suivi") if m["recipients"] == [lea.email]]
    link = re.search(r"https?://\S+/to/\S+#\S+", to_mentor["text"]).group(0)

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Point d'étape de votre binôme")
    page.get_by_role("radio", name="Bien", exact=True).check()
    page.get_by_label("Combien de séances depuis le dernier point ?").fill("3")
    page.get_by_role("radio", name="Non").check()
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_text("Votre réponse est bien enregistrée.")).to_be_visible()
    live.settle()

    [check_in] = live.gateway.all(CheckIn)
    assert check_in.pair == [pair.record_id] and check_in.author == opt.CheckInAuthor.MENTOR
    assert (check_in.mood, check_in.sessions, check_in.needs_help) == (opt.CheckInMood.GOOD, 3, False)
    assert live.gateway.get(Pair, pair.record_id).last_check_in == check_in.date


def test_a_form_page_sent_incomplete_says_so_in_french_and_keeps_the_hidden_fields(live, page: Page):
    form = live.form_id("checkin")
    page.goto(f"{live.settings.form_display_url}/{form}#binome=recAAAAAAAAAAAAAA&par=Structure")
    page.evaluate("document.querySelectorAll('[required]').forEach(e => e.removeAttribute('required'))")
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.get_by_role("button", name="Envoyer").click()  # nothing answered
    assert sent.value.status == 400
    expect(page.get_by_role("alert")).to_contain_text(
        "Réponse incomplète : « Comment se passe l'accompagnement ? », « Combien de séances")
    assert page.locator("input[name='hidden.binome']").input_value() == "recAAAAAAAAAAAAAA"
    response = requests.get(f"{live.settings.form_display_url}/inconnu", timeout=30)
    assert response.status_code == 404 and "introuvable" in response.text
