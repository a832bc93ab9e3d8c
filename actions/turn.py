"""What every action needs from a turn, copied out of the tracker so the work can run in a worker thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from hortense.replies import Reply
from hortense.replies.common import link_button

T = TypeVar("T")


@dataclass(frozen=True)
class Turn:
    sender_id: str
    channel: str | None
    metadata: dict
    text: str
    intent: str | None
    entities: tuple[dict, ...]
    slots: dict
    intent_ranking: tuple[dict, ...]
    events: tuple[dict, ...] = field(repr=False, default=())

    @classmethod
    def from_tracker(cls, tracker: Tracker) -> Turn:
        user_event: dict = next((e for e in reversed(tracker.events) if e.get("event") == "user"), {})
        latest = tracker.latest_message or {}
        return cls(
            sender_id=tracker.sender_id,
            channel=user_event.get("input_channel"),
            metadata=user_event.get("metadata") or {},
            text=latest.get("text") or "",
            intent=(latest.get("intent") or {}).get("name"),
            entities=tuple(latest.get("entities") or ()),
            slots=dict(tracker.slots),
            intent_ranking=tuple(latest.get("intent_ranking") or ()),
            events=tuple(tracker.events),
        )

    def entity(self, name: str) -> str | None:
        return next((str(e.get("value")) for e in self.entities if e.get("entity") == name), None)


@dataclass
class Outcome:
    replies: list[Reply] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)


async def off_loop(fn: Callable[..., T], *args: Any) -> T:
    """Database work runs in a worker thread so the action server's event loop keeps serving others."""
    return await asyncio.to_thread(fn, *args)


def send(dispatcher: CollectingDispatcher, replies: Iterable[Reply]) -> None:
    for reply in replies:
        # Links first (a button or a short labelled link on each channel), then the choices.
        buttons = [link_button(link) for link in reply.links] + [
            {"title": b.title, "payload": b.payload} for b in reply.buttons
        ]
        if reply.image:
            dispatcher.utter_message(text=reply.text, buttons=buttons or None, image=reply.image)
        elif reply.custom:
            dispatcher.utter_message(text=reply.text, buttons=buttons or None, json_message=reply.custom)
        else:
            dispatcher.utter_message(text=reply.text, buttons=buttons or None)
