"""`make reconcile`: the scheduler's backfill and retries, run by hand."""

from __future__ import annotations

import sys

from shared import bootstrap
from shared.errors import BinomeError
from shared.intake.reconcile import reconcile
from shared.settings import get_settings
from shared.typeform_client import TypeformClient


def main() -> int:
    try:
        settings = get_settings()
        report = reconcile(bootstrap.intake(), TypeformClient(settings), settings, backlog=bootstrap.backlog())
    except BinomeError as exc:
        print(exc, file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
