"""One typed settings object, read lazily from the environment (and a `.env` file).

In `local` mode every value has a default that points at the emulators and uses development
secrets, so a fresh clone runs offline. In `production` nothing may be left to a default:
`load_settings()` refuses to start and names every variable that is missing or still holds a
development value.
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from schemas.bases import BaseRoute, RoutingTable
from schemas.bases import parse
from shared.errors import BinomeError

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}

# Development-only P-256 key pair of the local SendGrid emulator; the emulator keeps the private
# half. Production must configure the public key SendGrid shows for the account.
DEV_SENDGRID_EVENT_PUBLIC_KEY = (
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEBhKJQ/QiY6qXk+ZsFSHbK8b/ayEWK+vT"
    "wV7ZTfP1Kmv1YXizFV75ywojxrlzFPSHEt7zNssgOl+CLvuppleWfg=="
)


# Secrets that verify what comes in (webhooks, scheduler calls, links): an empty one would let anyone
# sign with an empty key, so none may be empty, in any environment.
VERIFYING_SECRETS = ("TYPEFORM_SECRET", "DOCUSIGN_CONNECT_KEY", "SENDGRID_EVENT_PUBLIC_KEY", "AUTOMATION_SECRET",
                     "LINK_SECRET")
PORT_SETTINGS = ("BINOME_EMULATOR_PORT", "BINOME_FUNCTIONS_PORT")


parse_bases = functools.lru_cache(maxsize=8)(parse)  # tables are frozen; each request routes by one


class ConfigurationError(BinomeError):
    """The settings cannot be used in the current environment."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=True)

    BINOME_ENV: Literal["local", "production"] = "local"
    BINOME_FUNCTIONS_PORT: int = 8080
    BINOME_EMULATOR_PORT: int = 8787
    # Requests per second this process allows itself per Airtable base. Airtable's limit is 5 on
    # every plan; only the local demo, with the emulator's limit lifted, goes faster.
    BINOME_AIRTABLE_RATE: float = Field(5.0, gt=0)
    # Seconds Airtable refuses a base after a 429; the process holds its requests that long.
    BINOME_AIRTABLE_PENALTY: float = Field(30.0, ge=0)
    # Where every process keeps the base's budget (`redis://…`, Memorystore), so together they stay
    # under the rate above. Empty, each process paces itself alone: right for one process (locally),
    # not for a deployment, where production requires it.
    BINOME_AIRTABLE_BUDGET_URL: str = ""
    # Whose requests go first when the budget is short: a person waiting (pages, vendors' webhooks)
    # or background work (the queue's writer, the scheduled jobs), which yields to them.
    BINOME_AIRTABLE_PRIORITY: Literal["people", "background"] = "people"
    # Logs are Cloud Logging's JSON lines; a local run may ask for plain text (production never does).
    BINOME_LOG_FORMAT: Literal["json", "text"] = "json"
    # The project whose Cloud Trace the logs link to (Cloud Run sets none by itself: deploy sets it).
    # Without it the logs still carry the trace id, unlinked.
    GOOGLE_CLOUD_PROJECT: str = ""

    AIRTABLE_TOKEN: str = "patLocalDevelopmentToken"
    AIRTABLE_BASE_ID: str = Field("appBinomeLocal001", pattern=r"^app[A-Za-z0-9]{14}$")
    AIRTABLE_ENDPOINT_URL: str = ""
    # The routing table of several bases (`schemas.bases`): which base holds which départements.
    # Empty: the one base of AIRTABLE_BASE_ID holds everyone.
    BINOME_BASES: str = ""

    TYPEFORM_SECRET: str = "dev-typeform-secret"
    TYPEFORM_TOKEN: str = "dev-typeform-token"
    TYPEFORM_API_URL: str = ""
    TYPEFORM_FORM_VOLUNTEER: str = "benevoles"
    TYPEFORM_FORM_STRUCTURE: str = "structures"
    TYPEFORM_FORM_CHECKIN: str = "suivis"
    # Seconds the Responses API may lag behind the webhook; `reconcile` lists again that far back.
    BINOME_TYPEFORM_LAG: float = Field(600.0, ge=0)
    # The base's Cloud Tasks queue (projects/…/locations/…/queues/…): when set, the Typeform webhook
    # queues each delivery and `intake_writer` writes it at the base's pace; empty, it writes at once.
    BINOME_INTAKE_QUEUE: str = ""
    BINOME_CLOUD_TASKS_ENDPOINT: str = ""  # Google's by default; the stand-in's locally
    BINOME_TASKS_INVOKER: str = ""  # the service account Cloud Tasks signs in as to call the private writer
    # Months of inactivity after which a person's data is anonymised (warned a month before).
    BINOME_RETENTION_MONTHS: int = Field(24, ge=2)

    SENDGRID_API_KEY: str = "SG.local-development-key"
    SENDGRID_HOST: str = ""
    SENDGRID_FROM: str = "binome@example.org"
    SENDGRID_EVENT_PUBLIC_KEY: str = DEV_SENDGRID_EVENT_PUBLIC_KEY
    # Where alerts go (a declined agreement, a bounced address, twin records): the coordinators.
    COORDINATION_EMAIL: str = "coordination@example.org"

    DOCUSIGN_HOST: str = ""
    DOCUSIGN_ACCOUNT_ID: str = "00000000-0000-4000-8000-00000000b1a0"
    DOCUSIGN_INTEGRATION_KEY: str = "local-integration-key"
    DOCUSIGN_USER_ID: str = "00000000-0000-4000-8000-00000000u5e7"
    DOCUSIGN_PRIVATE_KEY: str = "local-no-private-key"
    DOCUSIGN_OAUTH_HOST: str = "account-d.docusign.com"
    DOCUSIGN_TEMPLATE_VOLUNTEER: str = "convention-benevole"
    DOCUSIGN_TEMPLATE_CHARTER: str = "charte-structure"
    # Connect HMAC keys; several, comma-separated, while one is being rotated out.
    DOCUSIGN_CONNECT_KEY: str = "dev-docusign-connect-key"

    AUTOMATION_SECRET: str = "dev-automation-secret"
    LINK_SECRET: str = "dev-link-secret"
    PUBLIC_URL: str = ""

    def rebuilt(self, **changes: Any) -> "Settings":
        """The same settings with `changes`, validated again, so values derived from the ports
        (the local endpoints) follow them. Only values that were set explicitly are carried over."""
        carried = {name: getattr(self, name) for name in self.model_fields_set}
        return type(self)(**{**carried, **changes})

    @property
    def bases(self) -> RoutingTable:
        """The routing table: the configured one, or the single base of `AIRTABLE_BASE_ID`."""
        return parse_bases(self.BINOME_BASES) if self.BINOME_BASES.strip() else RoutingTable.single(self.AIRTABLE_BASE_ID)

    def for_base(self, route: BaseRoute) -> "Settings":
        """The settings of one base's services: its base id (so its gateway gets a pacer, hence a
        budget, of its own) and, with several bases, its own intake queue (`<queue>-<key>`)."""
        changes: dict[str, Any] = {}
        if route.base_id != self.AIRTABLE_BASE_ID:
            changes["AIRTABLE_BASE_ID"] = route.base_id
        if self.bases.several and self.BINOME_INTAKE_QUEUE:
            changes["BINOME_INTAKE_QUEUE"] = f"{self.BINOME_INTAKE_QUEUE}-{route.key}"
        return self.rebuilt(**changes) if changes else self

    @property
    def emulator_url(self) -> str:
        return f"http://127.0.0.1:{self.BINOME_EMULATOR_PORT}"

    @property
    def form_ids(self) -> dict[str, str]:
        """The configured Typeform form id of each kind of form."""
        return {"volunteer": self.TYPEFORM_FORM_VOLUNTEER, "structure": self.TYPEFORM_FORM_STRUCTURE,
                "checkin": self.TYPEFORM_FORM_CHECKIN}

    @property
    def form_display_url(self) -> str:
        """Where people open a form: Typeform's public address, or the stand-in's."""
        return f"{self.TYPEFORM_API_URL}/to" if self.is_local else "https://form.typeform.com/to"

    @property
    def connect_keys(self) -> list[str]:
        return [key.strip() for key in self.DOCUSIGN_CONNECT_KEY.split(",") if key.strip()]

    @property
    def is_local(self) -> bool:
        return self.BINOME_ENV == "local"

    @field_validator("BINOME_BASES")
    @classmethod
    def _routing_table_is_usable(cls, text: str) -> str:
        if text.strip():
            parse_bases(text)  # refused here, at load and naming the variable, rather than on a request
        return text

    @model_validator(mode="after")
    def _point_local_endpoints_at_the_emulators(self) -> "Settings":
        # Endpoint defaults depend on the emulator port, so they are filled in here rather than
        # as static defaults; production leaves them empty and the check below names them.
        if self.is_local:
            local = {
                "AIRTABLE_ENDPOINT_URL": f"{self.emulator_url}/airtable",
                "TYPEFORM_API_URL": f"{self.emulator_url}/typeform",
                "SENDGRID_HOST": f"{self.emulator_url}/sendgrid",
                "DOCUSIGN_HOST": f"{self.emulator_url}/docusign/restapi",
                "PUBLIC_URL": f"http://127.0.0.1:{self.BINOME_FUNCTIONS_PORT}",
                "BINOME_CLOUD_TASKS_ENDPOINT": f"{self.emulator_url}/cloudtasks",
            }
            for name, value in local.items():
                if not getattr(self, name):
                    object.__setattr__(self, name, value)
        return self


