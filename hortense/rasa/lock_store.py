"""A Redis lock store that stays correct when several Rasa instances share one Redis.

Rasa serialises the messages of one conversation with a *ticket lock*: each message takes a ticket,
waits until its number is the lowest one still held, is processed, then gives the ticket back.
Rasa 3.6's `RedisLockStore` keeps the whole lock as one JSON value and issues a ticket by reading it,
adding a ticket in Python and writing it back. Two instances that take a ticket at the same moment
both read the same lock, both compute the same number and the second write erases the first: both
messages are processed at once, and the tracker store (which finds new events by counting rows)
then loses or duplicates events. Every other change (release, expiry) has the same race.

`AtomicRedisLockStore` makes every change one atomic Redis operation:
- ticket numbers come from `INCR` on a per-conversation counter (never reused: the counter outlives
  the lock record by a day), inside a Lua script that also records the ticket and its expiry;
- the lock record is a Redis hash `ticket number -> expiry (ms)`; acquiring, refreshing and
  releasing are Lua scripts too, and expiry is judged by the Redis server's clock (`TIME`), so the
  instances' clocks do not have to agree;
- a ticket is kept alive (refreshed every few seconds) while the process that holds it, or waits
  for it, is alive, so a long turn never loses its lock. The lifetime (`HORTENSE_LOCK_LIFETIME`,
  default 120 s, or Rasa's `TICKET_LOCK_LIFETIME` when only that is set) only decides how long a
  conversation stays blocked after an instance *dies* holding it.

Why refresh instead of a lifetime longer than the action timeout: Rasa 3.6 waits up to 300 s for
the action server (`DEFAULT_REQUEST_TIMEOUT`, not configurable) and a turn may call several actions,
so no fixed lifetime both covers the worst turn and frees a crashed instance's conversations quickly.

endpoints.yml (see deploy/endpoints.production.yml):

    lock_store:
      type: hortense.rasa.lock_store.AtomicRedisLockStore
      url: ${HORTENSE_REDIS_URL}        # redis://[:password@]host:port/db, or a bare host name
      # optional: port, db, password, key_prefix, lock_lifetime, poll_interval, socket_timeout

The Redis calls are synchronous, like Rasa's own `RedisLockStore` (a few hundred microseconds on a
local network).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LockError, LockStore

from hortense.settings import get_settings

logger = logging.getLogger(__name__)

DEFAULT_LOCK_LIFETIME_SECONDS = 120.0
DEFAULT_POLL_INTERVAL_SECONDS = 0.02
DEFAULT_KEY_PREFIX = "hortense:lock:"
COUNTER_TTL_SECONDS = 24 * 3600
RASA_ACTION_TIMEOUT_SECONDS = 300  # rasa.core.constants.DEFAULT_REQUEST_TIMEOUT, for the warning below

# Shared by every script: current server time in ms, and removal of expired tickets from KEYS[1].
_PRELUDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function purge()
  local all = redis.call('HGETALL', KEYS[1])
  for i = 1, #all, 2 do
    if tonumber(all[i + 1]) <= now then redis.call('HDEL', KEYS[1], all[i]) end
  end
end
local function keep_key(ms)
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < ms then redis.call('PEXPIRE', KEYS[1], ms) end
end
local function tickets_left()
  purge()
  local left = redis.call('HLEN', KEYS[1])
  if left == 0 then redis.call('DEL', KEYS[1]) end
  return left
end
"""

# KEYS: lock hash, counter. ARGV: lifetime ms, counter ttl s. Returns the new ticket number.
_ISSUE = (
    _PRELUDE
    + """
purge()
local n = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]))
local lifetime = tonumber(ARGV[1])
redis.call('HSET', KEYS[1], n, now + lifetime)
keep_key(lifetime)
return n
"""
)

# KEYS: lock hash. ARGV: ticket. Returns {status, tickets ahead}: 1 acquired, 0 wait, -1 ticket gone.
_ACQUIRE = (
    _PRELUDE
    + """
purge()
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return {-1, 0} end
local mine = tonumber(ARGV[1])
local ahead = 0
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if tonumber(field) < mine then ahead = ahead + 1 end
end
if ahead == 0 then return {1, 0} end
return {0, ahead}
"""
)

# KEYS: lock hash. ARGV: ticket, lifetime ms. Returns 1 when refreshed, 0 when the ticket is gone.
_REFRESH = (
    _PRELUDE
    + """
purge()
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local lifetime = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], now + lifetime)
keep_key(lifetime)
return 1
"""
)

# KEYS: lock hash. ARGV: ticket. Returns the number of tickets left (the record is deleted at 0).
_RELEASE = (
    _PRELUDE
    + """
redis.call('HDEL', KEYS[1], ARGV[1])
return tickets_left()
"""
)

# KEYS: lock hash. Removes expired tickets; returns the number left.
_PURGE = _PRELUDE + "return tickets_left()\n"

