"""`python -m local.census [var/binome.sqlite3]`: how many records a campaign left in each table of
each base of the local Airtable's store, and the Journal's entries by source and type — the
figures behind the README's « Plusieurs bases » section (run after `make demo`)."""

from __future__ import annotations

import collections
import sys

from emulators.airtable.store import Store
from local.stack import DEFAULT_DB


def census(path: str) -> list[str]:
    store = Store(path)
    lines = []
    for base in store.bases.values():
        total = sum(len(table.records) for table in base.tables)
        lines.append(f"Base {base.id} : {total} enregistrements")
        lines += [f"   {table.name} : {len(table.records)}" for table in base.tables]
        journal = base.table("Journal")
        if journal is not None:
            source, kind = journal.field_by_name_or_id("Source"), journal.field_by_name_or_id("Type")
            counts = collections.Counter(
                (r.cells.get(source.id if source else ""), r.cells.get(kind.id if kind else ""))
                for r in journal.records.values())
            lines += [f"   Journal, {s} / {k} : {n}" for (s, k), n in counts.most_common()]
    return lines


if __name__ == "__main__":
    print("\n".join(census(sys.argv[1] if len(sys.argv) > 1 else str(DEFAULT_DB))))
