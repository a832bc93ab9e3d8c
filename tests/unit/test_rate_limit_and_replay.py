"""The one rate limiter and the webhook replay check, in memory and against a real Redis
(HORTENSE_TEST_REDIS_URL): limits and seen message ids are shared by every instance and survive a restart
when Redis is configured, and fall back to the process's memory when Redis does not answer.

Without HORTENSE_TEST_REDIS_URL the Redis cases skip, except under CI=true where they fail.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid

import pytest
from rasa.core.channels.channel import CollectingOutputChannel

from channels import guard as g
from hortense.security import shared_state
from hortense.security.rate_limit import Backoff, RateLimit, client_address
from hortense.security.replay import SeenIds
from hortense.settings import get_settings
from tests.services import prefix, redis_url  # noqa: F401  (fixtures)


def _instance(redis_url: str):
    """A Redis client of its own, as another Rasa or web instance would have."""
    import redis

    return redis.Redis.from_url(redis_url)


def _dead_redis():
    """A client whose server is gone (nothing listens on that port)."""
    import redis

    return redis.Redis(host="127.0.0.1", port=1, socket_timeout=0.2, socket_connect_timeout=0.2)


# --- the rate limiter in memory --------------------------------------------------------------------------

def test_rate_limiter_window():
    now = [0.0]
    limiter = RateLimit("test", 3, 60, clock=lambda: now[0], redis=None)
    assert [limiter.hit("a") for _ in range(3)] == [(True, False)] * 3
    assert limiter.hit("a") == (False, True)
    assert limiter.hit("a") == (False, False)
    assert limiter.hit("b") == (True, False)
    now[0] = 60.0
    assert limiter.hit("a") == (True, False)


def test_recorded_failures_block_until_the_window_has_passed():
    now = [0.0]
    limiter = RateLimit("test", 2, 900, clock=lambda: now[0], redis=None)
    limiter.record("10.0.0.1")
    assert not limiter.blocked("10.0.0.1")
    limiter.record("10.0.0.1")
    assert limiter.blocked("10.0.0.1") and not limiter.blocked("10.0.0.2")
    now[0] = 899.0
    assert limiter.blocked("10.0.0.1")
    now[0] = 900.0
    assert not limiter.blocked("10.0.0.1")
    limiter.record("10.0.0.1"), limiter.record("10.0.0.1")
    limiter.reset()
    assert not limiter.blocked("10.0.0.1")


def test_idle_keys_are_forgotten_when_there_are_too_many():
    now = [0.0]
    limiter = RateLimit("test", 1, 60, clock=lambda: now[0], redis=None)
    limiter.local.max_keys = 3
    for key in "abc":
        limiter.hit(key)
    now[0] = 61.0
    limiter.hit("d")
    assert set(limiter.local._events) == {"d"}


def test_without_redis_configured_everything_stays_in_memory(monkeypatch):
    monkeypatch.delenv("HORTENSE_REDIS_URL", raising=False)
    get_settings.cache_clear()
    assert shared_state.redis_client() is None
    limiter = RateLimit("test", 1, 60)
    assert limiter.hit("a") == (True, False) and limiter.hit("a") == (False, True)
    assert limiter.local.count("a") == 1


# --- the rate limiter in Redis ---------------------------------------------------------------------------

@pytest.mark.redis
def test_redis_window_counts_refuses_and_tells_once(redis_url, prefix):
    limiter = RateLimit("test", 3, 1.0, redis=_instance(redis_url), key_prefix=prefix)
    assert [limiter.hit("a") for _ in range(3)] == [(True, False)] * 3
    assert limiter.hit("a") == (False, True)
    assert limiter.hit("a") == (False, False)
    assert limiter.hit("b") == (True, False)
    assert limiter.local.count("a") == 0  # nothing was counted in memory
    time.sleep(1.1)
    assert limiter.hit("a") == (True, False)
    assert [limiter.hit("a") for _ in range(3)] == [(True, False), (True, False), (False, True)]


@pytest.mark.redis
def test_redis_recorded_failures_block_and_expire(redis_url, prefix):
    limiter = RateLimit("login", 2, 1.0, redis=_instance(redis_url), key_prefix=prefix)
    limiter.record("10.0.0.1")
    assert not limiter.blocked("10.0.0.1")
    limiter.record("10.0.0.1")
    assert limiter.blocked("10.0.0.1") and not limiter.blocked("10.0.0.2")
    time.sleep(1.1)
    assert not limiter.blocked("10.0.0.1")
    limiter.record("10.0.0.1"), limiter.record("10.0.0.1")
    limiter.reset()
    assert not limiter.blocked("10.0.0.1")


@pytest.mark.redis
def test_redis_keys_expire_with_their_window(redis_url, prefix):
    client = _instance(redis_url)
    RateLimit("test", 3, 60, redis=client, key_prefix=prefix).hit("a")
    ttl = client.pttl(f"{prefix}rate:test:a")
    assert 0 < ttl <= 60_000


@pytest.mark.redis
def test_two_instances_share_one_limit(redis_url, prefix):
    first = RateLimit("messages", 3, 60, redis=_instance(redis_url), key_prefix=prefix)
    second = RateLimit("messages", 3, 60, redis=_instance(redis_url), key_prefix=prefix)
    assert first.hit("whatsapp:+33600000001").allowed and second.hit("whatsapp:+33600000001").allowed
    assert first.hit("whatsapp:+33600000001").allowed
    assert second.hit("whatsapp:+33600000001") == (False, True)
    assert first.hit("whatsapp:+33600000001") == (False, False)  # the sender was told once, by either one


@pytest.mark.redis
def test_concurrent_hits_never_exceed_the_limit(redis_url, prefix):
    from concurrent.futures import ThreadPoolExecutor

    limiters = [RateLimit("flood", 25, 60, redis=_instance(redis_url), key_prefix=prefix) for _ in range(4)]
    with ThreadPoolExecutor(8) as pool:
        verdicts = list(pool.map(lambda i: limiters[i % 4].hit("sender"), range(100)))
    assert sum(v.allowed for v in verdicts) == 25
    assert sum(v.first_refusal for v in verdicts) == 1


@pytest.mark.redis
def test_the_configured_redis_is_used(redis_url, monkeypatch):
    monkeypatch.setenv("HORTENSE_REDIS_URL", redis_url)
    get_settings.cache_clear()
    name = f"configured-{uuid.uuid4().hex[:8]}"
    limiter = RateLimit(name, 1, 60)
    assert limiter.hit("a").allowed
    client = shared_state.redis_client()
    assert client is not None and client.exists(f"hortense:rate:{name}:a") == 1
    assert RateLimit(name, 1, 60).hit("a") == (False, True)  # a new instance (or a restart) still counts it
    client.delete(f"hortense:rate:{name}:a", f"hortense:rate:{name}:a:told")


@pytest.mark.redis
def test_guards_of_two_instances_share_the_sender_limit(redis_url, monkeypatch):
    monkeypatch.setenv("HORTENSE_REDIS_URL", redis_url)
    get_settings.cache_clear()
    sender = f"whatsapp:+336{uuid.uuid4().int % 10**8:08d}"
    first, second = g.ConnectorGuard("whatsapp", per_minute=2), g.ConnectorGuard("whatsapp", per_minute=2)
    out = CollectingOutputChannel()
    admitted = [asyncio.run(guard.admit(sender, "bonjour", out, None)) for guard in (first, second, first, second)]
    assert admitted == ["bonjour", "bonjour", None, None]
    assert [m["text"] for m in out.messages] == [g.RATE_LIMITED_TEXT]
    key = f"hortense:rate:messages:whatsapp:{sender}"
    shared_state.redis_client().delete(key, f"{key}:told")


def test_a_dead_redis_falls_back_to_memory(caplog):
    limiter = RateLimit("test", 2, 60, redis=_dead_redis())
    with caplog.at_level(logging.WARNING, logger="hortense.security.shared_state"):
        verdicts = [limiter.hit("a") for _ in range(3)]
        limiter.record("b"), limiter.record("b")
        assert limiter.blocked("b")
    assert verdicts == [(True, False), (True, False), (False, True)]
    assert "Redis unavailable" in caplog.text


@pytest.mark.redis
def test_visitor_guards_of_two_instances_share_the_address_limit(redis_url, monkeypatch):
    """A visitor reconnecting to the other instance, under a new conversation, is still the same address."""
    monkeypatch.setenv("HORTENSE_REDIS_URL", redis_url)
    get_settings.cache_clear()
    address = f"198.51.100.{uuid.uuid4().int % 250}"
    first, second = (g.ConnectorGuard("web", per_minute=5, per_address=3, visitors_per_minute=1000) for _ in range(2))
    out = CollectingOutputChannel()
    admitted = [asyncio.run(guard.admit(f"visitor-{uuid.uuid4().hex}", "bonjour", out, None, address=address,
                                        visitor=True)) for guard in (first, second, first, second)]
    assert admitted == ["bonjour", "bonjour", "bonjour", None]
    assert [m["text"] for m in out.messages] == [g.RATE_LIMITED_TEXT]
    for limiter in (first.limiter, first.address_limiter, first.visitors_limiter, first.told):
        limiter.reset()


# --- growing delays -------------------------------------------------------------------------------------

def test_backoff_doubles_after_the_free_failures_up_to_the_cap():
    now = [0.0]
    backoff = Backoff("test", free=2, base=1, cap=10, forget=3600, clock=lambda: now[0], redis=None)
    assert [backoff.fail("k") for _ in range(7)] == [0, 0, 1, 2, 4, 8, 10]
    assert backoff.wait("k") == 10 and backoff.wait("other") == 0
    now[0] = 7.5
    assert backoff.wait("k") == 2.5
    backoff.clear("k")
    assert backoff.wait("k") == 0 and backoff.fail("k") == 0  # a success starts again from zero


def test_backoff_forgets_failures_after_a_quiet_while():
    now = [0.0]
    backoff = Backoff("test", free=1, forget=60, clock=lambda: now[0], redis=None)
    backoff.fail("k"), backoff.fail("k"), backoff.fail("k")
    assert backoff.wait("k") == 2
    now[0] = 60.0
    assert backoff.wait("k") == 0 and backoff.fail("k") == 0


@pytest.mark.redis
def test_redis_backoff_is_shared_by_two_instances_and_expires(redis_url, prefix):
    client = _instance(redis_url)
    first = Backoff("login", free=1, base=1, cap=60, forget=30, redis=client, key_prefix=prefix)
    second = Backoff("login", free=1, base=1, cap=60, forget=30, redis=_instance(redis_url), key_prefix=prefix)
    assert first.fail("acct|10.0.0.1") == 0
    assert second.fail("acct|10.0.0.1") == 1
    assert 0.5 < first.wait("acct|10.0.0.1") <= 1 and second.wait("acct|10.0.0.2") == 0
    assert first.local.peek("acct|10.0.0.1")[0] == 0  # nothing was counted in memory
    assert 0 < client.pttl(f"{prefix}backoff:login:acct|10.0.0.1") <= 30_000
    second.clear("acct|10.0.0.1")
    assert first.wait("acct|10.0.0.1") == 0
    first.fail("x"), first.fail("x")
    first.reset()
    assert second.wait("x") == 0


def test_a_dead_redis_backoff_falls_back_to_memory():
    backoff = Backoff("test", free=0, redis=_dead_redis())
    assert backoff.fail("k") == 1 and backoff.wait("k") > 0


# --- client addresses -----------------------------------------------------------------------------------

def test_client_addresses_trust_forwarded_only_through_sanic_and_group_ipv6_by_prefix():
    from types import SimpleNamespace as Req

    assert client_address(Req(remote_addr="", ip="203.0.113.5")) == "203.0.113.5"
    assert client_address(Req(remote_addr="198.51.100.7", ip="127.0.0.1")) == "198.51.100.7"  # proxies trusted
    assert client_address(Req(remote_addr="[2001:db8:1:2::5]", ip="::1")) == "2001:db8:1:2::/64"
    assert client_address(Req(remote_addr="", ip="2001:db8:1:2:aaaa::9")) == "2001:db8:1:2::/64"
    assert client_address(Req(remote_addr="", ip="::ffff:203.0.113.5")) == "203.0.113.5"
    assert client_address(Req(remote_addr="", ip="")) == "unknown"
    assert client_address(Req(remote_addr="", ip="unix-socket")) == "unix-socket"


# --- webhook replays ------------------------------------------------------------------------------------

def test_seen_ids_handle_a_delivery_once():
    seen = SeenIds("test", size=2, redis=None)
    assert seen.first_time("a") and not seen.first_time("a")
    assert seen.first_time(None) and seen.first_time(None)
    seen.first_time("b"), seen.first_time("c")
    assert seen.first_time("a")  # forgotten beyond the size


@pytest.mark.redis
def test_a_replay_on_another_instance_or_after_a_restart_is_refused(redis_url, prefix):
    first = SeenIds("whatsapp", redis=_instance(redis_url), key_prefix=prefix)
    assert first.first_time("SM0001") and not first.first_time("SM0001")
    other = SeenIds("whatsapp", redis=_instance(redis_url), key_prefix=prefix)
    assert not other.first_time("SM0001")
    assert other.first_time("SM0002") and not first.first_time("SM0002")
    assert SeenIds("telegram", redis=_instance(redis_url), key_prefix=prefix).first_time("SM0001")
    assert other.first_time(None) and other.first_time("")


@pytest.mark.redis
def test_seen_ids_expire_in_redis(redis_url, prefix):
    client = _instance(redis_url)
    seen = SeenIds("messenger", redis=client, key_prefix=prefix, ttl=1)
    assert seen.first_time("m_1")
    assert 0 < client.ttl(f"{prefix}seen:messenger:m_1") <= 1
    time.sleep(1.1)
    assert seen.first_time("m_1")


@pytest.mark.redis
def test_replays_use_the_configured_redis(redis_url, monkeypatch):
    monkeypatch.setenv("HORTENSE_REDIS_URL", redis_url)
    get_settings.cache_clear()
    message_id = f"SM{uuid.uuid4().hex}"
    assert SeenIds("whatsapp").first_time(message_id)
    assert not SeenIds("whatsapp").first_time(message_id)
    shared_state.redis_client().delete(f"hortense:seen:whatsapp:{message_id}")


def test_replays_fall_back_to_memory_when_redis_is_down():
    seen = SeenIds("test", redis=_dead_redis())
    assert seen.first_time("a") and not seen.first_time("a")
