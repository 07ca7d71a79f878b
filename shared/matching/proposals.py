"""Whole-pool assignment for coordinators: `propose` computes one mentor per waiting need for the
whole campaign (`assignment`) and writes it as a proposal on the need (`Proposition`, where it
changed); coordinators review it in their view and tick « Proposition validée »; `publish` turns
each validated proposal into a binôme « Proposé », through the same path as a structure's click
(the place is checked again, the mentor asked)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

import numpy as np
from pyairtable.formulas import EQ, Field

from schemas.records import Need, Structure, Volunteer
from shared.airtable import AirtableGateway
from shared.airtable.diff import update_of
from shared.clock import now as utcnow
from shared.matching import assignment, engine
from shared.matching.choices import ChoiceService
from shared.matching.snapshot import read


@dataclass
class ProposalReport:
    needs: int = 0
    feasible: int = 0
    proposed: int = 0
    written: int = 0
    structures_served: int = 0
    structures: int = 0

    def line(self) -> str:
        return (f"Affectation d'ensemble : {self.proposed} besoin(s) sur {self.needs} ({self.feasible} avec au moins "
                f"un·e bénévole possible), {self.structures_served}/{self.structures} structures servies ; "
                f"{self.written} proposition(s) écrite(s), à valider avant publication.")


class Proposals:
    def __init__(self, gateway: AirtableGateway, choices: ChoiceService,
                 clock: Callable[[], dt.datetime] = utcnow):
        self.gateway = gateway
        self.choices = choices
        self.clock = clock

    def propose(self) -> ProposalReport:
        now = self.clock()
        snap = read(self.gateway, now)
        needs = snap.waiting_needs()
        pool = engine.Pool.build(snap.mentors(), [snap.pupil(n) for n in needs], now.date())
        found = engine.search(pool)
        chosen = assignment.assign(pool, found)
        report = ProposalReport(needs=len(needs), feasible=int((found.fitting > 0).sum()),
                                proposed=int((chosen >= 0).sum()))
        served = {needs[n].structure[0] for n in np.nonzero(chosen >= 0)[0] if needs[n].structure}
        report.structures = len({n.structure[0] for n in needs if n.structure})
        report.structures_served = len(served)
        updates = []
        for n, need in enumerate(needs):
            proposal = [pool.mentors[int(chosen[n])].id] if chosen[n] >= 0 else []
            update = update_of(need, {"proposal": proposal, "proposal_approved": False})
            if update is not None:
                updates.append(update.model_copy(update={"proposed_at": now}))
        self.gateway.update(updates)
        report.written = len(updates)
        return report

    def publish(self) -> int:
        """Validated proposals become binômes « Proposé » (each checked as a click would be)."""
        approved = self.gateway.all(Need, formula=EQ(Field(Need.label("proposal_approved")), True))
        published = 0
        for need in approved:
            if not need.proposal or not need.structure:
                continue
            volunteer = self.gateway.get(Volunteer, need.proposal[0])
            structure = self.gateway.get(Structure, need.structure[0])
            if self.choices.take(need, volunteer, structure) is not None:
                published += 1
            done = update_of(need, {"proposal_approved": False})
            if done is not None:
                self.gateway.update([done])
        return published
