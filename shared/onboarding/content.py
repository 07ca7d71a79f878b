"""What onboarding sends, built from records: pure. Each email goes to the person it is about and
shows only what they gave us; pupils appear by reference, never by name."""

from __future__ import annotations

from schemas import options as opt
from schemas.records import Need, Structure, Volunteer
from shared.esign.port import EnvelopeRequest
from shared.mail.message import Email
from shared.mail.templates import render
from shared.settings import Settings

ENVELOPE_KIND = {"volunteers": "convention", "structures": "charte"}
EMAIL_SLUG = {opt.EmailKind.WELCOME.value: "accuse", opt.EmailKind.UPDATE.value: "mise-a-jour"}


def template_of(person: Volunteer | Structure) -> str:
    if person.email_kind == opt.EmailKind.UPDATE:
        return "signup_updated"
    return "volunteer_welcome" if isinstance(person, Volunteer) else "structure_welcome"


def person_email(person: Volunteer | Structure, needs: list[Need]) -> Email:
    """The acknowledgement (or the update) this record owes its person."""
    rendered = render(template_of(person), person=person, needs=needs, kind=person.table_key)
    name = person.full_name if isinstance(person, Volunteer) else person.contact
    slug = EMAIL_SLUG.get(str(person.email_kind), "accuse")
    return Email(to=person.email, to_name=name, subject=rendered.subject, html=rendered.html, text=rendered.text,
                 custom_args={"binome_table": person.table_key, "binome_record": person.record_id or "",
                              "binome_email": slug, "binome_attempt": str(person.email_attempts or 0)},
                 category=slug)


def envelope_request(person: Volunteer | Structure, settings: Settings) -> EnvelopeRequest:
    """The agreement (volunteers) or the charter (structures), prefilled from the record."""
    kind = ENVELOPE_KIND[person.table_key]
    reference = f"{person.record_id}:{kind}"
    if isinstance(person, Volunteer):
        return EnvelopeRequest(
            reference=reference, template=settings.DOCUSIGN_TEMPLATE_VOLUNTEER, role="Bénévole",
            name=person.full_name, email=person.email, subject="Votre convention d'engagement bénévole à signer",
            tabs={"prenom": person.first_name, "nom": person.last_name, "email": person.email,
                  "commune": f"{person.town} ({person.postcode})", "niveaux": ", ".join(person.levels),
                  "matieres": ", ".join(person.subjects)})
    return EnvelopeRequest(
        reference=reference, template=settings.DOCUSIGN_TEMPLATE_CHARTER, role="Structure",
        name=person.contact, email=person.email, subject=f"La charte du collectif à signer pour {person.name}",
        tabs={"structure": person.name, "referent": person.contact, "email": person.email,
              "commune": f"{person.town} ({person.postcode})"})


def alert_email(settings: Settings, title: str, detail: str, record_url: str = "") -> Email:
    rendered = render("coordinator_alert", title=title, detail=detail, record_url=record_url)
    return Email(to=settings.COORDINATION_EMAIL, to_name="Coordination", subject=rendered.subject,
                 html=rendered.html, text=rendered.text, custom_args={"binome_email": "alerte"}, category="alerte")
