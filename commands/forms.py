"""`make forms`: publish the forms of `schemas/forms/` and register the webhook on each."""

from __future__ import annotations

import sys

import requests

from shared.errors import BinomeError
from shared.publish_forms import FormMaker, publish
from shared.settings import Settings, get_settings
from shared.typeform_client import TypeformClient


def local_form_maker(settings: Settings) -> FormMaker:
    from local.emulator import EmulatorControl

    return EmulatorControl(settings.emulator_url).create_form


def main() -> int:
    try:
        settings = get_settings()
        maker = local_form_maker(settings) if settings.is_local else None
        lines = publish(settings, TypeformClient(settings), maker)
    except (BinomeError, requests.RequestException) as exc:
        print(f"{exc} (En local : lancez `make run` d'abord.)", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
