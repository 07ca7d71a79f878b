"""The composition root: builds the library's services from the settings, once per process.

Entry points call these on first use (never at import), so a cold start reads the environment
once and later calls reuse the same pacer, sessions and clients.
"""

from __future__ import annotations

import functools

from shared.airtable import AirtableGateway
from shared.intake.service import IntakeService
from shared.settings import get_settings


@functools.lru_cache(maxsize=1)
def gateway() -> AirtableGateway:
    return AirtableGateway(get_settings())


@functools.lru_cache(maxsize=1)
def intake() -> IntakeService:
    return IntakeService(gateway(), get_settings())


def reset() -> None:
    """Forget built services (tests that change settings between cases)."""
    get_settings.cache_clear()
    gateway.cache_clear()
    intake.cache_clear()
