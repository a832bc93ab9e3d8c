"""What every connector does to a message before Rasa sees it: rate limit, `/intent` filter, redaction.

- Rate limit: a sender gets `settings.message_rate_per_minute` messages per rolling minute, then one polite
  answer, then silence until the minute has passed (a flood costs us neither NLU time nor platform fees);
  counted in Redis when it is configured, so the limit holds across instances (hortense.security.rate_limit).
  Anonymous visitors of the website choose their conversation by reconnecting, so theirs are also counted
  per address (every visitor conversation from one address together) and all together (a ceiling on what
  visitors may cost the bot); each new conversation refused that way is told once why. Logged-in customers
  are counted per customer only: a flood of visitors never silences them.
- `/intent{...}` filter: Rasa always obeys a message of the form `/intent{"entity": "value"}` (confidence
  1.0, entities filled). Such a message is accepted only when it is exactly the payload of a button the bot
  offered in its last message(s) of this conversation, read from the tracker store; anything else loses
  its leading slashes and is read as ordinary text.
- Redaction: IBANs, card numbers, tokens and passwords are replaced by placeholders (the bot never needs
  them), and the customer is warned (whatever the form the secret was typed in). One-time link codes are kept: the linking action reads the code from the message text; the
  redacting tracker store, event broker and log filter keep them out of storage (hortense.rasa.tracker_store).

The guard also refuses messages when the tracker store in use would write secrets in clear.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import OutputChannel
from sanic import Blueprint, Sanic

from hortense.replies.security import secret_warning
from hortense.security.rate_limit import RateLimit
from hortense.security.redaction import redact_text, secret_kinds
from hortense.settings import get_settings

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000
WINDOW_SECONDS = 60.0
# Visitors' limits, in conversations' worth (settings.message_rate_per_minute each: 30 by default): one address
# (a family, an office) gets two conversations' worth, all visitors together twenty (600 messages a minute).
VISITOR_ADDRESS_CONVERSATIONS = 2
VISITORS_CONVERSATIONS = 20
RATE_LIMITED_TEXT = (
    "Vous m'envoyez beaucoup de messages en peu de temps : je marque une petite pause. "
    "Réessayez dans une minute, s'il vous plaît."
)
BUSY_TEXT = (
    "Je reçois beaucoup de messages en ce moment : merci de réessayer dans une minute. Si vous êtes "
    "client, connectez-vous à votre espace client pour me parler sans attendre."
)
UNAVAILABLE_TEXT = (
    "Je suis momentanément indisponible, désolée. Merci de réessayer un peu plus tard ; pour une "
    "urgence, nos conseillers restent joignables par téléphone."
)
_LEADING_SLASHES = re.compile(r"^[\s/]+")
_store_verdicts: dict[int, bool] = {}


@dataclass(frozen=True)
class Refusal:
    text: str  # what the sender is told, in French
    tell: bool  # False once this sender has been told during this run of refusals


@dataclass(frozen=True)
class OfferedButton:
    title: str
    payload: str


# What a widget or app sends by itself when a conversation opens (rasa-webchat's initPayload, Telegram's
# /start): no entity, and the same as typing "bonjour" or "aide", so always accepted.
ENTRY_PAYLOADS = frozenset({"/greet", "/help"})


def offered_buttons(events: Iterable[Any]) -> list[OfferedButton]:
    """Buttons (and quick replies) of the bot messages sent since the user's last message, in order.

    Accepts Rasa `Event` objects or their dict form, newest last.
    """
    found: list[list[OfferedButton]] = []
    for event in reversed(list(events)):
        kind = event.get("event") if isinstance(event, dict) else getattr(event, "type_name", None)
        if kind == "user":
            break
        if kind != "bot":
            continue
        data = (event.get("data") if isinstance(event, dict) else getattr(event, "data", None)) or {}
        found.append(
            [
                OfferedButton(str(b.get("title") or ""), b["payload"])
                for key in ("buttons", "quick_replies")
                for b in (data.get(key) or [])
                if isinstance(b, dict) and isinstance(b.get("payload"), str)
            ]
        )
    return [button for message in reversed(found) for button in message]


def redact_keeping_codes(text: str) -> str:
    """`redact_text` on everything but code-like numbers (the linking action needs the code)."""
    return redact_text(text, keep_codes=True)


def unslash(text: str) -> str:
    """An unsolicited `/intent{...}` becomes ordinary text, which Rasa's regex handler leaves alone."""
    return _LEADING_SLASHES.sub("", text)


