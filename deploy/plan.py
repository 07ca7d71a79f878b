"""The deploy as an ordered list of steps, computed from the settings alone (no I/O).

Order: the functions may read the secrets; the base gets the tables and fields the new code needs;
the functions are deployed; the scheduler may call the private ones; the scheduler jobs; then each
vendor is pointed at the deployed functions. Every step is idempotent, so a deploy that stopped
half-way is finished by running it again.
"""

from __future__ import annotations

import json
from typing import Any

from deploy.catalogue import (BUDGET_CONNECTOR, BUDGET_CONNECTOR_FLAGS, BUDGET_REDIS, BUDGET_REDIS_FLAGS, FUNCTIONS,
                              INTAKE_QUEUE, INTAKE_QUEUE_FLAGS, JOBS, NUMBA_CACHE_DIR, SECRETS, FunctionSpec, JobSpec)
from deploy.settings import DeploySettings
from deploy.steps import ApiCall, Command, CreateOrUpdate, Step, function_url, secret
from shared.settings import PRODUCTION_REQUIRED, Settings
from shared.signatures import AUTOMATION_HEADER

RUNTIME = "python312"
WEBHOOK_TAG = "binome"  # the tag `make forms` registers too: both update the same webhook
CONNECT_NAME = "binome"  # the Connect configuration is found again by this name
CONNECT_EVENTS = ("envelope-sent", "envelope-delivered", "envelope-completed", "envelope-declined",
                  "envelope-voided", "recipient-completed", "recipient-declined")
SENDGRID_EVENTS = ("processed", "deferred", "delivered", "bounce", "dropped", "spam_report")
# Tuning the functions read; carried over with whatever value the deploy's environment gives.
TUNING = ("BINOME_AIRTABLE_RATE", "BINOME_AIRTABLE_PENALTY", "BINOME_TYPEFORM_LAG", "BINOME_RETENTION_MONTHS")


def build(deploy: DeploySettings, app: Settings) -> list[Step]:
    return [*secret_access(deploy), provision(), *intake_queues(deploy, app), *budget_store(deploy),
            *(deploy_function(deploy, app, f) for f in FUNCTIONS),
            *scheduler_invokers(deploy),
            *(scheduler_job(deploy, job, base) for job in JOBS for base in job_bases(app)),
            *typeform_webhooks(app), docusign_connect(app), *sendgrid_event_webhook(app)]


def secret_name(deploy: DeploySettings, variable: str) -> str:
    return deploy.SECRET_PREFIX + variable.lower().replace("_", "-")


def where(deploy: DeploySettings) -> tuple[str, ...]:
    return (f"--project={deploy.GCP_PROJECT}",)


def secret_access(deploy: DeploySettings) -> list[Step]:
    return [Command(("gcloud", "secrets", "add-iam-policy-binding", secret_name(deploy, name), *where(deploy),
                     f"--member=serviceAccount:{deploy.GCP_SERVICE_ACCOUNT}",
                     "--role=roles/secretmanager.secretAccessor", "--condition=None", "--quiet"),
                    f"les fonctions peuvent lire {name} ({secret_name(deploy, name)})") for name in SECRETS]


def provision() -> Step:
    return Command(("python", "-m", "commands.provision"),
                   "make provision : les tables et champs dont le nouveau code a besoin, ajoutés à la base (rien n'est retiré)")


def queue_path(deploy: DeploySettings) -> str:
    return f"projects/{deploy.GCP_PROJECT}/locations/{deploy.GCP_REGION}/queues/{INTAKE_QUEUE}"


def queue_names(app: Settings) -> list[str]:
    """One queue per base: `airtable-intake` for a single base; with several, `airtable-intake-<key>`,
    the names the functions derive from `BINOME_INTAKE_QUEUE` (`Settings.for_base`)."""
    table = app.bases
    return [f"{INTAKE_QUEUE}-{key}" for key in table.keys] if table.several else [INTAKE_QUEUE]


def intake_queues(deploy: DeploySettings, app: Settings) -> list[Step]:
    """Each base's queue between the Typeform webhook and the writer, at that base's pace; the
    functions' account may add tasks to them and sign them with its own identity, so the writer can
    stay private."""
    place = (*where(deploy), f"--location={deploy.GCP_REGION}")
    account = f"serviceAccount:{deploy.GCP_SERVICE_ACCOUNT}"
    steps: list[Step] = []
    for name in queue_names(app):
        steps += [
            CreateOrUpdate(probe=("gcloud", "tasks", "queues", "describe", name, *place),
                           create=("gcloud", "tasks", "queues", "create", name, *place, *INTAKE_QUEUE_FLAGS),
                           update=("gcloud", "tasks", "queues", "update", name, *place, *INTAKE_QUEUE_FLAGS),
                           why=f"file {name} : les réponses Typeform, écrites au rythme de la base"),
            Command(("gcloud", "tasks", "queues", "add-iam-policy-binding", name, *place, f"--member={account}",
                     "--role=roles/cloudtasks.enqueuer"), f"les fonctions peuvent ajouter des tâches à {name}")]
    return [
        *steps,
        Command(("gcloud", "iam", "service-accounts", "add-iam-policy-binding", deploy.GCP_SERVICE_ACCOUNT,
                 *where(deploy), f"--member={account}", "--role=roles/iam.serviceAccountUser"),
                "les tâches de la file sont signées par le compte des fonctions"),
    ]


