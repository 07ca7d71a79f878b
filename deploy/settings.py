"""What the deploy needs beyond the functions' own settings: where to deploy (GCP project, region,
service accounts) and when the scheduler calls (time zone, schedules).

These never reach the functions, so they live here rather than in `shared/settings.py`. The
functions' settings are read too, as production: a deploy of development values would start
functions that refuse to run, so it is refused before anything changes.
"""

from __future__ import annotations

from typing import Any

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.errors import BinomeError
from shared.settings import VERIFYING_SECRETS, GivenValuesOnly, IsolatedSettings, Settings, production_problems


class DeployRefused(BinomeError):
    """The settings do not allow a deploy; the message names every variable to fix."""


class DeploySettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=True)

    GCP_PROJECT: str = ""
    GCP_REGION: str = ""
    # Identity the functions run as: it reads the secrets, nothing else.
    GCP_SERVICE_ACCOUNT: str = ""
    # Identity the scheduler signs its OIDC tokens with (the functions' one when empty).
    GCP_SCHEDULER_SERVICE_ACCOUNT: str = ""
    SCHEDULER_TIME_ZONE: str = "Europe/Paris"
    SCHEDULE_SUGGEST_MENTORS: str = "0 8-20 * * *"
    SCHEDULE_FOLLOW_UP: str = "0 7 * * *"
    SCHEDULE_RECONCILE: str = "*/15 * * * *"
    SCHEDULE_RETENTION: str = "30 3 * * *"
    # Secret Manager names are this prefix and the variable in kebab case (binome-airtable-token).
    SECRET_PREFIX: str = "binome-"
    DRY_RUN: bool = False

    @field_validator("DRY_RUN", mode="before")
    @classmethod
    def _empty_means_no(cls, value: Any) -> Any:
        return False if value == "" else value

    @property
    def scheduler_account(self) -> str:
        return self.GCP_SCHEDULER_SERVICE_ACCOUNT or self.GCP_SERVICE_ACCOUNT

    def schedule_of(self, function: str) -> str:
        value: str = getattr(self, f"SCHEDULE_{function.upper()}")
        return value


class IsolatedDeploySettings(GivenValuesOnly, DeploySettings):
    """Deploy settings made only of the values given: tests use them, whatever the shell exports."""


REQUIRED = ("GCP_PROJECT", "GCP_REGION", "GCP_SERVICE_ACCOUNT")
# The scheduler sends the automation secret in a header list that gcloud splits on commas and `=`.
HEADER_UNSAFE = (",", "=")


def deploy_problems(deploy: DeploySettings, app: Settings) -> list[str]:
    """Name every variable that keeps this deploy from being safe, in the functions' wording."""
    problems = [f"{name} (manquante)" for name in REQUIRED if not getattr(deploy, name).strip()]
    for name in ("GCP_SERVICE_ACCOUNT", "GCP_SCHEDULER_SERVICE_ACCOUNT"):
        value = getattr(deploy, name)
        if value and "@" not in value:
            problems.append(f"{name} (adresse de compte de service attendue : nom@projet.iam.gserviceaccount.com)")
    if app.BINOME_ENV != "production":
        problems.append("BINOME_ENV (doit valoir production)")
    else:
        problems += production_problems(app)
    problems += [f"{name} (vide)" for name in VERIFYING_SECRETS if not getattr(app, name).strip()]
    if any(mark in app.AUTOMATION_SECRET for mark in HEADER_UNSAFE):
        problems.append("AUTOMATION_SECRET (sans virgule ni « = » : il voyage dans un en-tête du planificateur)")
    return problems


def checked(deploy: DeploySettings, app: Settings) -> tuple[DeploySettings, Settings]:
    problems = deploy_problems(deploy, app)
    if problems:
        raise DeployRefused("make deploy refuse de démarrer ; à définir : " + ", ".join(problems))
    return deploy, app


def load() -> tuple[DeploySettings, Settings]:
    """Both settings from the environment (and `.env`), refused unless a production deploy is safe."""
    return checked(DeploySettings(), Settings())


def isolated(deploy: dict[str, Any], app: dict[str, Any]) -> tuple[DeploySettings, Settings]:
    """Both settings from these values only, checked like `load()`'s."""
    return checked(IsolatedDeploySettings(**deploy), IsolatedSettings(**app))
