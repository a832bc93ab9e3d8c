"""WhatsApp through Twilio: a webhook checked with `X-Twilio-Signature`, answers sent with Twilio's REST API.

Differences from Rasa's stock `twilio` channel, each on purpose:
- the signature is verified (the stock channel never checks it), against the public URL Twilio calls
  (`webhook_url`, since the server sits behind a proxy and cannot know it) and every field of the raw body,
  blank ones included (Twilio signs them all; Sanic 21.12's `request.form` drops them, which refused photos
  without a caption and senders without a profile name); no auth token or URL configured means the channel
  is disabled and every call gets 403;
- a delivery Twilio retries (same MessageSid) is handled once;
- a photo, voice note or location without text gets a kind "text only" answer (`channels.messaging`);
- WhatsApp has no buttons here: choices are numbered ("1. Mon contrat") and "1" picks the first;
- the API base URL is configurable, so tests talk to a local fake Twilio.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from sanic import response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from channels.common import post
from channels.messaging import Incoming, MessagingInput, MessagingOutput

logger = logging.getLogger(__name__)

CHANNEL = "whatsapp"
DEFAULT_API_BASE = "https://api.twilio.com"
MAX_BODY_CHARS = 1600
MAX_SENDER_CHARS = 64
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
LOCATION_FIELDS = ("Latitude", "Longitude")


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

    def __init__(self, api_base: str, account_sid: str, auth_token: str, from_number: str,
                 strict: bool = False) -> None:
        super().__init__(strict)
        self.url = f"{api_base.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.auth = aiohttp.BasicAuth(account_sid, auth_token)
        self.from_number = from_number

    async def _send(self, recipient_id: str, **fields: str) -> None:
        await post(self.url, what="whatsapp", strict=self.strict, auth=self.auth,
                   data={"From": self.from_number, "To": recipient_id, **fields})

    async def send_chunk(self, recipient_id: str, text: str) -> None:
        await self._send(recipient_id, Body=text)

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list, **kwargs: Any) -> None:
        await self.send_numbered_choices(recipient_id, text, buttons)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send(recipient_id, MediaUrl=image)


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

    def output(self, strict: bool = False) -> WhatsAppOutput:
        return WhatsAppOutput(self.api_base, self.account_sid, self.auth_token, self.whatsapp_number, strict=strict)

    def authentic(self, request: Request) -> bool:
        """Twilio signs the public URL it called plus every POST parameter with our auth token."""
        signature = request.headers.get("X-Twilio-Signature")
        if not self.enabled or not signature:
            return False
        return RequestValidator(self.auth_token).validate(self.webhook_url, signed_fields(request.body), signature)

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
