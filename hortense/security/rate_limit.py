"""The one rate limiter: messages per sender, per visitor address and for all visitors (`channels.guard`),
the public verification page and chart rendering per address (`web.documents`, `web.charts`), failed console
log-ins per address, and growing log-in delays per account and address (`Backoff`, used by
`hortense.appointments.advisors`).

A limit is `limit` events per rolling `window` seconds for one key. The count lives in Redis when
HORTENSE_REDIS_URL is set, so that every instance sees the same count (a flood spread over two Rasa
instances is still one flood), otherwise in this process's memory (see `shared_state`). Two ways to count:
- `hit(key)`: one event, counted only when allowed (a sender who keeps flooding stays refused only until
  the window has passed), with `first_refusal` so that a refused sender is told once, not at every message;
- `record(key)` / `blocked(key)`: count an event whatever happens (a failed log-in), and ask separately.

`Backoff` is the other shape: after a few free failures, each further attempt must wait a delay that doubles
with every failure (1 s, 2 s, 4 s... up to a cap) from the last failure. A delay, unlike a lock, ends by
itself; which keys it counts (account *and* address) decides who can slow down whom.

`client_address(request)` is the address every per-address limit counts: the proxy's `X-Forwarded-For` /
`Forwarded` only when Sanic is told to trust its proxies (SANIC_PROXIES_COUNT, SANIC_REAL_IP_HEADER or
SANIC_FORWARDED_SECRET, read by Sanic itself), else the peer; an IPv6 address counts by its /64 (one
subscriber's network), so that a visitor cannot dodge a limit by walking through their own prefix.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple

from hortense.security.shared_state import CONFIGURED, KEY_PREFIX, chosen_client, shared_or_local

# KEYS[1]: the key's events (sorted set scored by time in ms), KEYS[2]: "already told" flag.
# ARGV: mode ('hit', 'record' or 'count'), limit, window in ms, a unique member for this event.
# Returns {allowed, first refusal} for 'hit', {count, 0} for 'count'.
# The Redis server's clock decides, so the instances' clocks need not agree.
_WINDOW_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if ARGV[1] == 'count' then return {count, 0} end
if ARGV[1] == 'hit' and count >= tonumber(ARGV[2]) then
  if redis.call('SET', KEYS[2], '1', 'NX', 'PX', window) then return {0, 1} end
  return {0, 0}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
if ARGV[1] == 'hit' then redis.call('DEL', KEYS[2]) end
return {1, 0}
"""


class Verdict(NamedTuple):
    allowed: bool
    first_refusal: bool  # only the first refusal of a run gets an answer


