"""The one rate limiter: messages per sender (`channels.guard`), failed console log-ins per address
(`web.console`).

A limit is `limit` events per rolling `window` seconds for one key. The count lives in Redis when
HORTENSE_REDIS_URL is set, so that every instance sees the same count (a flood spread over two Rasa
instances is still one flood), otherwise in this process's memory (see `shared_state`). Two ways to count:
- `hit(key)`: one event, counted only when allowed (a sender who keeps flooding stays refused only until
  the window has passed), with `first_refusal` so that a refused sender is told once, not at every message;
- `record(key)` / `blocked(key)`: count an event whatever happens (a failed log-in), and ask separately.
"""
from __future__ import annotations

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

    def __init__(self, name: str, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic,
                 redis: Any = CONFIGURED, key_prefix: str = KEY_PREFIX) -> None:
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
        return shared_or_local(f"rate limit {self.name}", lambda: getattr(shared, operation)(*args),
                               lambda: local(*args))

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