class ConnectorGuard:
    """One per input channel: made with `for_blueprint` in the channel's `blueprint()`, then every incoming
    message goes through `admit` before `on_new_message`."""

    def __init__(
        self,
        channel: str,
        per_minute: int | None = None,
        *,
        per_address: int | None = None,
        visitors_per_minute: int | None = None,
    ) -> None:
        self.channel = channel
        per_minute = per_minute or get_settings().message_rate_per_minute
        self.limiter = RateLimit("messages", per_minute, WINDOW_SECONDS)
        self.address_limiter = RateLimit(
            "visitor-messages-address", per_address or VISITOR_ADDRESS_CONVERSATIONS * per_minute, WINDOW_SECONDS
        )
        self.visitors_limiter = RateLimit(
            "visitor-messages", visitors_per_minute or VISITORS_CONVERSATIONS * per_minute, WINDOW_SECONDS
        )
        self.told = RateLimit("visitor-messages-told", 1, WINDOW_SECONDS)  # one answer per conversation a minute
        self.app: Sanic | None = None
        self.store_ok: bool | None = None

    @classmethod
    def for_blueprint(cls, bp: Blueprint, channel: str) -> ConnectorGuard:
        """A guard that learns the Rasa app (hence the agent and its tracker store) when the server starts."""
        guard = cls(channel)
        bp.listener("after_server_start")(guard._on_start)
        return guard

    async def _on_start(self, app: Sanic, _loop: Any) -> None:
        from hortense.rasa.tracker_store import check_store, install_log_redaction

        install_log_redaction()
        self.app = app
        agent = getattr(app.ctx, "agent", None)
        if agent is not None and self.store_ok is None:
            store = agent.tracker_store
            if id(store) not in _store_verdicts:  # one check (and one log line) for all the channels
                _store_verdicts[id(store)] = check_store(store)
            self.store_ok = _store_verdicts[id(store)]

    async def admit(
        self,
        sender_id: str,
        text: Any,
        output: OutputChannel | None,
        app: Sanic | None = None,
        *,
        address: str | None = None,
        visitor: bool = False,
        limited: bool = True,
    ) -> str | None:
        """The text Rasa may see for this message, or None when it must not reach Rasa (the guard has
        then answered the sender through `output` when an answer is due). `visitor`: an anonymous website
        conversation, also limited per `address` and with all visitors; `limited=False`: the caller has
        already applied the limits (`refusal`)."""
        app = app or self.app
        if not await self.may_answer(sender_id, output, address=address, visitor=visitor, limited=limited):
            return None
        text = text.strip()[:MAX_MESSAGE_CHARS] if isinstance(text, str) else ""
        if not text:
            return None
        if text.startswith("/"):
            if (
                text in ENTRY_PAYLOADS
                or text in await self.offered_payloads(sender_id, app)
                or text in await self.offered_payloads(sender_id, app, after_current_turn=True)
            ):
                return text
            logger.info("%s: unsolicited /intent message read as text", self.channel)
            text = unslash(text)
            if not text:
                return None
        clean = redact_keeping_codes(text)
        kinds = secret_kinds(text, clean)
        if kinds:  # whatever the form the secret was typed in: the redaction that caught it says so
            await _say(output, sender_id, secret_warning(kinds))
        return clean

    async def may_answer(
        self,
        sender_id: str,
        output: OutputChannel | None,
        *,
        address: str | None = None,
        visitor: bool = False,
        limited: bool = True,
    ) -> bool:
        """Whether this sender may be answered now (store safe, under the rate limits); when not, the sender
        is told why through `output` (once per run of refusals for the rate limits)."""
        if self.store_ok is False:
            await _say(output, sender_id, UNAVAILABLE_TEXT)
            return False
        refused = self.refusal(sender_id, address=address, visitor=visitor) if limited else None
        if refused is not None and refused.tell:
            await _say(output, sender_id, refused.text)
        return refused is None

    def refusal(self, sender_id: str, *, address: str | None = None, visitor: bool = False) -> Refusal | None:
        """None if this message is under the limits (it is then counted), else what to tell the sender.

        Every conversation has its own limit; a visitor's is also counted per address and with all visitors,
        so that reconnecting under new conversation ids from one address gains nothing."""
        allowed, first_refusal = self.limiter.hit(f"{self.channel}:{sender_id}")
        if not allowed:
            logger.info("%s: rate limit reached for a sender", self.channel)
            return Refusal(RATE_LIMITED_TEXT, first_refusal)
        if not visitor:
            return None
        for limiter, key, text in (
            (self.address_limiter, f"{self.channel}:{address or 'unknown'}", RATE_LIMITED_TEXT),
            (self.visitors_limiter, f"{self.channel}:all", BUSY_TEXT),
        ):
            if not limiter.hit(key).allowed:
                logger.info("%s: %s limit reached for visitors", self.channel, limiter.name)
                return Refusal(text, self.told.hit(f"{self.channel}:{sender_id}").allowed)
        return None

    async def offered(
        self, sender_id: str, app: Sanic | None = None, after_current_turn: bool = False
    ) -> list[OfferedButton]:
        """The buttons of the bot's last message(s) in this conversation ([] when unknown: fail closed).

        The platform shows a button as soon as the bot sends it, before Rasa has saved the turn: a quick
        tap can arrive first. `after_current_turn` waits for the conversation's lock (the turn in flight)."""
        agent = getattr(getattr(app or self.app, "ctx", None), "agent", None)
        store = getattr(agent, "tracker_store", None)
        if store is None:
            return []
        try:
            lock_store = getattr(agent, "lock_store", None)
            if after_current_turn and lock_store is not None:
                async with lock_store.lock(sender_id, wait_time_in_seconds=0.05):
                    tracker = await store.retrieve(sender_id)
            else:
                tracker = await store.retrieve(sender_id)
        except Exception:  # noqa: BLE001 - an unreadable tracker offers nothing
            logger.warning("%s: could not read the conversation to check a button payload", self.channel)
            return []
        return offered_buttons(tracker.events) if tracker is not None else []

    async def offered_payloads(
        self, sender_id: str, app: Sanic | None = None, after_current_turn: bool = False
    ) -> set[str]:
        return {b.payload.strip() for b in await self.offered(sender_id, app, after_current_turn)}


async def _say(output: OutputChannel | None, sender_id: str, text: str) -> None:
    if output is None:
        return
    try:
        await output.send_text_message(sender_id, text)
    except Exception:  # noqa: BLE001 - the guard's own answer is best effort
        logger.warning("could not send the guard's answer")
