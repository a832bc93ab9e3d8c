"""Where state that several instances must share lives: Redis when HORTENSE_REDIS_URL is set, else memory.

The same Redis as the lock store (deploy/endpoints.production.yml reads the same variable). On a laptop the
variable is unset and each process keeps its own state, which is the whole truth with one process. When
Redis is configured but does not answer, callers fall back to their process's memory (and say so in the
log) rather than refuse every customer: a limit or a replay check is then per instance, as on a laptop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from hortense.settings import get_settings

logger = logging.getLogger(__name__)

KEY_PREFIX = "hortense:"
SOCKET_TIMEOUT_SECONDS = 1.0  # on the request path: a dead Redis must cost a second, not a minute
WARN_EVERY_SECONDS = 60.0

T = TypeVar("T")
CONFIGURED = "configured"  # the `redis=` default of the shared-state classes: the Redis of the settings, if any
_clients: dict[str, Any] = {}
_last_warning: dict[str, float] = {}
_lock = threading.Lock()


def redis_client(url: str | None = None) -> Any | None:
    """One client per URL for the process (redis-py pools its connections), or None without Redis.

    Accepts what the lock store accepts: a `redis://` URL or a bare host name."""
    url = (get_settings().redis_url if url is None else url).strip()
    if not url:
        return None
    with _lock:
        if url not in _clients:
            import redis

            options = {"socket_timeout": SOCKET_TIMEOUT_SECONDS, "socket_connect_timeout": SOCKET_TIMEOUT_SECONDS}
            _clients[url] = redis.Redis.from_url(url, **options) if "://" in url else redis.Redis(host=url, **options)
        return _clients[url]


def chosen_client(redis: Any) -> Any | None:
    """`redis=` as the shared-state classes take it: CONFIGURED, None (memory only) or a client (tests)."""
    return redis_client() if redis is CONFIGURED else redis


def shared_or_local(what: str, shared: Callable[[], T], local: Callable[[], T]) -> T:
    """`shared()` (a Redis call); if Redis fails, `local()` and a warning (at most one a minute per `what`)."""
    from redis.exceptions import RedisError

    try:
        return shared()
    except RedisError as exc:
        now = time.monotonic()
        if now - _last_warning.get(what, -WARN_EVERY_SECONDS) >= WARN_EVERY_SECONDS:
            _last_warning[what] = now
            logger.warning("%s: Redis unavailable (%s), using this process's memory", what, type(exc).__name__)
        return local()
