"""`make reconcile`: the scheduler's backfill and retries, run by hand, on every base in turn."""

from __future__ import annotations

import sys

from shared import bootstrap
from shared.errors import BinomeError
from shared.intake.reconcile import reconcile
from shared.intake.routing import base_of_delivery
from shared.settings import get_settings
from shared.typeform_client import TypeformClient


def main() -> int:
    try:
        settings = get_settings()
        for base in bootstrap.every_base():
            report = reconcile(base.intake, TypeformClient(settings), settings, backlog=base.backlog,
                               routed=lambda raw: base_of_delivery(raw, settings).key == base.key)
            print("\n".join(([f"Base {base.key} :"] if bootstrap.bases().several else []) + report.lines()))
    except BinomeError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
