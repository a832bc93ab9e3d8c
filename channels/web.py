"""Website channel: socket.io for the chat widget and an HTTP endpoint, both authenticated by the portal JWT.

Differences from Rasa's stock socket.io channel, each on purpose:
- the JWT is verified at connect (signature, exp, aud, iss, sub) and again on every message;
- the conversation id is chosen here from the verified subject; a client `session_id` is ignored;
- client metadata never reaches Rasa: the only metadata is the signed identity assertion;
- `enter_room` is awaited (python-socketio >= 5.10 made it a coroutine; the stock channel forgets to);
- the socket's allowed origins come from settings, not "any";
- a link of a bot message (a `web_url` button, `hortense.replies.common.Link`) becomes a labelled Markdown link
  line in the text, "[Télécharger votre contrat (PDF)](https://…)", which the widget shows as a link (the stock
  output would turn it into a quick reply that sends its title back); the choices stay buttons.
A visitor without a token may chat, under a random conversation id, and gets general answers only; since a
visitor can open a new conversation by reconnecting, visitors' messages are also limited per address and all
together (`channels.guard`), while a logged-in customer is limited per customer. The HTTP endpoint, which needs
a token, limits its refused (unauthenticated) requests per address. A refused message is answered in French:
on the socket by the guard, over HTTP by a 429 with the same text.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from channels.common import link_buttons
from channels.guard import WINDOW_SECONDS, ConnectorGuard
from hortense import clock
from hortense.ops import metrics
from hortense.ops.logging_setup import configure_logging
from hortense.rasa import patches as rasa_patches
from hortense.security.identity import IdentityError, PortalClaims, sign_assertion, verify_portal_token, web_sender_id
from hortense.security.rate_limit import RateLimit, client_address
from hortense.settings import get_settings

logger = logging.getLogger(__name__)

CHANNEL = "web"
MAX_MESSAGE_CHARS = 2000
TECHNICAL_TEXT = (
    "Désolée, je rencontre un souci technique et ne peux pas vous répondre pour le moment. "
    "Réessayez dans quelques instants."
)
EXPIRED_TEXT = (
    "Votre session a expiré. Rechargez la page de votre espace client pour continuer la conversation avec Hortense."
)
HTTP_REFUSED_PER_MINUTE = 20  # unauthenticated requests to the HTTP endpoint, per address
TOO_MANY_REFUSED_TEXT = "Trop de requêtes refusées depuis votre adresse. Réessayez dans une minute."


def bearer_token(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


def _visitor_id() -> str:
    raw = uuid.uuid4().hex
    return f"visitor-{raw}.{_visitor_mac(raw)}"


def _visitor_mac(raw: str) -> str:
    return hmac.new(get_settings().identity_secret.encode(), raw.encode(), hashlib.sha256).hexdigest()[:16]


def _valid_visitor_id(value: Any) -> bool:
    """A visitor keeps its conversation across reloads only with an id this server issued."""
    if not isinstance(value, str) or not value.startswith("visitor-") or "." not in value:
        return False
    raw, _, mac = value[len("visitor-") :].partition(".")
    return len(raw) == 32 and hmac.compare_digest(mac, _visitor_mac(raw))


def clean_text(value: Any) -> str:
    return value.strip()[:MAX_MESSAGE_CHARS] if isinstance(value, str) else ""


def _token_from_connect(environ: dict, auth: dict | None) -> str | None:
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        return auth["token"]
    query = parse_qs(environ.get("QUERY_STRING", "") if isinstance(environ, dict) else "")
    return query.get("token", [None])[0]


def _token_from_payload(data: Any) -> str | None:
    if not isinstance(data, dict):
        return None
    for holder in (data, data.get("customData") or {}, data.get("metadata") or {}):
        if isinstance(holder, dict) and isinstance(holder.get("token"), str):
            return holder["token"]
    return None


def with_links_in_text(message: dict) -> dict:
    """The message as the website shows it: each link a labelled Markdown line after the text."""
    links, choices = link_buttons(message.get("buttons"))
    if not links:
        return message
    lines = [f"[{link.get('title') or 'Ouvrir le lien'}]({link['url']})" for link in links]
    shown = {**message, "text": "\n".join(part for part in (message.get("text") or "", *lines) if part)}
    if choices:
        shown["buttons"] = choices
    else:
        shown.pop("buttons", None)
    return shown


class CountingOutput(OutputChannel):
    """Forwards to the real output channel, links shown in the text (`with_links_in_text`), and counts what
    was sent."""

    def __init__(self, inner: OutputChannel):
        self.inner = inner
        self.sent = 0

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def __getattr__(self, item):
        return getattr(self.inner, item)

    async def send_response(self, recipient_id: str, message: dict) -> None:
        self.sent += 1
        await self.inner.send_response(recipient_id, with_links_in_text(message))


def start_process() -> None:
    """What a Rasa process sets up once, when Rasa builds its channels (never at import: tests and the other
    processes import this module): the Rasa patches (hortense.rasa.patches), the project's log format, the metrics
    endpoint."""
    rasa_patches.install()
    configure_logging("rasa")
    metrics.start_metrics_server()  # only when HORTENSE_METRICS_PORT is set


async def health(_: Request) -> HTTPResponse:
    return response.json({"status": "ok"})


class WebChat:
    """The conversations of one mounted website channel: the HTTP endpoint and the socket.io events."""

    def __init__(
        self,
        sio: AsyncServer,
        guard: ConnectorGuard,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        bot_message_evt: str,
    ) -> None:
        self.sio, self.guard, self.on_new_message, self.bot_message_evt = sio, guard, on_new_message, bot_message_evt
        self.http_refused = RateLimit("web-http-refused-address", HTTP_REFUSED_PER_MINUTE, WINDOW_SECONDS)

    async def handle(
        self,
        text: str,
        sender_id: str,
        customer: str | None,
        output: OutputChannel,
        *,
        address: str | None = None,
        limited: bool = True,
    ) -> None:
        """Pass the message to Rasa; if nothing at all came back (action server down, internal error),
        the customer still gets an answer instead of silence. A visitor (no `customer`) is also limited per
        `address` and with all visitors; `limited=False`: the caller has applied the limits."""
        admitted = await self.guard.admit(
            sender_id, text, output, address=address, visitor=customer is None, limited=limited
        )
        if admitted is None:  # refused (rate limit, unsafe store): the guard has answered if due
            return
        text = admitted
        metadata = {"hortense_identity": sign_assertion(CHANNEL, sender_id, customer)}
        counting = CountingOutput(output)
        with metrics.turn_timer(CHANNEL) as turn:
            try:
                await self.on_new_message(
                    UserMessage(text, counting, sender_id, input_channel=CHANNEL, metadata=metadata)
                )
            except Exception:  # noqa: BLE001 - the customer must get an answer whatever failed
                logger.exception("message handling failed for %s", sender_id)
            if counting.sent == 0:
                turn.fallback = True
                await output.send_text_message(sender_id, TECHNICAL_TEXT)

    async def http_message(self, request: Request) -> HTTPResponse:
        """Server-side clients, tests and benchmarks: one message in, the bot's messages out."""
        address = client_address(request)
        if self.http_refused.blocked(address):
            return _too_many(TOO_MANY_REFUSED_TEXT)
        try:
            claims = verify_portal_token(bearer_token(request.headers.get("Authorization")) or "")
        except IdentityError as exc:
            logger.info("web http message refused: %s", exc)
            self.http_refused.record(address)
            return response.json({"error": "unauthorized", "message": "Authentification requise."}, status=401)
        body = request.json if isinstance(request.json, dict) else {}
        text = clean_text(body.get("message"))
        if not text:
            return response.json({"error": "empty_message", "message": "Le message est vide."}, status=400)
        sender = web_sender_id(claims.customer_number)
        refused = self.guard.refusal(sender)  # a logged-in customer: their own limit, whatever the address
        if refused is not None:
            return _too_many(refused.text)
        collector = CollectingOutputChannel()
        await self.handle(text, sender, claims.customer_number, collector, limited=False)
        return response.json(collector.messages)

    async def authenticate(self, sid: str, token: str | None) -> bool:
        """A socket with a valid portal token belongs to that customer; without a token, to a visitor."""
        if token is None:
            return True
        try:
            claims = verify_portal_token(token)
        except IdentityError as exc:
            logger.info("web socket %s refused: %s", sid, exc)
            return False
        session = await self.sio.get_session(sid)
        await self.sio.save_session(sid, {**session, "claims": claims, "sender": web_sender_id(claims.customer_number)})
        return True

    async def refreshed(self, sid: str, session: dict, token: str | None) -> PortalClaims | None:
        """A page that kept its token fresh sends it along: accepted only for the same customer."""
        try:
            claims = verify_portal_token(token or "")
        except IdentityError:
            return None
        if web_sender_id(claims.customer_number) != session.get("sender"):
            return None
        await self.sio.save_session(sid, {**session, "claims": claims})
        return claims

    async def connect(self, sid: str, environ: dict, auth: dict | None = None) -> bool:
        request = environ.get("sanic.request") if isinstance(environ, dict) else None
        await self.sio.save_session(sid, {"address": client_address(request) if request is not None else "unknown"})
        return await self.authenticate(sid, _token_from_connect(environ, auth))

    async def session_request(self, sid: str, data: dict | None) -> None:
        """The conversation id is chosen here: the verified customer's, or a visitor id this server issued."""
        token = _token_from_payload(data)
        if token is not None and not await self.authenticate(sid, token):
            await self.sio.emit("auth_error", {"message": EXPIRED_TEXT}, room=sid)
            await self.sio.disconnect(sid)
            return
        session = await self.sio.get_session(sid)
        if "sender" not in session:
            requested = (data or {}).get("session_id") if isinstance(data, dict) else None
            session = {
                **session,
                "claims": None,
                "sender": requested if _valid_visitor_id(requested) else _visitor_id(),
            }
            await self.sio.save_session(sid, session)
        await self.sio.enter_room(sid, session["sender"])
        await self.sio.emit("session_confirm", session["sender"], room=sid)

    async def user_message(self, sid: str, data: Any) -> None:
        session = await self.sio.get_session(sid)
        if "sender" not in session:
            await self.session_request(sid, data if isinstance(data, dict) else None)
            session = await self.sio.get_session(sid)
            if "sender" not in session:
                return
        claims: PortalClaims | None = session.get("claims")
        if claims is not None and claims.expires_at < clock.timestamp():
            claims = await self.refreshed(sid, session, _token_from_payload(data))
            if claims is None:
                await self.sio.emit(self.bot_message_evt, {"text": EXPIRED_TEXT}, room=sid)
                await self.sio.emit("token_expired", {}, room=sid)
                return
        text = clean_text(data.get("message") if isinstance(data, dict) else None)
        if not text:
            return
        output = SocketIOOutput(self.sio, self.bot_message_evt)
        await self.handle(
            text, session["sender"], claims.customer_number if claims else None, output, address=session.get("address")
        )


