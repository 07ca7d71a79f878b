"""The daily follow-up of binômes against the local stack, Airtable's limit on: the requests of one
run over 2,000 live binômes (started over the last three months, most with check-ins; their 2,000
mentors signed, 100 more signed and waiting), of a second run the same day, and of the next day's
run — reads paged at 100 records, writes only where something changed. The first day is a Monday:
its run also sends the weekly digests (the collective's and one antenna's)."""

from __future__ import annotations

import datetime as dt
import random
import time

from bench.stack import limit_lifted, provisioned, seeding_gateway
from schemas import options as opt
from schemas.records import Antenna, CheckIn, Need, Pair, Structure, Volunteer
from shared import bootstrap
from shared.airtable import AirtableGateway
from shared.clock import PARIS
from shared.followup.daily import DailyFollowUp

PAIRS, STRUCTURES, WAITING = 2_000, 200, 100
TODAY = dt.date(2021, 2, 1)  # a Monday
SIGNED = dt.datetime(2020, 10, 1, 9, tzinfo=dt.timezone.utc)


def seed(gateway: AirtableGateway, rng: random.Random) -> None:
    volunteers = gateway.create([Volunteer(full_name=f"Bénévole {n}", first_name=f"B{n}", email=f"b{n}@exemple.fr",
                                           postcode="69003", town="Lyon", levels=[opt.Level.TROISIEME],
                                           subjects=[opt.Subject.MATHS], registered_at=SIGNED,
                                           envelope_signed_at=SIGNED, status=opt.VolunteerStatus.AVAILABLE)
                                 for n in range(PAIRS + WAITING)])
    gateway.create([Antenna(name="Lyon", association="AFEV", departements=["69 Rhône"], email="lyon@afev.example")])
    structures = gateway.create([Structure(name=f"Collège {n}", contact="Anne Dupont", email=f"c{n}@college.fr")
                                 for n in range(STRUCTURES)])
    needs = gateway.create([Need(reference=f"N-{n}", structure=[structures[n % STRUCTURES].record_id or ""],
                                 status=opt.NeedStatus.MATCHED) for n in range(PAIRS)])
    pairs = gateway.create([Pair(
        name=f"B{n} × N-{n}", need=[needs[n].record_id or ""], volunteer=[volunteers[n].record_id or ""],
        structure=[needs[n].structure[0]], status=opt.PairStatus.ACTIVE, known_status=opt.PairStatus.ACTIVE,
        started_on=TODAY - dt.timedelta(days=rng.randrange(1, 90))) for n in range(PAIRS)])
    answers = []
    for pair in pairs:
        assert pair.started_on is not None
        for week in range(2, (TODAY - pair.started_on).days // 7, 4):
            if rng.random() < 0.8:
                answers.append(CheckIn(pair=[pair.record_id or ""], date=pair.started_on + dt.timedelta(weeks=week),
                                       author=rng.choice(list(opt.CheckInAuthor)), mood=opt.CheckInMood.GOOD,
                                       sessions=rng.randrange(0, 5), typeform_token=f"{pair.record_id}{week}"))
    gateway.create(answers)


def daily(day: dt.date) -> DailyFollowUp:
    moment = dt.datetime.combine(day, dt.time(7), PARIS)
    return DailyFollowUp.build(bootstrap.gateway(), bootstrap.mailer(), bootstrap.alerts(), bootstrap.get_settings(),
                               clock=lambda: moment)


def main() -> None:
    with provisioned() as (stack, control):
        with limit_lifted(control):
            seed(seeding_gateway(stack), random.Random(7))
        gateway = bootstrap.gateway()
        print(f"follow_up's binômes part against the local stack (Airtable limit on), {PAIRS:,} live binômes:")
        for label, day in (("Monday's run, with the weekly digests", TODAY), ("the same day again", TODAY),
                           ("Tuesday's run", TODAY + dt.timedelta(days=1))):
            before = gateway.requests.copy()
            started = time.perf_counter()
            report = daily(day).run()
            used = gateway.requests - before
            print(f"  {label}: {sum(used.values())} Airtable requests ({used['GET']} reads, "
                  f"{used['PATCH'] + used['POST']} writes), {time.perf_counter() - started:.1f} s; {report.line()}",
                  flush=True)


if __name__ == "__main__":
    main()
