"""The daily follow-up of binômes: hand edits of their status noticed, then check-ins, reminders
and alerts, structures nudged to choose, the volunteers left waiting noted, and on the week's first
run the coordinators' digests. Reads the binômes, the needs, the check-ins and the signed
volunteers in paged requests; the people to write to only when there is someone to write to, 100 a
request."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable, Sequence, TypeVar

from pyairtable.formulas import Field

from schemas import options as opt
from schemas.records import AirtableRecord, CheckIn, Need, Pair, Structure, Volunteer
from shared.airtable import AirtableGateway
from shared.alerts import Alerts
from shared.clock import now as utcnow
from shared.digest.weekly import WeeklyDigests
from shared.followup.checkins import CheckInReport, CheckIns, People
from shared.followup.lifecycle import EditReport, Lifecycle
from shared.followup.limbo import Unsolved, in_limbo, notes_to_write
from shared.matching.places import place_of
from shared.followup.nudges import Nudges
from shared.followup.schedule import paris_day
from shared.mail.message import Mailer
from shared.settings import Settings

PAIR_FIELDS = ["name", "need", "volunteer", "structure", "status", "known_status", "reason", "proposed_at",
               "started_on", "last_check_in", "next_check_in", "asked_on", "reminded_on", "alert"]
CHECK_IN_FIELDS = ["pair", "date", "author", "mood", "sessions", "needs_help"]
NEED_FIELDS = ["reference", "status", "structure", "suggested_at", "level", "subjects", "mode", "suggested_mentors",
               "explanations", "pair"]
VOLUNTEER_FIELDS = ["first_name", "full_name", "email"]
WAITING_FIELDS = ["status", "envelope_signed_at", "postcode", "town", "levels", "subjects", "mode", "pairs", "waiting"]
STRUCTURE_FIELDS = ["name", "contact", "email"]
R = TypeVar("R", bound=AirtableRecord)


@dataclass
class FollowUpReport:
    edits: EditReport
    check_ins: CheckInReport
    nudged: int = 0
    waiting: int = 0  # volunteers signed three weeks ago or more, still without a binôme
    digests: int = 0

    def line(self) -> str:
        return (f"{self.edits.line()} {self.check_ins.line()} Structures relancées pour choisir : "
                f"{self.nudged}. Bénévoles sans binôme trois semaines après leur signature : {self.waiting}. "
                f"Synthèses envoyées : {self.digests}.")


class DailyFollowUp:
    def __init__(self, gateway: AirtableGateway, lifecycle: Lifecycle, check_ins: CheckIns, nudges: Nudges,
                 digests: WeeklyDigests, clock: Callable[[], dt.datetime] = utcnow):
        self.gateway = gateway
        self.digests = digests
        self.clock = clock
        self.lifecycle = lifecycle
        self.check_ins = check_ins
        self.nudges = nudges

    @classmethod
    def build(cls, gateway: AirtableGateway, mailer: Mailer, alerts: Alerts, settings: Settings,
              clock: Callable[[], dt.datetime] = utcnow, base: str = "") -> "DailyFollowUp":
        return cls(gateway, Lifecycle(gateway, alerts), CheckIns(gateway, mailer, alerts, settings, clock=clock,
                                                                 base=base),
                   Nudges(gateway, mailer, clock=clock), WeeklyDigests(gateway, mailer, settings, clock=clock),
                   clock=clock)

    def run(self) -> FollowUpReport:
        pairs = self.gateway.all(Pair, fields=PAIR_FIELDS)
        needs = {n.record_id or "": n for n in self.gateway.all(Need, fields=NEED_FIELDS)}
        edits = self.lifecycle.notice_edits(pairs, needs)
        if edits.applied or edits.refused:
            pairs = self.gateway.all(Pair, fields=PAIR_FIELDS)  # as the edits left them
        check_ins = self.gateway.all(CheckIn, fields=CHECK_IN_FIELDS)
        report = FollowUpReport(edits, self.check_ins.run(pairs, check_ins, lambda some: self.people(some, needs)))
        report.nudged = self.nudges.run(list(needs.values()),
                                        lambda ids: self.by_id(Structure, ids, STRUCTURE_FIELDS))
        report.waiting = self.note_waiting({p.record_id or "": p for p in pairs}, needs)
        report.digests = self.digests.run(list(needs.values()), pairs)
        return report

    def note_waiting(self, pairs: dict[str, Pair], needs: dict[str, Need]) -> int:
        """Write the `En attente` notes that changed; how many volunteers are waiting."""
        signed = self.gateway.all(Volunteer, formula=str(Field(Volunteer.label("envelope_signed_at"))),
                                  fields=WAITING_FIELDS)
        open_needs = [n for n in needs.values() if n.status == opt.NeedStatus.NO_MATCH]
        homes = {s: place_of(structure.postcode, structure.town).departement for s, structure in self.by_id(
            Structure, {n.structure[0] for n in open_needs if n.structure}, ["postcode", "town"]).items()}
        unsolved = [Unsolved(n, homes.get(n.structure[0], "") if n.structure else "") for n in open_needs]
        waiting = in_limbo(signed, pairs, unsolved, paris_day(self.clock()))
        self.gateway.update(notes_to_write(signed, waiting))
        return len(waiting)

    def people(self, pairs: list[Pair], needs: dict[str, Need]) -> People:
        return People(volunteers=self.by_id(Volunteer, {v for p in pairs for v in p.volunteer}, VOLUNTEER_FIELDS),
                      structures=self.by_id(Structure, {s for p in pairs for s in p.structure}, STRUCTURE_FIELDS),
                      needs=needs)

    def by_id(self, model: type[R], ids: set[str], fields: Sequence[str]) -> dict[str, R]:
        return {r.record_id or "": r for r in self.gateway.by_ids(model, sorted(ids), fields)}