class GivenValuesOnly(BaseSettings):
    """Settings made only of the values given and the defaults: no environment, no `.env`."""

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


class IsolatedSettings(GivenValuesOnly, Settings):
    """The functions' settings made only of the values given and the defaults.

    Tests build theirs this way, so a shell that exports another stack's settings (or production
    values) cannot point them anywhere but the emulators they start themselves.
    """


# Optional everywhere: only the links between log lines and traces depend on it.
OPTIONAL_IN_PRODUCTION = ("GOOGLE_CLOUD_PROJECT",)
# Every variable production must set explicitly (ports and BINOME_ENV have safe defaults).
PRODUCTION_REQUIRED = tuple(
    name for name in Settings.model_fields if not name.startswith("BINOME_") and name not in OPTIONAL_IN_PRODUCTION
) + ("BINOME_AIRTABLE_BUDGET_URL",)


def production_problems(settings: Settings) -> list[str]:
    """Name every variable that is missing or still holds a development value."""
    defaults = Settings.model_construct()  # static defaults, without the local endpoint filling
    problems = []
    for name in PRODUCTION_REQUIRED:
        value = getattr(settings, name)
        if name not in settings.model_fields_set or not value:
            problems.append(f"{name} (manquante)")
        elif value == getattr(defaults, name):
            problems.append(f"{name} (valeur de développement)")
        elif _is_loopback_url(value):
            problems.append(f"{name} (adresse locale {value})")
    return problems


