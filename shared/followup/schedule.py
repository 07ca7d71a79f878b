"""When a binôme is asked how it is going: the first check-in two weeks after it became « Actif »,
then every month on the same day (the 31st falls back to the month's last day, and comes back
after). Dates are days in Paris, whatever the server's zone or the time of the daily run, so a
change of summer time moves nothing. Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta

from shared.clock import PARIS


@dataclass(frozen=True)
class Rhythm:
    first_after: dt.timedelta = dt.timedelta(days=14)
    every_months: int = 1
    remind_after: dt.timedelta = dt.timedelta(days=7)  # one reminder when a check-in goes unanswered
    first_session_within: dt.timedelta = dt.timedelta(days=21)  # else: an alert
    missed_for_alert: int = 2  # check-ins missed in a row (nobody answered)

    def due(self, started_on: dt.date, n: int) -> dt.date:
        """The n-th check-in date (0: the first). Counted from the first, not from the previous
        one, so a short month does not pull every later date forward."""
        first = started_on + self.first_after
        due: dt.date = first + relativedelta(months=n * self.every_months)
        return due

    def latest(self, started_on: dt.date, today: dt.date) -> tuple[int, dt.date] | None:
        """The last check-in due on or before `today` (its rank and date), None before the first.
        After days without a run, only this one is sent: a catch-up, never a burst."""
        if today < self.due(started_on, 0):
            return None
        months = (today.year - started_on.year) * 12 + today.month - started_on.month
        n = max(months // self.every_months, 0)
        while n > 0 and self.due(started_on, n) > today:
            n -= 1
        while self.due(started_on, n + 1) <= today:
            n += 1
        return n, self.due(started_on, n)

    def next(self, started_on: dt.date, today: dt.date) -> dt.date:
        """The next check-in after `today` (`Prochain suivi`)."""
        latest = self.latest(started_on, today)
        return self.due(started_on, 0 if latest is None else latest[0] + 1)


def paris_day(now: dt.datetime) -> dt.date:
    return now.astimezone(PARIS).date()
