"""The composition root: builds the library's services from the settings, once per process.

Entry points call these on first use (never at import), so a cold start reads the environment
once and later calls reuse the same pacer, sessions and clients.
"""

from __future__ import annotations

import functools

from shared.airtable import AirtableGateway
from shared.intake.service import IntakeService
from shared.settings import Settings, get_settings, use_settings


@functools.lru_cache(maxsize=1)
def gateway() -> AirtableGateway:
    return AirtableGateway(get_settings())


@functools.lru_cache(maxsize=1)
def intake() -> IntakeService:
    return IntakeService(gateway(), get_settings())


def configure(settings: Settings | None) -> Settings | None:
    """Run the process on `settings` (the local runner, tests), or on the environment's (None),
    forgetting every service built on the previous ones, which are returned."""
    previous = use_settings(settings)
    gateway.cache_clear()
    intake.cache_clear()
    return previous