class MemoryWindows:
    """Event times per key in this process; idle keys are forgotten when there are too many."""

    def __init__(self, window: float, clock: Callable[[], float] = time.monotonic, max_keys: int = 50_000):
        self.window, self.clock, self.max_keys = window, clock, max_keys
        self._events: dict[str, deque] = {}
        self._told: set[str] = set()
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque:
        events = self._events.get(key)
        if events is None:
            if len(self._events) >= self.max_keys:
                self._forget_idle(now)
            events = self._events[key] = deque()
        while events and now - events[0] >= self.window:
            events.popleft()
        return events

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, e in self._events.items() if not e or now - e[-1] >= self.window]:
            del self._events[key]
            self._told.discard(key)

    def hit(self, key: str, limit: int) -> Verdict:
        with self._lock:
            now = self.clock()
            events = self._recent(key, now)
            if len(events) < limit:
                events.append(now)
                self._told.discard(key)
                return Verdict(True, False)
            first = key not in self._told
            self._told.add(key)
            return Verdict(False, first)

    def record(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            self._recent(key, now).append(now)

    def count(self, key: str) -> int:
        with self._lock:
            return len(self._recent(key, self.clock()))

    def clear(self) -> None:
        with self._lock:
            self._events.clear()
            self._told.clear()


class RedisWindows:
    """The same windows in Redis, one atomic script per event (shared by every instance)."""

    def __init__(self, client: Any, prefix: str, window: float) -> None:
        self.client, self.prefix, self.window_ms = client, prefix, max(int(window * 1000), 1)
        self._script = client.register_script(_WINDOW_SCRIPT)

    def _run(self, mode: str, key: str, limit: int = 0) -> list[int]:
        keys = [f"{self.prefix}{key}", f"{self.prefix}{key}:told"]
        return self._script(keys=keys, args=[mode, limit, self.window_ms, uuid.uuid4().hex])

    def hit(self, key: str, limit: int) -> Verdict:
        allowed, first = self._run("hit", key, limit)
        return Verdict(allowed == 1, first == 1)

    def record(self, key: str) -> None:
        self._run("record", key)

    def count(self, key: str) -> int:
        return int(self._run("count", key)[0])

    def clear(self) -> None:
        keys = list(self.client.scan_iter(f"{self.prefix}*"))
        if keys:
            self.client.delete(*keys)


class RateLimit:
    """`limit` events per rolling `window` seconds per key, named for its Redis keys and log lines."""

    def __init__(
        self,
        name: str,
        limit: int,
        window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        redis: Any = CONFIGURED,
        key_prefix: str = KEY_PREFIX,
    ) -> None:
        self.name, self.limit, self.window = name, max(int(limit), 1), float(window)
        self.local = MemoryWindows(self.window, clock)
        self._redis, self._prefix = redis, f"{key_prefix}rate:{name}:"
        self._shared: dict[int, RedisWindows] = {}

    def _windows(self) -> RedisWindows | None:
        client = chosen_client(self._redis)
        if client is None:
            return None
        if id(client) not in self._shared:
            self._shared = {id(client): RedisWindows(client, self._prefix, self.window)}
        return self._shared[id(client)]

    def _either(self, operation: str, *args: Any) -> Any:
        shared = self._windows()
        local = getattr(self.local, operation)
        if shared is None:
            return local(*args)
        return shared_or_local(
            f"rate limit {self.name}", lambda: getattr(shared, operation)(*args), lambda: local(*args)
        )

    def hit(self, key: str) -> Verdict:
        """Count one event if the key is under its limit; refused events are not counted."""
        return self._either("hit", key, self.limit)

    def record(self, key: str) -> None:
        """Count one event whatever the count (e.g. a failed log-in)."""
        self._either("record", key)

    def blocked(self, key: str) -> bool:
        """Whether the key has reached its limit in the current window (counts nothing)."""
        return self._either("count", key) >= self.limit

    def reset(self) -> None:
        """Forget every count of this limit (tests, or an operator after an incident)."""
        self._either("clear")
        self.local.clear()


def client_address(request: Any) -> str:
    """The address per-address limits count for this Sanic request (see the module's docstring)."""
    raw = str(getattr(request, "remote_addr", "") or getattr(request, "ip", "") or "").strip()
    try:
        address = ipaddress.ip_address(raw.strip("[]"))
    except ValueError:
        return raw or "unknown"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address.ipv4_mapped or address) if isinstance(address, ipaddress.IPv6Address) else str(address)


# KEYS[1]: a hash {n: failures, last: time of the last failure in ms}. ARGV: mode ('fail' or 'peek'), how long
# failures are remembered after the last one (ms). Returns {failures, ms since the last failure}.
_BACKOFF_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[1] == 'fail' then
  local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
  redis.call('HSET', KEYS[1], 'last', now)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {n, 0}
