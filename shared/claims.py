"""Who does a one-time job — send an email, create an envelope, raise an alert — when several
processes may try at once (two instances on a retried delivery, the webhook and `reconcile`).

A claim is a Journal entry upserted on the job's key: Airtable applies a base's writes one at a
time and creates a record only when none holds the key, so of all the processes that claim a job,
exactly one is told it created the entry. The others learn when it was claimed (Airtable's
`createdTime`), to leave a recent claim to its owner and to treat an old one as an owner that died.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Sequence

from schemas import options as opt
from schemas.records import JournalEntry
from shared.airtable import AirtableGateway

CLAIM_TYPE = "envoi"
# Longer than any attempt lives (function timeout, vendor timeouts): an older claim's owner is gone.
LEASE = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Job:
    key: str
    event: str  # what the Journal shows coordinators
    detail: str = ""
    kind: str = CLAIM_TYPE  # the entry's `Type`


@dataclass(frozen=True)
class Claim:
    job: Job
    owned: bool  # this process created the claim: the job is its to do
    claimed_at: dt.datetime | None

    def abandoned(self, now: dt.datetime) -> bool:
        """Claimed by someone else long enough ago that they can no longer be at it."""
        return not self.owned and (self.claimed_at is None or now - self.claimed_at >= LEASE)


def claim(gateway: AirtableGateway, jobs: Sequence[Job]) -> list[Claim]:
    """Claim every job at once (one request per 10); which are this process's to do."""
    if not jobs:
        return []
    entries = [JournalEntry(external_ref=job.key, source=opt.JournalSource.BINOME, type=job.kind,
                            status=opt.JournalStatus.DONE, event=job.event, detail=job.detail) for job in jobs]
    outcome = gateway.upsert(entries, key="external_ref")
    by_key = {record.external_ref: record for record in outcome.records}
    created = set(outcome.created)
    return [Claim(job, by_key[job.key].record_id in created, by_key[job.key].created_time) for job in jobs]