def _budget_problems(url: str) -> list[str]:
    """Deployed functions run in many processes: without the shared budget, each would pace itself
    alone and together they would exceed the base's limit."""
    if url and urlsplit(url).scheme not in ("redis", "rediss"):
        return ["BINOME_AIRTABLE_BUDGET_URL (le budget partagé des instances : une adresse redis:// ou rediss://)"]
    return []


def _is_loopback_url(value: str) -> bool:
    if "://" not in value:
        return False
    return (urlsplit(value).hostname or "") in LOOPBACK_HOSTS


def checked(settings: Settings) -> Settings:
    """Refuse settings that cannot be used safely: an empty verifying secret anywhere, and in
    production anything missing, left at its development value or pointing at this machine."""
    empty = [f"{name} (vide)" for name in VERIFYING_SECRETS if not getattr(settings, name).strip()]
    if empty:
        raise ConfigurationError("Secret vide refusé : " + ", ".join(empty))
    if settings.BINOME_ENV == "production":
        problems = production_problems(settings)
        if settings.BINOME_AIRTABLE_RATE > 5:
            problems.append("BINOME_AIRTABLE_RATE (au plus 5 : la limite d'Airtable)")
        if settings.BINOME_AIRTABLE_PENALTY < 30:
            problems.append("BINOME_AIRTABLE_PENALTY (au moins 30 : la pénalité d'Airtable après un 429)")
        problems += _budget_problems(settings.BINOME_AIRTABLE_BUDGET_URL)
        if problems:
            raise ConfigurationError(
                "BINOME_ENV=production refuse de démarrer ; à définir : " + ", ".join(problems)
            )
    return settings


def load_settings(**overrides: Any) -> Settings:
    """Read the settings from the environment (and `.env`) and check them."""
    return checked(Settings(**overrides))


def isolated_settings(**values: Any) -> Settings:
    """Settings from `values` and the defaults only, checked like any others."""
    return checked(IsolatedSettings(**values))


_current: Settings | None = None
_current_lock = threading.Lock()


def get_settings() -> Settings:
    """The process-wide settings: those given to `use_settings`, else read from the environment
    on first use (never at import time)."""
    global _current
    with _current_lock:
        if _current is None:
            _current = load_settings()
        return _current


def use_settings(settings: Settings | None) -> Settings | None:
    """Make `settings` the process's settings (None: read the environment again on next use);
    returns the ones they replace, so a caller can put them back."""
    global _current
    with _current_lock:
        previous, _current = _current, settings
        return previous
