"""The durable queue between the Typeform webhook and the base, on Cloud Tasks.

With `BINOME_INTAKE_QUEUE` set, the webhook verifies a delivery, puts it in the base's queue and
answers at once; the queue dispatches each task to `intake_writer` no faster than the base's budget
allows and one at a time (the queue's `maxConcurrentDispatches` is 1, so however many instances
run, one writer works on a base), retrying until the delivery is written. A task is named after the
response, so the queue itself refuses a repeated delivery for the hour after the first ran; after
that the Journal does, as without the queue. Cloud Tasks rather than Pub/Sub: a push queue needs no
process kept running to pull, its rate and concurrency are the queue's own settings, and its named
tasks deduplicate.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import logging

import google.auth
import google.auth.credentials
import google.oauth2.credentials
from google.api_core import exceptions
from google.api_core.client_options import ClientOptions
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports.rest import CloudTasksRestTransport

from shared import jsonbody
from shared.errors import BinomeError
from shared.settings import Settings
from shared.signatures import AUTOMATION_HEADER

log = logging.getLogger(__name__)
BASE_HEADER = "X-Binome-Base"
TIMEOUT = 10.0  # seconds: the webhook must answer well within Typeform's 30
DELETING_AT_ONCE = 8  # the client's connection pool holds 10


class QueueUnavailable(BinomeError):
    """The queue did not take the delivery: nothing was queued, the sender must retry."""


def task_id(raw: bytes) -> str:
    """The task's id: the response's token, hashed as Cloud Tasks recommends (ids that share a
    prefix or follow each other slow a queue down); the body's own hash when it has no token."""
    try:
        token = jsonbody.loads(raw)["form_response"]["token"]
    except (ValueError, KeyError, TypeError):
        token = None
    seed = token.encode() if isinstance(token, str) and token else raw
    return "typeform-" + hashlib.sha256(seed).hexdigest()[:40]


class IntakeQueue:
    def __init__(self, settings: Settings, base: str = ""):
        self.base = base  # with several bases, each task names its base for the writer
        self.queue = settings.BINOME_INTAKE_QUEUE
        self.target = f"{settings.PUBLIC_URL}/intake_writer/"
        self.secret = settings.AUTOMATION_SECRET
        self.invoker = settings.BINOME_TASKS_INVOKER
        credentials: google.auth.credentials.Credentials
        if settings.is_local:  # the stand-in takes any bearer token
            credentials = google.oauth2.credentials.Credentials(token="local")  # type: ignore[no-untyped-call]
            options = ClientOptions(api_endpoint=settings.BINOME_CLOUD_TASKS_ENDPOINT)
        else:
            credentials, _ = google.auth.default()
            options = ClientOptions(api_endpoint=settings.BINOME_CLOUD_TASKS_ENDPOINT or None)
        self.client = tasks_v2.CloudTasksClient(credentials=credentials, transport="rest", client_options=options)
        transport = self.client.transport
        if isinstance(transport, CloudTasksRestTransport):
            # One known endpoint: no proxy nor .netrc to look up in the environment on every call
            # (requests scans the whole environment each time: a tenth of a webhook's answer).
            transport._session.trust_env = False

    def put(self, raw: bytes) -> bool:
        """Queue one verified delivery; False when the queue already has (or just had) it."""
        # The secret rides in its own header: `Authorization` carries Google's token when the writer
        # is private (deployed, Cloud Tasks signs in as `BINOME_TASKS_INVOKER`).
        request = tasks_v2.HttpRequest(url=self.target, http_method=tasks_v2.HttpMethod.POST, body=raw,
                                       headers={"Content-Type": "application/json", AUTOMATION_HEADER: self.secret,
                                                **({BASE_HEADER: self.base} if self.base else {})})
        if self.invoker:
            request.oidc_token = tasks_v2.OidcToken(service_account_email=self.invoker, audience=self.target)
        task = tasks_v2.Task(name=f"{self.queue}/tasks/{task_id(raw)}", http_request=request)
        try:
            self.client.create_task(parent=self.queue, task=task, timeout=TIMEOUT)
        except exceptions.Conflict:  # ALREADY_EXISTS: queued, or ran within the hour
            return False
        except (exceptions.GoogleAPICallError, exceptions.RetryError, OSError) as exc:
            raise QueueUnavailable(f"file Cloud Tasks indisponible : {type(exc).__name__}") from exc
        return True

    def others(self, own: str, limit: int) -> list[tuple[str, bytes]]:
        """Up to `limit` queued deliveries besides the task being run (`own`, its id), oldest
        first: the writer takes them along so they are written 10 records a request. The queue
        dispatches one task at a time, so no other writer holds them."""
        try:
            listed = self.client.list_tasks(request={"parent": self.queue, "response_view": tasks_v2.Task.View.FULL,
                                                     "page_size": limit + 1}, timeout=TIMEOUT)
            page = next(iter(listed.pages), None)
        except (exceptions.GoogleAPICallError, exceptions.RetryError, OSError):
            return []  # its own task still goes; the others come in their turn
        tasks = list(page.tasks) if page is not None else []
        return [(t.name, t.http_request.body) for t in tasks if not t.name.endswith("/" + own)][:limit]

    def forget(self, names: list[str]) -> None:
        """Remove the tasks written along with another, several calls at a time (the next task
        waits for this run to answer); one left behind is dispatched later and found already
        handled."""
        if names:
            with concurrent.futures.ThreadPoolExecutor(min(len(names), DELETING_AT_ONCE)) as pool:
                list(pool.map(self._delete, names))

    def _delete(self, name: str) -> None:
        try:
            self.client.delete_task(name=name, timeout=TIMEOUT)
        except exceptions.NotFound:
            pass
        except (exceptions.GoogleAPICallError, exceptions.RetryError, OSError) as exc:
            log.warning("task left in the queue: %s", type(exc).__name__)
