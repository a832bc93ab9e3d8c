"""Signed-cookie sessions and CSRF tokens for the whole web app: the customer's browser session (portal,
documents, bank form) and the advisor's console session.

One format for both cookies: base64url(JSON) "." hex HMAC-SHA256, the expiry inside. Each kind has its own
key, derived from its own secret with a label, so that one never passes for the other, for a JWT or for a
signed link. A form's CSRF token is an HMAC of the session's random nonce and the form's purpose (and,
optionally, the resource it acts on): it changes at log-in and log-out, and a token of one form is worthless
for another.

- Customer: `hortense_session`, Path=/, SameSite=Lax, 8 h; read and written by two middlewares (`web.app`),
  created only when a form needs a nonce or the customer logs in. A logged-in cookie also names a server-side
  session (`hortense.security.portal_sessions`): log-out and password change revoke it, so a replayed cookie
  is worth nothing afterwards.
- Advisor: `hortense_console`, Path=/console, SameSite=Strict, 8 h; valid only while the advisor is active,
  has the same password and has not logged out since. Console routes say what they need with
  `@sessions.login_required` and `@sessions.csrf_protected(refusal)` (`ConsoleSessions`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from sanic import response
from sanic.request import Request
from sanic.response import BaseHTTPResponse, HTTPResponse

from hortense import clock
from hortense.appointments.advisors import AdvisorView, get_advisor
from hortense.db.session import session_scope
from hortense.security import portal_sessions
from hortense.settings import get_settings

SESSION_SECONDS = 8 * 3600
MAX_COOKIE_CHARS = 1000
CSRF_FIELD = "csrf"

Handler = Callable[..., Coroutine[Any, Any, HTTPResponse]]
Response = TypeVar("Response", bound=BaseHTTPResponse)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _derived_key(secret: str, label: bytes) -> bytes:
    return hmac.new(secret.encode(), label, hashlib.sha256).digest()


@dataclass(frozen=True)
class SignedCookie:
    """One kind of session cookie: its name, scope and key, the signed encoding and the CSRF tokens."""

    name: str
    path: str
    samesite: str
    key: Callable[[], bytes]  # read when used: tests and `make run` change the secrets after import

    def _mac(self, message: bytes) -> str:
        return hmac.new(self.key(), message, hashlib.sha256).hexdigest()

    def encode(self, data: dict) -> str:
        body = _b64(json.dumps(data, separators=(",", ":")).encode())
        return f"{body}.{self._mac(body.encode())}"

    def decode(self, value: str | None, now: float) -> dict | None:
        """The signed data if the signature is right and `e` (expiry) is after `now`, else None."""
        if not value or value.count(".") != 1 or len(value) > MAX_COOKIE_CHARS:
            return None
        body, mac = value.split(".")
        if not hmac.compare_digest(mac.encode(), self._mac(body.encode()).encode()):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            return data if float(data["e"]) > now else None
        except (ValueError, KeyError, TypeError):
            return None

    def write(self, resp: Response, value: str | None, secure: bool) -> Response:
        """Set the cookie (HttpOnly, this kind's path and SameSite); None deletes it."""
        resp.cookies[self.name] = value or ""
        cookie = resp.cookies[self.name]
        cookie["path"] = self.path
        cookie["httponly"] = True
        cookie["samesite"] = self.samesite
        cookie["max-age"] = SESSION_SECONDS if value else 0
        if secure:
            cookie["secure"] = True
        return resp

    def csrf_token(self, nonce: str, purpose: str, binding: str = "") -> str:
        return self._mac(json.dumps(["csrf", purpose, binding, nonce], separators=(",", ":")).encode())

    def csrf_ok(self, nonce: str | None, purpose: str, given: Any, binding: str = "") -> bool:
        if not nonce or not isinstance(given, str) or not given:
            return False
        return hmac.compare_digest(given.encode(), self.csrf_token(nonce, purpose, binding).encode())


def _sent_csrf(request: Request) -> str | None:
    return request.form.get(CSRF_FIELD) if request.form else None


# --- the customer's browser session ---------------------------------------------------------------------


@dataclass(frozen=True)
class BrowserSession:
    nonce: str  # random; CSRF tokens are derived from it, and it changes at log-in and log-out
    customer_number: str | None
    expires: int
    session_id: str | None = None  # the server-side session of a logged-in customer


BROWSER_COOKIE = SignedCookie(
    "hortense_session",
    "/",
    "Lax",
    # Derived from the portal's secret with a label, so a cookie can never pass for a JWT or a link.
    lambda: _derived_key(get_settings().portal_jwt_secret, b"hortense-web-session-v1"),
)


def encode_session(s: BrowserSession) -> str:
    return BROWSER_COOKIE.encode({"n": s.nonce, "c": s.customer_number, "e": s.expires, "s": s.session_id})


def decode_session(value: str | None, now: float | None = None) -> BrowserSession | None:
    data = BROWSER_COOKIE.decode(value, now if now is not None else clock.timestamp())
    if data is None:
        return None
    try:
        session_id = data.get("s")
        return BrowserSession(
            str(data["n"]),
            data["c"] if isinstance(data["c"], str) else None,
            int(data["e"]),
            session_id if isinstance(session_id, str) else None,
        )
    except (ValueError, KeyError, TypeError):
        return None


def _new_browser_session(customer_number: str | None) -> BrowserSession:
    session_id = portal_sessions.open_session(customer_number, SESSION_SECONDS) if customer_number else None
    return BrowserSession(
        secrets.token_urlsafe(18), customer_number, int(clock.timestamp()) + SESSION_SECONDS, session_id
    )


async def load_session(request: Request) -> None:
    """Request middleware: the verified session (or None) on `request.ctx.browser`. A customer's cookie counts
    only while its server-side session is live (not logged out, password unchanged): otherwise it is dropped."""
    browser = decode_session(request.cookies.get(BROWSER_COOKIE.name))
    request.ctx.browser_changed = False
    if browser is not None and browser.customer_number is not None and not request.path.startswith("/static/"):
        live = await asyncio.to_thread(portal_sessions.session_active, browser.session_id, browser.customer_number)
        if not live:
            browser = None
            request.ctx.browser_changed = True  # the dead cookie is deleted
    request.ctx.browser = browser


async def store_session(request: Request, resp: BaseHTTPResponse) -> None:
    """Response middleware: write the cookie when this request created, changed or ended the session."""
    if not getattr(request.ctx, "browser_changed", False):
        return
    session: BrowserSession | None = request.ctx.browser
    BROWSER_COOKIE.write(resp, encode_session(session) if session else None, request.app.ctx.config.secure_cookies)


def _set_browser_session(request: Request, session: BrowserSession | None) -> None:
    request.ctx.browser = session
    request.ctx.browser_changed = True


def log_in_customer(request: Request, customer_number: str | None) -> None:
    """A new session (new nonce) for this customer, or an anonymous one: a session fixed before is worthless."""
    _end_server_session(request)
    _set_browser_session(request, _new_browser_session(customer_number))


def log_out_customer(request: Request) -> None:
    """The session ends on the server too: the same cookie, replayed, no longer logs anybody in."""
    _end_server_session(request)
    _set_browser_session(request, None)


def _end_server_session(request: Request) -> None:
    current = getattr(request.ctx, "browser", None)
    if current is not None and current.session_id:
        portal_sessions.revoke_session(current.session_id)


def ensure_session(request: Request) -> BrowserSession:
    """The current session, or a new anonymous one (forms need a nonce before anyone logs in)."""
    session = getattr(request.ctx, "browser", None)
    if session is None:
        session = _new_browser_session(None)
        _set_browser_session(request, session)
    return session


def logged_in_customer(request: Request) -> str | None:
    session = getattr(request.ctx, "browser", None)
    return session.customer_number if session else None


def csrf_token(request: Request, purpose: str, binding: str = "") -> str:
    """A customer form's token: bound to this browser's session nonce, the form's purpose and (optionally) a
    resource."""
    return BROWSER_COOKIE.csrf_token(ensure_session(request).nonce, purpose, binding)


def csrf_ok(request: Request, purpose: str, given: str | None, binding: str = "") -> bool:
    session = getattr(request.ctx, "browser", None)
    return BROWSER_COOKIE.csrf_ok(session.nonce if session else None, purpose, given, binding)


# --- the advisor's console session ----------------------------------------------------------------------


@dataclass(frozen=True)
class ConsoleSession:
    advisor_id: int | None  # None before log-in (the log-in form needs a nonce too)
    password_version: str
    nonce: str
    issued_at: float
    expires_at: float


CONSOLE_COOKIE = SignedCookie(
    "hortense_console",
    "/console",
    "Strict",
    lambda: _derived_key(get_settings().console_secret, b"hortense-console-session-v1"),
)
CONSOLE_PURPOSE = "console"


class ConsoleSessions:
    """The console's sessions on the console's own clock (the one that also dates a log-out), so that
    "issued before the log-out" compares two readings of one clock."""

    def __init__(self, clock: Callable[[], float], login_url: str) -> None:
        self.clock, self.login_url = clock, login_url

    def read(self, request: Request) -> ConsoleSession | None:
        data = CONSOLE_COOKIE.decode(request.cookies.get(CONSOLE_COOKIE.name), self.clock())
        if data is None:
            return None
        try:
            return ConsoleSession(data["a"], str(data["v"]), str(data["c"]), float(data["i"]), float(data["e"]))
        except (ValueError, KeyError, TypeError):
            return None

    def new(self, advisor: AdvisorView | None = None) -> ConsoleSession:
        issued = self.clock()
        return ConsoleSession(
            advisor.id if advisor else None,
            advisor.password_version if advisor else "",
            secrets.token_urlsafe(24),
            issued,
            issued + SESSION_SECONDS,
        )

    def write(self, resp: HTTPResponse, request: Request, s: ConsoleSession) -> HTTPResponse:
        value = CONSOLE_COOKIE.encode(
            {"a": s.advisor_id, "v": s.password_version, "c": s.nonce, "i": s.issued_at, "e": s.expires_at}
        )
        secure = request.scheme == "https" or get_settings().web_base_url.startswith("https://")
        return CONSOLE_COOKIE.write(resp, value, secure)

    def signed_in(self, request: Request) -> tuple[ConsoleSession | None, AdvisorView | None]:
        """The request's session and its advisor, if the session is valid and the advisor still allowed in."""
        s = self.read(request)
        if s is None or s.advisor_id is None:
            return s, None
        with session_scope() as db:
            advisor = get_advisor(db, s.advisor_id)
        if advisor is None or not hmac.compare_digest(advisor.password_version, s.password_version):
            return s, None
        if advisor.sessions_valid_after is not None and s.issued_at <= advisor.sessions_valid_after.timestamp():
            return s, None
        return s, advisor

    @staticmethod
    def csrf(s: ConsoleSession) -> str:
        """The token every console form carries."""
        return CONSOLE_COOKIE.csrf_token(s.nonce, CONSOLE_PURPOSE)

    @staticmethod
    def csrf_ok(request: Request, s: ConsoleSession | None) -> bool:
        return CONSOLE_COOKIE.csrf_ok(s.nonce if s else None, CONSOLE_PURPOSE, _sent_csrf(request))

    def login_required(self, handler: Handler) -> Handler:
        """Route decorator: a signed-in, still allowed advisor, else the log-in page. The handler finds
        `request.ctx.advisor`, `request.ctx.console_session` and `request.ctx.csrf`."""

        @wraps(handler)
        async def signed_in_only(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            s, advisor = self.signed_in(request)
            if s is None or advisor is None:
                return response.redirect(self.login_url, status=303)
            request.ctx.console_session, request.ctx.advisor, request.ctx.csrf = s, advisor, self.csrf(s)
            return await handler(request, *args, **kwargs)

        return signed_in_only

    def csrf_protected(self, refusal: Callable[[Request], HTTPResponse]) -> Callable[[Handler], Handler]:
        """Route decorator: the form must carry the session's token, else `refusal(request)` answers. Under
        `login_required` it checks that session; on the log-in form, the anonymous one of the cookie."""

        def decorate(handler: Handler) -> Handler:
            @wraps(handler)
            async def checked(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
                s = getattr(request.ctx, "console_session", None) or self.read(request)
                if s is None or not self.csrf_ok(request, s):
                    return refusal(request)
                request.ctx.console_session, request.ctx.csrf = s, self.csrf(s)
                return await handler(request, *args, **kwargs)

            return checked

        return decorate
