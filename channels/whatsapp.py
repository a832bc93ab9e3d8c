"""WhatsApp through Twilio: a webhook checked with `X-Twilio-Signature`, answers sent with Twilio's REST API.

Differences from Rasa's stock `twilio` channel, each on purpose:
- the signature is verified (the stock channel never checks it), against the public URL Twilio calls
  (`webhook_url`, since the server sits behind a proxy and cannot know it) and every field of the raw body,
  blank ones included (Twilio signs them all; Sanic 21.12's `request.form` drops them, which refused photos
  without a caption and senders without a profile name); no auth token or URL configured means the channel
  is disabled and every call gets 403;
- a delivery Twilio retries (same MessageSid) is handled once;
- a photo, voice note or location without text gets a kind "text only" answer (`channels.messaging`);
- WhatsApp has no buttons here: choices are numbered ("1. Mon contrat") and "1" picks the first; a link is a
  short labelled line, "Télécharger votre contrat (PDF) : https://…/l/<token>" (`hortense.documents.short_links`:
  an opaque token the web app redirects to the signed link), never the signed URL itself; a text longer than
  1600 characters is split, the choices in its last part; a chart is one message, `MediaUrl` with its caption
  as `Body`;
- notifications: free text within 24 hours of the customer's last message, else the approved Content
  template of the notification's kind (`ContentSid` + `ContentVariables`; HORTENSE_WHATSAPP_TEMPLATE_*), never
  free text (Twilio would accept it, then fail it with error 63016). Each carries a `StatusCallback`: Twilio
  posts queued → sent → delivered / failed (with its error code) to POST /webhooks/whatsapp/status, signed
  like the webhook, and the notification's delivery status is updated from it;
- the API base URL is configurable, so tests talk to a local fake Twilio.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from sanic import Blueprint, response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from channels.common import PlatformError, link_buttons, link_title, post
from channels.messaging import Incoming, MessagingInput, MessagingOutput
from hortense import clock
from hortense.appointments.notifications import Notice, PermanentFailure, SendResult, record_status
from hortense.db.calendar_models import (
    DELIVERY_DELIVERED,
    DELIVERY_FAILED,
    DELIVERY_QUEUED,
    DELIVERY_READ,
    DELIVERY_SENT,
)
from hortense.settings import get_settings

logger = logging.getLogger(__name__)

CHANNEL = "whatsapp"
DEFAULT_API_BASE = "https://api.twilio.com"
MAX_BODY_CHARS = 1600
MAX_SENDER_CHARS = 64
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
LOCATION_FIELDS = ("Latitude", "Longitude")
LINK_UNAVAILABLE = "lien momentanément indisponible, retrouvez ce document dans votre espace client"
STATUS_PATH = "status"  # /webhooks/whatsapp/status: Twilio's StatusCallback for notifications
# Twilio's MessageStatus values → ours.
TWILIO_STATUSES = {
    "accepted": DELIVERY_QUEUED,
    "scheduled": DELIVERY_QUEUED,
    "queued": DELIVERY_QUEUED,
    "sending": DELIVERY_QUEUED,
    "sent": DELIVERY_SENT,
    "delivered": DELIVERY_DELIVERED,
    "read": DELIVERY_READ,
    "undelivered": DELIVERY_FAILED,
    "failed": DELIVERY_FAILED,
    "canceled": DELIVERY_FAILED,
}


def status_url_for(webhook_url: str) -> str:
    """The public StatusCallback URL, next to the public webhook URL: …/webhooks/whatsapp/status."""
    base = webhook_url.rstrip("/")
    return (base.rsplit("/", 1)[0] if base.endswith("/webhook") else base) + f"/{STATUS_PATH}"


def signed_fields(body: bytes | None) -> RequestParameters:
    """Every POST field of a Twilio call, blank values kept (Twilio signs them; `request.form` drops them)."""
    fields = RequestParameters()
    for name, value in parse_qsl((body or b"").decode("utf-8", errors="replace"), keep_blank_values=True):
        fields.setdefault(name, []).append(value)
    return fields


class WhatsAppOutput(MessagingOutput):
    """Sends through Twilio's Messages API; numbers the choices across all messages of one turn."""

    channel = CHANNEL
    max_text_chars = MAX_BODY_CHARS

    def __init__(
        self,
        api_base: str,
        account_sid: str,
        auth_token: str,
        from_number: str,
        strict: bool = False,
        status_url: str = "",
    ) -> None:
        super().__init__(strict)
        self.url = f"{api_base.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.auth = aiohttp.BasicAuth(account_sid, auth_token)
        self.from_number = from_number
        self.status_url = status_url
        self.extra: dict[str, str] = {}  # StatusCallback, for notifications

    async def _send(self, recipient_id: str, **fields: str) -> Any:
        self.last_answer = await post(
            self.url,
            what="whatsapp",
            strict=self.strict,
            auth=self.auth,
            data={"From": self.from_number, "To": recipient_id, **fields, **self.extra},
        )
        return self.last_answer

    async def send_chunk(self, recipient_id: str, text: str) -> Any:
        return await self._send(recipient_id, Body=text)

    async def send_notification(self, recipient_id: str, text: str, notice: Notice | None) -> SendResult:
        """Free text inside the 24-hour window, the kind's approved template outside; Twilio reports delivery
        to our StatusCallback (which names the notification)."""
        if notice is not None and self.status_url:
            self.extra = {"StatusCallback": f"{self.status_url}?n={notice.notification_id}"}
        if notice is not None and notice.outside_window:
            template = get_settings().whatsapp_template(notice.kind)
            if not template:
                raise PermanentFailure("no_template", f"no WhatsApp template configured for {notice.kind!r}")
            await self._send(
                recipient_id, ContentSid=template, ContentVariables=json.dumps(notice.variables, ensure_ascii=False)
            )
            sent_as = "template"
        else:
            await self.send_text_message(recipient_id, text)
            sent_as = "text"
        answer = self.last_answer if isinstance(self.last_answer, dict) else {}
        return SendResult(
            message_id=self.message_id(answer),
            status=TWILIO_STATUSES.get(str(answer.get("status")), DELIVERY_QUEUED),
            sent_as=sent_as,
        )

    @staticmethod
    def message_id(answer: Any) -> str | None:
        return str(answer["sid"]) if isinstance(answer, dict) and answer.get("sid") else None

    def classify(self, error: PlatformError) -> tuple[str, bool]:
        code = error.answer.get("code")
        return (f"twilio:{code}" if code else error.code), error.permanent

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list, **kwargs: Any) -> None:
        links, choices = link_buttons(buttons)
        if links:
            lines = await asyncio.get_running_loop().run_in_executor(None, short_link_lines, links)
            text = "\n".join(part for part in (text or "", *lines) if part)
        if choices:
            await self.send_numbered_choices(recipient_id, text, choices)
        else:
            await self.send_text_message(recipient_id, text)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send(recipient_id, MediaUrl=image)

    async def send_image_with_caption(self, recipient_id: str, image: str, caption: str) -> None:
        """One message: the picture (`MediaUrl`) with its caption as `Body`."""
        if not caption or len(caption) > MAX_BODY_CHARS:
            await super().send_image_with_caption(recipient_id, image, caption)
            return
        await self._send(recipient_id, MediaUrl=image, Body=caption)


