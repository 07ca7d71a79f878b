"""Request limits like Airtable's: 5 requests per second per base, and the penalty after a 429."""

from __future__ import annotations

import collections
import threading
import time
from typing import Callable


class SlidingWindowLimit:
    def __init__(self, per_second: float | None, window: float = 1.0):
        self.per_second = per_second
        self.window = window
        self._lock = threading.Lock()
        self._seen: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)

    def allow(self, key: str) -> bool:
        """Count a request for `key` unless `per_second` requests already came within the window.

        Refused requests are not counted, so a client that backs off gets through as soon as
        the window has room again.
        """
        if not self.per_second:
            return True
        now = time.monotonic()
        with self._lock:
            seen = self._seen[key]
            while seen and now - seen[0] >= self.window:
                seen.popleft()
            if len(seen) >= self.per_second * self.window:
                return False
            seen.append(now)
            return True

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


class PenaltyBox:
    """Airtable answers 429 and then refuses the base for 30 seconds ("you will need to wait 30
    seconds before subsequent requests will succeed"). Whether a request refused during the
    penalty prolongs it is not documented; this stand-in takes the stricter reading: each refused
    request starts the penalty again, so a client that keeps retrying never gets back in."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._until: dict[str, float] = {}

    def punish(self, key: str, seconds: float) -> None:
        with self._lock:
            self._until[key] = self._clock() + seconds

    def serving(self, key: str) -> bool:
        with self._lock:
            return self._clock() < self._until.get(key, float("-inf"))

    def clear(self) -> None:
        with self._lock:
            self._until.clear()
