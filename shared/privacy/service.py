"""The retention job: read the people and their binômes, warn those whose time is near (once,
whatever the retries: each warning is claimed in the Journal), anonymise those whose time has come,
and say what was done. Running it twice changes nothing the second time."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Callable, Sequence

from schemas import options as opt
from schemas.records import CheckIn, Pair, Structure, Volunteer
from shared.airtable import AirtableGateway
from shared.airtable.diff import update_of
from shared.claims import CLAIM_TYPE, Job, claim
from shared.clock import PARIS
from shared.clock import now as utcnow
from shared.journal import Journal
from shared.mail.message import Email, MailError, Mailer
from shared.mail.templates import render
from shared.privacy.erasure import Eraser
from shared.privacy.footprint import Person
from shared.privacy.retention import RetentionPlan, RetentionPolicy, Standing, plan_retention
from shared.privacy.snapshot import read_snapshot
from shared.settings import Settings

log = logging.getLogger(__name__)
WARNING_PREFIX = "avertissement-anonymisation:"
REPORT_TYPE = "conservation"
PAIR_FIELDS = ["volunteer", "structure", "status", "proposed_at", "started_on", "last_check_in"]


@dataclass
class RetentionReport:
    warned: int = 0
    anonymised: int = 0
    voided: int = 0  # warnings voided by activity since
    protected: int = 0
    failed: int = 0  # warnings that could not be sent (retried next run)

    @property
    def did_something(self) -> bool:
        return bool(self.warned or self.anonymised or self.voided or self.failed)

    def line(self) -> str:
        return (f"Personnes prévenues : {self.warned}. Anonymisées : {self.anonymised}. Avertissements levés par "
                f"une activité récente : {self.voided}. Gardées pour un binôme en cours : {self.protected}. "
                f"Avertissements non envoyés : {self.failed}.")


class RetentionJob:
    def __init__(self, gateway: AirtableGateway, mailer: Mailer, eraser: Eraser, settings: Settings,
                 clock: Callable[[], dt.datetime] = utcnow):
        self.gateway = gateway
        self.mailer = mailer
        self.eraser = eraser
        self.settings = settings
        self.policy = RetentionPolicy(months=settings.BINOME_RETENTION_MONTHS)
        self.clock = clock

    def run(self) -> RetentionReport:
        now = self.clock()
        people: list[Volunteer | Structure] = [*self.gateway.all(Volunteer), *self.gateway.all(Structure)]
        plan = plan_retention(people, self.gateway.all(Pair, fields=PAIR_FIELDS),
                              self.gateway.all(CheckIn, fields=["pair", "date"]), now, self.policy)
        report = RetentionReport(protected=plan.protected, voided=len(plan.void_warnings))
        warned = self._warn(plan.warn, now, report)
        self._record_warnings(warned, plan.void_warnings)
        if plan.anonymise:
            self._anonymise(plan, now)
            report.anonymised = len(plan.anonymise)
        if report.did_something:
            Journal(self.gateway).record(f"{REPORT_TYPE}:{now.isoformat()}", opt.JournalSource.SCHEDULER, REPORT_TYPE,
                                         opt.JournalStatus.DONE, "Conservation des données", report.line())
        log.info("retention: %s", report.line())
        return report

    # --- warnings -----------------------------------------------------------------------------

    def _warn(self, due: Sequence[Standing], now: dt.datetime, report: RetentionReport) -> dict[str, dt.datetime]:
        """Send each due warning once; when each person was warned, by record id."""
        jobs = [Job(f"{WARNING_PREFIX}{s.person.record_id}:{s.deadline:%Y-%m-%d}",
                    f"Avertissement avant anonymisation ({s.person.record_id})") for s in due]
        # Read before claiming: a claim writes its entry « Traité », over a failed send's « Erreur ».
        statuses = Journal(self.gateway).statuses([job.key for job in jobs]) if jobs else {}
        claims = claim(self.gateway, jobs)
        warned: dict[str, dt.datetime] = {}
        for standing, claimed in zip(due, claims):
            record_id = standing.person.record_id or ""
            if not claimed.owned and statuses.get(claimed.job.key) != opt.JournalStatus.ERROR.value:
                # sent by an earlier run that did not record it (never later than this run's clock)
                warned[record_id] = min(claimed.claimed_at or now, now)
            elif self._send(standing, claimed.job):
                warned[record_id] = now
            else:
                report.failed += 1
        report.warned = sum(1 for s in due if (s.person.record_id or "") in warned)
        return warned

    def _send(self, standing: Standing, job: Job) -> bool:
        person = standing.person
        rendered = render("retention_warning", person_name=first_name(person), kind=person.table_key,
                          deadline=f"{standing.deadline.astimezone(PARIS):%d/%m/%Y}",
                          last_activity=f"{standing.last_activity.astimezone(PARIS):%d/%m/%Y}",
                          link=f"{self.settings.form_display_url}/{self.form_of(person)}")
        try:
            self.mailer.send(Email(to=person.email, to_name=first_name(person), subject=rendered.subject,
                                   html=rendered.html, text=rendered.text, category="conservation",
                                   custom_args={"binome_email": "conservation", "binome_record": person.record_id or ""}))
            return True
        except MailError as exc:
            # The claim stays, marked « Erreur »: the next run sends it again.
            Journal(self.gateway).record(job.key, opt.JournalSource.BINOME, CLAIM_TYPE, opt.JournalStatus.ERROR,
                                         job.event, f"Envoi échoué ({type(exc).__name__}), réessayé au prochain passage.")
            return False

    def form_of(self, person: Volunteer | Structure) -> str:
        return self.settings.form_ids["volunteer" if isinstance(person, Volunteer) else "structure"]

    def _record_warnings(self, warned: dict[str, dt.datetime], voided: Sequence[Volunteer | Structure]) -> None:
        """Write when each was warned, and forget the warnings voided; 10 records a request."""
        volunteers: list[Volunteer] = []
        structures: list[Structure] = []
        for person, moment in [*((p, None) for p in voided), *self._warned_people(warned)]:
            update = update_of(person, {"retention_warned_at": moment})
            if isinstance(update, Volunteer):
                volunteers.append(update)
            elif isinstance(update, Structure):
                structures.append(update)
        self.gateway.update(volunteers)
        self.gateway.update(structures)

    def _warned_people(self, warned: dict[str, dt.datetime]) -> list[tuple[Volunteer | Structure, dt.datetime]]:
        if not warned:
            return []
        people: list[Volunteer | Structure] = [*self.gateway.by_ids(Volunteer, sorted(warned), ["retention_warned_at"]),
                                               *self.gateway.by_ids(Structure, sorted(warned), ["retention_warned_at"])]
        return [(p, warned[p.record_id or ""]) for p in people]

    # --- anonymisation ------------------------------------------------------------------------

    def _anonymise(self, plan: RetentionPlan, now: dt.datetime) -> None:
        snapshot = read_snapshot(self.gateway)  # every table: the people's names may be anywhere
        due = {s.person.record_id for s in plan.anonymise}
        records: list[Volunteer | Structure] = [*snapshot.volunteers, *snapshot.structures]
        people = [Person(r.email.strip().lower(), r) for r in records if r.record_id in due and r.anonymised_at is None]
        self.eraser.erase(snapshot, people, search_typeform=False, event="Données anonymisées après inactivité",
                          now=now)


def first_name(person: Volunteer | Structure) -> str:
    return person.first_name or person.full_name if isinstance(person, Volunteer) else person.contact or person.name

