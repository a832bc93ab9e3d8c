"""Structured logs (HORTENSE_LOG_FORMAT=json) and the Prometheus metrics helpers (no-ops without the package)."""
from __future__ import annotations

import io
import json
import logging

import pytest

from hortense.ops import logging_setup
from hortense.ops import metrics


@pytest.fixture
def clean_root():
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    root.handlers = []
    yield root
    root.handlers = saved_handlers
    root.setLevel(saved_level)


def test_json_logs_one_object_per_line_with_extra_fields(clean_root, monkeypatch):
    monkeypatch.setenv("HORTENSE_LOG_FORMAT", "json")
    stream = io.StringIO()
    assert logging_setup.configure_logging("actions", stream=stream) == "json"
    log = logging.getLogger("hortense.test")
    log.info("turn done in %d ms", 42, extra={"conversation": "web-C1001"})
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    assert lines[0]["message"] == "turn done in 42 ms"
    assert lines[0]["service"] == "actions" and lines[0]["level"] == "INFO" and lines[0]["logger"] == "hortense.test"
    assert lines[0]["conversation"] == "web-C1001" and lines[0]["ts"].endswith("+00:00")
    assert "ValueError: boom" in lines[1]["exc_info"]


def test_json_replaces_the_formatter_of_handlers_already_installed(clean_root, monkeypatch):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    clean_root.addHandler(handler)  # as Rasa's coloredlogs or Sanic would have done
    logging_setup.configure_logging("rasa", fmt="json")
    logging.getLogger("rasa.core").warning("hello")
    assert json.loads(stream.getvalue().strip())["message"] == "hello"


def test_text_is_the_default(clean_root, monkeypatch):
    monkeypatch.delenv("HORTENSE_LOG_FORMAT", raising=False)
    stream = io.StringIO()
    assert logging_setup.configure_logging("web", stream=stream) == "text"
    logging.getLogger("x").info("plain")
    assert "INFO" in stream.getvalue() and "plain" in stream.getvalue() and not stream.getvalue().startswith("{")


def test_metrics_calls_never_fail_and_expose_text():
    metrics.record_turn("web", 0.05, fallback=True)
    metrics.record_booking("booked")
    metrics.record_booking("nonsense")
    metrics.record_fallback(None)
    with metrics.turn_timer("web") as turn:
        turn.fallback = False
    with metrics.action_timer("action_pdl"):
        pass
    with pytest.raises(RuntimeError), metrics.action_timer("action_boom"):
        raise RuntimeError("x")
    body, content_type = metrics.metrics_response()
    assert content_type.startswith("text/plain")
    if metrics.enabled():
        text = body.decode()
        assert 'hortense_turns_total{channel="web"}' in text
        assert 'hortense_bookings_total{outcome="booked"}' in text
        assert 'hortense_errors_total{where="action:action_boom"}' in text
        assert "hortense_turn_seconds_bucket" in text
    else:
        assert b"not installed" in body


def test_no_metrics_server_without_a_port(monkeypatch):
    monkeypatch.delenv("HORTENSE_METRICS_PORT", raising=False)
    assert metrics.start_metrics_server() is None