def _too_many(text: str) -> HTTPResponse:
    return response.json(
        {"error": "rate_limited", "message": text}, status=429, headers={"Retry-After": str(int(WINDOW_SECONDS))}
    )


class HortenseWebInput(SocketIOInput):
    """The website chat channel (socket.io + HTTP), mounted at /webhooks/web/ and the socket.io path."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict | None) -> HortenseWebInput:
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            True,
            credentials.get("socketio_path", "/socket.io"),
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Called once by Rasa when it builds its channels: the process starts here, then the routes."""
        start_process()
        self.sio = AsyncServer(async_mode="sanic", cors_allowed_origins=list(get_settings().allowed_origins))
        bp = SocketBlueprint(self.sio, self.socketio_path, "web_webhook", __name__)
        bp.listener("before_server_start")(rasa_patches.hide_version)  # GET / must not tell Rasa's version
        chat = WebChat(self.sio, ConnectorGuard.for_blueprint(bp, CHANNEL), on_new_message, self.bot_message_evt)

        async def http_message(request: Request) -> HTTPResponse:  # Sanic tags its handlers: not a bound method
            return await chat.http_message(request)

        bp.add_route(health, "/", methods=["GET"])
        bp.add_route(http_message, "/message", methods=["POST"])
        for event, handler in (
            ("connect", chat.connect),
            ("session_request", chat.session_request),
            (self.user_message_evt, chat.user_message),
        ):
            self.sio.on(event, namespace=self.namespace)(handler)
        return bp
