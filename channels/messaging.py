"""What the messaging connectors (WhatsApp, Telegram, Messenger) share: the webhook pipeline and the sending
rules, so that a platform only says how it parses, authenticates and sends.

The pipeline of `MessagingInput`, for every webhook call:
authenticate (else 403, nothing read) → parse into `Incoming` messages → for each: handled once per platform
message id (`hortense.security.replay`, shared through Redis when configured) → a photo, voice note or
location gets a kind "text only" answer → a numbered choice ("2") becomes the payload of that button →
the guard (`channels.guard`: rate limit, `/intent` filter, redaction) → Rasa, with the signed identity
assertion as the only metadata → the platform's acknowledgement.
"""
from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.common import (
    chosen_payload,
    credential,
    looks_like_choice,
    numbered_choices,
    split_text,
    trusted_metadata,
)
from channels.guard import ConnectorGuard
from hortense.security.replay import SeenIds

logger = logging.getLogger(__name__)

TEXT_ONLY_TEXT = ("Je ne sais lire que les messages écrits : les photos, messages vocaux, localisations et "
                  "fichiers ne me parviennent pas. Pouvez-vous m'écrire votre demande en quelques mots ?")

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


@dataclass(frozen=True)
class Incoming:
    """One user message of a webhook call, as every platform's parser gives it."""

    sender: str  # the conversation id: "whatsapp:+336…", "telegram:<chat>", "messenger:<psid>"
    message_id: Any  # the platform's id, for de-duplication (None: cannot be de-duplicated)
    text: str
    media: bool = False  # a photo, voice note, location… without text


class MessagingOutput(OutputChannel):
    """Sends on one platform: texts cut at the platform's limit, choices numbered across the messages of one
    turn (so that "2" means one button only). `strict` (notifications) raises when the platform refuses."""

    channel: ClassVar[str] = ""
    max_text_chars: ClassVar[int] = 2000

    @classmethod
    def name(cls) -> str:
        return cls.channel

    def __init__(self, strict: bool = False) -> None:
        self.strict = strict
        self.numbered = 0

    async def send_chunk(self, recipient_id: str, text: str) -> None:
        """One message of at most `max_text_chars` characters."""
        raise NotImplementedError

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for chunk in split_text(text, self.max_text_chars):
            await self.send_chunk(recipient_id, chunk)

    async def send_numbered_choices(self, recipient_id: str, text: str, buttons: list) -> None:
        """Buttons as text lines ("1. Mon contrat"): the user answers with the number."""
        choices = numbered_choices(buttons, self.numbered + 1)
        self.numbered += len(buttons)
        await self.send_text_message(recipient_id, f"{text}\n\n{choices}" if text else choices)

    async def send_custom_json(self, recipient_id: str, json_message: dict, **kwargs: Any) -> None:
        """Custom payloads are for the website widget; the text sent with them says it all here."""


class MessagingInput(InputChannel):
    """A platform's webhook, mounted by Rasa at /webhooks/<channel>/: GET / (health), POST /webhook.

    Each platform is a dataclass whose fields are its credentials.yml keys (a field's default is used when
    the key is empty: an unset `${VAR}`)."""

    channel: ClassVar[str] = ""
    REQUIRED: ClassVar[tuple[str, ...]] = ()  # without these the channel is disabled: every call gets 403
    REFUSED: ClassVar[str] = "missing or invalid signature"  # the log line of a refused call

    @classmethod
    def name(cls) -> str:
        return cls.channel

    @classmethod
    def from_credentials(cls, credentials: dict | None) -> MessagingInput:
        return cls(**{f.name: credential(credentials, f.name, "" if f.default is MISSING else f.default)
                      for f in fields(cls)})

    def __post_init__(self) -> None:
        self.seen = SeenIds(self.channel)

    @property
    def enabled(self) -> bool:
        return all(getattr(self, key) for key in self.REQUIRED)

    # --- what each platform provides ----------------------------------------------------------------------

    def output(self, strict: bool = False) -> MessagingOutput:
        raise NotImplementedError

    def authentic(self, request: Request) -> bool:
        """Whether the call comes from the platform (False whenever the channel is disabled)."""
        raise NotImplementedError

    def parse(self, request: Request) -> list[Incoming] | None:
        """The user messages of an authentic call (None: a malformed body, answered 400)."""
        raise NotImplementedError

    def ack(self) -> HTTPResponse:
        """The answer the platform expects once the call is handled."""
        raise NotImplementedError

    def add_routes(self, bp: Blueprint) -> None:
        """Routes of this platform only (Messenger's verification handshake)."""

    async def prepare(self, message: Incoming, output: MessagingOutput, guard: ConnectorGuard,
                      request: Request) -> str:
        """The text to pass on: by default a numbered choice ("2") becomes that button's payload."""
        if looks_like_choice(message.text):
            return await self.chosen(message.sender, message.text, guard, request) or message.text
        return message.text

    # --- the shared pipeline --------------------------------------------------------------------------------

    def get_output_channel(self) -> MessagingOutput:
        """For messages outside a conversation turn (notifications): a failed send raises."""
        return self.output(strict=True)

    def _reply_output(self) -> MessagingOutput:
        """For the answers of a turn: a failed send is logged (the webhook must still answer 200)."""
        return self.output()

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        bp = Blueprint(f"{self.channel}_webhook", type(self).__module__)
        guard = ConnectorGuard.for_blueprint(bp, self.channel)

        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.enabled else "disabled"})

        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request, guard, on_new_message)

        bp.add_route(health, "/", methods=["GET"])
        bp.add_route(receive, "/webhook", methods=["POST"])
        self.add_routes(bp)
        return bp

    async def receive(self, request: Request, guard: ConnectorGuard, on_new_message: OnNewMessage) -> HTTPResponse:
        if not self.authentic(request):
            logger.warning("%s webhook refused: %s", self.channel, self.REFUSED)
            return response.text("forbidden", status=403)
        messages = self.parse(request)
        if messages is None:
            return response.text("bad request", status=400)
        for message in messages:
            if self.seen.first_time(message.message_id):
                await self.handle(message, guard, request, on_new_message)
        return self.ack()

    async def handle(self, message: Incoming, guard: ConnectorGuard, request: Request,
                     on_new_message: OnNewMessage) -> None:
        output = self._reply_output()
        if message.media and not message.text.strip():
            if await guard.may_answer(message.sender, output):
                await output.send_text_message(message.sender, TEXT_ONLY_TEXT)
            return
        text = await self.prepare(message, output, guard, request)
        if not text:
            return
        admitted = await guard.admit(message.sender, text, output, request.app)
        if admitted is not None:
            await on_new_message(UserMessage(admitted, output, message.sender, input_channel=self.channel,
                                             metadata=trusted_metadata(self.channel, message.sender)))

    def header_is(self, request: Request, header: str, expected: Callable[[], str]) -> bool:
        """Authentication by a header: the channel is enabled and the header equals `expected()` (computed
        only then), compared in constant time."""
        given = request.headers.get(header) or ""
        return self.enabled and bool(given) and hmac.compare_digest(given.encode(), expected().encode())

    @staticmethod
    async def chosen(sender: str, number: str, guard: ConnectorGuard, request: Request) -> str | None:
        """The payload of the button numbered `number` in the bot's last message(s), if there is one."""
        return chosen_payload(number, await guard.offered(sender, request.app, after_current_turn=True))