def short_link_lines(links: list[dict]) -> list[str]:
    """ "<label> : <short URL>" for each link (written to the database: run off the event loop). A link that
    cannot be shortened is named without any URL: the signed one never goes in the text."""
    from hortense.db.session import session_scope
    from hortense.documents.short_links import shorten

    lines = []
    for link in links:
        try:
            with session_scope() as session:
                url = shorten(session, link["url"])
        except Exception as exc:  # noqa: BLE001 (the answer still goes, without this link)
            logger.warning("whatsapp: could not shorten a link (%s)", type(exc).__name__)
            url = LINK_UNAVAILABLE
        lines.append(f"{link_title(link)} : {url}")
    return lines


@dataclass(eq=False, repr=False)
class WhatsAppInput(MessagingInput):
    account_sid: str
    auth_token: str
    whatsapp_number: str
    webhook_url: str  # the public URL Twilio calls (and signs)
    api_base: str = DEFAULT_API_BASE

    channel = CHANNEL
    REQUIRED = ("auth_token", "webhook_url", "account_sid", "whatsapp_number")
    REFUSED = "missing or invalid Twilio signature"
    WINDOWED = True

    @property
    def status_url(self) -> str:
        return status_url_for(self.webhook_url) if self.webhook_url else ""

    def output(self, strict: bool = False) -> WhatsAppOutput:
        return WhatsAppOutput(
            self.api_base,
            self.account_sid,
            self.auth_token,
            self.whatsapp_number,
            strict=strict,
            status_url=self.status_url,
        )

    def authentic(self, request: Request, url: str | None = None) -> bool:
        """Twilio signs the public URL it called plus every POST parameter with our auth token."""
        signature = request.headers.get("X-Twilio-Signature")
        if not self.enabled or not signature:
            return False
        return RequestValidator(self.auth_token).validate(
            url or self.webhook_url, signed_fields(request.body), signature
        )

    def add_routes(self, bp: Blueprint) -> None:
        async def status(request: Request) -> HTTPResponse:
            """Twilio's StatusCallback of a notification (`?n=<notification id>`, part of the signed URL)."""
            query = request.query_string
            if not self.authentic(request, f"{self.status_url}?{query}" if query else self.status_url):
                logger.warning("whatsapp status callback refused: %s", self.REFUSED)
                return response.text("forbidden", status=403)
            fields = signed_fields(request.body)
            notification = request.args.get("n") or ""
            state = TWILIO_STATUSES.get(fields.get("MessageStatus") or "")
            if notification.isdigit() and state:
                code = fields.get("ErrorCode") or ""
                await self.record_status(
                    int(notification), state, fields.get("MessageSid") or None, f"twilio:{code}" if code else None
                )
            return response.text(EMPTY_TWIML, content_type="text/xml")

        bp.add_route(status, f"/{STATUS_PATH}", methods=["POST"])

    @staticmethod
    async def record_status(notification_id: int, state: str, sid: str | None, error: str | None) -> None:
        from hortense.db.session import session_scope

        def write() -> None:
            with session_scope() as session:
                record_status(session, notification_id, state, clock.now(), message_id=sid, error=error)

        await asyncio.get_running_loop().run_in_executor(None, write)

    def parse(self, request: Request) -> list[Incoming]:
        fields = signed_fields(request.body)
        sender = fields.get("From") or ""
        if not sender.startswith("whatsapp:") or len(sender) > MAX_SENDER_CHARS:
            return []
        media_count = fields.get("NumMedia") or "0"
        media = (media_count.isdigit() and int(media_count) > 0) or any(fields.get(f) for f in LOCATION_FIELDS)
        return [Incoming(sender, fields.get("MessageSid"), fields.get("Body") or "", media)]

    def ack(self) -> HTTPResponse:
        return response.text(EMPTY_TWIML, content_type="text/xml")
