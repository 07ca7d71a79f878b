"""`make erase EMAIL=…`: erase one address from binome (right to erasure) — the base, the Journal's
payloads, the Typeform responses and the local files — and say what was kept, and why.

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
        report = bootstrap.eraser().erase_email(argv[0])
    except BinomeError as exc:
        print(f"Effacement interrompu, relancez la même commande : {exc}", file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
