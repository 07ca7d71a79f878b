"""`make retention`: the scheduler's retention run, by hand — warn, anonymise, report — on every base."""

from __future__ import annotations

import sys

from shared import bootstrap
from shared.errors import BinomeError


def main() -> int:
    try:
        for base in bootstrap.every_base():
            prefix = f"Base {base.key} : " if bootstrap.bases().several else ""
            print(prefix + base.retention.run().line())
    except BinomeError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
