"""The demo's weeks of follow-up on a small campaign against the stack: check-ins answered through
the Typeform webhook on the simulated days, the stalled binômes alerted, one binôme interrupted by a
coordinator's edit, one finished, and the last digest written as a page."""

from __future__ import annotations

import datetime as dt
import random

from local import weeks
from local.emulator import EmulatorControl
from schemas import options as opt
from schemas.records import CheckIn, Need, Pair
from shared.clock import now as utcnow
from shared.followup.schedule import paris_day
from tests.test_matching_flow import mentor, need, structure

PAIRS = 12


def test_eight_simulated_weeks_tell_the_story_the_report_says(live, tmp_path):
    live.unplug_vendor_events()
    today = paris_day(utcnow())
    mentors = live.gateway.create([mentor(f"M{n}", f"m{n}@exemple.fr") for n in range(PAIRS)])
    [college] = live.gateway.create([structure("Collège Jean-Moulin", "cdi@college.fr")])
    needs = live.gateway.create([need(f"CJM-{n}", college.record_id, status=opt.NeedStatus.MATCHED)
                                 for n in range(PAIRS)])
    live.gateway.create([Pair(name=f"M{n} × CJM-{n}", need=[needs[n].record_id], volunteer=[mentors[n].record_id],
                              structure=[college.record_id], status=opt.PairStatus.ACTIVE,
                              known_status=opt.PairStatus.ACTIVE, started_on=today) for n in range(PAIRS)])

    def submit_all(form: str, responses: list[dict]) -> None:
        for body in responses:
            live.control("POST", f"/typeform/{form}/submit", json=body)
        live.settle()

    page = tmp_path / "synthese.html"
    lines = weeks.simulate(live.settings, EmulatorControl(live.emulator_url), random.Random(1), page, submit_all)

    pairs = {p.record_id: p for p in live.gateway.all(Pair)}
    statuses = sorted(p.status for p in pairs.values())
    assert statuses.count(opt.PairStatus.INTERRUPTED) == 1 and statuses.count(opt.PairStatus.ENDED) == 1
    [fell] = [p for p in pairs.values() if p.status == opt.PairStatus.INTERRUPTED]
    assert fell.reason == opt.PairReason.FALLING_OUT
    assert live.gateway.get(Need, fell.need[0]).status != opt.NeedStatus.MATCHED  # back to be matched again
    [stalled] = [p for p in pairs.values() if p.last_check_in is None]  # 10 % of 12, rounded
    assert "Aucune séance déclarée 21 jours" in stalled.alert and stalled.reminded_on is not None
    alerts = [m["subject"] for m in live.control("GET", "/outbox")["messages"] if "alerte" in m["categories"]]
    assert sorted(alerts) == sorted(f"[Alerte] Binôme à suivre : {p.name}" for p in (fell, stalled))
    check_ins = live.gateway.all(CheckIn)
    assert check_ins and all(today < c.date <= today + dt.timedelta(weeks=8) for c in check_ins)
    assert "Un binôme qui se brouille" in lines[-2] and f"{fell.name} — Interrompu (Mésentente)" in lines[-2]
    assert lines[-1].endswith("(note « En attente ») : 0")  # every mentor here has a binôme
    digests = [m for m in live.control("GET", "/outbox")["messages"] if "synthese" in m["categories"]]
    assert len(digests) >= 8  # a Monday in each simulated week, the collective's
    assert "Synthèse de la semaine" in page.read_text(encoding="utf-8")
