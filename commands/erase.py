"""`make erase EMAIL=…`: erase one address from binome (right to erasure) — the base, the Journal's
payloads, the Typeform responses and the local files — and say what was kept, and why. With
several bases, in every base (a person may have signed up in more than one).

    python -m commands.erase <email>
"""

from __future__ import annotations

import sys

from shared import bootstrap
from shared.errors import BinomeError


def main(argv: list[str]) -> int:
    if len(argv) != 1 or "@" not in argv[0]:
        print((__doc__ or "").strip(), file=sys.stderr)
        return 2
    try:
        for base in bootstrap.every_base():
            report = base.eraser.erase_email(argv[0])
            if bootstrap.bases().several:
                print(f"Base {base.key} :")
            print("\n".join(report.lines()))
    except BinomeError as exc:
        print(f"Effacement interrompu, relancez la même commande : {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
