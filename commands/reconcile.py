"""`make reconcile`: the scheduler's backfill, run by hand."""

from __future__ import annotations

import sys

from shared.airtable import AirtableError
from shared.intake.reconcile import reconcile_configured
from shared.typeform_client import TypeformError


def main() -> int:
    try:
        reports = reconcile_configured()
    except (TypeformError, AirtableError) as exc:
        print(exc, file=sys.stderr)
        return 1
    print("\n".join(r.line() for r in reports))
    return 0


if __name__ == "__main__":
    sys.exit(main())
