"""The whole base read once, for the jobs that must see every place a person appears.

Finding a person everywhere means looking at every text of every table (a coordinator may have
typed a name into any of them), so these jobs read each table in full, 100 records a request,
rather than guess where to look. They are rare (a request, a daily batch), so the cost is paid
seldom, and one read serves every person handled in the same run.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.records import AirtableRecord, Antenna, CheckIn, JournalEntry, Need, Pair, Structure, Volunteer
from shared.airtable import AirtableGateway


@dataclass
class Snapshot:
    volunteers: list[Volunteer]
    structures: list[Structure]
    needs: list[Need]
    pairs: list[Pair]
    check_ins: list[CheckIn]
    antennas: list[Antenna]
    journal: list[JournalEntry]

    def tables(self) -> list[list[AirtableRecord]]:
        return [list(self.volunteers), list(self.structures), list(self.needs), list(self.pairs),
                list(self.check_ins), list(self.antennas), list(self.journal)]


def read_snapshot(gateway: AirtableGateway) -> Snapshot:
    return Snapshot(gateway.all(Volunteer), gateway.all(Structure), gateway.all(Need), gateway.all(Pair),
                    gateway.all(CheckIn), gateway.all(Antenna), gateway.all(JournalEntry))
