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

from hortense.replies.common import LINK_BUTTON_TYPE
from hortense.security.identity import ASSERTION_KEY, sign_assertion

logger = logging.getLogger(__name__)

HTTP_TIMEOUT = aiohttp.ClientTimeout(total=15)
# The variables credentials.yml reads for the messaging channels. Rasa refuses to start when one is unset, so
# scripts/env.sh defines them all (empty = channel disabled: its webhook answers 403 to everything).
CHANNEL_ENV_VARS = (
    "HORTENSE_TWILIO_ACCOUNT_SID",
    "HORTENSE_TWILIO_AUTH_TOKEN",
    "HORTENSE_WHATSAPP_NUMBER",
    "HORTENSE_WHATSAPP_WEBHOOK_URL",
    "HORTENSE_TWILIO_API_BASE",
    "HORTENSE_TELEGRAM_BOT_TOKEN",
    "HORTENSE_TELEGRAM_WEBHOOK_SECRET",
    "HORTENSE_TELEGRAM_API_BASE",
    "HORTENSE_MESSENGER_APP_SECRET",
    "HORTENSE_MESSENGER_PAGE_ACCESS_TOKEN",
    "HORTENSE_MESSENGER_VERIFY_TOKEN",
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
    """A platform API refused or could not take a message (raised only for out-of-conversation sends).

    `status` is the HTTP status (None: no answer at all), `answer` the platform's JSON error body; `code` is the
    platform's error code when a connector recognised one, and `permanent` says whether retrying can help."""

    def __init__(
        self,
        message: str,
        status: int | None = None,
        answer: Any = None,
        code: str | None = None,
        permanent: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.answer = answer if isinstance(answer, dict) else {}
        self.code = code or (f"http_{status}" if status else "unreachable")
        # By default: a refusal (4xx) is repeated if retried; throttling (429), 5xx and no answer are not.
        self.permanent = (
            permanent
            if permanent is not None
            else (status is not None and 400 <= status < 500 and status not in (408, 429))
        )


async def post(url: str, *, what: str, strict: bool = False, **kwargs: Any) -> Any | None:
    """POST to a platform API. Failures are logged without the URL (it may hold a token); during a
    conversation they are swallowed (the webhook must still answer 200, or the platform redelivers the
    message), for a notification (`strict`) they raise `PlatformError` so that the sender can retry later
    or give up (the connector's `classify` reads the platform's error code)."""
    problem, status, answer = None, None, None
    try:
        async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as session:
            async with session.post(url, **kwargs) as response:
                if response.status < 400:
                    try:
                        return await response.json(content_type=None)
                    except ValueError:
                        return {}
                problem, status = f"HTTP {response.status}", response.status
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    answer = None
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        problem = type(exc).__name__
    logger.warning("%s: platform API call failed (%s)", what, problem)
    if strict:
        raise PlatformError(f"{what}: {problem}", status, answer)
    return None


def link_buttons(buttons: list | None) -> tuple[list[dict], list[dict]]:
    """A bot message's buttons as (links, choices): a link (`{"type": "web_url", "title", "url"}`, see
    `hortense.replies.common.Link`) opens a page, a choice sends its payload back. Only choices are numbered."""
    links: list[dict] = []
    choices: list[dict] = []
    for button in buttons or []:
        if not isinstance(button, dict):
            continue
        if button.get("type") == LINK_BUTTON_TYPE and isinstance(button.get("url"), str):
            links.append(button)
        else:
            choices.append(button)
    return links, choices


def link_title(button: dict, limit: int | None = None) -> str:
    """A link's label; within `limit` characters its short form (or the label cut with "…")."""
    title = str(button.get("title") or "Ouvrir le lien")
    if limit is None or len(title) <= limit:
        return title
    short = str(button.get("short_title") or "")
    return short if short and len(short) <= limit else title[: limit - 1] + "…"


def split_caption(caption: str, limit: int) -> tuple[str, str]:
    """(head, rest): `head` at most `limit` characters, cut at a space."""
    if len(caption) <= limit:
        return caption, ""
    cut = caption.rfind(" ", 0, limit)
    cut = cut if cut > 0 else limit
    return caption[:cut].rstrip(), caption[cut:].lstrip()


def numbered_choices(buttons: list[dict], first: int = 1) -> str:
    """Buttons as text for platforms without buttons: "1. Mon contrat" … (the user may answer "1")."""
    lines = [f"{first + i}. {b.get('title') or b.get('payload')}" for i, b in enumerate(buttons)]
    return "\n".join(lines + [CHOOSE_BY_NUMBER])


_CHOICE = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


def looks_like_choice(text: str) -> bool:
    return bool(_CHOICE.match(text or ""))


def chosen_payload(text: str, offered: list) -> str | None:
    """ "2" answers the second numbered choice of the bot's last message(s): the payload of that button."""
    match = _CHOICE.match(text or "")
    if not match:
        return None
    index = int(match.group(1)) - 1
    return offered[index].payload if 0 <= index < len(offered) else None


def split_with_tail(text: str, tail: str, limit: int) -> list[str]:
    """`text` split at `limit`, with `tail` (numbered choices) kept whole in the last part."""
    if not tail:
        return split_text(text, limit)
    if not text:
        return split_text(tail, limit)
    joined = f"{text}\n\n{tail}"
    if len(joined) <= limit:
        return [joined]
    parts = split_text(text, limit)
    last = f"{parts[-1]}\n\n{tail}"
    return parts[:-1] + ([last] if len(last) <= limit else [parts[-1], *split_text(tail, limit)])


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
