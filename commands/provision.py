"""`make provision`: create the tables and fields of `schemas.base` that the base lacks — in every
base of the routing table (`BINOME_BASES`), or the one of `AIRTABLE_BASE_ID`.

Exit codes: 0 done (or nothing to do), 1 the base could not be reached, 2 drift left for a person.
"""

from __future__ import annotations

import sys

import requests

from shared.airtable import AirtableGateway
from shared.errors import BinomeError
from shared.provision import provision
from shared.settings import Settings, get_settings

EXIT_DRIFT = 2


def prepare_local_base(settings: Settings) -> None:
    """Locally, the base must first exist in the local Airtable (Airtable itself makes bases)."""
    from local.emulator import EmulatorControl

    if EmulatorControl(settings.emulator_url).ensure_base(settings.AIRTABLE_BASE_ID):
        print(f"Base locale {settings.AIRTABLE_BASE_ID} créée dans l'émulateur.")


def main() -> int:
    drift = False
    try:
        settings = get_settings()
        for route in settings.bases.bases:
            base = settings.for_base(route)
            if settings.bases.several:
                print(f"Base {route.key} ({route.base_id}) :")
            if settings.is_local:
                prepare_local_base(base)
            report = provision(AirtableGateway(base))
            for line in report.lines():
                print(line)
            drift = drift or bool(report.drift)
    except (BinomeError, requests.RequestException) as exc:
        print(f"Airtable injoignable ou en erreur : {exc}. (En local : lancez `make run` d'abord.)",
              file=sys.stderr)
        return 1
    return EXIT_DRIFT if drift else 0


if __name__ == "__main__":
    sys.exit(main())
