"""Facebook Messenger: a webhook checked with `X-Hub-Signature-256`, answers sent with the Send API.

Differences from Rasa's stock `facebook` channel, each on purpose:
- the signature is HMAC-SHA256 of the raw body with the app secret, compared in constant time (the stock
  channel checks the SHA-1 header with `==`); no app secret configured means every call gets 403;
- every messaging event of a batched delivery is handled, not only the first;
- echoes of our own messages, delivery and read receipts are ignored; a retried event (same mid) once;
- choices are quick replies (13 at most, titles cut to 20 characters), else numbered lines; a text longer than
  2000 characters is split, the quick replies on its last part;
- links are `web_url` buttons of a button template (text ≤ 640 characters, 3 buttons a message, titles ≤ 20
  characters: a link's short label), the choices as quick replies on its last message; a chart is a generic
  template: the picture with its caption as title and subtitle (80 characters each; a longer caption goes
  as a text after the picture — Messenger has no caption on a plain image attachment);
- the "Get Started" button's postback (payload `GET_STARTED`) greets;
- notifications are not `RESPONSE`s: `UPDATE` within 24 hours of the user's last message, else `MESSAGE_TAG`
  with the `CONFIRMED_EVENT_UPDATE` tag (a booked call); a refusal Meta will repeat (user unavailable, outside
  the window, bad parameter, token) is final at once, throttling and server errors are retried;
- the Graph API version is one setting (`GRAPH_API_VERSION`, HORTENSE_MESSENGER_GRAPH_VERSION), the base URL
  is configurable, so tests talk to a local fake.
The GET handshake answers `hub.challenge` only for the configured verify token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.common import (
    PlatformError,
    link_buttons,
    link_title,
    numbered_choices,
    post,
    split_caption,
    split_with_tail,
)
from channels.messaging import Incoming, MessagingInput, MessagingOutput
from hortense.appointments.notifications import Notice, SendResult
from hortense.settings import get_settings

logger = logging.getLogger(__name__)

CHANNEL = "messenger"
DEFAULT_API_BASE = "https://graph.facebook.com"  # the version comes from the settings
SIGNATURE_HEADER = "X-Hub-Signature-256"
MAX_TEXT_CHARS = 2000
MAX_QUICK_REPLIES = 13
MAX_TITLE_CHARS = 20
MAX_SENDER_CHARS = 64
MAX_TEMPLATE_TEXT_CHARS = 640  # a button template's text
MAX_TEMPLATE_BUTTONS = 3
MAX_ELEMENT_CHARS = 80  # a generic template element's title, and its subtitle
MORE_LINKS_TEXT = "Autres documents :"
NOTIFICATION_TAG = "CONFIRMED_EVENT_UPDATE"  # Meta's tag for a reminder or change of a booked event
GET_STARTED_PAYLOAD = "GET_STARTED"  # what our page's "Get Started" button sends (README: Messenger)
GREETING_TEXT = "Bonjour"
# Graph API error codes worth retrying (throttling, temporary); any other refusal is repeated if retried.
TRANSIENT_CODES = {1, 2, 4, 17, 32, 341, 613, 1200}
_VERSION_SUFFIX = re.compile(r"/v\d+\.\d+/?$")


def sender_for(psid: Any) -> str:
    return f"{CHANNEL}:{psid}"


def psid_of(sender_id: str) -> str:
    return sender_id.split(":", 1)[1] if sender_id.startswith(f"{CHANNEL}:") else sender_id


def signature_of(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def messages_url(api_base: str, version: str | None = None) -> str:
    """The Send API URL: `api_base` (no version) + the one configured Graph API version."""
    base = api_base.rstrip("/")
    if _VERSION_SUFFIX.search(base):
        logger.warning("messenger: the API base URL names a Graph version; HORTENSE_MESSENGER_GRAPH_VERSION is used")
        base = _VERSION_SUFFIX.sub("", base)
    return f"{base}/{version or get_settings().messenger_graph_version}/me/messages"


class MessengerOutput(MessagingOutput):
    channel = CHANNEL
    max_text_chars = MAX_TEXT_CHARS

    def __init__(self, api_base: str, page_access_token: str, strict: bool = False) -> None:
        super().__init__(strict)
        self.url = messages_url(api_base)
        self.token = page_access_token
        self.messaging = {"messaging_type": "RESPONSE"}  # an answer to the user's message

    async def _send(self, recipient_id: str, message: dict) -> Any:
        answer = await post(
            self.url,
            what="messenger",
            strict=self.strict,
            params={"access_token": self.token},
            json={"recipient": {"id": psid_of(recipient_id)}, **self.messaging, "message": message},
        )
        self.last_answer = answer
        return answer

    async def send_chunk(self, recipient_id: str, text: str) -> Any:
        return await self._send(recipient_id, {"text": text})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list, **kwargs: Any) -> None:
        links, choices = link_buttons(buttons)
        if links:
            await self.send_links(recipient_id, text or "", links, choices)
            return
        if len(choices) > MAX_QUICK_REPLIES:
            await self.send_numbered_choices(recipient_id, text, choices)
            return
        last = await self.send_leading_parts(recipient_id, text)
        self.numbered += len(choices)
        await self._send(recipient_id, {"text": last or "…", "quick_replies": _quick_replies(choices)})

    async def send_links(self, recipient_id: str, text: str, links: list[dict], choices: list[dict]) -> None:
        """Button templates: the text (its end, ≤ 640 characters) with up to 3 `web_url` buttons, further links
        in further templates; the choices as quick replies on the last one (numbered in the text if > 13)."""
        tail = ""
        replies: list[dict] = []
        if len(choices) > MAX_QUICK_REPLIES:
            tail = numbered_choices(choices, self.numbered + 1)
        else:
            replies = _quick_replies(choices)
        self.numbered += len(choices)
        parts = split_with_tail(text, tail, MAX_TEMPLATE_TEXT_CHARS)
        for part in parts[:-1]:
            await self.send_chunk(recipient_id, part)
        groups = [links[i : i + MAX_TEMPLATE_BUTTONS] for i in range(0, len(links), MAX_TEMPLATE_BUTTONS)]
        for index, group in enumerate(groups):
            message: dict = {
                "attachment": {
                    "type": "template",
                    "payload": {
                        "template_type": "button",
                        "text": (parts[-1] or "…") if index == 0 else MORE_LINKS_TEXT,
                        "buttons": [
                            {"type": "web_url", "url": link["url"], "title": link_title(link, MAX_TITLE_CHARS)}
                            for link in group
                        ],
                    },
                }
            }
            if index == len(groups) - 1 and replies:
                message["quick_replies"] = replies
            await self._send(recipient_id, message)

    async def send_notification(self, recipient_id: str, text: str, notice: Notice | None) -> SendResult:
        """Proactive: `UPDATE` inside the 24-hour window, a `CONFIRMED_EVENT_UPDATE` tagged message outside."""
        outside = notice is not None and notice.outside_window
        self.messaging = (
            {"messaging_type": "MESSAGE_TAG", "tag": NOTIFICATION_TAG} if outside else {"messaging_type": "UPDATE"}
        )
        await self.send_text_message(recipient_id, text)
        return SendResult(message_id=self.message_id(self.last_answer), sent_as="tagged" if outside else "text")

    @staticmethod
    def message_id(answer: Any) -> str | None:
        return str(answer["message_id"]) if isinstance(answer, dict) and answer.get("message_id") else None

    def classify(self, error: PlatformError) -> tuple[str, bool]:
        """Meta's error code (and subcode): throttling and temporary errors are retried, the rest is final
        (551 user unavailable, 10/2018278 outside the window, 100 bad parameter, 190 token, 200 permission)."""
        found = error.answer.get("error")
        details: dict = found if isinstance(found, dict) else {}
        code, subcode = details.get("code"), details.get("error_subcode")
        if not isinstance(code, int):
            return error.code, error.permanent
        label = f"messenger:{code}" + (f"/{subcode}" if subcode else "")
        return label, code not in TRANSIENT_CODES and not details.get("is_transient") and (error.status or 0) < 500

    async def send_quick_replies(self, recipient_id: str, text: str, quick_replies: list, **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send(recipient_id, {"attachment": {"type": "image", "payload": {"url": image}}})

    async def send_image_with_caption(self, recipient_id: str, image: str, caption: str) -> None:
        """A generic template: the picture, the caption as its title (and subtitle). A plain image attachment
        cannot carry text, so a caption longer than title + subtitle follows the picture as a text."""
        title, rest = split_caption(caption, MAX_ELEMENT_CHARS)
        subtitle, beyond = split_caption(rest, MAX_ELEMENT_CHARS)
        if not title or beyond:
            await self.send_image_url(recipient_id, image)
            if caption:
                await self.send_text_message(recipient_id, caption)
            return
        element = {"title": title, "image_url": image, **({"subtitle": subtitle} if subtitle else {})}
        await self._send(
            recipient_id,
            {
                "attachment": {
                    "type": "template",
                    "payload": {"template_type": "generic", "image_aspect_ratio": "horizontal", "elements": [element]},
                }
            },
        )


def _quick_replies(choices: list[dict]) -> list[dict]:
    return [{"content_type": "text", "title": _title(b), "payload": str(b.get("payload") or "")} for b in choices]


def _title(button: dict) -> str:
    title = str(button.get("title") or button.get("payload") or "")
    return title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 1] + "…"


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
        if text == GET_STARTED_PAYLOAD:  # the "Get Started" button of a first conversation
            text = GREETING_TEXT
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
    WINDOWED = True
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
            if (
                request.args.get("hub.mode") == "subscribe"
                and self.verify_token
                and hmac.compare_digest(given.encode(), self.verify_token.encode())
            ):
                return response.text(request.args.get("hub.challenge") or "")
            return response.text("forbidden", status=403)

        bp.add_route(handshake, "/webhook", methods=["GET"])
