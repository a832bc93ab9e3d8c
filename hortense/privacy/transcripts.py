"""Conversations in Rasa's SQL tracker store (`events` table), read and deleted without Rasa.

The same plain SQL works on SQLite and PostgreSQL. Rasa (3.6, `SQLTrackerStore._event_query`) loads a
conversation's events whose timestamp is at or after its latest `session_started`, and finds the events it has
not stored yet by counting those rows; so the retention never deletes one of them while the conversation is alive
(Rasa would store events twice): it deletes old rows timed before the latest `session_started` of their
conversation (rows Rasa neither loads nor counts), and whole conversations whose last event is older than the
cut-off.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, text

from hortense import clock
from hortense.conversations import store
from hortense.conversations.store import TrackerUnavailable

__all__ = ["ExportedMessage", "TrackerUnavailable", "delete_conversations", "delete_older_than", "messages"]

_MESSAGES = text(
    "SELECT sender_id, type_name, timestamp, data FROM events WHERE sender_id IN :senders "
    "AND type_name IN ('user', 'bot') ORDER BY sender_id, id"
).bindparams(bindparam("senders", expanding=True))

_DELETE_SENDERS = text("DELETE FROM events WHERE sender_id IN :senders").bindparams(
    bindparam("senders", expanding=True)
)

# Rows older than the cut-off that are either timed before the latest session start of their conversation, or in
# a conversation that has nothing newer than the cut-off at all.
_DELETE_OLD = text(
    "DELETE FROM events WHERE timestamp < :cutoff AND ("
    " timestamp < (SELECT MAX(s.timestamp) FROM events s"
    "  WHERE s.sender_id = events.sender_id AND s.type_name = 'session_started')"
    " OR NOT EXISTS (SELECT 1 FROM events n WHERE n.sender_id = events.sender_id AND n.timestamp >= :cutoff))"
)
_COUNT_OLD_SENDERS = text(
    "SELECT COUNT(DISTINCT sender_id) FROM events WHERE timestamp < :cutoff AND ("
    " timestamp < (SELECT MAX(s.timestamp) FROM events s"
    "  WHERE s.sender_id = events.sender_id AND s.type_name = 'session_started')"
    " OR NOT EXISTS (SELECT 1 FROM events n WHERE n.sender_id = events.sender_id AND n.timestamp >= :cutoff))"
)


@dataclass(frozen=True)
class ExportedMessage:
    conversation_id: str
    speaker: str  # 'client' or 'hortense'
    text: str
    at: datetime | None
    channel: str | None

    def as_json(self) -> dict:
        return {
            "de": self.speaker,
            "texte": self.text,
            "date": self.at.isoformat() if self.at else None,
            "canal": self.channel,
        }


def messages(url: str, senders: Iterable[str]) -> list[ExportedMessage]:
    """Every user and bot message of these conversations (as stored: already redacted), in order."""
    wanted = sorted(set(senders))
    if not wanted:
        return []
    try:
        with store.engine(url).connect() as conn:
            rows = conn.execute(_MESSAGES, {"senders": wanted}).all()
    except Exception as exc:
        raise TrackerUnavailable(str(exc)) from exc
    out = []
    for sender_id, type_name, ts, data in rows:
        try:
            event = json.loads(data) if data else {}
        except ValueError:
            event = {}
        if not isinstance(event, dict) or not event.get("text"):
            continue
        at = datetime.fromtimestamp(float(ts), clock.local_zone()) if ts is not None else None
        channel = event.get("input_channel") if type_name == "user" else None
        out.append(
            ExportedMessage(sender_id, "client" if type_name == "user" else "hortense", str(event["text"]), at, channel)
        )
    return out


def delete_conversations(url: str, senders: Iterable[str]) -> int:
    """Delete every event of these conversations; returns the number of rows deleted."""
    wanted = sorted(set(senders))
    if not wanted:
        return 0
    try:
        with store.engine(url).begin() as conn:
            return int(conn.execute(_DELETE_SENDERS, {"senders": wanted}).rowcount or 0)
    except Exception as exc:
        raise TrackerUnavailable(str(exc)) from exc


def delete_older_than(url: str, cutoff: datetime) -> tuple[int, int]:
    """Delete the events older than `cutoff` that Rasa no longer needs; returns (events, conversations)."""
    params = {"cutoff": cutoff.timestamp()}
    try:
        with store.engine(url).begin() as conn:
            conversations = int(conn.execute(_COUNT_OLD_SENDERS, params).scalar() or 0)
            events = int(conn.execute(_DELETE_OLD, params).rowcount or 0)
    except Exception as exc:
        raise TrackerUnavailable(str(exc)) from exc
    return events, conversations
