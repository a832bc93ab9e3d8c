"""What the messaging connectors (WhatsApp, Telegram, Messenger) share: the webhook pipeline and the sending
rules, so that a platform only says how it parses, authenticates and sends.

The pipeline of `MessagingInput`, for every webhook call:
authenticate (else 403, nothing read) → parse into `Incoming` messages → for each: handled once per platform
message id (`hortense.security.replay`, shared through Redis when configured) → a photo, voice note or
location gets a kind "text only" answer → a numbered choice ("2") becomes the payload of that button →
the guard (`channels.guard`: rate limit, `/intent` filter, redaction) → Rasa, with the signed identity
assertion as the only metadata → the platform's acknowledgement. On platforms with a 24-hour window
(`WINDOWED`), every authentic message is recorded as the conversation's last inbound message.

Sending: a text longer than the platform allows is split (on line breaks, then spaces), never cut; buttons go
with the last part. A bot message's buttons are links or choices (`channels.common.link_buttons`): a link is
a URL button where the platform has them (Telegram, Messenger), a short labelled link in the text elsewhere
(WhatsApp: `hortense.documents.short_links`) — never the raw signed URL; only choices are numbered. An image
with text is a picture and its caption, in one platform message where the platform allows it. Notifications (`notify`, used by the scheduler through `channels.internal`) follow the
scheduler's `Notice`: each platform says how it writes outside the window, and which refusals are final.
"""

from __future__ import annotations

import asyncio
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
    PlatformError,
    chosen_payload,
    credential,
    looks_like_choice,
    numbered_choices,
    split_text,
    split_with_tail,
    trusted_metadata,
)
from channels.guard import ConnectorGuard
from hortense import clock
from hortense.appointments.notifications import Notice, PermanentFailure, SendResult, record_inbound
from hortense.security.replay import SeenIds

logger = logging.getLogger(__name__)

TEXT_ONLY_TEXT = (
    "Je ne sais lire que les messages écrits : les photos, messages vocaux, localisations et "
    "fichiers ne me parviennent pas. Pouvez-vous m'écrire votre demande en quelques mots ?"
)

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
        self.last_answer: Any = None  # the platform's answer to the last message sent

    async def send_chunk(self, recipient_id: str, text: str) -> Any:
        """One message of at most `max_text_chars` characters; returns the platform's answer."""
        raise NotImplementedError

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for chunk in split_text(text, self.max_text_chars):
            self.last_answer = await self.send_chunk(recipient_id, chunk)

    async def send_leading_parts(self, recipient_id: str, text: str) -> str:
        """Send every part of a long `text` but the last, and return the last (where the buttons go)."""
        parts = split_text(text, self.max_text_chars)
        for part in parts[:-1]:
            await self.send_chunk(recipient_id, part)
        return parts[-1]

    async def send_response(self, recipient_id: str, message: dict) -> None:
        """Rasa's dispatch, except that an image and its text go together (`send_image_with_caption`)."""
        if message.get("image") and not message.get("buttons") and not message.get("quick_replies"):
            rest = dict(message)
            image, caption = rest.pop("image"), rest.pop("text", None) or ""
            await self.send_image_with_caption(recipient_id, str(image), str(caption))
            await super().send_response(recipient_id, rest)
            return
        await super().send_response(recipient_id, message)

    async def send_image_with_caption(self, recipient_id: str, image: str, caption: str) -> None:
        """By default the caption, then the picture; platforms that can send both at once override this."""
        if caption:
            await self.send_text_message(recipient_id, caption)
        await self.send_image_url(recipient_id, image)

    async def send_numbered_choices(self, recipient_id: str, text: str, buttons: list) -> None:
        """Choices as text lines ("1. Mon contrat") in the last part: the user answers with the number.
        `buttons` are choices only (links are never numbered)."""
        choices = numbered_choices(buttons, self.numbered + 1)
        self.numbered += len(buttons)
        for part in split_with_tail(text, choices, self.max_text_chars):
            await self.send_chunk(recipient_id, part)

    # --- notifications (outside a conversation turn) ------------------------------------------------------

    async def notify(self, recipient_id: str, text: str, notice: Notice | None) -> SendResult:
        """Send a notification as `notice` says; raise `PermanentFailure` for a final refusal, `PlatformError`
        for one worth retrying. By default (no 24-hour window): the text, as in a conversation."""
        try:
            answer = await self.send_notification(recipient_id, text, notice)
        except PlatformError as exc:
            code, permanent = self.classify(exc)
            if permanent:
                raise PermanentFailure(code, str(exc)) from exc
            raise
        return answer

    async def send_notification(self, recipient_id: str, text: str, notice: Notice | None) -> SendResult:
        await self.send_text_message(recipient_id, text)
        return SendResult(message_id=self.message_id(self.last_answer))

    def classify(self, error: PlatformError) -> tuple[str, bool]:
        """The platform's error code and whether it is final (retrying would be refused the same way)."""
        return error.code, error.permanent

    @staticmethod
    def message_id(answer: Any) -> str | None:
        """The platform's id of a sent message, from its API answer."""
        return None

    async def send_custom_json(self, recipient_id: str, json_message: dict, **kwargs: Any) -> None:
        """Custom payloads are for the website widget; the text sent with them says it all here."""


