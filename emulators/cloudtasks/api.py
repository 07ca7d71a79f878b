"""The local Cloud Tasks: the part of the v2 REST API binome uses, and the dispatching behind it.

Queues: create, get, pause and resume (rate limits, retry configuration). Tasks: create, get, list (BASIC or FULL
view: only FULL carries the body), delete. A task given a name is refused with ALREADY_EXISTS while
a task of that name is queued, and for an hour after it ran or was deleted — the queue itself
refuses a duplicate. HTTP tasks are dispatched to their URL with their headers and body (plus
Cloud Tasks' `X-CloudTasks-*` headers) no faster than the queue's `maxDispatchesPerSecond`, never
more than `maxConcurrentDispatches` at once, and retried with the queue's backoff (scaled like
every delay of the stand-ins) until a 2xx; then the task is gone. Errors come in Google's JSON
shape: `{"error": {"code", "message", "status"}}`.
"""

from __future__ import annotations

import base64
import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import requests
from flask import Blueprint, Response, request

from emulators.faults import FaultBoard
from emulators.http import apply_fault, bearer_token, json_response

NAME_RESERVED_FOR = 3600.0  # seconds: "can't be created for ~1 hour after ... deleted or executed"
DISPATCH_TIMEOUT = 600.0  # an HTTP task's default dispatch deadline: 10 minutes
# The Google client asks for integer enums (`$alt=json;enum-encoding=int`); others send names.
METHODS = {1: "POST", 2: "GET", 3: "HEAD", 4: "PUT", 5: "DELETE", 6: "PATCH", 7: "OPTIONS"}
FULL_VIEW = ("FULL", "2", 2)
DEFAULTS = {"maxDispatchesPerSecond": 500.0, "maxBurstSize": 100, "maxConcurrentDispatches": 1000,
            "minBackoff": 0.1, "maxBackoff": 3600.0, "maxDoublings": 16, "maxAttempts": 100}


def google_error(code: int, status: str, message: str) -> Response:
    return json_response({"error": {"code": code, "message": message, "status": status}}, code)


def rfc3339(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).isoformat().replace("+00:00", "Z")


def seconds(value: Any, default: float) -> float:
    """A protobuf Duration as JSON (« 0.100s ») in seconds."""
    if value in (None, ""):
        return default
    return float(str(value).rstrip("s"))


@dataclass
class Queue:
    name: str
    per_second: float
    burst: int
    concurrent: int
    min_backoff: float
    max_backoff: float
    doublings: int
    max_attempts: int
    tasks: dict[str, "Task"] = field(default_factory=dict)
    paused: bool = False
    running: int = 0
    tokens: float = 1.0
    refilled: float = field(default_factory=time.monotonic)

    @classmethod
    def from_json(cls, name: str, body: dict[str, Any]) -> "Queue":
        rates, retry = body.get("rateLimits") or {}, body.get("retryConfig") or {}
        return cls(name, float(rates.get("maxDispatchesPerSecond") or DEFAULTS["maxDispatchesPerSecond"]),
                   int(rates.get("maxBurstSize") or DEFAULTS["maxBurstSize"]),
                   int(rates.get("maxConcurrentDispatches") or DEFAULTS["maxConcurrentDispatches"]),
                   seconds(retry.get("minBackoff"), DEFAULTS["minBackoff"]),
                   seconds(retry.get("maxBackoff"), DEFAULTS["maxBackoff"]),
                   int(retry.get("maxDoublings", DEFAULTS["maxDoublings"])),
                   int(retry.get("maxAttempts", DEFAULTS["maxAttempts"])))

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "state": "PAUSED" if self.paused else "RUNNING",
                "rateLimits": {"maxDispatchesPerSecond": self.per_second, "maxBurstSize": self.burst,
                               "maxConcurrentDispatches": self.concurrent},
                "retryConfig": {"maxAttempts": self.max_attempts, "minBackoff": f"{self.min_backoff}s",
                                "maxBackoff": f"{self.max_backoff}s", "maxDoublings": self.doublings}}

    def take_token(self, now: float) -> bool:
        """The queue's rate as a token bucket of `burst` tokens filled at `per_second`."""
        self.tokens = min(float(self.burst), self.tokens + (now - self.refilled) * self.per_second)
        self.refilled = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass
