"""Structures that have not chosen among their suggestions a week after getting them are nudged:
one email per structure listing the pupils still waiting, once per set of suggestions (new
suggestions written later start a new week)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Callable, Sequence

from schemas import options as opt
from schemas.records import Need, Structure
from shared.airtable import AirtableGateway
from shared.claims import Job, claim
from shared.clock import PARIS
from shared.clock import now as utcnow
from shared.mail.message import Email, MailError, Mailer
from shared.mail.templates import render

log = logging.getLogger(__name__)
NUDGE_AFTER = dt.timedelta(days=7)


class Nudges:
    def __init__(self, gateway: AirtableGateway, mailer: Mailer, clock: Callable[[], dt.datetime] = utcnow):
        self.gateway = gateway
        self.mailer = mailer
        self.clock = clock

    def run(self, needs: Sequence[Need], structures: Callable[[set[str]], dict[str, Structure]]) -> int:
        """How many structures were nudged. `structures` reads the ones to write to."""
        now = self.clock()
        waiting: dict[str, list[Need]] = {}
        for need in needs:
            if need.status == opt.NeedStatus.SUGGESTED and need.suggested_at is not None and need.structure \
                    and now - need.suggested_at >= NUDGE_AFTER:
                waiting.setdefault(need.structure[0], []).append(need)
        if not waiting:
            return 0
        jobs = {structure: Job(f"relance-choix:{structure}:{max(n.suggested_at for n in group if n.suggested_at):%Y-%m-%d}",
                               f"Relance : {len(group)} élève(s) en attente d'un choix")
                for structure, group in waiting.items()}
        claims = claim(self.gateway, list(jobs.values()))
        chosen = {structure for structure, claimed in zip(jobs, claims) if claimed.owned}
        if not chosen:
            return 0
        known = structures(chosen)
        sent = 0
        for structure_id in sorted(chosen):
            structure = known.get(structure_id)
            if structure is None or not structure.email:
                continue
            group = sorted(waiting[structure_id], key=lambda n: n.reference)
            rendered = render("choice_nudge", structure=structure, needs=[
                {"reference": n.reference, "since": f"{n.suggested_at.astimezone(PARIS):%d/%m/%Y}"}
                for n in group if n.suggested_at is not None])
            try:
                self.mailer.send(Email(to=structure.email, to_name=structure.contact, subject=rendered.subject,
                                       html=rendered.html, text=rendered.text, category="relance-choix",
                                       custom_args={"binome_email": "relance-choix",
                                                    "binome_record": structure_id}))
                sent += 1
            except MailError as exc:
                log.warning("nudge to %s not sent: %s", structure_id, exc)
        return sent
