"""Reading Rasa's SQL tracker store (the `events` table of `RedactingSQLTrackerStore`) without Rasa.

SQLite by default (HORTENSE_TRACKER_DB), PostgreSQL in production (HORTENSE_TRACKER_URL): plain SQL on the
table's own columns (sender_id, type_name, timestamp, intent_name, action_name, data) works on both. Texts are
as the store keeps them, already redacted. The review inbox and the analytics read customer messages through
`customer_messages`, which tells for each one what Hortense understood and how it answered.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from hortense import clock

logger = logging.getLogger(__name__)

FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE_INTENT = "out_of_scope"
# The actions that answer "I did not understand" (ours first; Rasa's defaults in case a rule falls through).
FALLBACK_ACTIONS = frozenset({"action_hortense_fallback", "action_default_fallback", "action_two_stage_fallback"})
_LISTEN = "action_listen"
MAX_EVENTS = 200_000  # a safety net for one page's query
ANSWER_GRACE_SECONDS = 600


class TrackerUnavailable(Exception):
    """The tracker store cannot be read (not configured, missing file or table, database down)."""


_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def engine(url: str) -> Engine:
    with _lock:
        if url not in _engines:
            args = {"check_same_thread": False} if url.startswith("sqlite") else {}
            _engines[url] = create_engine(url, future=True, connect_args=args, pool_pre_ping=True)
        return _engines[url]


def reset_engines() -> None:
    with _lock:
        for e in _engines.values():
            e.dispose()
        _engines.clear()


@dataclass(frozen=True)
class CustomerMessage:
    """One user event and what followed it, up to the next user event of the conversation."""

    event_id: int
    sender_id: str
    ts: float
    text: str
    intent: str | None
    confidence: float | None
    predicted: str | None  # the likeliest real intent (under nlu_fallback, the first of the ranking)
    channel: str
    fallback: bool  # nlu_fallback, or answered by a fallback action
    answered_ts: float | None  # the first bot message after it

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.ts, clock.local_zone())

    @property
    def is_button(self) -> bool:
        """A button payload ('/ask_pdl{...}'), not something the customer wrote."""
        return self.text.startswith("/")

    @property
    def answer_seconds(self) -> float | None:
        return None if self.answered_ts is None else max(0.0, self.answered_ts - self.ts)


@dataclass(frozen=True)
class Line:
    speaker: str  # 'user' or 'bot'
    text: str
    ts: float | None  # None: the store kept no time for it

    @property
    def at(self) -> datetime | None:
        return None if self.ts is None else datetime.fromtimestamp(self.ts, clock.local_zone())


def _load(data: Any) -> dict:
    try:
        value = json.loads(data) if data else {}
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _rows(url: str, sql: str, params: dict) -> list:
    try:
        with engine(url).connect() as conn:
            return list(conn.execute(text(sql), params).all())
    except Exception as exc:  # a missing file or table, a database down: the page says so
        logger.warning("tracker store unreadable: %s", exc)
        raise TrackerUnavailable(str(exc)) from exc


def customer_messages(url: str, since: float | None = None, until: float | None = None) -> list[CustomerMessage]:
    """Customer messages with timestamp in [since, until), oldest first, each with its fallback flag and the
    time of Hortense's first answer (read from the events that follow it, even after `until`)."""
    where = ["type_name IN ('user', 'bot', 'action')"]
    params: dict[str, float] = {"limit": MAX_EVENTS}
    if since is not None:
        where.append("timestamp >= :since")
        params["since"] = since
    if until is not None:  # the answers to the window's last messages come a little after it
        where.append("timestamp < :until")
        params["until"] = until + ANSWER_GRACE_SECONDS
    rows = _rows(
        url,
        f"SELECT id, sender_id, type_name, timestamp, intent_name, action_name, data FROM events "
        f"WHERE {' AND '.join(where)} ORDER BY sender_id, id LIMIT :limit",
        params,
    )
    messages: list[CustomerMessage] = []
    current: dict[str, Any] | None = None

    def close() -> None:
        if current is not None:
            messages.append(CustomerMessage(**current))

    for event_id, sender_id, type_name, ts, intent_name, action_name, data in rows:
        if current is not None and current["sender_id"] != sender_id:
            close()
            current = None
        if type_name == "user":
            close()
            current = None
            if ts is None or (until is not None and float(ts) >= until):
                continue
            event = _load(data)
            parse = event.get("parse_data") or {}
            intent = parse.get("intent") or {}
            name = intent_name or intent.get("name")
            confidence = intent.get("confidence")
            ranking = [r.get("name") for r in parse.get("intent_ranking") or [] if isinstance(r, dict)]
            predicted = (
                next((r for r in ranking if r and r != FALLBACK_INTENT), None) if name == FALLBACK_INTENT else name
            )
            current = dict(
                event_id=event_id,
                sender_id=sender_id,
                ts=float(ts),
                text=str(event.get("text") or ""),
                intent=name,
                confidence=float(confidence) if isinstance(confidence, int | float) else None,
                predicted=predicted,
                channel=str(event.get("input_channel") or "inconnu"),
                fallback=name == FALLBACK_INTENT,
                answered_ts=None,
            )
        elif current is not None and type_name == "action" and action_name in FALLBACK_ACTIONS:
            current["fallback"] = True
        elif current is not None and type_name == "bot" and current["answered_ts"] is None and ts is not None:
            current["answered_ts"] = float(ts)
    close()
    messages.sort(key=lambda m: (m.ts, m.event_id))
    return messages


def lines_around(url: str, sender_id: str, event_id: int, before: int = 4, after: int = 4) -> list[Line]:
    """User and bot messages of one conversation around one event (the event itself included)."""
    params = {"sender": sender_id, "event": event_id, "before": before + 1, "after": after}
    base = (
        "SELECT id, type_name, timestamp, data FROM events WHERE sender_id = :sender AND type_name IN ('user', 'bot')"
    )
    earlier = _rows(url, f"{base} AND id <= :event ORDER BY id DESC LIMIT :before", params)
    later = _rows(url, f"{base} AND id > :event ORDER BY id LIMIT :after", params)
    lines = []
    for _, type_name, ts, data in [*reversed(earlier), *later]:
        message = _load(data).get("text")
        if message:
            lines.append(Line(type_name, str(message), float(ts or 0)))
    return lines


def transcript(url: str, sender_id: str, limit: int) -> list[Line]:
    """The last `limit` user and bot messages of one conversation, oldest first (the console's transcript)."""
    rows = _rows(
        url,
        "SELECT type_name, timestamp, data FROM events WHERE sender_id = :sender "
        "AND type_name IN ('user', 'bot') ORDER BY id DESC LIMIT :limit",
        {"sender": sender_id, "limit": limit},
    )
    lines = []
    for type_name, ts, data in reversed(rows):
        message = _load(data).get("text")
        if message:
            lines.append(Line(type_name, str(message), None if ts is None else float(ts)))
    return lines
