"""Facebook Messenger: a webhook checked with `X-Hub-Signature-256`, answers sent with the Send API.

Differences from Rasa's stock `facebook` channel, each on purpose:
- the signature is HMAC-SHA256 of the raw body with the app secret, compared in constant time (the stock
  channel checks the SHA-1 header with `==`); no app secret configured means every call gets 403;
- every messaging event of a batched delivery is handled, not only the first;
- echoes of our own messages, delivery and read receipts are ignored; a retried event (same mid) once;
- choices are quick replies (13 at most, titles cut to 20 characters), else numbered lines;
- the Graph API base URL is configurable, so tests talk to a local fake.
The GET handshake answers `hub.challenge` only for the configured verify token.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.common import post
from channels.messaging import Incoming, MessagingInput, MessagingOutput

logger = logging.getLogger(__name__)

CHANNEL = "messenger"
DEFAULT_API_BASE = "https://graph.facebook.com/v19.0"
SIGNATURE_HEADER = "X-Hub-Signature-256"
MAX_TEXT_CHARS = 2000
MAX_QUICK_REPLIES = 13
MAX_TITLE_CHARS = 20
MAX_SENDER_CHARS = 64


def sender_for(psid: Any) -> str:
    return f"{CHANNEL}:{psid}"


def psid_of(sender_id: str) -> str:
    return sender_id.split(":", 1)[1] if sender_id.startswith(f"{CHANNEL}:") else sender_id


def signature_of(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


class MessengerOutput(MessagingOutput):
    channel = CHANNEL
    max_text_chars = MAX_TEXT_CHARS

    def __init__(self, api_base: str, page_access_token: str, strict: bool = False) -> None:
        super().__init__(strict)
        self.url = f"{api_base.rstrip('/')}/me/messages"
        self.token = page_access_token

    async def _send(self, recipient_id: str, message: dict) -> None:
        await post(self.url, what="messenger", strict=self.strict, params={"access_token": self.token},
                   json={"recipient": {"id": psid_of(recipient_id)}, "messaging_type": "RESPONSE",
                         "message": message})

    async def send_chunk(self, recipient_id: str, text: str) -> None:
        await self._send(recipient_id, {"text": text})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list, **kwargs: Any) -> None:
        if len(buttons) > MAX_QUICK_REPLIES:
            await self.send_numbered_choices(recipient_id, text, buttons)
            return
        self.numbered += len(buttons)
        replies = [{"content_type": "text", "title": _title(b), "payload": str(b.get("payload") or "")}
                   for b in buttons]
        await self._send(recipient_id, {"text": text[:MAX_TEXT_CHARS] or "…", "quick_replies": replies})

    async def send_quick_replies(self, recipient_id: str, text: str, quick_replies: list, **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send(recipient_id, {"attachment": {"type": "image", "payload": {"url": image}}})


def _title(button: dict) -> str:
    title = str(button.get("title") or button.get("payload") or "")
    return title if len(title) <= MAX_TITLE_CHARS else title[:MAX_TITLE_CHARS - 1] + "…"


def _read_event(event: dict) -> tuple[str | None, str, bool] | None:
    """(message id, text, media) of a user message or postback; None for deliveries, reads, echoes…"""
    message, postback = event.get("message"), event.get("postback")
    if isinstance(message, dict) and not message.get("is_echo"):
        quick = message.get("quick_reply") or {}
        text = quick.get("payload") if isinstance(quick, dict) and quick.get("payload") else message.get("text")
        media = not text and bool(message.get("attachments"))
        return message.get("mid"), text if isinstance(text, str) else "", media
    if isinstance(postback, dict):
        text = postback.get("payload") or postback.get("title")
        return postback.get("mid"), text if isinstance(text, str) else "", False
    return None


def user_events(body: Any) -> Iterator[Incoming]:
    """Every user message, postback or media message of a delivery, in order."""
    if not isinstance(body, dict) or body.get("object") != "page":
        return
    for entry in body.get("entry") or []:
        for event in (entry.get("messaging") or []) if isinstance(entry, dict) else []:
            read = _read_event(event) if isinstance(event, dict) else None
            if read is None:
                continue
            psid = str((event.get("sender") or {}).get("id") or "")
            mid, text, media = read
            if psid and len(psid) <= MAX_SENDER_CHARS and (text or media):
                yield Incoming(sender_for(psid), mid, text, media)


@dataclass(eq=False, repr=False)
class MessengerInput(MessagingInput):
    app_secret: str
    page_access_token: str
    verify_token: str  # for Meta's subscription handshake only
    api_base: str = DEFAULT_API_BASE

    channel = CHANNEL
    REQUIRED = ("app_secret", "page_access_token")
    REFUSED = "missing or invalid X-Hub-Signature-256"

    def output(self, strict: bool = False) -> MessengerOutput:
        return MessengerOutput(self.api_base, self.page_access_token, strict=strict)

    def authentic(self, request: Request) -> bool:
        return self.header_is(request, SIGNATURE_HEADER, lambda: signature_of(request.body or b"", self.app_secret))

    def parse(self, request: Request) -> list[Incoming] | None:
        """Every messaging event of a batched delivery (the stock channel reads only the first)."""
        try:
            return list(user_events(json.loads(request.body or b"{}")))
        except ValueError:
            return None

    def ack(self) -> HTTPResponse:
        return response.text("EVENT_RECEIVED")

    def add_routes(self, bp: Blueprint) -> None:
        async def handshake(request: Request) -> HTTPResponse:
            """Meta's subscription check: `hub.challenge` is echoed for our verify token only."""
            given = request.args.get("hub.verify_token") or ""
            if (request.args.get("hub.mode") == "subscribe" and self.verify_token
                    and hmac.compare_digest(given.encode(), self.verify_token.encode())):
                return response.text(request.args.get("hub.challenge") or "")
            return response.text("forbidden", status=403)

        bp.add_route(handshake, "/webhook", methods=["GET"])
