"""`make retention`: the scheduler's retention run, by hand — warn, anonymise, report."""

from __future__ import annotations

import sys

from shared import bootstrap
from shared.errors import BinomeError


def main() -> int:
    try:
        report = bootstrap.retention().run()
    except BinomeError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(report.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
