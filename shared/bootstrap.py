"""The composition root: builds the library's services from the settings, once per process.

Entry points call these on first use (never at import), so a cold start reads the environment
once and later calls reuse the same pacer, sessions and clients. The vendors' adapters are chosen
here: DocuSign authenticates with the JWT grant in production and the stand-in's static token
locally.
"""

from __future__ import annotations

import functools

from shared.airtable import AirtableGateway
from shared.alerts import Alerts
from shared.esign.auth import JwtTokens, StaticToken, TokenSource
from shared.esign.docusign import DocuSignESign
from shared.intake.queue import IntakeQueue
from shared.intake.service import IntakeService
from shared.journal import Journal
from shared.links import Links
from shared.mail.sendgrid import SendGridMailer
from shared.onboarding.connect import ConnectService
from shared.onboarding.daily import DailyOnboarding
from shared.onboarding.events import EventsService
from shared.onboarding.first_contact import FirstContact
from shared.matching.choices import ChoiceService
from shared.followup.daily import DailyFollowUp
from shared.matching.proposals import Proposals
from shared.matching.suggestions import SuggestionService
from shared.observability.logs import install as install_logs
from shared.onboarding.service import OnboardingService
from shared.privacy.erasure import Eraser
from shared.privacy.local_files import VAR
from shared.privacy.service import RetentionJob
from shared.typeform_client import TypeformClient
from shared.settings import Settings, get_settings, use_settings


@functools.lru_cache(maxsize=1)
def logs() -> None:
    """The process's logs: redacted, on stdout, as Cloud Logging's JSON lines unless the settings
    ask a local run for text."""
    settings = get_settings()
    install_logs(json_lines=settings.BINOME_LOG_FORMAT == "json" or not settings.is_local,
                 project=settings.GOOGLE_CLOUD_PROJECT)


@functools.lru_cache(maxsize=1)
def gateway() -> AirtableGateway:
    return AirtableGateway(get_settings())


@functools.lru_cache(maxsize=1)
def mailer() -> SendGridMailer:
    return SendGridMailer(get_settings())


@functools.lru_cache(maxsize=1)
def esign() -> DocuSignESign:
    settings = get_settings()
    tokens: TokenSource = StaticToken() if settings.is_local else JwtTokens(settings)
    return DocuSignESign(settings, tokens)


@functools.lru_cache(maxsize=1)
def journal() -> Journal:
    return Journal(gateway())


@functools.lru_cache(maxsize=1)
def alerts() -> Alerts:
    return Alerts(gateway(), mailer(), get_settings())


@functools.lru_cache(maxsize=1)
def onboarding() -> OnboardingService:
    return OnboardingService(gateway(), mailer(), esign(), get_settings(), alerts())


@functools.lru_cache(maxsize=1)
def intake_queue() -> IntakeQueue:
    return IntakeQueue(get_settings())


def backlog() -> IntakeQueue | None:
    """The base's queue when there is one: where `reconcile` sends the responses it finds missing."""
    return intake_queue() if get_settings().BINOME_INTAKE_QUEUE else None


@functools.lru_cache(maxsize=1)
def intake() -> IntakeService:
    return IntakeService(gateway(), get_settings(), onboarding())


@functools.lru_cache(maxsize=1)
def connect() -> ConnectService:
    return ConnectService(gateway(), alerts())


@functools.lru_cache(maxsize=1)
def events() -> EventsService:
    return EventsService(gateway(), alerts())


@functools.lru_cache(maxsize=1)
def links() -> Links:
    return Links(get_settings())


@functools.lru_cache(maxsize=1)
def daily() -> DailyOnboarding:
    return DailyOnboarding(gateway(), mailer(), esign(), links(), alerts())


@functools.lru_cache(maxsize=1)
def first_contact() -> FirstContact:
    return FirstContact(gateway(), links())


@functools.lru_cache(maxsize=1)
def suggestions() -> SuggestionService:
    return SuggestionService(gateway(), mailer(), links())


@functools.lru_cache(maxsize=1)
def choices() -> ChoiceService:
    return ChoiceService(gateway(), mailer(), links(), suggestions())


@functools.lru_cache(maxsize=1)
def proposals() -> Proposals:
    return Proposals(gateway(), choices())


@functools.lru_cache(maxsize=1)
def follow_up() -> DailyFollowUp:
    return DailyFollowUp.build(gateway(), mailer(), alerts(), get_settings())


@functools.lru_cache(maxsize=1)
def typeform() -> TypeformClient:
    return TypeformClient(get_settings())


@functools.lru_cache(maxsize=1)
def eraser() -> Eraser:
    settings = get_settings()
    # Locally, binome also writes files under var/ (the demo's report); deployed, it writes none.
    return Eraser(gateway(), typeform(), settings, local_folder=VAR if settings.is_local else None)


@functools.lru_cache(maxsize=1)
def retention() -> RetentionJob:
    return RetentionJob(gateway(), mailer(), eraser(), get_settings())


SERVICES = (logs, gateway, journal, mailer, esign, alerts, onboarding, intake, connect, events, links, daily,
            first_contact, suggestions, choices, proposals, follow_up, typeform, eraser, retention, intake_queue)


def configure(settings: Settings | None) -> Settings | None:
    """Run the process on `settings` (the local runner, tests), or on the environment's (None),
    forgetting every service built on the previous ones, which are returned."""
    previous = use_settings(settings)
    for service in SERVICES:
        service.cache_clear()
    return previous
