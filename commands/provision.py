"""`make provision`: create the tables and fields of `schemas.base` that the base lacks.

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
    try:
        settings = get_settings()
        if settings.is_local:
            prepare_local_base(settings)
        report = provision(AirtableGateway(settings))
    except (BinomeError, requests.RequestException) as exc:
        print(f"Airtable injoignable ou en erreur : {exc}. (En local : lancez `make run` d'abord.)",
              file=sys.stderr)
        return 1
    for line in report.lines():
        print(line)
    return EXIT_DRIFT if report.drift else 0


if __name__ == "__main__":
    sys.exit(main())
