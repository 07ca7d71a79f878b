"""The time binome writes: UTC, to the millisecond, as Airtable keeps it (so that a time read back
equals the time written, and keys derived from it stay the same)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")  # the time people read: dates in emails and pages, « today »


def now() -> dt.datetime:
    moment = dt.datetime.now(dt.timezone.utc)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
