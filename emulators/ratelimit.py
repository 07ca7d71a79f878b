"""A sliding-window request limit, like Airtable's 5 requests per second per base."""

from __future__ import annotations

import collections
import threading
import time


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
