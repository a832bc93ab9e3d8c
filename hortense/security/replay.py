"""Webhook deliveries already handled (Twilio's MessageSid, Telegram's update_id, Messenger's mid).

Platforms redeliver a webhook they think failed, and an attacker may replay a genuine signed one: each
message id is handled once. With Redis configured the ids are shared by every instance and survive a
restart (a replay sent to the other instance is refused too); without it, the last `size` ids of this
process are remembered.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from hortense.security.shared_state import CONFIGURED, KEY_PREFIX, chosen_client, shared_or_local

# Platforms retry for a day or so (Meta: up to 36 h): remember an id a little longer than that.
REMEMBER_SECONDS = 48 * 3600


class SeenIds:
    """`first_time(id)` is True once per platform message id (and always for a missing id)."""

    def __init__(
        self,
        namespace: str,
        size: int = 10_000,
        *,
        redis: Any = CONFIGURED,
        ttl: int = REMEMBER_SECONDS,
        key_prefix: str = KEY_PREFIX,
    ) -> None:
        self.namespace, self.size, self.ttl = namespace, size, ttl
        self._redis, self._prefix = redis, f"{key_prefix}seen:{namespace}:"
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, message_id: Any) -> bool:
        if message_id in (None, ""):
            return True
        key = str(message_id)
        client = chosen_client(self._redis)
        if client is None:
            return self._first_here(key)
        return shared_or_local(
            f"replay check {self.namespace}",
            lambda: bool(client.set(f"{self._prefix}{key}", 1, nx=True, ex=self.ttl)),
            lambda: self._first_here(key),
        )

    def _first_here(self, key: str) -> bool:
        with self._lock:
            if key in self._ids:
                return False
            self._ids[key] = None
            if len(self._ids) > self.size:
                self._ids.popitem(last=False)
            return True
