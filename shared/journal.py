"""The Journal: one entry per inbound event (keyed by its external id) and per failure."""

from __future__ import annotations

import datetime as dt
from typing import Iterable, Sequence

from pyairtable.formulas import AND, EQ, OR, Field

from schemas import options as opt
from schemas.records import JournalEntry
from shared.airtable import AirtableGateway
from shared.observability.context import note_failure_journaled

FINAL = {opt.JournalStatus.DONE.value, opt.JournalStatus.UPDATED.value, opt.JournalStatus.REJECTED.value}
MAX_PAYLOAD_CHARS = 95_000  # Airtable long text holds 100,000 characters
REFS_PER_QUERY = 100
FAILURE_TYPE = "Échec"


def _ref(value: str) -> EQ:
    return EQ(Field(JournalEntry.label("external_ref")), value)


class Journal:
    def __init__(self, gateway: AirtableGateway):
        self.gateway = gateway

    def find(self, external_ref: str) -> JournalEntry | None:
        return self.gateway.first(JournalEntry, _ref(external_ref))

    def statuses(self, external_refs: Iterable[str]) -> dict[str, str]:
        """The status of each of these events that has an entry (a few requests for many refs)."""
        refs, found = list(external_refs), {}
        for start in range(0, len(refs), REFS_PER_QUERY):
            formula = OR(*(_ref(ref) for ref in refs[start:start + REFS_PER_QUERY]))
            for entry in self.gateway.all(JournalEntry, formula=formula, fields=["external_ref", "status"]):
                found[entry.external_ref] = entry.status or ""
        return found

    def in_error(self, source: opt.JournalSource) -> list[JournalEntry]:
        """Entries of `source` that ended « Erreur », to be retried."""
        formula = AND(EQ(Field(JournalEntry.label("status")), opt.JournalStatus.ERROR.value),
                      EQ(Field(JournalEntry.label("source")), source.value))
        return self.gateway.all(JournalEntry, formula=formula)

    @staticmethod
    def entry(external_ref: str, source: opt.JournalSource, kind: str, status: opt.JournalStatus, event: str,
              detail: str, payload: str = "") -> JournalEntry:
        return JournalEntry(event=event, source=source, type=kind, external_ref=external_ref, status=status,
                            detail=detail, received_at=dt.datetime.now(dt.timezone.utc),
                            payload=payload[:MAX_PAYLOAD_CHARS])

    def record(self, external_ref: str, source: opt.JournalSource, kind: str, status: opt.JournalStatus,
               event: str, detail: str, payload: str = "", attempts: int | None = None) -> None:
        """Write the entry for this event, replacing an earlier attempt at the same event."""
        entry = self.entry(external_ref, source, kind, status, event, detail, payload)
        if attempts is not None:
            entry.attempts = attempts
        self.gateway.upsert([entry], key="external_ref")
        if status == opt.JournalStatus.ERROR:
            note_failure_journaled()

    def record_all(self, entries: Sequence[JournalEntry]) -> None:
        """Write several entries (see `entry`) at once, 10 a request, each replacing an earlier
        attempt at its event."""
        self.gateway.upsert(list(entries), key="external_ref")

    def failure(self, function: str, request_id: str, what: str, trace_id: str | None = None) -> None:
        """A request that failed on our side, for coordinators: which function, when, and the trace
        that finds its log lines."""
        where = f" Trace : {trace_id}." if trace_id else ""
        self.record(f"échec:{function}:{request_id}", opt.JournalSource.BINOME, FAILURE_TYPE,
                    opt.JournalStatus.ERROR, f"Échec de {function}",
                    f"La fonction {function} a échoué ({what}) ; l'expéditeur peut réessayer. "
                    f"Le détail est dans les journaux de la fonction.{where}")
