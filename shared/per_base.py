"""Scheduled jobs on several bases: each base in turn, with its own services and budget, or the one
the call names (`{"base": "idf"}`).

One base failing (Airtable down, say) does not stop the others; the call still fails afterwards so
the scheduler tries again, and every job is idempotent, so the bases already done change nothing
the second time.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from shared import bootstrap
from shared.base_services import BaseServices

log = logging.getLogger(__name__)


def run_per_base(body: dict[str, Any], run: Callable[[BaseServices], dict[str, Any]]) -> dict[str, Any]:
    """With a single base (or one named), that base's report as it is; with several, each base's
    report under its key."""
    named = body.get("base")
    chosen = bootstrap.every_base(str(named) if named else None)
    if len(chosen) == 1:
        return run(chosen[0])
    reports: dict[str, Any] = {}
    failure: Exception | None = None
    for services in chosen:
        try:
            reports[services.key] = run(services)
        except Exception as exc:  # noqa: BLE001 - raised again once the other bases had their turn
            log.warning("job failed on base %s: %s", services.key, type(exc).__name__)
            failure = failure or exc
    if failure is not None:
        raise failure
    return {"statut": "Traité", "bases": reports}
