"""Outgoing webhooks of the emulated vendors, delivered in the background with their retries.

Each vendor has its own retry policy (what to do after a given answer). Real schedules run over
minutes and hours; the emulators compress time by `time_scale` (nominal seconds × scale = real
seconds), so a retry "after 5 minutes" can happen 30 ms later in a test.

`wait_idle()` lets a test or the demo wait until every delivery is settled, instead of sleeping.
Several deliveries go out at once (`workers`), as vendors do: nothing may rely on their order.
`hold()` keeps every delivery waiting (none in flight) until `release()`: a run can do something
between two of the vendors' retries. `Chaos` makes the vendors' other habits happen on demand: a
webhook delivered twice, or late (and so after ones that came later).
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import random
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
    twin_of: str = ""  # a second delivery of the same event
    late_by: float = 0.0  # nominal seconds it was held back

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "service": self.service, "url": self.url, "description": self.description,
                "state": self.state, "attempts": self.attempts, "twin_of": self.twin_of, "late_by": self.late_by}


@dataclass
class Chaos:
    """Each new delivery is sent twice with probability `duplicate`, and each send is held back
    with probability `late` by up to `late_by` nominal seconds (seeded: a run can be replayed)."""

    duplicate: float = 0.0
    late: float = 0.0
    late_by: float = 0.0
    seed: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if not (0 <= self.duplicate <= 1 and 0 <= self.late <= 1 and self.late_by >= 0):
            raise ValueError("duplicate and late are probabilities, late_by a delay >= 0")
        self.rng.seed(self.seed)

    def delay(self) -> float:
        return self.rng.uniform(0, self.late_by) if self.late and self.rng.random() < self.late else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"duplicate": self.duplicate, "late": self.late, "late_by": self.late_by, "seed": self.seed}


class Deliverer:
    def __init__(self, time_scale: float = 1 / 60, workers: int = 4):
        self.time_scale = self.initial_time_scale = time_scale
        self.deliveries: list[Delivery] = []
        self._queue: list[tuple[float, int, Delivery]] = []
        self._sequence = itertools.count()
        self._busy = 0
        self._generation = 0
        self.chaos = Chaos()
        self._changed = threading.Condition()
        self._stopped = False
        self._held = False
        self._local = threading.local()  # a session per worker: requests' sessions are not thread-safe
        self._threads = [threading.Thread(target=self._run, daemon=True, name=f"webhook-deliveries-{n}")
                         for n in range(workers)]
        for thread in self._threads:
            thread.start()

    def submit(self, delivery: Delivery, nominal_delay: float = 0.0) -> Delivery:
        with self._changed:
            sends = [delivery]
            if self.chaos.duplicate and self.chaos.rng.random() < self.chaos.duplicate:
                sends.append(dataclasses.replace(delivery, id=f"{delivery.id}-bis", attempts=[], twin_of=delivery.id))
            for send in sends:
                send.generation = self._generation
                send.late_by = self.chaos.delay()
                self.deliveries.append(send)
                self._schedule(send, nominal_delay + send.late_by)
        return delivery

    def _schedule(self, delivery: Delivery, nominal_delay: float) -> None:
        due = time.monotonic() + nominal_delay * self.time_scale
        heapq.heappush(self._queue, (due, next(self._sequence), delivery))
        self._changed.notify_all()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._stopped and (self._held or not self._queue or self._queue[0][0] > time.monotonic()):
                    self._changed.wait(self._queue[0][0] - time.monotonic() if self._queue and not self._held
                                       else None)
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

    def hold(self, timeout: float = 60.0) -> bool:
        """Start no delivery until `release()`; True once none is in flight (False: `timeout` passed)."""
        with self._changed:
            self._held = True
            return self._changed.wait_for(lambda: not self._busy, timeout)

    def release(self) -> None:
        with self._changed:
            self._held = False
            self._changed.notify_all()

    def pending(self) -> int:
        with self._changed:
            return len(self._queue) + self._busy

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no delivery is queued or in flight; False if `timeout` passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: not (self._queue or self._busy), timeout)

    def clear(self) -> None:
        """Forget every delivery, and go back to the time scale the stand-ins started with."""
        with self._changed:
            self.time_scale = self.initial_time_scale
            self.chaos = Chaos()
            self._held = False
            self._generation += 1
            self._queue.clear()
            self.deliveries.clear()

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)
