"""Sends the weekly digest: the first daily run of each week (Monday's, or the next one if Monday's
was missed) sends one to the coordinators for the whole collective and one to each antenna for its
départements. Each is claimed in the Journal by week and scope, so a second run, or two at once,
sends nothing more; the volunteers and structures are read only when a digest is due.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from typing import Callable, Sequence

from schemas.records import Antenna, Need, Pair, Structure, Volunteer
from shared.airtable import AirtableGateway
from shared.claims import Job, claim
from shared.clock import now as utcnow
from shared.digest.chart import evolution_png
from shared.digest.content import Digest, Records, Scope, build
from shared.followup.schedule import paris_day
from shared.journal import Journal
from shared.mail.message import Email, Inline, MailError, Mailer
from shared.mail.templates import render
from shared.settings import Settings

log = logging.getLogger(__name__)
CHART_ID = "evolution"
VOLUNTEER_FIELDS = ["full_name", "first_name", "postcode", "town", "antenna", "registered_at",
                    "envelope_signed_at", "first_contact_on", "pairs", "waiting"]
STRUCTURE_FIELDS = ["name", "postcode", "town"]
COLLECTIVE = Scope("Ensemble du collectif")


def digest_email(digest: Digest, to: str, to_name: str) -> Email:
    """The digest as an email: HTML with the chart attached inline, and its text twin."""
    rendered = render("weekly_digest", digest=digest, chart_src=f"cid:{CHART_ID}")
    chart = Inline(CHART_ID, "evolution.png", "image/png", evolution_png(digest.evolution))
    return Email(to=to, to_name=to_name, subject=rendered.subject, html=rendered.html, text=rendered.text,
                 category="synthese", custom_args={"binome_email": "synthese", "binome_week": digest.week},
                 inline=(chart,))


def digest_page(digest: Digest) -> str:
    """The same digest as a standalone page (the chart inside it), for a browser or a file."""
    chart = base64.b64encode(evolution_png(digest.evolution)).decode("ascii")
    return render("weekly_digest", digest=digest, chart_src=f"data:image/png;base64,{chart}").html


class WeeklyDigests:
    def __init__(self, gateway: AirtableGateway, mailer: Mailer, settings: Settings,
                 clock: Callable[[], dt.datetime] = utcnow):
        self.gateway = gateway
        self.mailer = mailer
        self.settings = settings
        self.clock = clock

    def read(self, needs: Sequence[Need], pairs: Sequence[Pair]) -> Records:
        return Records(self.gateway.all(Volunteer, fields=VOLUNTEER_FIELDS),
                       self.gateway.all(Structure, fields=STRUCTURE_FIELDS), needs, pairs)

    def scopes(self) -> list[tuple[Scope, str, str]]:
        """Each digest to send: its scope, and to whom (address, name)."""
        antennas = self.gateway.all(Antenna, fields=["name", "departements", "email"])
        return [(COLLECTIVE, self.settings.COORDINATION_EMAIL, "Coordination")] + [
            (Scope.of(a), a.email, a.name) for a in sorted(antennas, key=lambda a: a.name) if a.email]

    def run(self, needs: Sequence[Need], pairs: Sequence[Pair]) -> int:
        """How many digests this run sent (none but on the week's first run)."""
        today = paris_day(self.clock())
        year, week, _ = today.isocalendar()
        due = self.scopes()
        jobs = [Job(f"synthese:{year}-S{week:02d}:{scope.antenna or 'collectif'}",
                    f"Synthèse de la semaine {year}-S{week:02d} : {scope.title}") for scope, _, _ in due]
        done = Journal(self.gateway).statuses(job.key for job in jobs)  # a read, so later runs write nothing
        due, jobs = [d for d, j in zip(due, jobs) if j.key not in done], [j for j in jobs if j.key not in done]
        mine = [d for d, c in zip(due, claim(self.gateway, jobs)) if c.owned]
        if not mine:
            return 0
        records = self.read(needs, pairs)
        sent = 0
        for scope, address, name in mine:
            try:
                self.mailer.send(digest_email(build(scope, records, today), address, name))
                sent += 1
            except MailError as exc:
                log.warning("digest %s not sent: %s", scope.title, exc)
        return sent
