"""The advisors' console: a Sanic blueprint mounted at /console by the web app (`web.app`).

Access rules, each enforced here on every request (never by hiding a link):
- every page but the login form and the iCalendar feed needs a signed session (HttpOnly, SameSite=Strict
  cookie, 8 h, voided by logout or a password change) of an *active* advisor;
- an advisor sees and acts on their own calls only; a supervisor on everybody's; anything else is a 404
  (the same answer as a call that does not exist, so ids cannot be probed);
- a transcript is shown only for a conversation behind a call the advisor may see;
- every POST carries the session's CSRF token;
- failed logins are limited per account (database lockout, see hortense.appointments.advisors) and per address;
- the feed `/console/ical/<token>.ics` needs no login: its token is secret, stored hashed and revocable.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from hortense import clock
from hortense.appointments.advisors import (
    AdvisorView,
    advisor_for_feed_token,
    authenticate,
    end_sessions,
    get_advisor,
    issue_feed_token,
    revoke_feed_token,
)
from hortense.appointments.booking import (
    ConsoleCall,
    advisor_cancel,
    call_for_advisor,
    calls_for_day,
    set_status,
)
from hortense.appointments.calendar.phrases import PARIS
from hortense.appointments.icalendar_feed import build_feed
from hortense.db.calendar_models import STATUS_BOOKED, STATUS_CANCELLED, STATUS_DONE, STATUS_MISSED
from hortense.db.session import session_scope
from hortense.replies import formatting
from hortense.settings import get_settings

logger = logging.getLogger(__name__)

bp = Blueprint("console", url_prefix="/console")

HERE = Path(__file__).resolve().parent
COOKIE = "hortense_console"
SESSION_SECONDS = 8 * 3600
IP_FAILURE_LIMIT = 20
IP_FAILURE_WINDOW = 15 * 60
TRANSCRIPT_LIMIT = 300

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
}


def now() -> datetime:
    """The console's clock (tests replace it)."""
    return clock.now()


# --------------------------------------------------------------------------- templates

@lru_cache(maxsize=1)
def _templates() -> Environment:
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["hour"] = lambda dt: formatting.hour(dt.time())
    env.filters["long_date"] = formatting.long_date
    return env


def _page(name: str, status: int = 200, **context) -> HTTPResponse:
    return response.html(_templates().get_template(f"console/{name}").render(**context), status=status)


def _message(title: str, text_: str, status: int, advisor: AdvisorView | None = None,
             csrf: str = "") -> HTTPResponse:
    return _page("message.html", status=status, title=title, message=text_, advisor=advisor, csrf=csrf)


