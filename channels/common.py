"""Pieces shared by the messaging connectors (WhatsApp, Telegram, Messenger).

Each connector authenticates the platform's webhook itself, then hands Rasa a message whose only metadata
is the signed identity assertion (channel, sender, no customer: the account-link table decides who the
sender is). Conversation ids carry the channel name, so two platforms never share a conversation.
"""
from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import aiohttp

from hortense.security.identity import ASSERTION_KEY, sign_assertion

logger = logging.getLogger(__name__)

HTTP_TIMEOUT = aiohttp.ClientTimeout(total=15)
# The variables credentials.yml reads for the messaging channels. Rasa refuses to start when one is unset, so
# scripts/env.sh defines them all (empty = channel disabled: its webhook answers 403 to everything).
CHANNEL_ENV_VARS = (
    "HORTENSE_TWILIO_ACCOUNT_SID", "HORTENSE_TWILIO_AUTH_TOKEN", "HORTENSE_WHATSAPP_NUMBER",
    "HORTENSE_WHATSAPP_WEBHOOK_URL", "HORTENSE_TWILIO_API_BASE",
    "HORTENSE_TELEGRAM_BOT_TOKEN", "HORTENSE_TELEGRAM_WEBHOOK_SECRET", "HORTENSE_TELEGRAM_API_BASE",
    "HORTENSE_MESSENGER_APP_SECRET", "HORTENSE_MESSENGER_PAGE_ACCESS_TOKEN", "HORTENSE_MESSENGER_VERIFY_TOKEN",
    "HORTENSE_MESSENGER_API_BASE",
)
CHOOSE_BY_NUMBER = "Répondez par le numéro de votre choix."


def trusted_metadata(channel: str, sender_id: str) -> dict:
    """The only metadata a messaging message carries: never anything the platform or the user sent."""
    return {ASSERTION_KEY: sign_assertion(channel, sender_id, None)}


def credential(credentials: dict | None, key: str, default: str = "") -> str:
    """A credentials.yml value; empty (an unset `${VAR}`) means "not configured"."""
    value = (credentials or {}).get(key)
    return str(value).strip() if value not in (None, "") else default


class PlatformError(RuntimeError):
    """A platform API refused or could not take a message (raised only for out-of-conversation sends)."""


async def post(url: str, *, what: str, strict: bool = False, **kwargs: Any) -> Any | None:
    """POST to a platform API. Failures are logged without the URL (it may hold a token); during a
    conversation they are swallowed (the webhook must still answer 200, or the platform redelivers the
    message), for a notification (`strict`) they raise so that the sender can retry later."""
    problem = None
    try:
        async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as session:
            async with session.post(url, **kwargs) as response:
                if response.status < 400:
                    try:
                        return await response.json(content_type=None)
                    except ValueError:
                        return {}
                problem = f"HTTP {response.status}"
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        problem = type(exc).__name__
    logger.warning("%s: platform API call failed (%s)", what, problem)
    if strict:
        raise PlatformError(f"{what}: {problem}")
    return None


def numbered_choices(buttons: list[dict], first: int = 1) -> str:
    """Buttons as text for platforms without buttons: "1. Mon contrat" … (the user may answer "1")."""
    lines = [f"{first + i}. {b.get('title') or b.get('payload')}" for i, b in enumerate(buttons)]
    return "\n".join(lines + [CHOOSE_BY_NUMBER])


_CHOICE = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


def looks_like_choice(text: str) -> bool:
    return bool(_CHOICE.match(text or ""))


def chosen_payload(text: str, offered: list) -> str | None:
    """"2" answers the second numbered choice of the bot's last message(s): the payload of that button."""
    match = _CHOICE.match(text or "")
    if not match:
        return None
    index = int(match.group(1)) - 1
    return offered[index].payload if 0 <= index < len(offered) else None


def split_text(text: str, limit: int) -> list[str]:
    """Platforms cap a message's length: cut on line breaks, then spaces, never inside a word if avoidable."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not chunks:
        chunks.append(rest)
    return chunks
