"""The local stack as the benchmarks against a base use it: Airtable's 5 requests/s limit on, a
provisioned base, the vendors' events unplugged; the limit lifted only while data is seeded."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator

from emulators.server import quiet_request_logs
from local.emulator import EmulatorControl
from local.stack import LocalStack
from shared import bootstrap
from shared.airtable import AirtableGateway
from shared.airtable.pacer import AIRTABLE_REQUESTS_PER_SECOND, RequestPacer
from shared.provision import provision
from shared.settings import isolated_settings


def quiet_logs() -> None:
    """The figures, not a line per request nor one per alert raised."""
    for name in ("shared", "binome.requests"):
        logging.getLogger(name).setLevel(logging.ERROR)


@contextmanager
def provisioned() -> Iterator[tuple[LocalStack, EmulatorControl]]:
    quiet_request_logs()
    quiet_logs()
    with LocalStack(isolated_settings(), time_scale=1e-3) as stack:
        control = EmulatorControl(stack.emulators.url)
        control.ensure_base(stack.settings.AIRTABLE_BASE_ID)
        control.call("POST", "/config", json={"sendgrid_event_url": None, "docusign_connect_url": None})
        provision(bootstrap.gateway())
        yield stack, control


@contextmanager
def limit_lifted(control: EmulatorControl) -> Iterator[None]:
    """Seed without Airtable's limit: what is measured afterwards runs with it."""
    control.airtable_config(rate_limit=None)
    try:
        yield
    finally:
        control.airtable_config(rate_limit=AIRTABLE_REQUESTS_PER_SECOND)


def seeding_gateway(stack: LocalStack) -> AirtableGateway:
    """A gateway that does not pace itself, for seeding while the limit is lifted."""
    return AirtableGateway(stack.settings, pacer=RequestPacer(limit=10_000))
