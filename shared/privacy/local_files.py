"""The files binome writes on the machine it runs on (`var/`: the demo's report), scrubbed of the
people erased. The stand-ins' own store (`*.sqlite3`) is left alone: it plays the vendors' side,
whose copies are reached through the vendors' APIs like in production."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from shared.privacy.footprint import Person, pattern
from shared.privacy.scrub import label_of, scrub_text

VAR = Path(__file__).resolve().parent.parent.parent / "var"
VENDOR_STORES = (".sqlite3", ".sqlite3-journal", ".sqlite3-wal", ".sqlite3-shm")


def scrub_files(folder: Path, people: Sequence[Person]) -> list[Path]:
    """Replace each person's identifiers in every text file under `folder`; the files changed."""
    if not folder.is_dir():
        return []
    changed = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(VENDOR_STORES)):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # not a text file of ours
        scrubbed = text
        for person in people:
            scrubbed = scrub_text(scrubbed, pattern(person.identifiers()), label_of(person))
        if scrubbed != text:
            path.write_text(scrubbed, encoding="utf-8")
            changed.append(path)
    return changed