class Task:
    name: str
    url: str
    method: str
    headers: dict[str, str]
    body: bytes
    due: float  # epoch seconds
    created: float
    dispatches: int = 0
    responses: int = 0
    running: bool = False
    last_status: int | None = None

    def as_json(self, full: bool) -> dict[str, Any]:
        http: dict[str, Any] = {"url": self.url, "httpMethod": self.method, "headers": self.headers}
        if full and self.body:
            http["body"] = base64.b64encode(self.body).decode()
        task: dict[str, Any] = {"name": self.name, "httpRequest": http, "scheduleTime": rfc3339(self.due),
                                "createTime": rfc3339(self.created), "dispatchDeadline": f"{DISPATCH_TIMEOUT:.0f}s",
                                "dispatchCount": self.dispatches, "responseCount": self.responses,
                                "view": "FULL" if full else "BASIC"}
        if self.last_status is not None:
            task["lastAttempt"] = {"responseStatus": {"code": self.last_status}}
        return task


class CloudTasksState:
    def __init__(self, time_scale: Callable[[], float]):
        self.time_scale = time_scale
        self.queues: dict[str, Queue] = {}
        self.reserved: dict[str, float] = {}  # task name -> until when it cannot be used again
        self.changed = threading.Condition()
        self.stopped = False
        self.dispatched = 0
        threading.Thread(target=self._dispatch_loop, daemon=True, name="cloudtasks").start()

    # --- the API's state ----------------------------------------------------------------------

    def create_task(self, queue: Queue, body: dict[str, Any]) -> Task | str:
        """The new task, or why not (a Google status)."""
        spec = body.get("task") or {}
        http = spec.get("httpRequest") or {}
        if not http.get("url"):
            return "INVALID_ARGUMENT"
        name = spec.get("name") or f"{queue.name}/tasks/{time.time_ns()}"
        if not name.startswith(queue.name + "/tasks/"):
            return "INVALID_ARGUMENT"
        now = time.time()
        with self.changed:
            if name in queue.tasks or self.reserved.get(name, 0) > now:
                return "ALREADY_EXISTS"
            due = max(now, dt.datetime.fromisoformat(spec["scheduleTime"].replace("Z", "+00:00")).timestamp()
                      if spec.get("scheduleTime") else now)
            method = http.get("httpMethod", "POST")
            task = Task(name, http["url"], METHODS.get(method, str(method)) if isinstance(method, int) else method,
                        dict(http.get("headers") or {}),
                        base64.b64decode(http.get("body") or ""), due, now)
            queue.tasks[name] = task
            self.changed.notify_all()
        return task

    def delete_task(self, queue: Queue, name: str) -> bool:
        with self.changed:
            task = queue.tasks.pop(name, None)
            if task is None:
                return False
            self.reserved[name] = time.time() + NAME_RESERVED_FOR
            self.changed.notify_all()
            return True

    def idle(self) -> bool:
        return not any(q.tasks for q in self.queues.values())

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not self.idle():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.changed.wait(min(remaining, 0.05))
            return True

    def reset(self) -> None:
        with self.changed:
            self.queues.clear()
            self.reserved.clear()
            self.dispatched = 0
            self.changed.notify_all()

    # --- dispatching --------------------------------------------------------------------------

    def _dispatch_loop(self) -> None:
        while not self.stopped:
            with self.changed:
                started = self._start_due()
                if not started:
                    self.changed.wait(0.02)

    def _start_due(self) -> bool:
        """Start every task that is due and that its queue's rate and concurrency allow."""
        now, clock = time.time(), time.monotonic()
        started = False
        for queue in self.queues.values():
            if queue.paused:
                continue
            for task in sorted(queue.tasks.values(), key=lambda t: (t.due, t.created)):
                if queue.running >= queue.concurrent:
                    break
                if task.running or task.due > now or not queue.take_token(clock):
                    continue
                task.running, queue.running = True, queue.running + 1
                threading.Thread(target=self._dispatch, args=(queue, task), daemon=True).start()
                started = True
        return started

    def _dispatch(self, queue: Queue, task: Task) -> None:
        headers = {**task.headers, "X-CloudTasks-QueueName": queue.name.rsplit("/", 1)[-1],
                   "X-CloudTasks-TaskName": task.name.rsplit("/", 1)[-1],
                   "X-CloudTasks-TaskRetryCount": str(task.dispatches),
                   "X-CloudTasks-TaskExecutionCount": str(task.responses)}
        status: int | None = None
        try:
            answer = requests.request(task.method, task.url, data=task.body, headers=headers,
                                      timeout=DISPATCH_TIMEOUT)
            status = answer.status_code
        except requests.RequestException:
            status = None
        with self.changed:
            self.dispatched += 1
            task.running, queue.running = False, queue.running - 1
            task.dispatches += 1
            task.responses += status is not None
            task.last_status = status
            done = status is not None and 200 <= status < 300
            if done or (queue.max_attempts > 0 and task.dispatches >= queue.max_attempts):
                queue.tasks.pop(task.name, None)
                self.reserved[task.name] = time.time() + NAME_RESERVED_FOR
            else:
                backoff = min(queue.max_backoff, queue.min_backoff * 2 ** min(task.dispatches - 1, queue.doublings))
                task.due = time.time() + backoff * self.time_scale()
            self.changed.notify_all()


