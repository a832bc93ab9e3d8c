"""Prometheus metrics: turns, turn latency, fallbacks, bookings, action latency and errors.

Works with `prometheus-client` installed (requirements: prometheus-client==0.26.0) and is a silent no-op
without it, so no caller needs a guard. Each process has its own registry; expose it either

- on a separate port: `start_metrics_server()` when HORTENSE_METRICS_PORT is set (bound to
  HORTENSE_METRICS_HOST, default 127.0.0.1; 0.0.0.0 in Kubernetes, where a NetworkPolicy lets only
  Prometheus in) — for the Rasa server, whose public port must not serve /metrics;
- or as a route of an internal app (the action server): `body, content_type = metrics_response()`.

Where to call what:
- Rasa process (channels): `with turn_timer(channel) as turn: ...; turn.fallback = <bool>` around the
  call to `on_new_message`, or `record_turn(channel, seconds, fallback=...)`;
- action server: `record_fallback(channel)` in the fallback action, `record_booking(outcome)` where a
  booking is confirmed/cancelled/moved/refused, `with action_timer(name): ...` around each action run,
  `record_error(where)` in exception handlers.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType

from hortense.settings import get_settings

logger = logging.getLogger(__name__)


def _optional_module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:  # pragma: no cover - exercised when the package is absent
        return None


_prom = _optional_module("prometheus_client")  # optional dependency

# Turn latency buckets (seconds): a turn is tens of milliseconds to a few seconds.
TURN_BUCKETS = (0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0)
BOOKING_OUTCOMES = ("booked", "cancelled", "rescheduled", "slot_taken", "failed")

_metrics: dict = {}


def enabled() -> bool:
    return _prom is not None


def _get():
    if _prom is None:
        return None
    if not _metrics:
        _metrics.update(
            turns=_prom.Counter("hortense_turns", "User messages handled", ["channel"]),
            turn_seconds=_prom.Histogram(
                "hortense_turn_seconds", "Time to answer a user message", ["channel"], buckets=TURN_BUCKETS
            ),
            fallbacks=_prom.Counter("hortense_fallbacks", "Turns answered by the fallback", ["channel"]),
            bookings=_prom.Counter("hortense_bookings", "Appointment operations by outcome", ["outcome"]),
            action_seconds=_prom.Histogram(
                "hortense_action_seconds", "Custom action run time", ["action"], buckets=TURN_BUCKETS
            ),
            errors=_prom.Counter("hortense_errors", "Errors by place", ["where"]),
        )
    return _metrics


def record_turn(channel: str, seconds: float, fallback: bool = False) -> None:
    m = _get()
    if m is None:
        return
    m["turns"].labels(channel).inc()
    m["turn_seconds"].labels(channel).observe(max(0.0, seconds))
    if fallback:
        m["fallbacks"].labels(channel).inc()


def record_fallback(channel: str | None) -> None:
    m = _get()
    if m is not None:
        m["fallbacks"].labels(channel or "unknown").inc()


def record_booking(outcome: str) -> None:
    m = _get()
    if m is not None:
        m["bookings"].labels(outcome if outcome in BOOKING_OUTCOMES else "failed").inc()


def record_error(where: str) -> None:
    m = _get()
    if m is not None:
        m["errors"].labels(where).inc()


@dataclass
class _Turn:
    fallback: bool = False


@contextmanager
def turn_timer(channel: str) -> Iterator[_Turn]:
    """Times a turn; set `.fallback = True` on the yielded object when the answer was the fallback."""
    turn = _Turn()
    started = time.perf_counter()
    try:
        yield turn
    except BaseException:
        record_error(f"turn:{channel}")
        raise
    finally:
        record_turn(channel, time.perf_counter() - started, turn.fallback)


@contextmanager
def action_timer(action: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    except BaseException:
        record_error(f"action:{action}")
        raise
    finally:
        m = _get()
        if m is not None:
            m["action_seconds"].labels(action).observe(time.perf_counter() - started)


def metrics_response() -> tuple[bytes, str]:
    """(body, content type) of this process's metrics, for an HTTP route."""
    if _prom is None:
        return b"# prometheus-client is not installed\n", "text/plain; charset=utf-8"
    _get()
    return _prom.generate_latest(), _prom.CONTENT_TYPE_LATEST


_server_started: dict = {}


def start_metrics_server(port: int | None = None, host: str | None = None) -> int | None:
    """Serve /metrics on its own port (a daemon thread) when HORTENSE_METRICS_PORT (or `port`) is set.

    Returns the port, or None when not started (no port configured, or prometheus-client missing). Idempotent.
    """
    if "port" in _server_started:
        return _server_started["port"]
    settings = get_settings()
    port = port if port is not None else settings.metrics_port
    if not port:
        return None
    if _prom is None:
        logger.warning("HORTENSE_METRICS_PORT is set but prometheus-client is not installed: no metrics")
        return None
    _get()
    _prom.start_http_server(port, addr=host or settings.metrics_host)
    _server_started["port"] = port
    logger.info("metrics on port %d (/metrics)", port)
    return port
