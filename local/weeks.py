"""Weeks of follow-up in a minute or two: the daily run day after day with an injected clock (never
sleeping), and people answering their check-ins through the Typeform stand-in, dated on the
simulated days, so they land through the real webhook.

Most binômes go well and answer; some stall (nobody ever answers: reminders, then alerts); one
falls out (the mentor's first check-in goes badly, then a coordinator interrupts it in Airtable,
which the next daily run applies); one finishes (a coordinator marks the goal reached). The last
collective digest is written as a page beside the demo's report.
"""

from __future__ import annotations

import collections
import datetime as dt
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import unquote

from local.emulator import EmulatorControl
from schemas import options as opt
from schemas.records import Need, Pair
from shared import bootstrap
from shared.airtable.diff import update_of
from shared.clock import PARIS
from shared.clock import now as utcnow
from shared.digest.content import build
from shared.digest.weekly import COLLECTIVE, WeeklyDigests, digest_page
from shared.followup.daily import DailyFollowUp, FollowUpReport
from shared.followup.schedule import paris_day
from shared.settings import Settings

WEEKS = 8
STALL = 0.1  # of the active binômes: nobody ever answers a check-in
FALLS_OUT_ON, FINISHES_ON = 17, 45  # days after the start when a coordinator steps in
RUN_AT, ANSWER_AT = 8, 18  # hours, Paris
ASKED = re.compile(r"#binome=(rec\w+)&par=(\S+)")


@dataclass(frozen=True)
class Cast:
    """Who does what in the story."""

    falls_out: str
    finishes: str
    stalled: frozenset[str]

    @classmethod
    def of(cls, active: list[str], rng: random.Random) -> "Cast":
        ids = sorted(active)
        rng.shuffle(ids)
        return cls(ids[0], ids[1], frozenset(ids[2:2 + round(len(ids) * STALL)]))


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), PARIS)


def answer(cast: Cast, pair: str, side: str, rng: random.Random) -> dict[str, Any] | None:
    """What this side answers to its check-in (None: it does not answer)."""
    if pair in cast.stalled:
        return None
    if pair == cast.falls_out and side == opt.CheckInAuthor.MENTOR.value:
        return {"mood": opt.CheckInMood.VERY_DIFFICULT.value, "sessions": 1, "needs_help": True,
                "comment": "Nous ne nous entendons pas sur les horaires ni sur la façon de travailler."}
    return {"mood": rng.choice([opt.CheckInMood.VERY_GOOD.value, opt.CheckInMood.GOOD.value]),
            "sessions": rng.randint(2, 5), "needs_help": False}


def coordinator_sets(pair_id: str, status: opt.PairStatus, reason: opt.PairReason, detail: str) -> None:
    """A coordinator's edit in Airtable: the status and its reason, nothing else."""
    gateway = bootstrap.gateway()
    edit = update_of(gateway.get(Pair, pair_id), {"status": status, "reason": reason, "reason_detail": detail})
    gateway.update([edit] if edit else [])


