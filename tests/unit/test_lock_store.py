"""The Redis lock store against a real Redis (HORTENSE_TEST_REDIS_URL): atomic tickets under concurrent
issuers in several processes, mutual exclusion and order, lifetime, keep-alive, release.

Without HORTENSE_TEST_REDIS_URL these tests skip, except under CI=true where they fail. The configuration
tests at the bottom need no Redis.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid
from pathlib import Path

import pytest
import yaml

from hortense.rasa import lock_store as ls
from hortense.rasa.lock_store import AtomicRedisLockStore
from hortense.settings import get_settings
from tests.services import prefix, redis_url  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]


def _store(url: str, prefix: str, **kwargs) -> AtomicRedisLockStore:
    return AtomicRedisLockStore(url=url, key_prefix=prefix, **kwargs)


def _issue_many(url: str, prefix: str, conversation: str, count: int, start, out) -> None:
    store = _store(url, prefix)  # each process is its own "Rasa instance" with its own connection
    start.wait()
    out.put([store.issue_ticket(conversation, 60) for _ in range(count)])


# --- atomicity -------------------------------------------------------------------------------------------

@pytest.mark.redis
def test_concurrent_issuers_in_several_processes_never_share_a_ticket(redis_url, prefix):
    processes, per_process = 4, 150
    ctx = multiprocessing.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    workers = [ctx.Process(target=_issue_many, args=(redis_url, prefix, "conv-1", per_process, start, out))
               for _ in range(processes)]
    for w in workers:
        w.start()
    start.set()
    tickets = [t for _ in workers for t in out.get(timeout=60)]
    for w in workers:
        w.join(timeout=30)
    assert len(tickets) == processes * per_process
    assert sorted(tickets) == list(range(1, processes * per_process + 1))  # unique and gap-free
    lock = _store(redis_url, prefix).get_lock("conv-1")
    assert [t.number for t in lock.tickets] == list(range(1, processes * per_process + 1))


@pytest.mark.redis
def test_rasa_stock_redis_lock_store_can_issue_the_same_ticket_twice(redis_url, prefix):
    """Why this module exists: Rasa's RedisLockStore reads, increments in Python, then writes. Two instances
    interleaved between the read and the write (shown here step by step) get the same number."""
    from urllib.parse import urlsplit

    from rasa.core.lock_store import RedisLockStore

    parts = urlsplit(redis_url)
    db = int((parts.path or "/0").strip("/") or 0)
    stock_a = RedisLockStore(host=parts.hostname, port=parts.port or 6379, db=db, password=parts.password)
    stock_b = RedisLockStore(host=parts.hostname, port=parts.port or 6379, db=db, password=parts.password)
    conversation = f"{prefix}stock"
    try:
        lock_a = stock_a.get_or_create_lock(conversation)  # instance A reads
        lock_b = stock_b.get_or_create_lock(conversation)  # instance B reads the same state
        ticket_a = lock_a.issue_ticket(60)
        stock_a.save_lock(lock_a)
        ticket_b = lock_b.issue_ticket(60)
        stock_b.save_lock(lock_b)  # overwrites A's ticket
        assert ticket_a == ticket_b == 0
        assert len(stock_a.get_lock(conversation).tickets) == 1  # A's ticket is lost
    finally:
        stock_a.delete_lock(conversation)

    ours_a, ours_b = _store(redis_url, prefix), _store(redis_url, prefix)
    assert ours_a.issue_ticket("c") != ours_b.issue_ticket("c")  # one atomic step: nothing to interleave


# --- mutual exclusion and order ---------------------------------------------------------------------------

async def _run_turns(stores: list[AtomicRedisLockStore], conversation: str, turns: int, hold: float) -> list:
    log: list[tuple[str, int]] = []

    async def turn(i: int) -> None:
        store = stores[i % len(stores)]
        async with store.lock(conversation):
            log.append(("enter", i))
            await asyncio.sleep(hold)
            log.append(("exit", i))

    tasks = []
    for i in range(turns):
        tasks.append(asyncio.ensure_future(turn(i)))
        await asyncio.sleep(0.003)  # tickets are taken in this order
    await asyncio.gather(*tasks)
    return log


@pytest.mark.redis
def test_turns_of_one_conversation_never_overlap_and_keep_their_order(redis_url, prefix):
    stores = [_store(redis_url, prefix), _store(redis_url, prefix)]  # two "instances"
    log = asyncio.run(_run_turns(stores, "conv-order", turns=12, hold=0.02))
    assert len(log) == 24
    for k in range(0, 24, 2):  # enter i, exit i, enter i+1, exit i+1...
        assert log[k][0] == "enter" and log[k + 1] == ("exit", log[k][1])
    assert [i for kind, i in log if kind == "enter"] == list(range(12))


@pytest.mark.redis
def test_release_deletes_the_record_and_numbers_are_never_reused(redis_url, prefix):
    import redis

    store = _store(redis_url, prefix)
    client = redis.Redis.from_url(redis_url)

    async def one() -> None:
        async with store.lock("conv-release"):
            assert client.exists(f"{prefix}conv-release") == 1

    asyncio.run(one())
    assert client.exists(f"{prefix}conv-release") == 0
    assert store.get_lock("conv-release") is None
    assert not store.is_someone_waiting("conv-release")
    assert int(client.get(f"{prefix}conv-release:counter")) == 1
    assert client.ttl(f"{prefix}conv-release:counter") > 3600
    assert store.issue_ticket("conv-release") == 2


@pytest.mark.redis
def test_release_happens_even_when_the_turn_fails(redis_url, prefix):
    store = _store(redis_url, prefix)

    async def failing() -> None:
        async with store.lock("conv-fail"):
            raise RuntimeError("action crashed")

    with pytest.raises(RuntimeError):
        asyncio.run(failing())
    assert store.get_lock("conv-fail") is None


# --- lifetime ---------------------------------------------------------------------------------------------

@pytest.mark.redis
def test_a_dead_holders_ticket_expires_after_its_lifetime(redis_url, prefix):
    """An instance that dies holding a ticket blocks its conversation for the lifetime, not forever."""
    dead = _store(redis_url, prefix)
    dead.issue_ticket("conv-dead", lock_lifetime=0.4)  # issued, then never refreshed nor released
    alive = _store(redis_url, prefix)

    async def wait_behind() -> float:
        started = time.monotonic()
        async with alive.lock("conv-dead", lock_lifetime=5):
            return time.monotonic() - started

    waited = asyncio.run(wait_behind())
    assert 0.25 <= waited < 2.0


@pytest.mark.redis
def test_a_live_holder_keeps_its_lock_longer_than_the_lifetime(redis_url, prefix):
    """Tickets are refreshed while their process lives: a turn slower than the lifetime stays exclusive."""
    stores = [_store(redis_url, prefix, lock_lifetime=0.3), _store(redis_url, prefix, lock_lifetime=0.3)]
    log = asyncio.run(_run_turns(stores, "conv-slow", turns=3, hold=0.8))
    assert [kind for kind, _ in log] == ["enter", "exit"] * 3
    assert [i for kind, i in log if kind == "enter"] == [0, 1, 2]


@pytest.mark.redis
def test_an_expired_waiting_ticket_raises_a_lock_error(redis_url, prefix):
    from rasa.core.lock_store import LockError

    store = _store(redis_url, prefix)
    holder = store.issue_ticket("conv-exp", lock_lifetime=30)
    mine = store.issue_ticket("conv-exp", lock_lifetime=0.2)
    time.sleep(0.35)
    assert store.try_acquire("conv-exp", mine) == (-1, 0)
    assert store.try_acquire("conv-exp", holder) == (1, 0)
    with pytest.raises(LockError):
        asyncio.run(store._wait_for_turn("conv-exp", mine, 0.01))


@pytest.mark.redis
def test_ticket_expiry_follows_the_redis_clock_and_the_key_expires_too(redis_url, prefix):
    import redis

    store = _store(redis_url, prefix)
    store.issue_ticket("conv-ttl", lock_lifetime=10)
    ttl_ms = redis.Redis.from_url(redis_url).pttl(f"{prefix}conv-ttl")
    assert 8000 < ttl_ms <= 10000
    lock = store.get_lock("conv-ttl")
    assert 8 < lock.tickets[0].expires - time.time() <= 10.5


@pytest.mark.redis
def test_rasa_base_class_api_still_works(redis_url, prefix):
    """save_lock / get_or_create_lock / update_lock (Rasa's API) keep the counter ahead of saved tickets."""
    store = _store(redis_url, prefix)
    lock = store.get_or_create_lock("conv-api")
    assert not lock.tickets
    lock.issue_ticket(30)
    lock.issue_ticket(30)
    store.save_lock(lock)
    assert [t.number for t in store.get_lock("conv-api").tickets] == [0, 1]
    assert store.issue_ticket("conv-api") == 2
    store.update_lock("conv-api")
    store.finish_serving("conv-api", 0)
    assert [t.number for t in store.get_lock("conv-api").tickets] == [1, 2]
    store.delete_lock("conv-api")
    assert store.get_lock("conv-api") is None
    assert store.ping()


@pytest.mark.redis
def test_created_by_rasa_from_an_endpoint_config(redis_url, prefix):
    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import EndpointConfig

    config = EndpointConfig(url=redis_url, type="hortense.rasa.lock_store.AtomicRedisLockStore", key_prefix=prefix,
                            lock_lifetime=90)
    store = LockStore.create(config)
    assert isinstance(store, AtomicRedisLockStore)
    assert store.lifetime == 90 and store.key_prefix == prefix
    assert store.issue_ticket("conv-ep") == 1


# --- configuration (no Redis needed) ----------------------------------------------------------------------

class _FakeClient:
    def register_script(self, _source):
        return lambda **_: None


def test_lifetime_comes_from_hortense_then_rasa_env_then_default(monkeypatch):
    def setenv(name: str, value: str | None) -> None:  # settings are read once per process: re-read them
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    setenv("HORTENSE_LOCK_LIFETIME", None)
    setenv("TICKET_LOCK_LIFETIME", None)
    assert AtomicRedisLockStore(client=_FakeClient()).lifetime == 120
    setenv("TICKET_LOCK_LIFETIME", "200")
    assert AtomicRedisLockStore(client=_FakeClient()).lifetime == 200
    setenv("HORTENSE_LOCK_LIFETIME", "150")
    assert AtomicRedisLockStore(client=_FakeClient()).lifetime == 150
    setenv("HORTENSE_LOCK_LIFETIME", "nonsense")
    assert AtomicRedisLockStore(client=_FakeClient()).lifetime == 200
    assert AtomicRedisLockStore(client=_FakeClient(), lock_lifetime=30).lifetime == 30
    assert ls.DEFAULT_LOCK_LIFETIME_SECONDS > 60  # longer than Rasa's 60 s default


def test_the_production_endpoints_use_this_lock_store_and_a_postgres_tracker_store():
    import rasa.shared.utils.common

    endpoints = yaml.safe_load((ROOT / "deploy" / "endpoints.production.yml").read_text())
    lock_type = endpoints["lock_store"]["type"]
    assert rasa.shared.utils.common.class_from_module_path(lock_type) is AtomicRedisLockStore
    assert endpoints["tracker_store"]["type"] == "hortense.rasa.tracker_store.RedactingSQLTrackerStore"
    assert endpoints["tracker_store"]["dialect"] == "postgresql"
    assert endpoints["action_endpoint"]["token"] == "${HORTENSE_ACTION_SERVER_TOKEN}"


def test_the_helm_values_render_the_same_endpoints_and_close_the_api():
    """deploy/helm/rasa-values.yaml carries endpoints.production.yml verbatim and never enables the HTTP API."""
    values = yaml.safe_load((ROOT / "deploy" / "helm" / "rasa-values.yaml").read_text())
    endpoints = yaml.safe_load((ROOT / "deploy" / "endpoints.production.yml").read_text())
    credentials = yaml.safe_load((ROOT / "deploy" / "credentials.production.yml").read_text())
    settings = values["applicationSettings"]
    assert settings["enableAPI"] is False
    assert settings["endpoints"]["additionalEndpoints"] == endpoints
    assert settings["credentials"]["additionalChannelCredentials"] == credentials
    assert "rest" not in credentials and "--enable-api" not in values["args"]
    assert not any(flag in values["args"] for flag in ("--auth-token", "--jwt-secret"))
    for path in (ROOT / "deploy" / "helm").glob("*values.yaml"):  # no default password anywhere
        for key, value in _walk(yaml.safe_load(path.read_text())):
            if key not in _REFERENCES and any(w in str(key).lower() for w in ("password", "token", "secret", "cookie")):
                assert value in ("", None) or str(value).startswith("${"), (path.name, key, value)


def test_the_production_channels_are_the_development_ones_without_rest():
    dev = yaml.safe_load((ROOT / "credentials.yml").read_text()) or {}
    prod = yaml.safe_load((ROOT / "deploy" / "credentials.production.yml").read_text()) or {}
    assert "rest" not in prod and "socketio" not in prod
    assert set(prod) == set(dev) - {"rest"}


def test_the_network_policy_lets_only_rasa_reach_the_action_server():
    docs = list(yaml.safe_load_all((ROOT / "deploy" / "helm" / "networkpolicy.yaml").read_text()))
    policy = next(d for d in docs if d["spec"]["podSelector"]["matchLabels"].get("app.kubernetes.io/name")
                  == "rasa-action-server")
    to_actions_port = [rule for rule in policy["spec"]["ingress"]
                       if any(p["port"] == 5055 for p in rule["ports"])]
    assert len(to_actions_port) == 1
    assert to_actions_port[0]["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "rasa"}}}]


# Keys that name a secret (a reference), not hold one.
_REFERENCES = {"token_name", "secretName", "existingSecret", "existingPasswordSecret", "certificateSecret"}


def _walk(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, (dict, list)):
                yield from _walk(value, (*path, key))
            else:
                yield key, value
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, path)
