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
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.common import (
    SeenIds,
    chosen_payload,
    credential,
    looks_like_choice,
    numbered_choices,
    post,
    split_text,
    trusted_metadata,
)
from channels.guard import ConnectorGuard

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


class MessengerOutput(OutputChannel):
    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def __init__(self, api_base: str, page_access_token: str, strict: bool = False) -> None:
        self.strict = strict
        self.url = f"{api_base.rstrip('/')}/me/messages"
        self.token = page_access_token
        self.numbered = 0

    async def _send(self, recipient_id: str, message: dict) -> None:
        await post(self.url, what="messenger", strict=self.strict, params={"access_token": self.token},
                   json={"recipient": {"id": psid_of(recipient_id)}, "messaging_type": "RESPONSE",
                         "message": message})

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for chunk in split_text(text, MAX_TEXT_CHARS):
            await self._send(recipient_id, {"text": chunk})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list, **kwargs: Any) -> None:
        if len(buttons) > MAX_QUICK_REPLIES:
            choices = numbered_choices(buttons, self.numbered + 1)
            self.numbered += len(buttons)
            await self.send_text_message(recipient_id, f"{text}\n\n{choices}" if text else choices)
            return
        self.numbered += len(buttons)
        replies = [{"content_type": "text", "title": _title(b), "payload": str(b.get("payload") or "")}
                   for b in buttons]
        await self._send(recipient_id, {"text": text[:MAX_TEXT_CHARS] or "…", "quick_replies": replies})

    async def send_quick_replies(self, recipient_id: str, text: str, quick_replies: list, **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send(recipient_id, {"attachment": {"type": "image", "payload": {"url": image}}})

    async def send_custom_json(self, recipient_id: str, json_message: dict, **kwargs: Any) -> None:
        """Custom payloads are for the website widget; the text sent with them says it all here."""


def _title(button: dict) -> str:
    title = str(button.get("title") or button.get("payload") or "")
    return title if len(title) <= MAX_TITLE_CHARS else title[:MAX_TITLE_CHARS - 1] + "…"


def user_events(body: Any) -> Iterator[tuple[str, str | None, str]]:
    """(psid, message id, text) of every user message or postback in a delivery, in order."""
    if not isinstance(body, dict) or body.get("object") != "page":
        return
    for entry in body.get("entry") or []:
        for event in (entry.get("messaging") or []) if isinstance(entry, dict) else []:
            if not isinstance(event, dict):
                continue
            psid = str((event.get("sender") or {}).get("id") or "")
            message, postback = event.get("message"), event.get("postback")
            if isinstance(message, dict) and not message.get("is_echo"):
                quick = message.get("quick_reply") or {}
                text = quick.get("payload") if isinstance(quick, dict) and quick.get("payload") else message.get("text")
                mid = message.get("mid")
            elif isinstance(postback, dict):
                text, mid = postback.get("payload") or postback.get("title"), postback.get("mid")
            else:  # deliveries, reads, reactions, echoes
                continue
            if psid and isinstance(text, str) and text:
                yield psid, mid, text


class MessengerInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict | None) -> MessengerInput:
        return cls(app_secret=credential(credentials, "app_secret"),
                   page_access_token=credential(credentials, "page_access_token"),
                   verify_token=credential(credentials, "verify_token"),
                   api_base=credential(credentials, "api_base", DEFAULT_API_BASE))

    def __init__(self, app_secret: str, page_access_token: str, verify_token: str,
                 api_base: str = DEFAULT_API_BASE) -> None:
        self.app_secret = app_secret
        self.page_access_token = page_access_token
        self.verify_token = verify_token
        self.api_base = api_base
        self.seen = SeenIds()

    @property
    def enabled(self) -> bool:
        return bool(self.app_secret and self.page_access_token)

    def get_output_channel(self) -> MessengerOutput:
        """For messages outside a conversation turn (notifications): a failed send raises."""
        return MessengerOutput(self.api_base, self.page_access_token, strict=True)

    def authentic(self, request: Request) -> bool:
        given = request.headers.get(SIGNATURE_HEADER) or ""
        if not self.enabled or not given:
            return False
        return hmac.compare_digest(given.encode(), signature_of(request.body or b"", self.app_secret).encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("messenger_webhook", __name__)
        guard = ConnectorGuard.for_blueprint(bp, CHANNEL)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.enabled else "disabled"})

        @bp.route("/webhook", methods=["GET"])
        async def handshake(request: Request) -> HTTPResponse:
            given = request.args.get("hub.verify_token") or ""
            if (request.args.get("hub.mode") == "subscribe" and self.verify_token
                    and hmac.compare_digest(given.encode(), self.verify_token.encode())):
                return response.text(request.args.get("hub.challenge") or "")
            return response.text("forbidden", status=403)

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.authentic(request):
                logger.warning("messenger webhook refused: missing or invalid X-Hub-Signature-256")
                return response.text("forbidden", status=403)
            try:
                body = json.loads(request.body or b"{}")
            except ValueError:
                return response.text("bad request", status=400)
            for psid, mid, text in user_events(body):
                if len(psid) <= MAX_SENDER_CHARS and self.seen.first_time(mid):
                    await self._handle(sender_for(psid), text, on_new_message, guard, request)
            return response.text("EVENT_RECEIVED")

        return bp

    async def _handle(self, sender: str, text: str, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                      guard: ConnectorGuard, request: Request) -> None:
        if looks_like_choice(text):  # more than 13 choices were sent as numbered lines
            text = chosen_payload(text, await guard.offered(sender, request.app, after_current_turn=True)) or text
        output = MessengerOutput(self.api_base, self.page_access_token)
        admitted = await guard.admit(sender, text, output, request.app)
        if admitted is not None:
            await on_new_message(UserMessage(admitted, output, sender, input_channel=CHANNEL,
                                             metadata=trusted_metadata(CHANNEL, sender)))