def simulate(settings: Settings, control: EmulatorControl, rng: random.Random, report: Path,
             submit_all: Callable[[str, list[dict[str, Any]]], None], weeks: int = WEEKS) -> list[str]:
    """Run `weeks` of days; what came of it, as report lines. `submit_all` posts responses and waits
    until the webhook has taken them."""
    gateway = bootstrap.gateway()
    start = paris_day(utcnow())
    active = [p.record_id or "" for p in gateway.all(Pair, fields=["status"]) if p.status == opt.PairStatus.ACTIVE]
    if len(active) < 2:
        return ["- Suivi : trop peu de binômes actifs pour le simuler."]
    cast = Cast.of(active, rng)
    totals: collections.Counter[str] = collections.Counter()
    seen = len(control.call("GET", "/outbox")["messages"])
    for offset in range(1, weeks * 7 + 1):
        day = start + dt.timedelta(days=offset)
        moment = at(day, RUN_AT)
        run = DailyFollowUp.build(gateway, bootstrap.mailer(), bootstrap.alerts(), settings, clock=lambda: moment).run()
        add(totals, run)
        totals["en attente"] = run.waiting  # today's, not a sum
        messages = control.call("GET", "/outbox")["messages"]
        asks = [ASKED.search(m["text"]) for m in messages[seen:] if "suivi" in m["categories"]]
        seen = len(messages)
        responses = []
        for asked in filter(None, asks):
            pair, side = asked.group(1), unquote(asked.group(2))
            answers = answer(cast, pair, side, rng)
            if answers is not None:
                responses.append({"answers": answers, "hidden": {"binome": pair, "par": side},
                                  "submitted_at": at(day, ANSWER_AT).astimezone(dt.timezone.utc)
                                  .strftime("%Y-%m-%dT%H:%M:%SZ")})
        totals["réponses"] += len(responses)
        submit_all(settings.TYPEFORM_FORM_CHECKIN, responses)
        if offset == FALLS_OUT_ON:
            coordinator_sets(cast.falls_out, opt.PairStatus.INTERRUPTED, opt.PairReason.FALLING_OUT,
                             "Mésentente sur les horaires, vue au téléphone avec la structure.")
        if offset == FINISHES_ON:
            coordinator_sets(cast.finishes, opt.PairStatus.ENDED, opt.PairReason.GOAL_REACHED,
                             "L'élève a rattrapé son retard en mathématiques.")
        if offset % 7 == 0:
            print(f"   Semaine {offset // 7} (au {day:%d/%m}) : {totals['demandes']} demandes de point, "
                  f"{totals['réponses']} réponses, {totals['rappels']} rappels, {totals['alertes']} alertes, "
                  f"{totals['synthèses']} synthèses (cumul)", flush=True)
    last = start + dt.timedelta(days=weeks * 7)
    digests = WeeklyDigests(gateway, bootstrap.mailer(), settings)
    pairs = gateway.all(Pair)
    report.write_text(digest_page(build(COLLECTIVE, digests.read(gateway.all(Need), pairs), last)),
                      encoding="utf-8")
    return story_lines(start, last, totals, pairs, cast, weeks)


def add(totals: collections.Counter[str], run: FollowUpReport) -> None:
    totals["demandes"] += run.check_ins.asked
    totals["rappels"] += run.check_ins.reminded
    totals["alertes"] += run.check_ins.alerts
    totals["relances"] += run.nudged
    totals["synthèses"] += run.digests
    totals["changements appliqués"] += len(run.edits.applied)


def story_lines(start: dt.date, last: dt.date, totals: collections.Counter[str], pairs: list[Pair],
                cast: Cast, weeks: int = WEEKS) -> list[str]:
    by_id = {p.record_id: p for p in pairs}
    statuses = collections.Counter(p.status for p in pairs)
    fell, done = by_id[cast.falls_out], by_id[cast.finishes]
    return [
        f"- Suivi simulé du {start:%d/%m/%Y} au {last:%d/%m/%Y} ({weeks} semaines, horloge injectée) : "
        f"{totals['demandes']} demandes de point d'étape, {totals['réponses']} réponses, {totals['rappels']} rappels, "
        f"{totals['alertes']} alertes, {totals['relances']} structures relancées, {totals['synthèses']} synthèses "
        "hebdomadaires",
        "- Binômes à la fin : " + ", ".join(f"{s} {n}" for s, n in statuses.most_common()),
        f"- Un binôme qui se brouille : {fell.name} — {fell.status} ({fell.reason}) ; un qui aboutit : {done.name} — "
        f"{done.status} ({done.reason}) ; {len(cast.stalled)} qui ne répondent jamais",
        "- Bénévoles signés il y a trois semaines ou plus, toujours sans binôme (note « En attente ») : "
        f"{totals['en attente']}",
    ]
