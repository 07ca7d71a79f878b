"""Alerts to coordinators, raised once per cause whatever the retries: the Journal holds one entry
per alert (`alerte:<cause>`, type « alerte », coordinators' « Alertes » view), claimed like any
one-time job, and its claimant emails the coordinators."""

from __future__ import annotations

import logging

from schemas import options as opt
from shared.airtable import AirtableGateway
from shared.claims import Job, claim
from shared.journal import Journal
from shared.mail.message import MailError, Mailer
from shared.onboarding.content import alert_email
from shared.settings import Settings

log = logging.getLogger(__name__)
ALERT_PREFIX = "alerte:"
ALERT_TYPE = "alerte"


class Alerts:
    def __init__(self, gateway: AirtableGateway, mailer: Mailer, settings: Settings):
        self.gateway = gateway
        self.journal = Journal(gateway)
        self.mailer = mailer
        self.settings = settings

    def raise_once(self, cause: str, title: str, detail: str, record_url: str = "") -> bool:
        """Raise the alert for `cause` unless it was raised before; True if raised now."""
        return self.raise_all([(cause, title, detail, record_url)])[0]

    def raise_all(self, alerts: list[tuple[str, str, str, str]]) -> list[bool]:
        """Several alerts (cause, title, detail, record url) claimed together, 10 a request."""
        claims = claim(self.gateway, [Job(ALERT_PREFIX + cause, title, detail, kind=ALERT_TYPE)
                                      for cause, title, detail, _ in alerts])
        for (cause, title, detail, record_url), alert in zip(alerts, claims):
            if alert.owned:
                self._email(cause, title, detail, record_url)
        return [alert.owned for alert in claims]

    def _email(self, cause: str, title: str, detail: str, record_url: str) -> None:
        log.warning("alert raised: %s", cause)
        try:
            self.mailer.send(alert_email(self.settings, title, detail, record_url))
        except MailError as exc:
            # The alert stays in the Journal, where coordinators look; say the email did not go.
            self.journal.record(ALERT_PREFIX + cause, opt.JournalSource.BINOME, ALERT_TYPE, opt.JournalStatus.DONE,
                                title, f"{detail} (Email aux coordinateurs non envoyé : {exc}.)")
