"""The Journal: one entry per inbound event (keyed by its external id) and per failure."""

from __future__ import annotations

import datetime as dt
from typing import Iterable

from pyairtable.formulas import EQ, OR, Field

from schemas import options as opt
from schemas.records import JournalEntry
from shared.airtable import AirtableGateway

FINAL = {opt.JournalStatus.DONE.value, opt.JournalStatus.UPDATED.value, opt.JournalStatus.REJECTED.value}
MAX_PAYLOAD_CHARS = 95_000  # Airtable long text holds 100,000 characters
TOKENS_PER_QUERY = 100


class Journal:
    def __init__(self, gateway: AirtableGateway):
        self.gateway = gateway

    def find(self, external_ref: str) -> JournalEntry | None:
        return self.gateway.first(JournalEntry, EQ(Field(JournalEntry.label("external_ref")), external_ref))

    def settled(self, external_refs: Iterable[str]) -> set[str]:
        """Which of these events were already handled for good (a few requests for many refs)."""
        refs, found = list(external_refs), set()
        for start in range(0, len(refs), TOKENS_PER_QUERY):
            chunk = refs[start:start + TOKENS_PER_QUERY]
            formula = OR(*(EQ(Field(JournalEntry.label("external_ref")), ref) for ref in chunk))
            for entry in self.gateway.all(JournalEntry, formula=formula, fields=["external_ref", "status"]):
                if entry.status in FINAL:
                    found.add(entry.external_ref)
        return found

    def record(self, external_ref: str, source: opt.JournalSource, kind: str, status: opt.JournalStatus,
               event: str, detail: str, payload: str = "") -> None:
        """Write the entry for this event, replacing an earlier attempt at the same event."""
        entry = JournalEntry(event=event, source=source, type=kind, external_ref=external_ref, status=status,
                             detail=detail, received_at=dt.datetime.now(dt.timezone.utc),
                             payload=payload[:MAX_PAYLOAD_CHARS])
        self.gateway.upsert([entry], key="external_ref")