def cloudtasks_blueprint(state: CloudTasksState, faults: FaultBoard) -> Blueprint:
    bp = Blueprint("cloudtasks", __name__, url_prefix="/cloudtasks/v2")
    location = "projects/<project>/locations/<location>"

    @bp.before_request
    def _gate() -> Response | None:
        if not bearer_token():
            return google_error(401, "UNAUTHENTICATED", "Request is missing required authentication credential.")
        return apply_fault(faults, "cloudtasks", lambda status: {"error": {
            "code": status, "message": f"Injected fault {status}",
            "status": "UNAVAILABLE" if status >= 500 else "RESOURCE_EXHAUSTED"}})

    def queue_or_404(project: str, location: str, queue: str) -> Queue | Response:
        name = f"projects/{project}/locations/{location}/queues/{queue}"
        return state.queues.get(name) or google_error(404, "NOT_FOUND", f"Queue does not exist: {name}")

    @bp.post(f"/{location}/queues")
    def create_queue(project: str, location: str) -> Response:
        body = request.get_json(silent=True) or {}
        name = str(body.get("name") or "")
        if not name.startswith(f"projects/{project}/locations/{location}/queues/"):
            return google_error(400, "INVALID_ARGUMENT", "Queue name must be in the parent location.")
        with state.changed:
            if name in state.queues:
                return google_error(409, "ALREADY_EXISTS", "Queue already exists.")
            state.queues[name] = queue = Queue.from_json(name, body)
        return json_response(queue.as_json())

    @bp.get(f"/{location}/queues/<queue>")
    def get_queue(project: str, location: str, queue: str) -> Response:
        found = queue_or_404(project, location, queue)
        return found if isinstance(found, Response) else json_response(found.as_json())

    @bp.post(f"/{location}/queues/<queue_action>")
    def queue_action(project: str, location: str, queue_action: str) -> Response:
        queue, _, action = queue_action.partition(":")
        found = queue_or_404(project, location, queue)
        if isinstance(found, Response):
            return found
        if action not in ("pause", "resume"):
            return google_error(400, "INVALID_ARGUMENT", f"Unsupported queue action: {action or '(none)'}")
        with state.changed:
            found.paused = action == "pause"
            state.changed.notify_all()
        return json_response(found.as_json())

    @bp.post(f"/{location}/queues/<queue>/tasks")
    def create_task(project: str, location: str, queue: str) -> Response:
        found = queue_or_404(project, location, queue)
        if isinstance(found, Response):
            return found
        body = request.get_json(silent=True) or {}
        task = state.create_task(found, body)
        if task == "ALREADY_EXISTS":
            return google_error(409, "ALREADY_EXISTS", "The task cannot be created because a task with this name "
                                                       "existed too recently.")
        if isinstance(task, str):
            return google_error(400, task, "The task needs an httpRequest with a url, and a name in its queue.")
        return json_response(task.as_json(body.get("responseView") in FULL_VIEW))

    @bp.get(f"/{location}/queues/<queue>/tasks")
    def list_tasks(project: str, location: str, queue: str) -> Response:
        found = queue_or_404(project, location, queue)
        if isinstance(found, Response):
            return found
        size = min(int(request.args.get("pageSize") or 1000), 1000)
        start = int(request.args.get("pageToken") or 0)
        with state.changed:
            tasks = sorted(found.tasks.values(), key=lambda t: (t.due, t.created))
        page = tasks[start:start + size]
        full = request.args.get("responseView") in FULL_VIEW
        answer: dict[str, Any] = {"tasks": [t.as_json(full) for t in page]}
        if start + size < len(tasks):
            answer["nextPageToken"] = str(start + size)
        return json_response(answer)

    @bp.route(f"/{location}/queues/<queue>/tasks/<task>", methods=["GET", "DELETE"])
    def one_task(project: str, location: str, queue: str, task: str) -> Response:
        found = queue_or_404(project, location, queue)
        if isinstance(found, Response):
            return found
        name = f"{found.name}/tasks/{task}"
        if request.method == "DELETE":
            return json_response({}) if state.delete_task(found, name) else \
                google_error(404, "NOT_FOUND", f"Task does not exist: {name}")
        current = found.tasks.get(name)
        return json_response(current.as_json(request.args.get("responseView") in FULL_VIEW)) if current else \
            google_error(404, "NOT_FOUND", f"Task does not exist: {name}")

    return bp