def budget_store(deploy: DeploySettings) -> list[Step]:
    """The Redis every function keeps the base's budget in, and the connector they reach it by.
    Both are made once; their size is changed by hand (deploy/README.md), never by a deploy."""
    place = (*where(deploy), f"--region={deploy.GCP_REGION}")
    connector = ("gcloud", "compute", "networks", "vpc-access", "connectors")
    redis = ("gcloud", "redis", "instances")
    return [
        CreateOrUpdate(probe=(*connector, "describe", BUDGET_CONNECTOR, *place),
                       create=(*connector, "create", BUDGET_CONNECTOR, *place, *BUDGET_CONNECTOR_FLAGS),
                       update=(*connector, "describe", BUDGET_CONNECTOR, *place),
                       why=f"connecteur {BUDGET_CONNECTOR} : les fonctions joignent le budget Airtable partagé"),
        CreateOrUpdate(probe=(*redis, "describe", BUDGET_REDIS, *place),
                       create=(*redis, "create", BUDGET_REDIS, *place, *BUDGET_REDIS_FLAGS),
                       update=(*redis, "describe", BUDGET_REDIS, *place),
                       why=f"Redis {BUDGET_REDIS} : le budget de 5 requêtes/s de la base, partagé par toutes les "
                           "instances (son adresse avec son mot de passe : le secret BINOME_AIRTABLE_BUDGET_URL)"),
    ]


def deploy_function(deploy: DeploySettings, app: Settings, function: FunctionSpec) -> Step:
    exposure = "--allow-unauthenticated" if function.public else "--no-allow-unauthenticated"
    return Command((
        "gcloud", "functions", "deploy", function.name, "--gen2", f"--runtime={RUNTIME}", *where(deploy),
        f"--region={deploy.GCP_REGION}", "--source=.", f"--entry-point={function.name}", "--trigger-http",
        exposure, f"--service-account={deploy.GCP_SERVICE_ACCOUNT}", f"--timeout={function.timeout_s}s",
        f"--memory={function.memory}", f"--cpu={function.cpu}", f"--max-instances={max_instances(app, function)}",
        f"--concurrency={function.concurrency}",
        f"--vpc-connector={BUDGET_CONNECTOR}", "--egress-settings=private-ranges-only",
        "--set-env-vars=" + joined(environment(app) | queue_environment(deploy) | routing_environment(app)
                                   | {"BINOME_AIRTABLE_PRIORITY": function.priority}),
        "--set-secrets=" + joined(secret_refs(deploy)), "--quiet",
    ), f"{function.name} : {'publique' if function.public else 'privée'}, appelée par {function.caller}")


def max_instances(app: Settings, function: FunctionSpec) -> int:
    """The catalogue's cap; with several bases, a scheduled function may run every base's job at
    once (one instance each, each base on its own budget) instead of the jobs turning each other away."""
    scheduled = any(job.function == function.name for job in JOBS)
    return max(function.max_instances, len(app.bases.bases)) if scheduled and app.bases.several else function.max_instances


def environment(app: Settings) -> dict[str, str]:
    """Every non-secret setting the functions need, production switched on."""
    plain = {name: str(getattr(app, name)) for name in PRODUCTION_REQUIRED if name not in SECRETS}
    tuning = {name: str(getattr(app, name)) for name in TUNING}
    return {"BINOME_ENV": "production", **plain, **tuning, "NUMBA_CACHE_DIR": NUMBA_CACHE_DIR}


def queue_environment(deploy: DeploySettings) -> dict[str, str]:
    """The webhook queues its deliveries; the tasks sign in as the functions' account."""
    return {"BINOME_INTAKE_QUEUE": queue_path(deploy), "BINOME_TASKS_INVOKER": deploy.GCP_SERVICE_ACCOUNT}


def routing_environment(app: Settings) -> dict[str, str]:
    """The routing table, when binome runs on several bases (checked when the settings were read)."""
    return {"BINOME_BASES": app.BINOME_BASES} if app.bases.several else {}


def secret_refs(deploy: DeploySettings) -> dict[str, str]:
    return {name: f"{secret_name(deploy, name)}:latest" for name in SECRETS}


def joined(pairs: dict[str, str]) -> str:
    """`KEY=VALUE,…` for gcloud; when a value holds a comma, gcloud's `^D^` form picks another
    delimiter (a sender's name or a list may hold one)."""
    items = [f"{key}={value}" for key, value in pairs.items()]
    text = "".join(items)
    if "," not in text:
        return ",".join(items)
    delimiter = next(mark for mark in "|;#~" if mark not in text)
    return f"^{delimiter}^" + delimiter.join(items)