@bp.middleware("response")
async def _security_headers(_request: Request, resp: HTTPResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        resp.headers.setdefault(name, value)


# --------------------------------------------------------------------------- sessions

@dataclass(frozen=True)
class ConsoleSession:
    advisor_id: int | None
    password_version: str
    csrf: str
    issued_at: float
    expires_at: float


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _mac(payload: str) -> str:
    key = hashlib.sha256(b"console-session:" + get_settings().console_secret.encode()).digest()
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def _encode(s: ConsoleSession) -> str:
    payload = _b64(json.dumps({"a": s.advisor_id, "v": s.password_version, "c": s.csrf, "i": s.issued_at,
                               "e": s.expires_at}, separators=(",", ":")).encode())
    return f"{payload}.{_mac(payload)}"


def _decode(cookie: str | None) -> ConsoleSession | None:
    if not cookie or "." not in cookie or len(cookie) > 1000:
        return None
    payload, _, mac = cookie.rpartition(".")
    if not hmac.compare_digest(mac.encode(), _mac(payload).encode()):
        return None
    try:
        data = json.loads(_unb64(payload))
        s = ConsoleSession(data["a"], str(data["v"]), str(data["c"]), float(data["i"]), float(data["e"]))
    except (ValueError, KeyError, TypeError):
        return None
    return s if s.expires_at > clock.timestamp() else None


def _new_session(advisor: AdvisorView | None = None) -> ConsoleSession:
    issued = clock.timestamp()
    return ConsoleSession(advisor.id if advisor else None, advisor.password_version if advisor else "",
                          secrets.token_urlsafe(24), issued, issued + SESSION_SECONDS)


def _set_cookie(resp: HTTPResponse, request: Request, s: ConsoleSession) -> HTTPResponse:
    resp.cookies[COOKIE] = _encode(s)
    cookie = resp.cookies[COOKIE]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = "/console"
    cookie["max-age"] = SESSION_SECONDS
    if request.scheme == "https" or get_settings().web_base_url.startswith("https://"):
        cookie["secure"] = True
    return resp


def _session(request: Request) -> ConsoleSession:
    """The request's valid session, or a fresh anonymous one (stored only if a response sets it)."""
    return _decode(request.cookies.get(COOKIE)) or _new_session()


def _signed_in(request: Request) -> tuple[ConsoleSession, AdvisorView | None]:
    """The request's session and its advisor, if the session is valid and the advisor still allowed in."""
    s = _session(request)
    if s.advisor_id is None:
        return s, None
    with session_scope() as db:
        advisor = get_advisor(db, s.advisor_id)
    if advisor is None or not hmac.compare_digest(advisor.password_version, s.password_version):
        return s, None
    if advisor.sessions_valid_after is not None and s.issued_at <= advisor.sessions_valid_after.timestamp():
        return s, None
    return s, advisor


def _csrf_ok(request: Request, s: ConsoleSession) -> bool:
    sent = request.form.get("csrf") if request.form else None
    return isinstance(sent, str) and bool(sent) and hmac.compare_digest(sent.encode(), s.csrf.encode())


def _to_login() -> HTTPResponse:
    return response.redirect("/console/login", status=303)


# --------------------------------------------------------------------------- login limits

class _AddressLimiter:
    """Failed logins per client address in this process (the per-account lockout is in the database)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, deque] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, at: float) -> deque:
        q = self._failures.setdefault(key, deque())
        while q and q[0] <= at - self.window:
            q.popleft()
        return q

    def blocked(self, key: str) -> bool:
        with self._lock:
            return len(self._recent(key, time.monotonic())) >= self.limit

    def failed(self, key: str) -> None:
        with self._lock:
            at = time.monotonic()
            self._recent(key, at).append(at)
            if len(self._failures) > 10_000:  # bounded memory under a spray of addresses
                self._failures = {k: v for k, v in self._failures.items() if v}

    def reset(self) -> None:
        with self._lock:
            self._failures.clear()


address_limiter = _AddressLimiter(IP_FAILURE_LIMIT, IP_FAILURE_WINDOW)


# --------------------------------------------------------------------------- transcripts

@dataclass(frozen=True)
class TranscriptLine:
    speaker: str  # 'user' or 'bot'
    text: str
    at: datetime | None


def tracker_url() -> str | None:
    """Rasa's SQL tracker store: HORTENSE_TRACKER_URL (PostgreSQL) or HORTENSE_TRACKER_DB (SQLite file)."""
    return get_settings().tracker_url


_tracker_engines: dict[str, Engine] = {}
_tracker_lock = threading.Lock()


def _tracker_engine(url: str) -> Engine:
    with _tracker_lock:
        if url not in _tracker_engines:
            args = {"check_same_thread": False} if url.startswith("sqlite") else {}
            _tracker_engines[url] = create_engine(url, future=True, connect_args=args, pool_pre_ping=True)
        return _tracker_engines[url]


def read_transcript(sender_id: str, limit: int = TRANSCRIPT_LIMIT) -> list[TranscriptLine] | None:
    """The last `limit` user and bot messages of a conversation, oldest first; None if the store is unreadable."""
    url = tracker_url()
    if url is None:
        return None
    query = text("SELECT type_name, timestamp, data FROM events WHERE sender_id = :sender "
                 "AND type_name IN ('user', 'bot') ORDER BY id DESC LIMIT :limit")
    try:
        with _tracker_engine(url).connect() as conn:
            rows = conn.execute(query, {"sender": sender_id, "limit": limit}).all()
    except Exception as exc:  # a missing file or table: the page says the conversation is unavailable
        logger.warning("tracker store unreadable: %s", exc)
        return None
    lines = []
    for type_name, timestamp, data in reversed(rows):
        try:
            event = json.loads(data) if data else {}
        except ValueError:
            event = {}
        message = event.get("text") if isinstance(event, dict) else None
        if not message:
            continue
        at = datetime.fromtimestamp(float(timestamp), PARIS) if timestamp is not None else None
        lines.append(TranscriptLine(type_name, str(message), at))
    return lines


# --------------------------------------------------------------------------- pages

def _day_from(request: Request) -> date:
    raw = request.args.get("day") if request.args else None
    if raw:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    return now().astimezone(PARIS).date()


def _calls_url(day: date) -> str:
    return f"/console/calls?day={day.isoformat()}"


@bp.get("/", strict_slashes=False)
async def home(request: Request) -> HTTPResponse:
    _, advisor = _signed_in(request)
    return response.redirect("/console/calls" if advisor else "/console/login", status=303)


@bp.get("/login")
async def login_form(request: Request) -> HTTPResponse:
    s, advisor = _signed_in(request)
    if advisor:
        return response.redirect("/console/calls", status=303)
    s = s if s and s.advisor_id is None else _new_session()
    return _set_cookie(_page("login.html", csrf=s.csrf, error=None, email=""), request, s)


@bp.post("/login")
async def login(request: Request) -> HTTPResponse:
    s = _session(request)
    if not _csrf_ok(request, s):
        return _message("Session expirée", "Rechargez la page de connexion et réessayez.", 403)
    email = (request.form.get("email") or "").strip()[:200]
    password = (request.form.get("password") or "")[:200]
    address = request.ip or "unknown"
    if address_limiter.blocked(address):
        return _page("login.html", status=429, csrf=s.csrf, email=email,
                     error="Trop de tentatives. Réessayez dans quelques minutes.")
    with session_scope() as db:
        advisor = authenticate(db, email, password, now())
    if advisor is None:
        address_limiter.failed(address)
        return _page("login.html", status=401, csrf=s.csrf, email=email,
                     error="Adresse e-mail ou mot de passe incorrect, ou compte temporairement bloqué.")
    fresh = _new_session(advisor)  # a new token at login: a session fixed before login is useless
    return _set_cookie(response.redirect("/console/calls", status=303), request, fresh)


@bp.post("/logout")
async def logout(request: Request) -> HTTPResponse:
    s, advisor = _signed_in(request)
    if advisor is None:
        return _to_login()
    if not _csrf_ok(request, s):
        return _message("Action refusée", "Jeton de sécurité manquant ou invalide.", 403, advisor, s.csrf)
    with session_scope() as db:
        end_sessions(db, advisor.id, now())
    return _set_cookie(response.redirect("/console/login", status=303), request, _new_session())


@bp.get("/calls")
async def calls(request: Request) -> HTTPResponse:
    s, advisor = _signed_in(request)
    if advisor is None:
        return _to_login()
    day = _day_from(request)
    with session_scope() as db:
        rows = calls_for_day(db, advisor_id=None if advisor.is_supervisor else advisor.id, day=day)
    current = now()
    return _page(
        "calls.html", advisor=advisor, csrf=s.csrf, day=day, calls=rows, now=current,
        previous_day=day - timedelta(days=1), next_day=day + timedelta(days=1),
        today=current.astimezone(PARIS).date(),
        can_mark=lambda c: c.status != STATUS_CANCELLED and c.start <= current,
        can_cancel=lambda c: c.status == STATUS_BOOKED and c.end > current,
        STATUS_DONE=STATUS_DONE, STATUS_MISSED=STATUS_MISSED,
    )


def _visible_call(advisor: AdvisorView, appointment_id: int) -> ConsoleCall | None:
    with session_scope() as db:
        return call_for_advisor(db, advisor_id=advisor.id, appointment_id=appointment_id,
                                is_supervisor=advisor.is_supervisor)


def _not_found(advisor: AdvisorView, csrf: str) -> HTTPResponse:
    return _message("Appel introuvable", "Cet appel n'existe pas ou ne vous est pas attribué.", 404, advisor, csrf)


@bp.post("/calls/<appointment_id:int>/status")
async def mark(request: Request, appointment_id: int) -> HTTPResponse:
    s, advisor = _signed_in(request)
    if advisor is None:
        return _to_login()
    if not _csrf_ok(request, s):
        return _message("Action refusée", "Jeton de sécurité manquant ou invalide.", 403, advisor, s.csrf)
    call = _visible_call(advisor, appointment_id)
    if call is None:
        return _not_found(advisor, s.csrf)
    status = request.form.get("status")
    if status not in (STATUS_DONE, STATUS_MISSED):
        return _message("Action refusée", "Statut inconnu.", 400, advisor, s.csrf)
    with session_scope() as db:
        changed = set_status(db, advisor_id=advisor.id, appointment_id=appointment_id, status=status,
                             is_supervisor=advisor.is_supervisor, now=now())
    if not changed:
        return _message("Action impossible", "Cet appel ne peut pas (encore) être marqué ainsi.", 409, advisor,
                        s.csrf)
    return response.redirect(_calls_url(call.start.date()), status=303)


@bp.post("/calls/<appointment_id:int>/cancel")
async def cancel(request: Request, appointment_id: int) -> HTTPResponse:
    s, advisor = _signed_in(request)
    if advisor is None:
        return _to_login()
    if not _csrf_ok(request, s):
        return _message("Action refusée", "Jeton de sécurité manquant ou invalide.", 403, advisor, s.csrf)
    call = _visible_call(advisor, appointment_id)
    if call is None:
        return _not_found(advisor, s.csrf)
    reason = " ".join((request.form.get("reason") or "").split())[:500]
    if not reason:
        return _message("Motif requis", "Indiquez le motif de l'annulation : il sera transmis au client.", 400,
                        advisor, s.csrf)
    with session_scope() as db:
        done = advisor_cancel(db, advisor_id=advisor.id, appointment_id=appointment_id, reason=reason, now=now())
    if not done:
        return _message("Action impossible", "Cet appel n'est plus annulable.", 409, advisor, s.csrf)
    return response.redirect(_calls_url(call.start.date()), status=303)


@bp.get("/calls/<appointment_id:int>/transcript")
async def transcript(request: Request, appointment_id: int) -> HTTPResponse:
    s, advisor = _signed_in(request)
    if advisor is None:
        return _to_login()
    call = _visible_call(advisor, appointment_id)
    if call is None:
        return _not_found(advisor, s.csrf)
    return _page("transcript.html", advisor=advisor, csrf=s.csrf, call=call, lines=read_transcript(call.sender_id))


@bp.get("/agenda")
async def agenda(request: Request) -> HTTPResponse:
    s, advisor = _signed_in(request)
    if advisor is None:
        return _to_login()
    return _page("agenda.html", advisor=advisor, csrf=s.csrf, feed_url=None)


@bp.post("/agenda/new")
async def agenda_new(request: Request) -> HTTPResponse:
    s, advisor = _signed_in(request)
    if advisor is None:
        return _to_login()
    if not _csrf_ok(request, s):
        return _message("Action refusée", "Jeton de sécurité manquant ou invalide.", 403, advisor, s.csrf)
    with session_scope() as db:
        token = issue_feed_token(db, advisor.id, now())
        advisor = get_advisor(db, advisor.id) or advisor
    feed_url = f"{get_settings().web_base_url}/console/ical/{token}.ics"
    return _page("agenda.html", advisor=advisor, csrf=s.csrf, feed_url=feed_url)


@bp.post("/agenda/revoke")
async def agenda_revoke(request: Request) -> HTTPResponse:
    s, advisor = _signed_in(request)
    if advisor is None:
        return _to_login()
    if not _csrf_ok(request, s):
        return _message("Action refusée", "Jeton de sécurité manquant ou invalide.", 403, advisor, s.csrf)
    with session_scope() as db:
        revoke_feed_token(db, advisor.id, now())
    return response.redirect("/console/agenda", status=303)


@bp.get("/ical/<filename:str>")
async def ical_feed(_request: Request, filename: str) -> HTTPResponse:
    if not filename.endswith(".ics"):
        return response.text("Not found", status=404)
    with session_scope() as db:
        advisor = advisor_for_feed_token(db, filename[: -len(".ics")])
        body = build_feed(db, advisor.id, now()) if advisor else None
    if body is None:
        return response.text("Not found", status=404)
    return response.raw(body, content_type="text/calendar; charset=utf-8")


@bp.get("/static/console.css")
async def stylesheet(_request: Request) -> HTTPResponse:
    return await response.file(HERE / "static" / "console.css", mime_type="text/css",
                               headers={"Cache-Control": "public, max-age=3600"})
