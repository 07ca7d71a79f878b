"""One base's budget of 5 requests per second, shared by every process that talks to it.

Deployed, each function is its own autoscaled service: the intake writer, the scheduled jobs, the
pages people open and the vendors' webhooks each run in processes of their own, and a pacer kept in
one process's memory cannot see the others' requests. Their sum would exceed the base's limit and
draw 429s, with 30 seconds of penalty for everyone. So deployed processes keep the budget in one
Redis (Memorystore), counted the way `RequestPacer` counts it in one process:

- a request holds a slot while it is on the wire; its slot is counted from its answer for one
  window, so the server never sees more than `limit` requests in any second, whatever the latency;
- a process that dies mid-request cannot hold its slot for ever: a slot in flight expires after
  the longest a request can take;
- a 429 (someone outside binome shares the base) holds every process for the penalty, not only the
  one that drew it;
- people come first: a background worker (the queue's writer, the scheduled jobs) takes a slot only
  when no person's request is waiting, so a structure choosing a mentor during a burst of sign-ups
  waits for one slot, not for the burst.

Each step is one Lua script, run atomically by Redis on Redis's clock, so processes on different
machines never compare clocks. Should Redis be unreachable, the process falls back to pacing itself
at a fraction of the base's limit (`fallback`): slower, but without exceeding the budget for as long
as fewer processes than the fraction's inverse are busy, and without stopping the campaign.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Any, Iterator, Literal

import redis

from shared.airtable.pacer import AIRTABLE_REQUESTS_PER_SECOND, RequestPacer

log = logging.getLogger(__name__)

Priority = Literal["people", "background"]
HOLD_SECONDS = 40.0  # the longest a request may stay on the wire: connect and read timeouts, plus margin
WAITING_SECONDS = 2.0  # how long a person's waiting request keeps background work back without asking again
POLL_SECONDS = 0.02  # how often to look again when every slot is in flight (no answer to wait for)
FALLBACK_SHARE = 0.2  # of the base's limit, for a process that cannot reach Redis
SOCKET_TIMEOUT = 2.0

# Every script starts by reading Redis's clock: the only clock all processes share.
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
"""

# KEYS: answered, in flight, penalty end, people waiting.
# ARGV: slot id, limit, window, hold, priority, waiting time.
# Returns "0" when the slot is taken, else the seconds to wait ("-1": until a request in flight ends).
ACQUIRE = _NOW + """
local resume = tonumber(redis.call('GET', KEYS[3]) or '0')
if now < resume then return tostring(resume - now) end
local limit, window = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
local used = redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2])
local ahead = 0
if ARGV[5] == 'background' then ahead = redis.call('ZCARD', KEYS[4]) end
if used + ahead < limit then
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[1])
  redis.call('ZREM', KEYS[4], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], math.ceil(tonumber(ARGV[4]) * 1000))
  return '0'
end
if ARGV[5] == 'people' then
  redis.call('ZADD', KEYS[4], now + tonumber(ARGV[6]), ARGV[1])
  redis.call('PEXPIRE', KEYS[4], math.ceil(tonumber(ARGV[6]) * 1000))
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] then return tostring(math.max(tonumber(oldest[2]) + window - now, 0.001)) end
return '-1'
"""

# KEYS: answered, in flight. ARGV: slot id, window.
RELEASE = _NOW + """
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 2000))
return 'ok'
"""

# KEYS: penalty end. ARGV: seconds.
PENALISE = _NOW + """
local until_ = now + tonumber(ARGV[1])
if until_ > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], tostring(until_), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
end
return 'ok'
"""


class SharedPacer:
    """The `RequestPacer` of one base, its state in Redis, for every process of every function."""

    def __init__(self, url: str, base_key: str, *, limit: float = AIRTABLE_REQUESTS_PER_SECOND,
                 window: float = 1.0, priority: Priority = "people", client: redis.Redis | None = None):
        self.limit = limit
        self.window = window
        self.priority = priority
        self.redis = client or redis.Redis.from_url(url, socket_timeout=SOCKET_TIMEOUT,
                                                    socket_connect_timeout=SOCKET_TIMEOUT)
        # The base's endpoint and id, hashed: the keys name no base and no token.
        tag = hashlib.sha256(base_key.encode()).hexdigest()[:16]
        self.keys = [f"binome:airtable:{{{tag}}}:{part}" for part in ("answered", "flight", "penalty", "waiting")]
        self._acquire = self.redis.register_script(ACQUIRE)
        self._release = self.redis.register_script(RELEASE)
        self._penalise = self.redis.register_script(PENALISE)
        self.fallback = RequestPacer(limit=max(limit * FALLBACK_SHARE, 0.5))
        self._unreachable_logged = threading.Event()

    def try_acquire(self, slot_id: str) -> float:
        """Take a slot now (0.0) or say how long to wait before asking again (-1: a short poll)."""
        answer = self._acquire(keys=self.keys, args=[slot_id, self.limit, self.window, HOLD_SECONDS,
                                                     self.priority, WAITING_SECONDS])
        return float(answer)

    def release(self, slot_id: str) -> None:
        self._release(keys=self.keys[:2], args=[slot_id, self.window])

    @contextmanager
    def slot(self) -> Iterator[None]:
        slot_id = uuid.uuid4().hex
        try:
            while (wait := self.try_acquire(slot_id)) != 0.0:
                time.sleep(POLL_SECONDS if wait < 0 else min(wait, WAITING_SECONDS / 2))
        except redis.RedisError as exc:
            self._unreachable(exc)
            reachable = False
        else:
            reachable = True
        if not reachable:
            with self.fallback.slot():
                yield
            return
        try:
            yield
        finally:
            try:
                self.release(slot_id)
            except redis.RedisError as exc:
                self._unreachable(exc)  # the slot expires by itself after HOLD_SECONDS

    def penalise(self, seconds: float) -> None:
        self.fallback.penalise(seconds)
        try:
            self._penalise(keys=self.keys[2:3], args=[seconds])
        except redis.RedisError as exc:
            self._unreachable(exc)

    def _unreachable(self, exc: Exception) -> None:
        if not self._unreachable_logged.is_set():
            self._unreachable_logged.set()
            log.error("the shared Airtable budget is unreachable (%s): pacing this process alone, at %.1f requests/s",
                      type(exc).__name__, self.fallback.limit)

    def in_use(self) -> dict[str, Any]:
        """What Redis holds for the base now (for tests and diagnostics)."""
        answered, flight, penalty, waiting = self.keys
        return {"answered": self.redis.zcard(answered), "in_flight": self.redis.zcard(flight),
                "penalty_until": self.redis.get(penalty), "waiting": self.redis.zcard(waiting)}


_shared: dict[tuple[str, str, float, str], SharedPacer] = {}
_shared_lock = threading.Lock()


def shared_pacer_for(url: str, base_key: str, per_second: float, priority: Priority) -> SharedPacer:
    """The process's handle on one base's shared budget: one Redis connection pool for all its gateways."""
    key = (url, base_key, per_second, priority)
    with _shared_lock:
        pacer = _shared.get(key)
        if pacer is None:
            pacer = _shared[key] = SharedPacer(url, base_key, limit=per_second, priority=priority)
        return pacer