def scheduler_invokers(deploy: DeploySettings) -> list[Step]:
    """Who may call each private function: the scheduler its jobs, the queue's tasks the writer."""
    jobs = {job.function for job in JOBS}
    return [Command(("gcloud", "functions", "add-invoker-policy-binding", function.name, *where(deploy),
                     f"--region={deploy.GCP_REGION}",
                     f"--member=serviceAccount:{deploy.scheduler_account if function.name in jobs else deploy.GCP_SERVICE_ACCOUNT}"),
                    f"{'le planificateur' if function.name in jobs else 'la file de la base'} peut appeler la "
                    f"fonction privée {function.name}")
            for function in FUNCTIONS if not function.public]


def job_bases(app: Settings) -> list[str | None]:
    """A job per base with several bases (each runs on its own budget, in parallel, within its own
    deadline); one job for the single base."""
    return list(app.bases.keys) if app.bases.several else [None]


def scheduler_job(deploy: DeploySettings, job: JobSpec, base: str | None = None) -> Step:
    """The job POSTs `{}` (or `{"base": key}`, one job per base) with a Google OIDC token (what a
    private function's IAM checks) and the automation secret in its own header (what the function
    itself checks, public or not)."""
    name = f"binome-{job.function.replace('_', '-')}" + (f"-{base}" if base else "")
    body = json.dumps({"base": base}) if base else "{}"
    place = (*where(deploy), f"--location={deploy.GCP_REGION}")
    url = function_url(job.function)
    common = (f"--schedule={deploy.schedule_of(job.function)}", f"--time-zone={deploy.SCHEDULER_TIME_ZONE}",
              f"--uri={url}", "--http-method=POST", f"--message-body={body}",
              f"--oidc-service-account-email={deploy.scheduler_account}", f"--oidc-token-audience={url}",
              f"--attempt-deadline={job.attempt_deadline_s}s", f"--max-retry-attempts={job.retries}",
              "--min-backoff=600s")
    headers = f"Content-Type=application/json,{AUTOMATION_HEADER}={secret('AUTOMATION_SECRET')}"
    return CreateOrUpdate(
        probe=("gcloud", "scheduler", "jobs", "describe", name, *place),
        create=("gcloud", "scheduler", "jobs", "create", "http", name, *place, *common, f"--headers={headers}"),
        update=("gcloud", "scheduler", "jobs", "update", "http", name, *place, *common,
                f"--update-headers={headers}"),
        why=f"tâche planifiée {name} → {job.function} ({deploy.schedule_of(job.function)}, "
            f"{deploy.SCHEDULER_TIME_ZONE})")


def public_url(app: Settings, function: str) -> str:
    return f"{app.PUBLIC_URL.rstrip('/')}/{function}/"


def typeform_webhooks(app: Settings) -> list[Step]:
    body = {"url": public_url(app, "typeform_webhook"), "enabled": True, "secret": secret("TYPEFORM_SECRET"),
            "verify_ssl": True, "event_types": {"form_response": True}}
    return [ApiCall("typeform_webhook", "PUT", f"{app.TYPEFORM_API_URL.rstrip('/')}/forms/{form_id}/webhooks/"
                    f"{WEBHOOK_TAG}", body, f"le formulaire Typeform {form_id} ({kind}) livre à typeform_webhook (webhook « {WEBHOOK_TAG} »)",
                    params={"form_id": form_id, "tag": WEBHOOK_TAG})
            for kind, form_id in app.form_ids.items()]


def docusign_connect(app: Settings) -> Step:
    body: dict[str, Any] = {
        "name": CONNECT_NAME, "configurationType": "custom", "urlToPublishTo": public_url(app, "docusign_connect"),
        "allUsers": "true", "allowEnvelopePublish": "true", "enableLog": "true", "requireAcknowledgment": "true",
        "includeHMAC": "true", "deliveryMode": "SIM", "events": list(CONNECT_EVENTS),
        "eventData": {"version": "restv2.1", "format": "json", "includeData": ["custom_fields"]},
    }
    return ApiCall("docusign_connect", "POST ou PUT (retrouvée par son nom)",
                   f"{app.DOCUSIGN_HOST.rstrip('/')}/v2.1/accounts/{app.DOCUSIGN_ACCOUNT_ID}/connect", body,
                   f"la configuration DocuSign Connect « {CONNECT_NAME} » livre à docusign_connect (les clés HMAC "
                   "se créent dans l'administration DocuSign : deploy/README.md)")


def sendgrid_event_webhook(app: Settings) -> list[Step]:
    host = app.SENDGRID_HOST.rstrip("/")
    settings_body: dict[str, Any] = {"enabled": True, "url": public_url(app, "sendgrid_events"),
                                     **{event: True for event in SENDGRID_EVENTS}}
    return [ApiCall("sendgrid_event_webhook", "PATCH", f"{host}/v3/user/webhooks/event/settings", settings_body,
                    "l'Event Webhook de SendGrid livre à sendgrid_events"),
            ApiCall("sendgrid_signed_webhook", "PATCH", f"{host}/v3/user/webhooks/event/settings/signed",
                    {"enabled": True}, "SendGrid signe ses événements ; sa clé publique doit être SENDGRID_EVENT_PUBLIC_KEY")]
