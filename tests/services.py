"""The real servers some tests need, named by HORTENSE_TEST_REDIS_URL and HORTENSE_TEST_POSTGRES_URL.

A test that needs one is skipped when it is not configured, except under CI=true, where that fails the run:
CI must never pass by skipping the tests that exercise Redis or PostgreSQL. Import the fixtures by name
(`from tests.services import prefix, redis_url`).
"""
from __future__ import annotations

import os
import uuid

import pytest


def missing_service(why: str) -> None:
    """Skip on a developer's machine; fail under CI=true, where every service a test needs is installed."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{why}: CI must run the tests that need it")
    pytest.skip(why)


def service_url(variable: str) -> str:
    url = os.environ.get(variable)
    if not url:
        missing_service(f"{variable} is not set")
    return url


@pytest.fixture
def redis_url() -> str:
    return service_url("HORTENSE_TEST_REDIS_URL")


@pytest.fixture
def prefix(redis_url):
    """A Redis key prefix of this test only; its keys are deleted afterwards."""
    import redis

    value = f"test:{uuid.uuid4().hex[:10]}:"
    yield value
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{value}*"))
    if keys:
        client.delete(*keys)