# KEYS: lock hash. Returns {server time ms, field, expiry, field, expiry...} after purging.
_READ = (
    _PRELUDE
    + """
purge()
local out = {now}
for _, v in ipairs(redis.call('HGETALL', KEYS[1])) do table.insert(out, v) end
return out
"""
)

# KEYS: lock hash, counter. ARGV: lifetime ms, counter ttl s, then ticket numbers. Saves a TicketLock
# (Rasa's base-class API) atomically: the listed tickets replace the record, the counter never goes back.
_SAVE = (
    _PRELUDE
    + """
redis.call('DEL', KEYS[1])
local lifetime = tonumber(ARGV[1])
local top = tonumber(redis.call('GET', KEYS[2]) or '0')
for i = 3, #ARGV do
  redis.call('HSET', KEYS[1], ARGV[i], now + lifetime)
  if tonumber(ARGV[i]) > top then top = tonumber(ARGV[i]) end
end
redis.call('SET', KEYS[2], top, 'EX', tonumber(ARGV[2]))
if #ARGV > 2 then keep_key(lifetime) end
return #ARGV - 2
"""
)


def configured_lifetime() -> float:
    """HORTENSE_LOCK_LIFETIME, else Rasa's TICKET_LOCK_LIFETIME (read by `hortense.settings`), else 120 s."""
    return get_settings().lock_lifetime_seconds or DEFAULT_LOCK_LIFETIME_SECONDS