class MessagingInput(InputChannel):
    """A platform's webhook, mounted by Rasa at /webhooks/<channel>/: GET / (health), POST /webhook.

    Each platform is a dataclass whose fields are its credentials.yml keys (a field's default is used when
    the key is empty: an unset `${VAR}`)."""

    channel: ClassVar[str] = ""
    REQUIRED: ClassVar[tuple[str, ...]] = ()  # without these the channel is disabled: every call gets 403
    WINDOWED: ClassVar[bool] = False  # free text only within 24 h of the user's last message (WhatsApp, Messenger)
    REFUSED: ClassVar[str] = "missing or invalid signature"  # the log line of a refused call

    @classmethod
    def name(cls) -> str:
        return cls.channel

    @classmethod
    def from_credentials(cls, credentials: dict | None) -> MessagingInput:
        return cls(
            **{f.name: credential(credentials, f.name, "" if f.default is MISSING else f.default) for f in fields(cls)}
        )

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

    async def prepare(self, message: Incoming, output: MessagingOutput, guard: ConnectorGuard, request: Request) -> str:
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
                if self.WINDOWED:
                    await self.record_inbound(message.sender)
                await self.handle(message, guard, request, on_new_message)
        return self.ack()

    async def record_inbound(self, sender: str) -> None:
        """The user wrote: the 24-hour window is open again (read by the scheduler for notifications)."""
        from hortense.db.session import session_scope

        def write() -> None:
            with session_scope() as session:
                record_inbound(session, self.channel, sender, clock.now())

        try:
            await asyncio.get_running_loop().run_in_executor(None, write)
        except Exception as exc:  # noqa: BLE001 (the answer matters more; a notification goes as a template)
            logger.warning("%s: could not record the last inbound message (%s)", self.channel, type(exc).__name__)

    async def handle(
        self, message: Incoming, guard: ConnectorGuard, request: Request, on_new_message: OnNewMessage
    ) -> None:
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
            await on_new_message(
                UserMessage(
                    admitted,
                    output,
                    message.sender,
                    input_channel=self.channel,
                    metadata=trusted_metadata(self.channel, message.sender),
                )
            )

    def header_is(self, request: Request, header: str, expected: Callable[[], str]) -> bool:
        """Authentication by a header: the channel is enabled and the header equals `expected()` (computed
        only then), compared in constant time."""
        given = request.headers.get(header) or ""
        return self.enabled and bool(given) and hmac.compare_digest(given.encode(), expected().encode())

    @staticmethod
    async def chosen(sender: str, number: str, guard: ConnectorGuard, request: Request) -> str | None:
        """The payload of the button numbered `number` in the bot's last message(s), if there is one."""
        return chosen_payload(number, await guard.offered(sender, request.app, after_current_turn=True))
