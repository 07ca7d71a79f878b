"""The composition root: builds the library's services from the settings, once per process.

The vendors' accounts (SendGrid, DocuSign, Typeform) are the process's; everything that reads or
writes Airtable is built per base (`base(key)`, see `shared.base_services`), so each base has its own
gateway and budget. The functions without a key are the default base's, for single-base code paths.

Entry points call these on first use (never at import), so a cold start reads the environment
once and later calls reuse the same pacer, sessions and clients. The vendors' adapters are chosen
here: DocuSign authenticates with the JWT grant in production and the stand-in's static token
locally.
"""

from __future__ import annotations

import functools

from schemas.bases import RoutingTable
from shared.airtable import AirtableGateway
from shared.alerts import Alerts
from shared.base_services import BaseServices
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
def mailer() -> SendGridMailer:
    return SendGridMailer(get_settings())


@functools.lru_cache(maxsize=1)
def tokens() -> TokenSource:
    settings = get_settings()
    return StaticToken() if settings.is_local else JwtTokens(settings)


@functools.lru_cache(maxsize=1)
def esign() -> DocuSignESign:
    return DocuSignESign(get_settings(), tokens())


@functools.lru_cache(maxsize=1)
def typeform() -> TypeformClient:
    return TypeformClient(get_settings())


@functools.lru_cache(maxsize=1)
def bases() -> RoutingTable:
    return get_settings().bases


@functools.lru_cache(maxsize=None)
def base(key: str | None = None) -> BaseServices:
    """The services of one base (the default for None), built on first use and kept: each base has
    its own gateway, hence its own pacer and 5 requests/s. A key the table does not know raises
    `RoutingError`."""
    route = bases().get(key)
    if key is not None and route.default:
        return base(None)  # one bundle for the default base, however it is named
    return BaseServices(route, get_settings(), mailer(), tokens(), typeform())


def every_base(key: str | None = None) -> list[BaseServices]:
    """The base named `key`, or every base in turn (the scheduled jobs)."""
    return [base(key)] if key is not None else [base(None if b.default else b.key) for b in bases().bases]


def base_of_link(token: str, purposes: tuple[str, ...]) -> BaseServices:
    """The base a signed link names; the default base for a link that names none or one no longer
    in the table (its records are then not found, and the page says so)."""
    key = base().links.base_of(token, purposes) if bases().several else None
    return base(bases().known(key).key)


# --- the default base (the only one unless `BINOME_BASES` names several) ---------------------

def gateway() -> AirtableGateway:
    return base().gateway


def journal() -> Journal:
    return base().journal


def alerts() -> Alerts:
    return base().alerts


def onboarding() -> OnboardingService:
    return base().onboarding


def intake_queue() -> IntakeQueue:
    return base().intake_queue


def backlog() -> IntakeQueue | None:
    return base().backlog


def intake() -> IntakeService:
    return base().intake


def connect() -> ConnectService:
    return base().connect


def events() -> EventsService:
    return base().events


def links() -> Links:
    return base().links


def daily() -> DailyOnboarding:
    return base().daily


def first_contact() -> FirstContact:
    return base().first_contact


def suggestions() -> SuggestionService:
    return base().suggestions


def choices() -> ChoiceService:
    return base().choices


def proposals() -> Proposals:
    return base().proposals


def follow_up() -> DailyFollowUp:
    return base().follow_up


def eraser() -> Eraser:
    return base().eraser


def retention() -> RetentionJob:
    return base().retention


SERVICES = (logs, mailer, tokens, esign, typeform, bases, base)


def configure(settings: Settings | None) -> Settings | None:
    """Run the process on `settings` (the local runner, tests), or on the environment's (None),
    forgetting every service built on the previous ones, which are returned."""
    previous = use_settings(settings)
    for service in SERVICES:
        service.cache_clear()
    return previous