class AtomicRedisLockStore(LockStore):
    """Ticket locks in Redis with atomic issue, acquire, refresh and release (see the module docstring)."""

    def __init__(
        self,
        endpoint_config: Any = None,
        *,
        url: str | None = None,
        host: str | None = None,
        port: int | None = None,
        db: int | None = None,
        username: str | None = None,
        password: str | None = None,
        use_ssl: bool = False,
        key_prefix: str | None = None,
        lock_lifetime: float | None = None,
        poll_interval: float | None = None,
        socket_timeout: float = 10.0,
        client: Any = None,
    ) -> None:
        import redis

        options: dict[str, Any] = {}
        if endpoint_config is not None:  # Rasa: `lock_store_class(endpoint_config=...)`
            options.update(endpoint_config.kwargs or {})
            url = url or endpoint_config.url
        given = {
            "host": host,
            "port": port,
            "db": db,
            "username": username,
            "password": password,
            "key_prefix": key_prefix,
            "lock_lifetime": lock_lifetime,
            "poll_interval": poll_interval,
        }
        options.update({k: v for k, v in given.items() if v is not None})

        if client is not None:
            self.red = client
        else:
            target = str(url or options.get("host") or "localhost")
            common = {"socket_timeout": float(options.get("socket_timeout", socket_timeout))}
            password_opt = options.get("password") or None  # "" from an unset ${VAR}: no AUTH
            if "://" in target:
                self.red = redis.Redis.from_url(target, **common)
            else:
                self.red = redis.Redis(
                    host=target,
                    port=int(options.get("port") or 6379),
                    db=int(options.get("db") or 0),
                    username=options.get("username") or None,
                    password=password_opt,
                    ssl=bool(options.get("use_ssl", use_ssl)),
                    **common,
                )

        self.key_prefix = str(options.get("key_prefix") or DEFAULT_KEY_PREFIX)
        if not self.key_prefix.endswith(":"):
            self.key_prefix += ":"
        self.lifetime = float(options.get("lock_lifetime") or configured_lifetime())
        self.poll_interval = float(
            options.get("poll_interval") or get_settings().lock_poll_seconds or DEFAULT_POLL_INTERVAL_SECONDS
        )
        # Refresh well before expiry, but not more than every few seconds.
        self.refresh_interval = max(0.05, min(5.0, self.lifetime / 4))
        self._issue = self.red.register_script(_ISSUE)
        self._acquire = self.red.register_script(_ACQUIRE)
        self._refresh = self.red.register_script(_REFRESH)
        self._release = self.red.register_script(_RELEASE)
        self._purge = self.red.register_script(_PURGE)
        self._read = self.red.register_script(_READ)
        self._save = self.red.register_script(_SAVE)
        if self.lifetime <= RASA_ACTION_TIMEOUT_SECONDS:
            logger.debug(
                "lock lifetime %.0f s < Rasa's action timeout (%d s): tickets are refreshed while "
                "their process lives, so only a dead instance's lock expires",
                self.lifetime,
                RASA_ACTION_TIMEOUT_SECONDS,
            )
        super().__init__()

    # -- keys --------------------------------------------------------------------------------------------
    def _lock_key(self, conversation_id: str) -> str:
        return f"{self.key_prefix}{conversation_id}"

    def _counter_key(self, conversation_id: str) -> str:
        return f"{self.key_prefix}{conversation_id}:counter"

    def _ms(self, seconds: float) -> int:
        return max(1, int(seconds * 1000))

    def ping(self) -> bool:
        """For readiness checks."""
        return bool(self.red.ping())

    # -- atomic operations -------------------------------------------------------------------------------
    def issue_ticket(self, conversation_id: str, lock_lifetime: float | None = None) -> int:
        try:
            return int(
                self._issue(
                    keys=[self._lock_key(conversation_id), self._counter_key(conversation_id)],
                    args=[self._ms(lock_lifetime or self.lifetime), COUNTER_TTL_SECONDS],
                )
            )
        except Exception as exc:  # same contract as Rasa's LockStore.issue_ticket
            raise LockError(f"Error while acquiring lock. Error:\n{exc}") from exc

    def try_acquire(self, conversation_id: str, ticket: int) -> tuple[int, int]:
        """(1, 0) when `ticket` now holds the lock, (0, n) with n tickets ahead, (-1, 0) when it expired."""
        status, ahead = self._acquire(keys=[self._lock_key(conversation_id)], args=[ticket])
        return int(status), int(ahead)

    def refresh_ticket(self, conversation_id: str, ticket: int, lock_lifetime: float | None = None) -> bool:
        return bool(
            self._refresh(
                keys=[self._lock_key(conversation_id)], args=[ticket, self._ms(lock_lifetime or self.lifetime)]
            )
        )

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self._release(keys=[self._lock_key(conversation_id)], args=[ticket_number])

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Give the ticket back; the record disappears with the last ticket (one atomic step)."""
        self.finish_serving(conversation_id, ticket_number)

    def update_lock(self, conversation_id: str) -> None:
        self._purge(keys=[self._lock_key(conversation_id)])

    # -- Rasa's LockStore API (reads, and writes of whole locks) -------------------------------------------
    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """A snapshot as Rasa's TicketLock (expiry converted to this machine's clock), or None."""
        raw = self._read(keys=[self._lock_key(conversation_id)])
        if not raw or len(raw) < 3:
            return None
        offset = time.time() - int(raw[0]) / 1000.0
        pairs = sorted((int(raw[i]), int(raw[i + 1])) for i in range(1, len(raw) - 1, 2))
        lock = TicketLock(conversation_id)
        for number, expires_ms in pairs:
            lock.tickets.append(Ticket(number, expires_ms / 1000.0 + offset))
        return lock

    def is_someone_waiting(self, conversation_id: str) -> bool:
        return self.get_lock(conversation_id) is not None

    def delete_lock(self, conversation_id: str) -> None:
        deleted = self.red.delete(self._lock_key(conversation_id))
        self._log_deletion(conversation_id, bool(deleted))

    def save_lock(self, lock: TicketLock) -> None:
        numbers = [t.number for t in lock.tickets if not t.has_expired()]
        self._save(
            keys=[self._lock_key(lock.conversation_id), self._counter_key(lock.conversation_id)],
            args=[self._ms(self.lifetime), COUNTER_TTL_SECONDS, *numbers],
        )

    # -- the lock itself ---------------------------------------------------------------------------------
    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float | None = None,
        wait_time_in_seconds: float | None = None,
    ) -> AsyncGenerator[TicketLock, None]:
        """Take a ticket, keep it alive, wait for our turn, and always give the ticket back.

        Rasa calls `lock(sender_id)` with no other argument; the poll interval defaults to 20 ms
        (Rasa's own default is 1 s, which adds up to a second to a message that has to wait).
        """
        lifetime = float(lock_lifetime or self.lifetime)
        ticket = self.issue_ticket(conversation_id, lifetime)
        keeper = asyncio.ensure_future(self._keep_alive(conversation_id, ticket, lifetime))
        try:
            yield await self._wait_for_turn(conversation_id, ticket, wait_time_in_seconds or self.poll_interval)
        finally:
            keeper.cancel()
            try:
                self.cleanup(conversation_id, ticket)
            except Exception:  # Redis gone: the ticket expires by itself
                logger.exception("could not release lock ticket %s of %s", ticket, conversation_id)

    async def _wait_for_turn(self, conversation_id: str, ticket: int, poll: float) -> TicketLock:
        delay = min(poll, 0.005)
        while True:
            status, ahead = self.try_acquire(conversation_id, ticket)
            if status == 1:  # Rasa does not use the yielded lock: no extra read
                return TicketLock(conversation_id)
            if status < 0:
                raise LockError(
                    f"Could not acquire lock for conversation_id '{conversation_id}': "
                    f"ticket {ticket} expired while waiting."
                )
            logger.debug("conversation %s: %d message(s) ahead of ticket %d", conversation_id, ahead, ticket)
            await asyncio.sleep(delay)
            delay = min(poll, delay * 2)

    async def _keep_alive(self, conversation_id: str, ticket: int, lifetime: float) -> None:
        interval = max(0.05, min(self.refresh_interval, lifetime / 4))
        try:
            while True:
                await asyncio.sleep(interval)
                try:
                    if not self.refresh_ticket(conversation_id, ticket, lifetime):
                        logger.warning("lock ticket %s of %s expired before it was released", ticket, conversation_id)
                        return
                except Exception:
                    logger.exception("could not refresh lock ticket %s of %s", ticket, conversation_id)
        except asyncio.CancelledError:
            pass
