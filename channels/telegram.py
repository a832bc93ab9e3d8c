"""Telegram: a webhook checked with `X-Telegram-Bot-Api-Secret-Token`, answers sent with the Bot API.

Written instead of Rasa's stock channel, which answers every update with HTTP 500 ("Event loop is
closed": it sets the webhook with `asyncio.run` in a throw-away loop and reuses that loop's HTTP
session). Here nothing talks to Telegram at start-up: the webhook is set once, by hand —

    python -m channels.telegram set-webhook https://bot.example.fr/webhooks/telegram/webhook

which registers our secret token with Telegram; every update must then carry it, else 403. Only private
chats are served (a group would show one customer's data to all its members). Choices are an inline
keyboard whose buttons send back their payload. The API base URL is configurable for a local fake.
"""
from __future__ import annotations

import hmac
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.common import SeenIds, credential, post, split_text, trusted_metadata
from channels.guard import ConnectorGuard

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
DEFAULT_API_BASE = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_TEXT_CHARS = 4096
MAX_CALLBACK_BYTES = 64  # Telegram's limit for a button's callback_data
GREETING_TEXT = "Bonjour"  # what "/start" (sent by Telegram when a user opens the bot) means


def sender_for(chat_id: Any) -> str:
    return f"{CHANNEL}:{chat_id}"


def chat_of(sender_id: str) -> str:
    return sender_id.split(":", 1)[1] if sender_id.startswith(f"{CHANNEL}:") else sender_id


class TelegramOutput(OutputChannel):
    """Bot API calls; buttons become an inline keyboard, numbered across the messages of one turn."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def __init__(self, api_base: str, bot_token: str, strict: bool = False) -> None:
        self.strict = strict
        self.base = f"{api_base.rstrip('/')}/bot{bot_token}"
        self.numbered = 0

    async def call(self, method: str, payload: dict) -> Any | None:
        return await post(f"{self.base}/{method}", what=f"telegram {method}", strict=self.strict, json=payload)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for chunk in split_text(text, MAX_TEXT_CHARS):
            await self.call("sendMessage", {"chat_id": chat_of(recipient_id), "text": chunk})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list, **kwargs: Any) -> None:
        rows = []
        for button in buttons:
            self.numbered += 1
            payload = str(button.get("payload") or "")
            data = payload if len(payload.encode()) <= MAX_CALLBACK_BYTES else f"#{self.numbered}"
            rows.append([{"text": str(button.get("title") or payload)[:64], "callback_data": data}])
        await self.call("sendMessage", {"chat_id": chat_of(recipient_id), "text": text[:MAX_TEXT_CHARS] or "…",
                                        "reply_markup": {"inline_keyboard": rows}})

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.call("sendPhoto", {"chat_id": chat_of(recipient_id), "photo": image})

    async def send_custom_json(self, recipient_id: str, json_message: dict, **kwargs: Any) -> None:
        """Custom payloads are for the website widget; the text sent with them says it all here."""

    async def answer_callback(self, callback_id: str) -> None:
        await self.call("answerCallbackQuery", {"callback_query_id": callback_id})


class TelegramInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict | None) -> TelegramInput:
        return cls(bot_token=credential(credentials, "bot_token"),
                   webhook_secret=credential(credentials, "webhook_secret"),
                   api_base=credential(credentials, "api_base", DEFAULT_API_BASE))

    def __init__(self, bot_token: str, webhook_secret: str, api_base: str = DEFAULT_API_BASE) -> None:
        self.bot_token = bot_token
        self.webhook_secret = webhook_secret
        self.api_base = api_base
        self.seen = SeenIds()

    @property
    def enabled(self) -> bool:
        return bool(self.bot_token and self.webhook_secret)

    def get_output_channel(self) -> TelegramOutput:
        """For messages outside a conversation turn (notifications): a failed send raises."""
        return TelegramOutput(self.api_base, self.bot_token, strict=True)

    def authentic(self, request: Request) -> bool:
        given = request.headers.get(SECRET_HEADER) or ""
        return self.enabled and hmac.compare_digest(given.encode(), self.webhook_secret.encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("telegram_webhook", __name__)
        guard = ConnectorGuard.for_blueprint(bp, CHANNEL)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.enabled else "disabled"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.authentic(request):
                logger.warning("telegram webhook refused: missing or wrong secret token")
                return response.text("forbidden", status=403)
            update = request.json if isinstance(request.json, dict) else {}
            if not self.seen.first_time(update.get("update_id")):
                return response.json({"ok": True})
            output = TelegramOutput(self.api_base, self.bot_token)
            chat, text = await self._read(update, output, guard, request)
            if not chat or chat.get("type") != "private" or not text:
                return response.json({"ok": True})
            sender = sender_for(chat.get("id"))
            admitted = await guard.admit(sender, text, output, request.app)
            if admitted is not None:
                await on_new_message(UserMessage(admitted, output, sender, input_channel=CHANNEL,
                                                 metadata=trusted_metadata(CHANNEL, sender)))
            return response.json({"ok": True})

        return bp

    async def _read(self, update: dict, output: TelegramOutput, guard: ConnectorGuard,
                    request: Request) -> tuple[dict | None, str]:
        """(chat, text) of a text message or of a tap on one of our buttons; anything else is ignored."""
        callback = update.get("callback_query")
        if isinstance(callback, dict):
            await output.answer_callback(str(callback.get("id") or ""))
            chat = (callback.get("message") or {}).get("chat")
            data = str(callback.get("data") or "")
            if data.startswith("#") and isinstance(chat, dict):  # a payload too long for Telegram
                offered = await guard.offered(sender_for(chat.get("id")), request.app, after_current_turn=True)
                index = int(data[1:]) - 1 if data[1:].isdigit() else -1
                data = offered[index].payload if 0 <= index < len(offered) else ""
            return chat if isinstance(chat, dict) else None, data
        message = update.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("text"), str):
            return None, ""
        text = message["text"]
        if _is_start(text):
            text = GREETING_TEXT
        return message.get("chat") if isinstance(message.get("chat"), dict) else None, text


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
    answer = requests.post(f"{base}/bot{token}/setWebhook", timeout=30, json={
        "url": url, "secret_token": secret, "allowed_updates": ["message", "callback_query"]})
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