end
local v = redis.call('HMGET', KEYS[1], 'n', 'last')
if not v[1] then return {0, 0} end
return {tonumber(v[1]), now - tonumber(v[2])}
"""


class MemoryFailures:
    """Failures per key in this process: (count, time of the last one); forgotten `forget` s after the last."""

    def __init__(self, forget: float, clock: Callable[[], float], max_keys: int = 50_000) -> None:
        self.forget, self.clock, self.max_keys = forget, clock, max_keys
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def _current(self, key: str, now: float) -> tuple[int, float]:
        count, last = self._failures.get(key, (0, now))
        if count and now - last >= self.forget:
            del self._failures[key]
            return 0, now
        return count, last

    def fail(self, key: str) -> tuple[int, float]:
        with self._lock:
            now = self.clock()
            if key not in self._failures and len(self._failures) >= self.max_keys:
                for old in [k for k, (_, last) in self._failures.items() if now - last >= self.forget]:
                    del self._failures[old]
            count, _ = self._current(key, now)
            self._failures[key] = (count + 1, now)
            return count + 1, 0.0

    def peek(self, key: str) -> tuple[int, float]:
        with self._lock:
            now = self.clock()
            count, last = self._current(key, now)
            return count, now - last

    def clear(self, key: str | None = None) -> None:
        with self._lock:
            if key is None:
                self._failures.clear()
            else:
                self._failures.pop(key, None)


class RedisFailures:
    """The same failures in Redis (shared by every instance; the Redis server's clock decides)."""

    def __init__(self, client: Any, prefix: str, forget: float) -> None:
        self.client, self.prefix, self.forget_ms = client, prefix, max(int(forget * 1000), 1)
        self._script = client.register_script(_BACKOFF_SCRIPT)

    def _run(self, mode: str, key: str) -> tuple[int, float]:
        count, elapsed_ms = self._script(keys=[f"{self.prefix}{key}"], args=[mode, self.forget_ms])
        return int(count), int(elapsed_ms) / 1000

    def fail(self, key: str) -> tuple[int, float]:
        return self._run("fail", key)

    def peek(self, key: str) -> tuple[int, float]:
        return self._run("peek", key)

    def clear(self, key: str | None = None) -> None:
        keys = [f"{self.prefix}{key}"] if key is not None else list(self.client.scan_iter(f"{self.prefix}*"))
        if keys:
            self.client.delete(*keys)


class Backoff:
    """Growing delays per key: after `free` failures, the next attempt waits `base` s after the last failure,
    then twice as long after each further failure, at most `cap` s. Failures are forgotten `forget` s after
    the last one, or at once by `clear(key)` (a success)."""

    def __init__(
        self,
        name: str,
        *,
        free: int,
        base: float = 1.0,
        cap: float = 300.0,
        forget: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
        redis: Any = CONFIGURED,
        key_prefix: str = KEY_PREFIX,
    ) -> None:
        self.name, self.free, self.base, self.cap = name, max(int(free), 0), float(base), float(cap)
        self.local = MemoryFailures(float(forget), clock)
        self._redis, self._prefix, self._forget = redis, f"{key_prefix}backoff:{name}:", float(forget)
        self._shared: dict[int, RedisFailures] = {}

    def delay_after(self, failures: int) -> float:
        """The delay owed after this many failures (0 while they are free)."""
        if failures <= self.free:
            return 0.0
        return min(self.base * 2 ** min(failures - self.free - 1, 62), self.cap)

    def _either(self, operation: str, *args: Any) -> Any:
        client = chosen_client(self._redis)
        local = getattr(self.local, operation)
        if client is None:
            return local(*args)
        if id(client) not in self._shared:
            self._shared = {id(client): RedisFailures(client, self._prefix, self._forget)}
        shared = self._shared[id(client)]
        return shared_or_local(f"backoff {self.name}", lambda: getattr(shared, operation)(*args), lambda: local(*args))

    def wait(self, key: str) -> float:
        """Seconds this key must still wait before its next attempt (0: it may try now)."""
        failures, elapsed = self._either("peek", key)
        return max(self.delay_after(failures) - elapsed, 0.0)

    def fail(self, key: str) -> float:
        """Count one failure; returns the delay it now owes."""
        failures, _ = self._either("fail", key)
        return self.delay_after(failures)

    def clear(self, key: str) -> None:
        self._either("clear", key)
        self.local.clear(key)

    def reset(self) -> None:
        """Forget every key (tests, or an operator after an incident)."""
        self._either("clear")
        self.local.clear()


def whole_seconds(delay: float) -> int:
    """A delay as the customer or advisor is told it: whole seconds, rounded up."""
    return max(math.ceil(delay), 1)
