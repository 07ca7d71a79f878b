"""Outgoing webhooks of the emulated vendors, delivered in the background with their retries.

Each vendor has its own retry policy (what to do after a given answer). Real schedules run over
minutes and hours; the emulators compress time by `time_scale` (nominal seconds × scale = real
seconds), so a retry "after 5 minutes" can happen 30 ms later in a test.

`wait_idle()` lets a test or the demo wait until every delivery is settled, instead of sleeping.
Several deliveries go out at once (`workers`), as vendors do: nothing may rely on their order.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import requests

DELIVERY_TIMEOUT = 30  # seconds; vendors wait about this long for an answer


@dataclass
class Decision:
    """After an attempt: retry after `delay` nominal seconds, or stop in `state`."""

    delay: float | None = None
    state: str = "delivered"


# A policy sees the attempt number (1 for the first) and the HTTP status (None: no answer).
RetryPolicy = Callable[[int, int | None], Decision]


def backoff_policy(delays: list[float]) -> RetryPolicy:
    """Retry any failure after each of `delays` in turn, then give up."""
    def decide(attempt: int, status: int | None) -> Decision:
        if status is not None and 200 <= status < 300:
            return Decision(state="delivered")
        if attempt <= len(delays):
            return Decision(delay=delays[attempt - 1])
        return Decision(state="failed")
    return decide


@dataclass
class Delivery:
    id: str
    service: str
    url: str
    description: str
    render: Callable[[int], tuple[bytes, dict[str, str]]]  # attempt number -> body, headers
    policy: RetryPolicy
    on_settled: Callable[["Delivery"], None] | None = None
    state: str = "pending"
    generation: int = 0  # deliveries of an earlier generation were cleared by a reset
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "service": self.service, "url": self.url, "description": self.description,
                "state": self.state, "attempts": self.attempts}


class Deliverer:
    def __init__(self, time_scale: float = 1 / 60, workers: int = 4):
        self.time_scale = self.initial_time_scale = time_scale
        self.deliveries: list[Delivery] = []
        self._queue: list[tuple[float, int, Delivery]] = []
        self._sequence = itertools.count()
        self._busy = 0
        self._generation = 0
        self._changed = threading.Condition()
        self._stopped = False
        self._local = threading.local()  # a session per worker: requests' sessions are not thread-safe
        self._threads = [threading.Thread(target=self._run, daemon=True, name=f"webhook-deliveries-{n}")
                         for n in range(workers)]
        for thread in self._threads:
            thread.start()

    def submit(self, delivery: Delivery, nominal_delay: float = 0.0) -> Delivery:
        with self._changed:
            delivery.generation = self._generation
            self.deliveries.append(delivery)
            self._schedule(delivery, nominal_delay)
        return delivery

    def _schedule(self, delivery: Delivery, nominal_delay: float) -> None:
        due = time.monotonic() + nominal_delay * self.time_scale
        heapq.heappush(self._queue, (due, next(self._sequence), delivery))
        self._changed.notify_all()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._stopped and (not self._queue or self._queue[0][0] > time.monotonic()):
                    self._changed.wait(self._queue[0][0] - time.monotonic() if self._queue else None)
                if self._stopped:
                    return
                _, _, delivery = heapq.heappop(self._queue)
                self._busy += 1
            try:
                self._attempt(delivery)
            finally:
                with self._changed:
                    self._busy -= 1
                    self._changed.notify_all()

    def _attempt(self, delivery: Delivery) -> None:
        attempt = len(delivery.attempts) + 1
        body, headers = delivery.render(attempt)
        status: int | None = None
        record: dict[str, Any] = {"at": time.time()}
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        try:
            response = self._local.session.post(delivery.url, data=body, headers=headers, timeout=DELIVERY_TIMEOUT)
            status = record["status"] = response.status_code
        except requests.RequestException as exc:
            record["error"] = type(exc).__name__
        delivery.attempts.append(record)
        decision = delivery.policy(attempt, status)
        with self._changed:
            if delivery.generation != self._generation:
                return  # cleared while in flight: forget it
            if decision.delay is not None and not self._stopped:
                self._schedule(delivery, decision.delay)
                return
            delivery.state = decision.state
        if delivery.on_settled:
            delivery.on_settled(delivery)

    def pending(self) -> int:
        with self._changed:
            return len(self._queue) + self._busy

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no delivery is queued or in flight; False if `timeout` passed first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._queue or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def clear(self) -> None:
        """Forget every delivery, and go back to the time scale the stand-ins started with."""
        with self._changed:
            self.time_scale = self.initial_time_scale
            self._generation += 1
            self._queue.clear()
            self.deliveries.clear()

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)
