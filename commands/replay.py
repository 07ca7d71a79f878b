"""`make replay REF=…`: reprocess a Journal entry that ended `Rejeté` or `Erreur`.

    python -m commands.replay <journal record id or response token> [base]

With several bases, the entry is in the Journal of the base named (the default base without one).
"""

from __future__ import annotations

import sys

from schemas.bases import RoutingError
from shared import bootstrap
from shared.errors import BinomeError
from shared.intake.replay import ReplayRefused, replay


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        print((__doc__ or "").strip(), file=sys.stderr)
        return 2
    try:
        outcome = replay(bootstrap.base(argv[1] if len(argv) == 2 else None).intake, argv[0])
    except (ReplayRefused, RoutingError) as exc:
        print(exc, file=sys.stderr)
        return 1
    except BinomeError as exc:
        print(f"Airtable indisponible : {exc}", file=sys.stderr)
        return 1
    print(f"{outcome.status} : {outcome.detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
