"""Alerts to coordinators, raised once per cause whatever the retries: the Journal holds one entry
per alert, keyed `alerte:<cause>`, which coordinators see in their « Alertes » view."""

from __future__ import annotations

import logging

from schemas import options as opt
from shared.journal import Journal

log = logging.getLogger(__name__)
ALERT_PREFIX = "alerte:"
ALERT_TYPE = "alerte"


class Alerts:
    def __init__(self, journal: Journal):
        self.journal = journal

    def raise_once(self, cause: str, title: str, detail: str) -> bool:
        """Raise the alert for `cause` unless it was raised before; True if raised now."""
        reference = ALERT_PREFIX + cause
        if self.journal.find(reference) is not None:
            return False
        self.journal.record(reference, opt.JournalSource.BINOME, ALERT_TYPE, opt.JournalStatus.DONE, title, detail)
        log.warning("alert raised: %s", cause)
        return True
