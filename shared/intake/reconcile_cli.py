"""`make reconcile`: the scheduler's backfill, run by hand."""

from __future__ import annotations

import sys

from shared import bootstrap
from shared.airtable import AirtableError
from shared.intake.reconcile import reconcile
from shared.journal import Journal
from shared.settings import get_settings
from shared.typeform_client import TypeformClient, TypeformError


def main() -> int:
    service = bootstrap.intake()
    try:
        reports = reconcile(service, TypeformClient(get_settings()), Journal(service.gateway))
    except (TypeformError, AirtableError) as exc:
        print(exc, file=sys.stderr)
        return 1
    print("\n".join(r.line() for r in reports))
    return 0


if __name__ == "__main__":
    sys.exit(main())
