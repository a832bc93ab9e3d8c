"""WhatsApp through Twilio: a webhook checked with `X-Twilio-Signature`, answers sent with Twilio's REST API.

Differences from Rasa's stock `twilio` channel, each on purpose:
- the signature is verified (the stock channel never checks it), against the public URL Twilio calls
  (`webhook_url`, since the server sits behind a proxy and cannot know it); no auth token or URL
  configured means the channel is disabled and every call gets 403;
- a delivery Twilio retries (same MessageSid) is handled once;
- WhatsApp has no buttons here: choices are numbered ("1. Mon contrat") and "1" picks the first;
- the API base URL is configurable, so tests talk to a local fake Twilio.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

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

CHANNEL = "whatsapp"
DEFAULT_API_BASE = "https://api.twilio.com"
MAX_BODY_CHARS = 1600
MAX_SENDER_CHARS = 64
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class WhatsAppOutput(OutputChannel):
    """Sends through Twilio's Messages API; numbers the choices across all messages of one turn."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def __init__(self, api_base: str, account_sid: str, auth_token: str, from_number: str,
                 strict: bool = False) -> None:
        self.strict = strict
        self.url = f"{api_base.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.auth = aiohttp.BasicAuth(account_sid, auth_token)
        self.from_number = from_number
        self.numbered = 0

    async def _send(self, recipient_id: str, **fields: str) -> None:
        await post(self.url, what="whatsapp", strict=self.strict, auth=self.auth,
                   data={"From": self.from_number, "To": recipient_id, **fields})

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for chunk in split_text(text, MAX_BODY_CHARS):
            await self._send(recipient_id, Body=chunk)

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list, **kwargs: Any) -> None:
        choices = numbered_choices(buttons, self.numbered + 1)
        self.numbered += len(buttons)
        await self.send_text_message(recipient_id, f"{text}\n\n{choices}" if text else choices)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send(recipient_id, MediaUrl=image)

    async def send_custom_json(self, recipient_id: str, json_message: dict, **kwargs: Any) -> None:
        """Custom payloads are for the website widget; the text sent with them says it all here."""


class WhatsAppInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict | None) -> WhatsAppInput:
        return cls(
            account_sid=credential(credentials, "account_sid"),
            auth_token=credential(credentials, "auth_token"),
            whatsapp_number=credential(credentials, "whatsapp_number"),
            webhook_url=credential(credentials, "webhook_url"),
            api_base=credential(credentials, "api_base", DEFAULT_API_BASE),
        )

    def __init__(self, account_sid: str, auth_token: str, whatsapp_number: str, webhook_url: str,
                 api_base: str = DEFAULT_API_BASE) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.whatsapp_number = whatsapp_number
        self.webhook_url = webhook_url
        self.api_base = api_base
        self.seen = SeenIds()

    @property
    def enabled(self) -> bool:
        return bool(self.auth_token and self.webhook_url and self.account_sid and self.whatsapp_number)

    def get_output_channel(self) -> WhatsAppOutput:
        """For messages outside a conversation turn (notifications): a failed send raises."""
        return WhatsAppOutput(self.api_base, self.account_sid, self.auth_token, self.whatsapp_number, strict=True)

    def _reply_output(self) -> WhatsAppOutput:
        return WhatsAppOutput(self.api_base, self.account_sid, self.auth_token, self.whatsapp_number)

    def authentic(self, request: Request) -> bool:
        """Twilio signs the public URL it called plus every POST parameter with our auth token."""
        signature = request.headers.get("X-Twilio-Signature")
        if not self.enabled or not signature:
            return False
        return RequestValidator(self.auth_token).validate(self.webhook_url, request.form, signature)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("whatsapp_webhook", __name__)
        guard = ConnectorGuard.for_blueprint(bp, CHANNEL)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.enabled else "disabled"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.authentic(request):
                logger.warning("whatsapp webhook refused: missing or invalid Twilio signature")
                return response.text("forbidden", status=403)
            sender = request.form.get("From") or ""
            if not sender.startswith("whatsapp:") or len(sender) > MAX_SENDER_CHARS \
                    or not self.seen.first_time(request.form.get("MessageSid")):
                return response.text(EMPTY_TWIML, content_type="text/xml")
            text = request.form.get("Body") or ""
            if looks_like_choice(text):
                text = chosen_payload(text, await guard.offered(sender, request.app, after_current_turn=True)) or text
            output = self._reply_output()
            admitted = await guard.admit(sender, text, output, request.app)
            if admitted is not None:
                await on_new_message(UserMessage(admitted, output, sender, input_channel=CHANNEL,
                                                 metadata=trusted_metadata(CHANNEL, sender)))
            return response.text(EMPTY_TWIML, content_type="text/xml")

        return bp
