"""Status changes of binômes, wherever they come from, through the rules of `shared.pairs`.

Coordinators change `Statut` by hand in Airtable. Each day (and when their automation asks, for
one binôme) the change is compared with `Statut validé`, the last status binome applied: a change
the rules allow is applied — the need follows (back to suggestions after an interruption, closed
after a binôme that ended) and it is journaled; one they do not allow is flagged on the binôme
(`Alerte`) and to the coordinators once, journaled « Rejeté », and left for them to put right:
never silently overwritten. An interruption without a reason waits for one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from schemas import options as opt
from schemas.records import Need, Pair
from shared.airtable import AirtableGateway
from shared.airtable.diff import update_of
from shared.alerts import Alerts
from shared.journal import Journal
from shared.pairs import LIVE, NEED_AFTER, NEEDS_A_REASON, allowed, refusal

JOURNAL_TYPE = "binôme"


@dataclass
class EditReport:
    applied: list[str] = field(default_factory=list)  # binôme ids
    refused: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # interrupted without a reason yet

    def line(self) -> str:
        return (f"Statuts changés à la main : {len(self.applied)} appliqué(s), {len(self.refused)} refusé(s), "
                f"{len(self.waiting)} en attente d'un motif.")


class Lifecycle:
    def __init__(self, gateway: AirtableGateway, alerts: Alerts):
        self.gateway = gateway
        self.alerts = alerts
        self.journal = Journal(gateway)

    def notice_edits(self, pairs: Sequence[Pair], needs: dict[str, Need]) -> EditReport:
        """Compare each binôme's `Statut` with `Statut validé` and act on the difference."""
        report = EditReport()
        pair_updates: list[Pair] = []
        need_updates: dict[str, Need] = {}
        for pair in pairs:
            if pair.status == pair.known_status or pair.status is None or not pair.record_id:
                continue
            if pair.known_status is None:  # a binôme from before `Statut validé`: its status stands
                self._add(pair_updates, update_of(pair, {"known_status": pair.status}))
                continue
            start, to = str(pair.known_status), str(pair.status)
            if not allowed(start, to):
                self._refuse(pair, refusal(start, to), report, pair_updates)
            elif to in NEEDS_A_REASON and not pair.reason:
                self._refuse(pair, f"Le binôme est passé à « {to} » sans motif : choisissez un motif, le changement "
                                   "sera appliqué au prochain passage.", report, pair_updates, waiting=True)
            else:
                self._add(pair_updates, update_of(pair, {"known_status": pair.status, "alert": ""}))
                need = needs.get(pair.need[0]) if pair.need else None
                if need is not None and not self._need_has_another_live_pair(need, pair, pairs):
                    update = update_of(need, {"status": NEED_AFTER[to]})
                    if update is not None:
                        need_updates[need.record_id or ""] = update
                self.journal.record(f"statut:{pair.record_id}:{start}>{to}", opt.JournalSource.BINOME, JOURNAL_TYPE,
                                    opt.JournalStatus.DONE, f"Statut changé à la main : {pair.name}",
                                    f"« {start} » → « {to} »" + (f" ({pair.reason})" if pair.reason else ""))
                report.applied.append(pair.record_id)
        self.gateway.update(pair_updates)
        self.gateway.update(list(need_updates.values()))
        return report

    def _refuse(self, pair: Pair, why: str, report: EditReport, updates: list[Pair], waiting: bool = False) -> None:
        cause = f"statut:{pair.record_id}:{pair.known_status}>{pair.status}"
        (report.waiting if waiting else report.refused).append(pair.record_id or "")
        if pair.alert == why:
            return  # flagged on an earlier day: nothing more to write
        self._add(updates, update_of(pair, {"alert": why}))
        if not waiting:
            self.journal.record(cause, opt.JournalSource.BINOME, JOURNAL_TYPE, opt.JournalStatus.REJECTED,
                                f"Changement de statut refusé : {pair.name}", why)
            self.alerts.raise_once(cause, f"Statut de binôme à revoir : {pair.name}", why)

    @staticmethod
    def _add(updates: list[Pair], update: Pair | None) -> None:
        if update is not None:
            updates.append(update)

    @staticmethod
    def _need_has_another_live_pair(need: Need, pair: Pair, pairs: Sequence[Pair]) -> bool:
        return any(other.record_id != pair.record_id and need.record_id in other.need and other.status in LIVE
                   for other in pairs)
