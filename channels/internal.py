"""Internal channel: lets the scheduler push a message into a customer's conversation on their own channel.

Mounted by Rasa at /webhooks/internal/ (credentials.yml: `channels.internal.InternalNotifyInput: {}`).
`POST /webhooks/internal/notify` with a JSON body {"channel", "sender_id", "text"} and the header
`X-Hortense-Signature`: hex HMAC-SHA256 of the raw body with HORTENSE_ACTION_SERVER_TOKEN. Anything else is
refused with 403 before the body is even parsed. The text is handed to the named channel's own output
(the website channel emits it to the socket.io room of that conversation; Twilio/Telegram/Messenger send it
through their APIs). It never reaches the dialogue: no user message is created.

An optional "notice" (`hortense.appointments.notifications.Notice`) says how the scheduler decided to send it
(outside the 24-hour window: template or tagged message). The answer carries the platform's message id and
first delivery status; a refusal the platform would repeat is answered 502 with `"permanent": true` and its
code, so that the scheduler gives up at once instead of retrying.

Limit: the website output reaches only browsers connected to *this* Rasa instance (socket.io rooms are
per process unless a shared socket.io manager is configured).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from hortense.appointments.notifications import SIGNATURE_HEADER, Notice, PermanentFailure, SendResult, signature

logger = logging.getLogger(__name__)

CHANNEL = "internal"
MAX_BODY_BYTES = 16_000
MAX_TEXT_CHARS = 4_000


def _valid_signature(body: bytes, header: str | None) -> bool:
    if not header or not body:
        return False
    return hmac.compare_digest(signature(body).encode(), header.strip().lower().encode())


def _fields(body: bytes) -> tuple[str, str, str, Notice | None] | None:
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    channel, sender_id, text = (data.get(k) for k in ("channel", "sender_id", "text"))
    if not isinstance(channel, str) or not isinstance(sender_id, str) or not isinstance(text, str):
        return None
    if not (channel.strip() and sender_id.strip() and text.strip()) or len(text) > MAX_TEXT_CHARS:
        return None
    notice = Notice.from_json(data["notice"]) if "notice" in data else None
    if "notice" in data and notice is None:
        return None
    return channel, sender_id, text, notice


async def _send(output: Any, sender_id: str, text: str, notice: Notice | None) -> SendResult:
    notify = getattr(output, "notify", None)
    if notify is not None:  # a messaging platform: it follows the notice (window, template, tag)
        return await notify(sender_id, text, notice)
    await output.send_text_message(sender_id, text)
    return SendResult()


class InternalNotifyInput(InputChannel):
    """Not a chat channel: an authenticated door for server-side notifications."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("internal_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/notify", methods=["POST"])
        async def notify(request: Request) -> HTTPResponse:
            body = request.body or b""
            if len(body) > MAX_BODY_BYTES or not _valid_signature(body, request.headers.get(SIGNATURE_HEADER)):
                return response.json({"error": "forbidden"}, status=403)
            fields = _fields(body)
            if fields is None:
                return response.json({"error": "bad_request"}, status=400)
            channel_name, sender_id, text, notice = fields
            channels = getattr(request.app.ctx, "input_channels", None) or []
            target = next((c for c in channels if c.name() == channel_name and c.name() != CHANNEL), None)
            if target is None:
                return response.json({"error": "unknown_channel"}, status=404)
            output = target.get_output_channel()
            if output is None:
                return response.json({"error": "channel_cannot_send"}, status=503)
            try:
                result = await _send(output, sender_id, text, notice)
            except PermanentFailure as exc:  # the scheduler gives up at once (the customer space shows it)
                logger.warning("internal notify to %s refused for good: %s", channel_name, exc.code)
                return response.json({"error": "refused", "permanent": True, "code": exc.code}, status=502)
            except Exception as exc:  # PlatformError or anything else: the scheduler retries later
                logger.warning("internal notify to %s failed: %s", channel_name, exc)
                return response.json({"error": "send_failed"}, status=502)
            return response.json(
                {
                    "status": "sent",
                    "message_id": result.message_id,
                    "delivery_status": result.status,
                    "sent_as": result.sent_as,
                }
            )

        return bp
