"""Each Cloud Function as deployed: who calls it, whether it is public, how long its caller waits.

A function's `--timeout` is at most what its caller waits: past that the caller has given up and
will retry (vendors) or try again later (people, the scheduler), so more time only burns an
instance. Where two callers differ, the scheduler's deadline wins and the other is noted.

Every instance of every function draws on the base's one budget of 5 requests per second, kept in
a Redis (Memorystore) they all reach through a VPC connector (`shared.airtable.budget`): more
instances add no requests per second, so `max_instances` only bounds cost and the Redis's
connections. Above the cap Cloud Run queues briefly, then answers 429, which every vendor retries
(Typeform every 2–3 minutes for hours). `priority` says whose requests go first when the budget is
short: a person or vendor waiting on the line, before background work.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    caller: str
    public: bool
    timeout_s: int
    max_instances: int
    priority: str = "people"  # BINOME_AIRTABLE_PRIORITY
    # Requests an instance takes at once (Cloud Run's default for functions is 1). Only the webhook,
    # which verifies and queues, takes more: a broadcast's burst is answered by a few instances.
    concurrency: int = 1
    memory: str = "1Gi"  # every function imports the whole library (numpy, numba, OR-Tools) at start
    cpu: str = "1"


@dataclass(frozen=True)
class JobSpec:
    """A Cloud Scheduler job calling one function with `{}`."""

    function: str
    attempt_deadline_s: int
    retries: int  # 0 where the next run comes soon anyway


FUNCTIONS: tuple[FunctionSpec, ...] = (
    # Typeform waits 30 s for a 2xx. The webhook only verifies and queues (milliseconds, no Airtable
    # request): 10 instances of 16 requests each answer a broadcast's burst at once.
    FunctionSpec("typeform_webhook", "Typeform (webhook signé HMAC)", True, 30, 10, concurrency=16),
    # DocuSign's listener timeout is not documented in vendor-apis.md (commonly quoted: 100 s).
    FunctionSpec("docusign_connect", "DocuSign Connect (signé HMAC)", True, 60, 2),
    # SendGrid gives an Event Webhook delivery about 10 s, then retries for 24 h.
    FunctionSpec("sendgrid_events", "SendGrid Event Webhook (signé ECDSA)", True, 10, 2),
    # People's browsers wait longer; 60 s covers one Airtable 429 penalty (30 s) and the work.
    FunctionSpec("choose_mentor", "navigateur d'une structure ou d'un mentor (lien signé)", True, 60, 3),
    FunctionSpec("first_contact", "navigateur d'une antenne (lien signé)", True, 60, 2),
    # Airtable automations (one need, ~12 s fetch) and the scheduler (all needs): public, since an
    # automation cannot get a Google token; the scheduler's deadline sets the timeout. The engine
    # compiles numba kernels and holds the base's index: more memory and CPU.
    FunctionSpec("suggest_mentors", "automatisation Airtable et planificateur", True, 900, 2, "background",
                 memory="4Gi", cpu="2"),
    # Airtable automations (replay, resend) and the scheduler (backfill every 15 minutes).
    FunctionSpec("reconcile", "automatisation Airtable et planificateur", True, 600, 2, "background"),
    # Only the scheduler calls these: private, invoked with the scheduler's OIDC token.
    FunctionSpec("follow_up", "planificateur (quotidien)", False, 1800, 1, "background"),
    FunctionSpec("retention", "planificateur (quotidien)", False, 900, 1, "background"),
    # Only the base's queue calls it (Cloud Tasks' dispatch deadline is 10 minutes by default),
    # one task at a time: one instance is all the base's budget allows anyway.
    FunctionSpec("intake_writer", "la file Cloud Tasks de la base", False, 600, 1, "background"),
)

# The base's intake queue: its dispatch rate is the base's budget (5 requests/s; a sign-up takes
# several, the writer's own pacing does the rest), one task at a time, retried until written.
INTAKE_QUEUE = "airtable-intake"
INTAKE_QUEUE_FLAGS = ("--max-dispatches-per-second=5", "--max-concurrent-dispatches=1", "--max-attempts=-1",
                      "--min-backoff=1s", "--max-backoff=300s")

JOBS: tuple[JobSpec, ...] = (
    JobSpec("suggest_mentors", 900, 0),
    JobSpec("follow_up", 1800, 2),
    JobSpec("reconcile", 600, 0),
    JobSpec("retention", 900, 2),
)

# The base's shared budget: a small Redis on the project's network, reached by the functions through
# a Serverless VPC Access connector (only private addresses go through it; vendors stay direct).
# AUTH on: its URL, password included, is the secret BINOME_AIRTABLE_BUDGET_URL.
BUDGET_NETWORK = "default"
BUDGET_CONNECTOR = "binome-budget"
BUDGET_CONNECTOR_FLAGS = (f"--network={BUDGET_NETWORK}", "--range=10.8.0.0/28", "--min-instances=2",
                          "--max-instances=3", "--machine-type=e2-micro")
BUDGET_REDIS = "binome-budget"
BUDGET_REDIS_FLAGS = ("--size=1", "--tier=basic", "--redis-version=redis_7_2", "--enable-auth",
                      f"--network={BUDGET_NETWORK}")

# Values of §3.3 that are secrets: they reach the functions from Secret Manager, never as plain
# environment variables, and appear in the plan only by name.
SECRETS: tuple[str, ...] = ("AIRTABLE_TOKEN", "TYPEFORM_SECRET", "TYPEFORM_TOKEN", "SENDGRID_API_KEY",
                            "DOCUSIGN_PRIVATE_KEY", "DOCUSIGN_CONNECT_KEY", "AUTOMATION_SECRET", "LINK_SECRET",
                            "BINOME_AIRTABLE_BUDGET_URL")

# Read-only source tree on Cloud Functions: numba writes its compiled kernels here instead.
NUMBA_CACHE_DIR = "/tmp/numba"


def spec(name: str) -> FunctionSpec:
    return next(function for function in FUNCTIONS if function.name == name)

