"""Onboarding's daily work, run by `follow_up` from the scheduler; safe to run twice a day, since
each email is claimed once per day and each reminder once per envelope:

- a reminder for each document still unsigned after 3 days (DocuSign sends the signer the
  notification again), after checking with DocuSign that it is still unsigned (an event may have
  been lost: the status is then put right instead);
- one alert listing the documents still unsigned after 10 days, for coordinators to call;
- one email per antenna listing the volunteers who signed and wait for their first contact, each
  with a link that records « premier contact fait ».
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from pyairtable.formulas import EQ, Field

from schemas import options as opt
from schemas.records import Antenna, Structure, Volunteer
from shared.airtable import AirtableGateway
from shared.airtable.diff import update_of
from shared.alerts import Alerts
from shared.claims import Job, claim
from shared.clock import PARIS
from shared.clock import now as utcnow
from shared.esign.port import ESign, ESignError
from shared.links import Links
from shared.mail.message import Email, MailError, Mailer
from shared.mail.templates import render
from shared.onboarding import rules

log = logging.getLogger(__name__)
REMIND_AFTER = dt.timedelta(days=3)
LIST_AFTER = dt.timedelta(days=10)
FIRST_CONTACT = "premier-contact"
FIRST_CONTACT_LINK_DAYS = 45
Person = Volunteer | Structure


@dataclass
class DailyReport:
    reminded: int = 0
    corrected: int = 0
    unsigned: int = 0
    digests: int = 0
    volunteers_listed: int = 0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"Relances : {self.reminded} ; statuts corrigés : {self.corrected} ; non signés depuis 10 jours : "
                f"{self.unsigned} ; listes envoyées aux antennes : {self.digests} ({self.volunteers_listed} "
                "bénévole(s) à contacter)." + "".join(f" {n}" for n in self.notes))


class DailyOnboarding:
    def __init__(self, gateway: AirtableGateway, mailer: Mailer, esign: ESign, links: Links, alerts: Alerts,
                 clock: Callable[[], dt.datetime] = utcnow):
        self.gateway = gateway
        self.mailer = mailer
        self.esign = esign
        self.links = links
        self.alerts = alerts
        self.clock = clock

    def run(self) -> DailyReport:
        report = DailyReport()
        now = self.clock()
        out: list[Person] = [*self.gateway.all(Volunteer, formula=out_for_signature(Volunteer)),
                             *self.gateway.all(Structure, formula=out_for_signature(Structure))]
        self._remind(out, now, report)
        self._list_unsigned(out, now, report)
        self._antenna_digests(now, report)
        return report

    # --- documents still out for signature ----------------------------------------------------

    def _remind(self, out: list[Person], now: dt.datetime, report: DailyReport) -> None:
        due = [p for p in out if p.envelope_id and p.envelope_sent_at and not p.envelope_reminded_at
               and now - p.envelope_sent_at >= REMIND_AFTER]
        for person in due:
            try:
                status = rules.DOCUSIGN_STATUSES.get(self.esign.status(person.envelope_id))
            except ESignError as exc:
                report.notes.append(f"Statut de {person.envelope_id} inconnu ({exc}).")
                continue
            corrected = rules.envelope_after(person.envelope_status, status)
            if corrected is not None:  # signed or declined, and the event never reached us
                self._update(person, {"envelope_status": corrected})
                report.corrected += 1
                continue
            [reminder] = claim(self.gateway, [Job(f"relance:{person.envelope_id}", f"Relance ({person.record_id})")])
            if not reminder.owned:
                continue
            try:
                self.esign.remind(person.envelope_id)
            except ESignError as exc:
                report.notes.append(f"Relance de {person.envelope_id} impossible ({exc}).")
                continue
            self._update(person, {"envelope_reminded_at": now})
            report.reminded += 1

    def _list_unsigned(self, out: list[Person], now: dt.datetime, report: DailyReport) -> None:
        late = [p for p in out if p.envelope_sent_at and now - p.envelope_sent_at >= LIST_AFTER
                and p.envelope_status == opt.EnvelopeStatus.SENT]
        report.unsigned = len(late)
        if not late:
            return
        lines = "; ".join(f"{name_of(p)} ({p.record_id}, envoyé le {p.envelope_sent_at.astimezone(PARIS):%d/%m})"
                          for p in late if p.envelope_sent_at)
        day = now.astimezone(PARIS).date()
        self.alerts.raise_once(f"non-signes:{day}", f"{len(late)} document(s) non signé(s) depuis 10 jours",
                               f"Ils ont reçu une relance au troisième jour ; un appel les aidera : {lines}.")

    def _update(self, person: Person, values: dict[str, Any]) -> None:
        update = update_of(person, values)
        if update is not None:
            self.gateway.update([update])

    # --- antennas ---------------------------------------------------------------------------------

    def _antenna_digests(self, now: dt.datetime, report: DailyReport) -> None:
        signed = self.gateway.all(Volunteer, formula=EQ(Field(Volunteer.label("envelope_status")),
                                                        opt.EnvelopeStatus.SIGNED.value))
        by_antenna: dict[str, list[Volunteer]] = {}
        for volunteer in signed:
            if volunteer.antenna and volunteer.first_contact_on is None:
                by_antenna.setdefault(volunteer.antenna[0], []).append(volunteer)
        if not by_antenna:
            return
        antennas = {a.record_id: a for a in self.gateway.all(Antenna)}
        day = now.astimezone(PARIS).date()
        for antenna_id, volunteers in sorted(by_antenna.items()):
            antenna = antennas.get(antenna_id)
            if antenna is None or not antenna.email:
                continue
            [digest] = claim(self.gateway, [Job(f"antenne:{antenna_id}:{day}", f"Liste du {day:%d/%m} ({antenna.name})",
                                                f"{len(volunteers)} bénévole(s) à contacter")])
            if not digest.owned:
                continue
            try:
                self.mailer.send(self.digest_email(antenna, volunteers, now))
            except MailError as exc:
                report.notes.append(f"Liste de {antenna.name} non envoyée ({exc}).")
                continue
            report.digests += 1
            report.volunteers_listed += len(volunteers)

    def digest_email(self, antenna: Antenna, volunteers: list[Volunteer], now: dt.datetime) -> Email:
        def entry(volunteer: Volunteer) -> dict[str, Any]:
            signed = volunteer.envelope_signed_at.astimezone(PARIS) if volunteer.envelope_signed_at else None
            link = self.links.url("first_contact", FIRST_CONTACT, {"v": volunteer.record_id, "a": antenna.record_id})
            return {"person": volunteer, "signed": f"{signed:%d/%m/%Y}" if signed else "—", "link": link}

        since = now - dt.timedelta(days=1)
        ordered = sorted(volunteers, key=lambda v: (v.antenna_since or now, v.full_name))
        fresh = [entry(v) for v in ordered if v.antenna_since and v.antenna_since >= since]
        older = [entry(v) for v in ordered if not (v.antenna_since and v.antenna_since >= since)]
        rendered = render("antenna_digest", antenna=antenna, fresh=fresh, waiting=older)
        return Email(to=antenna.email, to_name=antenna.name, subject=rendered.subject, html=rendered.html,
                     text=rendered.text, custom_args={"binome_email": "liste-antenne"}, category="liste-antenne")


def out_for_signature(model: type[Volunteer] | type[Structure]) -> EQ:
    return EQ(Field(model.label("envelope_status")), opt.EnvelopeStatus.SENT.value)


def name_of(person: Person) -> str:
    return person.full_name if isinstance(person, Volunteer) else person.name
