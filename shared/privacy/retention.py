"""Who is warned, and whose data is anonymised, for having been inactive too long: pure.

A person's last activity is the latest of what they did: signed up or answered again, consented,
signed their document, met their antenna, and anything that happened on their binômes (proposed,
started, checked in). Anyone with a live binôme is never touched, however old their record.

A month (`notice`) before `period` has passed since their last activity, they are warned once;
the warning is recorded on their record. Their data is anonymised once the period has passed *and*
a month has passed since the warning, so nobody loses their data without a month's notice, even
when the job first runs on an old base. Activity after the warning voids it: the record forgets it
and the clock starts again. People without an address cannot be warned and are anonymised when the
period ends.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Sequence

from dateutil.relativedelta import relativedelta

from schemas.records import CheckIn, Pair, Structure, Volunteer
from shared.clock import PARIS
from shared.pairs import LIVE

Person = Volunteer | Structure


@dataclass(frozen=True)
class RetentionPolicy:
    months: int = 24
    notice_months: int = 1

    def deadline(self, last_activity: dt.datetime) -> dt.datetime:
        return last_activity + relativedelta(months=self.months)

    def warn_from(self, last_activity: dt.datetime) -> dt.datetime:
        return self.deadline(last_activity) - relativedelta(months=self.notice_months)

    def anonymise_from(self, last_activity: dt.datetime, warned_at: dt.datetime | None) -> dt.datetime:
        deadline = self.deadline(last_activity)
        return deadline if warned_at is None else max(deadline, warned_at + relativedelta(months=self.notice_months))


@dataclass(frozen=True)
class Standing:
    person: Person
    last_activity: dt.datetime
    deadline: dt.datetime


@dataclass
class RetentionPlan:
    warn: list[Standing] = field(default_factory=list)
    anonymise: list[Standing] = field(default_factory=list)
    void_warnings: list[Person] = field(default_factory=list)  # warned, then active again
    protected: int = 0  # inactive long enough, but in a live binôme


def moment(day: dt.date) -> dt.datetime:
    """A date people wrote (Paris) as the instant it began."""
    return dt.datetime.combine(day, dt.time(), PARIS).astimezone(dt.timezone.utc)


def last_activity(person: Person, pairs: Sequence[Pair], check_ins: Sequence[CheckIn]) -> dt.datetime | None:
    instants = [person.registered_at, person.last_response_at, person.envelope_signed_at]
    if isinstance(person, Volunteer):
        instants += [person.consent_at, moment(person.first_contact_on) if person.first_contact_on else None]
    for pair in pairs:
        instants += [pair.proposed_at] + [moment(d) for d in (pair.started_on, pair.last_check_in) if d]
    instants += [moment(c.date) for c in check_ins if c.date]
    known = [i for i in instants if i is not None] or ([person.created_time] if person.created_time else [])
    return max(known) if known else None


def plan_retention(people: Sequence[Person], pairs: Sequence[Pair], check_ins: Sequence[CheckIn],
                   now: dt.datetime, policy: RetentionPolicy) -> RetentionPlan:
    by_person: dict[str, list[Pair]] = {}
    for pair in pairs:
        for person_id in [*pair.volunteer, *pair.structure]:
            by_person.setdefault(person_id, []).append(pair)
    by_pair: dict[str, list[CheckIn]] = {}
    for check_in in check_ins:
        for pair_id in check_in.pair:
            by_pair.setdefault(pair_id, []).append(check_in)
    plan = RetentionPlan()
    for person in people:
        theirs = by_person.get(person.record_id or "", [])
        last = last_activity(person, theirs, [c for p in theirs for c in by_pair.get(p.record_id or "", [])])
        if person.anonymised_at is not None or last is None:
            continue
        _place(plan, person, last, any(p.status in LIVE for p in theirs), now, policy)
    return plan


def _place(plan: RetentionPlan, person: Person, last: dt.datetime, live: bool, now: dt.datetime,
           policy: RetentionPolicy) -> None:
    warned = person.retention_warned_at
    if warned is not None and warned < last:
        warned = None  # active again since the warning: it no longer holds
    if now >= policy.warn_from(last):
        if live:
            plan.protected += 1
        elif warned is None and person.email:
            plan.warn.append(Standing(person, last, policy.deadline(last)))
            return  # the new warning replaces any void one
        elif now >= policy.anonymise_from(last, warned):
            plan.anonymise.append(Standing(person, last, policy.deadline(last)))
            return
    if person.retention_warned_at is not None and warned is None:
        plan.void_warnings.append(person)
