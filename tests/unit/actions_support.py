"""Run real actions against a real (seeded SQLite) database with hand-built trackers."""
from __future__ import annotations

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from hortense.security.identity import sign_assertion


def user_event(text: str, intent: str, customer: str | None = "C1001", *, sender: str | None = None,
               channel: str = "web", assertion: dict | None = None, signed: bool = True,
               entities: tuple = (), ranking: tuple = ()) -> dict:
    sender = sender or (f"web-{customer}" if customer else "visitor-x")
    metadata = {}
    if assertion is not None:
        metadata = {"hortense_identity": assertion}
    elif signed:
        metadata = {"hortense_identity": sign_assertion(channel, sender, customer)}
    return {"event": "user", "text": text, "input_channel": channel, "metadata": metadata,
            "parse_data": {"text": text, "intent": {"name": intent, "confidence": 1.0},
                           "entities": list(entities), "intent_ranking": list(ranking)}}


def tracker(text: str, intent: str, customer: str | None = "C1001", *, slots: dict | None = None,
            before: tuple = (), sender: str | None = None, **kwargs) -> Tracker:
    event = user_event(text, intent, customer, sender=sender, **kwargs)
    latest = {"text": text, **event["parse_data"]}
    sender_id = sender or (f"web-{customer}" if customer else "visitor-x")
    return Tracker(sender_id, dict(slots or {}), latest, [*before, event], False, None, {}, "action_listen")


def bot_event(text: str, buttons: list[dict] | None = None) -> dict:
    return {"event": "bot", "text": text, "data": {"buttons": buttons or []}}


def run(action, t: Tracker) -> tuple[list[dict], list[dict]]:
    """Returns (messages sent, events returned)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, {}))
    return dispatcher.messages, events


def text_of(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in messages).replace("\u00a0", " ")
