"""Telegram: a webhook checked with `X-Telegram-Bot-Api-Secret-Token`, answers sent with the Bot API.

Written instead of Rasa's stock channel, which answers every update with HTTP 500 ("Event loop is
closed": it sets the webhook with `asyncio.run` in a throw-away loop and reuses that loop's HTTP
session). Here nothing talks to Telegram at start-up: the webhook is set once, by hand —

    python -m channels.telegram set-webhook https://bot.example.fr/webhooks/telegram/webhook

which registers our secret token with Telegram; every update must then carry it, else 403. Only private
chats are served (a group would show one customer's data to all its members). Choices are an inline
keyboard whose buttons send back their payload, links are URL buttons of the same keyboard (above the
choices); a text longer than 4096 characters is split, the keyboard on its last part. A chart is one
`sendPhoto` with its caption (up to 1024 characters). Telegram has no 24-hour window: notifications go as plain text at any time. The API base URL is
configurable for a local fake.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.common import PlatformError, link_buttons, link_title, post
from channels.guard import ConnectorGuard
from channels.messaging import Incoming, MessagingInput, MessagingOutput

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
DEFAULT_API_BASE = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_TEXT_CHARS = 4096
MAX_CALLBACK_BYTES = 64  # Telegram's limit for a button's callback_data
MAX_CAPTION_CHARS = 1024  # a photo's caption
MAX_BUTTON_TEXT_CHARS = 64  # what we show on a button (Telegram shows a line at most anyway)
GREETING_TEXT = "Bonjour"  # what "/start" (sent by Telegram when a user opens the bot) means
# A message with one of these and no text is a photo, voice note, location…: answered "text only".
MEDIA_KEYS = (
    "photo",
    "voice",
    "audio",
    "video",
    "video_note",
    "animation",
    "document",
    "sticker",
    "location",
    "venue",
    "contact",
)


def sender_for(chat_id: Any) -> str:
    return f"{CHANNEL}:{chat_id}"


def chat_of(sender_id: str) -> str:
    return sender_id.split(":", 1)[1] if sender_id.startswith(f"{CHANNEL}:") else sender_id


@dataclass(frozen=True)
class TelegramIncoming(Incoming):
    callback_id: str | None = None  # set for a tap on one of our buttons: Telegram wants it answered


class TelegramOutput(MessagingOutput):
    """Bot API calls; buttons become an inline keyboard, numbered across the messages of one turn."""

    channel = CHANNEL
    max_text_chars = MAX_TEXT_CHARS

    def __init__(self, api_base: str, bot_token: str, strict: bool = False) -> None:
        super().__init__(strict)
        self.base = f"{api_base.rstrip('/')}/bot{bot_token}"

    async def call(self, method: str, payload: dict) -> Any | None:
        return await post(f"{self.base}/{method}", what=f"telegram {method}", strict=self.strict, json=payload)

    async def send_chunk(self, recipient_id: str, text: str) -> Any:
        return await self.call("sendMessage", {"chat_id": chat_of(recipient_id), "text": text})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list, **kwargs: Any) -> None:
        last = await self.send_leading_parts(recipient_id, text)
        links, choices = link_buttons(buttons)
        rows: list[list[dict]] = [
            [{"text": link_title(link, MAX_BUTTON_TEXT_CHARS), "url": link["url"]}] for link in links
        ]
        for button in choices:
            self.numbered += 1
            payload = str(button.get("payload") or "")
            data = payload if len(payload.encode()) <= MAX_CALLBACK_BYTES else f"#{self.numbered}"
            rows.append([{"text": str(button.get("title") or payload)[:MAX_BUTTON_TEXT_CHARS], "callback_data": data}])
        self.last_answer = await self.call(
            "sendMessage",
            {"chat_id": chat_of(recipient_id), "text": last or "…", "reply_markup": {"inline_keyboard": rows}},
        )

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.call("sendPhoto", {"chat_id": chat_of(recipient_id), "photo": image})

    async def send_image_with_caption(self, recipient_id: str, image: str, caption: str) -> None:
        """One `sendPhoto` with its caption; a caption too long for Telegram goes first as a text."""
        if not caption or len(caption) > MAX_CAPTION_CHARS:
            await super().send_image_with_caption(recipient_id, image, caption)
            return
        self.last_answer = await self.call(
            "sendPhoto", {"chat_id": chat_of(recipient_id), "photo": image, "caption": caption}
        )

    async def answer_callback(self, callback_id: str) -> None:
        await self.call("answerCallbackQuery", {"callback_query_id": callback_id})

    @staticmethod
    def message_id(answer: Any) -> str | None:
        result = answer.get("result") if isinstance(answer, dict) else None
        return str(result["message_id"]) if isinstance(result, dict) and result.get("message_id") else None

    def classify(self, error: PlatformError) -> tuple[str, bool]:
        """403: the user blocked the bot; 400: no such chat — final. 429 and 5xx: later."""
        code = error.answer.get("error_code") or error.status
        return (f"telegram:{code}" if code else error.code), error.permanent


@dataclass(eq=False, repr=False)
class TelegramInput(MessagingInput):
    bot_token: str
    webhook_secret: str  # registered with Telegram by `set-webhook`, sent back in every update
    api_base: str = DEFAULT_API_BASE

    channel = CHANNEL
    REQUIRED = ("bot_token", "webhook_secret")
    REFUSED = "missing or wrong secret token"

    def output(self, strict: bool = False) -> TelegramOutput:
        return TelegramOutput(self.api_base, self.bot_token, strict=strict)

    def authentic(self, request: Request) -> bool:
        return self.header_is(request, SECRET_HEADER, lambda: self.webhook_secret)

    def parse(self, request: Request) -> list[Incoming]:
        """A text message, a tap on one of our buttons or a media message, in a private chat only (a group
        would show one customer's data to all its members); anything else is ignored."""
        update = request.json if isinstance(request.json, dict) else {}
        callback, message = update.get("callback_query"), update.get("message")
        if isinstance(callback, dict):
            chat = callback["message"].get("chat") if isinstance(callback.get("message"), dict) else None
            text, media, callback_id = str(callback.get("data") or ""), False, str(callback.get("id") or "")
        elif isinstance(message, dict):
            chat, callback_id = message.get("chat"), None
            raw_text = message.get("text")
            text = raw_text if isinstance(raw_text, str) else ""
            media = not text and any(key in message for key in MEDIA_KEYS)
            if not text and not media:
                return []
            text = GREETING_TEXT if _is_start(text) else text
        else:
            return []
        if not isinstance(chat, dict) or chat.get("type") != "private":
            return []
        return [TelegramIncoming(sender_for(chat.get("id")), update.get("update_id"), text, media, callback_id)]

    def ack(self) -> HTTPResponse:
        return response.json({"ok": True})

    async def prepare(self, message: Incoming, output: MessagingOutput, guard: ConnectorGuard, request: Request) -> str:
        """A tap is acknowledged to Telegram; "#3" (a payload too long for Telegram) is the third button."""
        if not isinstance(message, TelegramIncoming) or message.callback_id is None:
            return message.text
        if isinstance(output, TelegramOutput):  # always, on this channel
            await output.answer_callback(message.callback_id)
        if message.text.startswith("#"):
            return await self.chosen(message.sender, message.text[1:], guard, request) or ""
        return message.text


def _is_start(text: str) -> bool:
    words = text.split()
    return bool(words) and words[0].split("@")[0] == "/start"


def set_webhook(url: str, environ: dict | None = None) -> dict:
    """Register our webhook URL and secret with Telegram (run once per deployment, not at start-up)."""
    import requests

    from hortense.settings import environment

    env = environ if environ is not None else environment()
    token = env.get("HORTENSE_TELEGRAM_BOT_TOKEN", "")
    secret = env.get("HORTENSE_TELEGRAM_WEBHOOK_SECRET", "")
    if not token or not secret:
        raise SystemExit("HORTENSE_TELEGRAM_BOT_TOKEN and HORTENSE_TELEGRAM_WEBHOOK_SECRET must be set")
    base = (env.get("HORTENSE_TELEGRAM_API_BASE") or DEFAULT_API_BASE).rstrip("/")
    answer = requests.post(
        f"{base}/bot{token}/setWebhook",
        timeout=30,
        json={"url": url, "secret_token": secret, "allowed_updates": ["message", "callback_query"]},
    )
    return {"status": answer.status_code, "ok": bool(answer.ok and answer.json().get("ok"))}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "set-webhook" or not args[1].startswith("https://"):
        print("usage: python -m channels.telegram set-webhook https://<public host>/webhooks/telegram/webhook")
        return 2
    result = set_webhook(args[1])
    print("webhook set" if result["ok"] else f"Telegram refused the webhook (HTTP {result['status']})")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
