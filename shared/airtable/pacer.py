"""Client-side pacing that keeps one process under Airtable's 5 requests per second per base.

A slot is counted from the moment its answer arrives, not from when it was sent: the server saw
the request before that moment, so "at most N answers in the last window, plus those in flight"
guarantees the server never counts more than N requests in any window, whatever the latency.
Our own bulk work therefore never draws a 429; 429s stay a signal that someone else shares the
base. When one comes, Airtable refuses the base for a penalty (30 seconds): `penalise` holds every
request of the process until it is over, instead of letting each retry hit the wall and prolong it.
"""

from __future__ import annotations

import collections
import threading
import time
from contextlib import contextmanager
from typing import Callable, ContextManager, Iterator, Protocol

AIRTABLE_REQUESTS_PER_SECOND = 5


class Pacer(Protocol):
    """What a gateway asks of its pacer: a slot around each request, and a hold after a 429."""

    limit: float

    def slot(self) -> ContextManager[None]: ...

    def penalise(self, seconds: float) -> None: ...


class RequestPacer:
    def __init__(self, limit: float = AIRTABLE_REQUESTS_PER_SECOND, window: float = 1.0,
                 clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self._clock = clock
        self._answered: collections.deque[float] = collections.deque()
        self._in_flight = 0
        self._resume_at = float("-inf")  # end of the current penalty
        self._changed = threading.Condition()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one request slot for the duration of a request."""
        with self._changed:
            while (timeout := self._wait_needed()) != 0.0:
                self._changed.wait(timeout)
            self._in_flight += 1
        try:
            yield
        finally:
            with self._changed:
                self._in_flight -= 1
                self._answered.append(self._clock())
                self._changed.notify_all()

    def penalise(self, seconds: float) -> None:
        """Hold every request until `seconds` from now (the base's penalty after a 429)."""
        with self._changed:
            self._resume_at = max(self._resume_at, self._clock() + seconds)
            self._changed.notify_all()

    def _wait_needed(self) -> float | None:
        """0.0 if a request may start now; else how long to wait (None: until one finishes)."""
        now = self._clock()
        if now < self._resume_at:
            return self._resume_at - now
        while self._answered and now - self._answered[0] >= self.window:
            self._answered.popleft()
        if len(self._answered) + self._in_flight < self.limit:
            return 0.0
        if not self._answered:
            return None
        return max(self.window - (now - self._answered[0]), 1e-4)


_pacers: dict[str, RequestPacer] = {}
_pacers_lock = threading.Lock()


def pacer_for(base_key: str, per_second: float = AIRTABLE_REQUESTS_PER_SECOND) -> RequestPacer:
    """The process-wide pacer of one base, shared by every gateway that talks to it."""
    with _pacers_lock:
        pacer = _pacers.get(base_key)
        if pacer is None or pacer.limit != per_second:
            pacer = _pacers[base_key] = RequestPacer(limit=per_second)
        return pacer
