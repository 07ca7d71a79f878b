"""`make replay REF=…`: reprocess a Journal entry that ended `Rejeté` or `Erreur`.

    python -m commands.replay <journal record id or response token>
"""

from __future__ import annotations

import sys

from shared import bootstrap
from shared.errors import BinomeError
from shared.intake.replay import ReplayRefused, replay


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print((__doc__ or "").strip(), file=sys.stderr)
        return 2
    try:
        outcome = replay(bootstrap.intake(), argv[0])
    except ReplayRefused as exc:
        print(exc, file=sys.stderr)
        return 1
    except BinomeError as exc:
        print(f"Airtable indisponible : {exc}", file=sys.stderr)
        return 1
    print(f"{outcome.status} : {outcome.detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
