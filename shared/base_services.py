"""Everything that works on one Airtable base, built on that base's settings.

Each base's gateway is built from the settings rebuilt with its base id, and the gateway's pacer
is keyed by endpoint and base id: every base gets its own 5 requests/s, and a busy base never
slows another. With several bases, what binome sends out carries the base's key so that what comes
back finds its base: SendGrid's events (`custom_args`), DocuSign's Connect events (an envelope
custom field), the signed links (a claim), the check-in form (a hidden field).
"""

from __future__ import annotations

import dataclasses
import functools

from schemas.bases import BaseRoute
from shared.airtable import AirtableGateway
from shared.alerts import Alerts
from shared.esign.auth import TokenSource
from shared.esign.docusign import DocuSignESign
from shared.followup.daily import DailyFollowUp
from shared.intake.queue import IntakeQueue
from shared.intake.service import IntakeService
from shared.journal import Journal
from shared.links import Links
from shared.mail.message import Email, Mailer
from shared.matching.choices import ChoiceService
from shared.matching.proposals import Proposals
from shared.matching.suggestions import SuggestionService
from shared.onboarding.connect import ConnectService
from shared.onboarding.daily import DailyOnboarding
from shared.onboarding.events import EventsService
from shared.onboarding.first_contact import FirstContact
from shared.onboarding.service import OnboardingService
from shared.privacy.erasure import Eraser
from shared.privacy.local_files import VAR
from shared.privacy.service import RetentionJob
from shared.settings import Settings
from shared.typeform_client import TypeformClient

BASE_ARG = "binome_base"  # SendGrid custom arg naming the base an email's record is in


class BaseMailer:
    """The process's mailer, every email stamped with its base, so its events come back to it."""

    def __init__(self, mailer: Mailer, key: str):
        self.mailer, self.key = mailer, key

    def send(self, email: Email) -> str:
        return self.mailer.send(dataclasses.replace(email, custom_args={**email.custom_args, BASE_ARG: self.key}))


class BaseServices:
    def __init__(self, route: BaseRoute, settings: Settings, mailer: Mailer, tokens: TokenSource,
                 typeform: TypeformClient):
        self.route = route
        self.key = route.key
        self.settings = settings.for_base(route)
        several = settings.bases.several
        # With a single base nothing is stamped: what goes out stays exactly as it always was.
        self.stamp = route.key if several else ""
        self.mailer: Mailer = BaseMailer(mailer, route.key) if several else mailer
        self.tokens = tokens
        self.typeform = typeform

    @functools.cached_property
    def gateway(self) -> AirtableGateway:
        return AirtableGateway(self.settings)

    @functools.cached_property
    def esign(self) -> DocuSignESign:
        return DocuSignESign(self.settings, self.tokens, base=self.stamp)

    @functools.cached_property
    def journal(self) -> Journal:
        return Journal(self.gateway)

    @functools.cached_property
    def alerts(self) -> Alerts:
        return Alerts(self.gateway, self.mailer, self.settings)

    @functools.cached_property
    def onboarding(self) -> OnboardingService:
        return OnboardingService(self.gateway, self.mailer, self.esign, self.settings, self.alerts)

    @functools.cached_property
    def intake_queue(self) -> IntakeQueue:
        return IntakeQueue(self.settings, base=self.stamp)

    @property
    def backlog(self) -> IntakeQueue | None:
        """The base's queue when there is one: where `reconcile` sends the responses it finds missing."""
        return self.intake_queue if self.settings.BINOME_INTAKE_QUEUE else None

    @functools.cached_property
    def intake(self) -> IntakeService:
        return IntakeService(self.gateway, self.settings, self.onboarding)

    @functools.cached_property
    def connect(self) -> ConnectService:
        return ConnectService(self.gateway, self.alerts)

    @functools.cached_property
    def events(self) -> EventsService:
        return EventsService(self.gateway, self.alerts)

    @functools.cached_property
    def links(self) -> Links:
        return Links(self.settings, base=self.stamp)

    @functools.cached_property
    def daily(self) -> DailyOnboarding:
        return DailyOnboarding(self.gateway, self.mailer, self.esign, self.links, self.alerts)

    @functools.cached_property
    def first_contact(self) -> FirstContact:
        return FirstContact(self.gateway, self.links)

    @functools.cached_property
    def suggestions(self) -> SuggestionService:
        return SuggestionService(self.gateway, self.mailer, self.links)

    @functools.cached_property
    def choices(self) -> ChoiceService:
        return ChoiceService(self.gateway, self.mailer, self.links, self.suggestions)

    @functools.cached_property
    def proposals(self) -> Proposals:
        return Proposals(self.gateway, self.choices)

    @functools.cached_property
    def follow_up(self) -> DailyFollowUp:
        return DailyFollowUp.build(self.gateway, self.mailer, self.alerts, self.settings, base=self.stamp)

    @functools.cached_property
    def eraser(self) -> Eraser:
        # Locally, binome also writes files under var/ (the demo's report); deployed, it writes none.
        return Eraser(self.gateway, self.typeform, self.settings, local_folder=VAR if self.settings.is_local else None)

    @functools.cached_property
    def retention(self) -> RetentionJob:
        return RetentionJob(self.gateway, self.mailer, self.eraser, self.settings)
