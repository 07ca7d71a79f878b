"""`suggest_mentors` against the local stack, Airtable's 5 requests/s on (the emulator's limit and
the functions' own pacing), on a synthetic campaign of 2,000 signed volunteers and 1,000 needs
written into the base:

- a full run over every waiting need: Airtable requests (reads, writes), lists written, emails to
  structures, time;
- a day of changes made in the base (1 % of volunteers change slots, 0.5 % leave, 0.5 % join, 1 %
  new needs), then the scheduler's run again: lists rewritten and requests;
- one new need, as the Airtable automation asks for it: latency of `suggest_one`, base read and
  write included, with the campaign snapshot already read (as in a warm instance) and without.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from dataclasses import replace
from typing import Callable

from bench.matching_data import Synthetic
from bench.stack import limit_lifted, provisioned, seeding_gateway
from schemas import options as opt
from schemas.records import Need, Structure, Volunteer
from shared import bootstrap, geo
from shared.airtable import AirtableGateway
from shared.matching.model import DISTANCE_BANDS, Mentor, Place, Pupil
from shared.matching.suggestions import SuggestReport, SuggestionService

VOLUNTEERS, NEEDS = 2_000, 1_000
TRIALS = 20
BAND_LABEL = {band: label for label, band in DISTANCE_BANDS.items()}
NOW = dt.datetime(2020, 11, 16, 9, tzinfo=dt.timezone.utc)


class Writer:
    """Synthetic people as base records (written by a gateway of its own, limit lifted meanwhile)."""

    def __init__(self, synthetic: Synthetic, gateway: AirtableGateway):
        self.synthetic, self.gateway = synthetic, gateway
        self.structures: dict[str, str] = {}  # synthetic structure → record id

    def where(self, place: Place) -> dict[str, str]:
        postcode = self.synthetic.postcode_of[place]
        return {"postcode": postcode, "town": geo.resolve(postcode).name}  # type: ignore[union-attr]

    def volunteers(self, mentors: list[Mentor]) -> list[Volunteer]:
        return self.gateway.create([Volunteer(
            full_name=f"{m.first_name} {m.id}", first_name=m.first_name, last_name=m.id, email=f"{m.id}@exemple.fr",
            levels=list(m.levels), subjects=list(m.subjects), slots=list(m.slots), mode=m.mode,
            max_distance=BAND_LABEL[m.max_band], capacity=m.free, registered_at=m.registered,
            envelope_status=opt.EnvelopeStatus.SIGNED, status=opt.VolunteerStatus.AVAILABLE, **self.where(m.place))
            for m in mentors])

    def needs(self, pupils: list[Pupil]) -> list[Need]:
        missing = {p.structure: p.place for p in pupils if p.structure not in self.structures}
        created = self.gateway.create([Structure(name=f"Collège {s}", email=f"{s}@college.fr", contact="Anne Dupont",
                                                 **self.where(place)) for s, place in missing.items()])
        self.structures.update({s: r.record_id or "" for s, r in zip(missing, created)})
        return self.gateway.create([Need(
            reference=p.id, structure=[self.structures[p.structure]], level=p.level, subjects=list(p.subjects),
            slots=list(p.slots), mode=p.mode, status=opt.NeedStatus.OPEN) for p in pupils])


def measured(gateway: AirtableGateway, run: Callable[[], SuggestReport]) -> tuple[SuggestReport, str]:
    before = gateway.requests.copy()
    started = time.perf_counter()
    report = run()
    seconds = time.perf_counter() - started
    used = gateway.requests - before
    return report, (f"{sum(used.values())} Airtable requests ({used['GET']} reads, "
                    f"{used['PATCH'] + used['POST']} writes), {seconds:.1f} s")


def a_day(synthetic: Synthetic, writer: Writer, gateway: AirtableGateway, volunteers: list[Volunteer]) -> None:
    rng, count = synthetic.rng, len(volunteers)
    chosen = rng.choice(count, size=count // 100 + count // 200, replace=False)
    editing, leaving = chosen[:count // 100], chosen[count // 100:]
    gateway.update([Volunteer(record_id=volunteers[n].record_id, slots=list(synthetic.pick(
        [s.value for s in opt.Slot], synthetic.p_slot[False], len(volunteers[n].slots)))) for n in editing]
        + [Volunteer(record_id=volunteers[n].record_id, status=opt.VolunteerStatus.LEFT) for n in leaving])
    writer.volunteers([replace(m, id=f"j{n}", registered=NOW) for n, m in enumerate(synthetic.mentors(count // 200))])
    writer.needs([replace(p, id=f"new{n}", structure=f"day-{p.structure}")
                  for n, p in enumerate(synthetic.pupils(NEEDS // 100))])


def one_need_latency(writer: Writer, synthetic: Synthetic, service: SuggestionService, warm: bool) -> str:
    """Each trial starts with Airtable's one-second window clear, as a lone automation call does."""
    seconds, requests = [], []
    for n, pupil in enumerate(synthetic.pupils(TRIALS)):
        [need] = writer.needs([replace(pupil, id=f"one{warm}{n}")])
        if not warm:
            service._snapshot = None  # a cold instance reads the campaign first
        else:
            service.snapshot()
        time.sleep(1.0)  # the pacer's window, emptied
        before = service.gateway.request_count
        started = time.perf_counter()
        service.suggest_one(need.record_id or "")
        seconds.append(time.perf_counter() - started)
        requests.append(service.gateway.request_count - before)
    return (f"median {statistics.median(seconds) * 1e3:.0f} ms, p90 {sorted(seconds)[int(TRIALS * 0.9)] * 1e3:.0f} ms, "
            f"{statistics.median(requests):.0f} Airtable requests")


def main() -> None:
    with provisioned() as (stack, control):
        synthetic = Synthetic(seed=2021)
        with limit_lifted(control):
            writer = Writer(synthetic, seeding_gateway(stack))
            volunteers = writer.volunteers(synthetic.mentors(VOLUNTEERS))
            writer.needs(synthetic.pupils(NEEDS))
        gateway = bootstrap.gateway()
        service = SuggestionService(gateway, bootstrap.mailer(), bootstrap.links(), clock=lambda: NOW)
        print(f"suggest_mentors against the local stack (Airtable limit on), {VOLUNTEERS:,} signed volunteers × "
              f"{NEEDS:,} needs in {len(writer.structures)} structures:", flush=True)
        report, cost = measured(gateway, service.suggest_all)
        print(f"  every waiting need: {cost}; {report.line()}", flush=True)
        before = {n.record_id: (n.suggested_mentors, n.explanations) for n in gateway.all(Need)}
        with limit_lifted(control):
            a_day(synthetic, writer, gateway, volunteers)
        service.clock = lambda: NOW + dt.timedelta(days=1)
        report, cost = measured(gateway, service.suggest_all)
        rewritten = sum(1 for n in gateway.all(Need) if n.record_id in before
                        and (n.suggested_mentors, n.explanations) != before[n.record_id])
        print(f"  a day later (1 % of volunteers changed slots, 0.5 % left, 0.5 % joined, {NEEDS // 100} new needs): "
              f"{cost}; {rewritten} existing lists rewritten ({rewritten / NEEDS:.1%}); {report.line()}", flush=True)
        writer.gateway = gateway  # trial needs now share the functions' pacing
        print(f"  one new need (the automation), campaign snapshot already read: "
              f"{one_need_latency(writer, synthetic, service, warm=True)}", flush=True)
        print(f"  one new need, snapshot read first (a cold instance): "
              f"{one_need_latency(writer, synthetic, service, warm=False)}", flush=True)


if __name__ == "__main__":
    main()
