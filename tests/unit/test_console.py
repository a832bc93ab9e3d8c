"""The advisors' console over HTTP (Sanic's ASGI interface; no test client package is installed)."""
from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import pytest
from icalendar import Calendar
from sanic import Sanic
from sqlalchemy import select, update

from hortense.appointments import advisors
from hortense.appointments import booking as ap
from hortense.appointments.advisors import DEFAULT_WORKING_HOURS, create_advisor, hash_password
from hortense.appointments.calendar.phrases import PARIS
from hortense.db.calendar_models import Advisor, Appointment, Notification
from hortense.db.models import Customer
from hortense.db.session import session_scope
from hortense.settings import get_settings
from web import console
from web.sessions import CONSOLE_COOKIE

UTC = timezone.utc
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=PARIS)
FRIDAY_10 = datetime(2026, 11, 27, 10, 0, tzinfo=PARIS)
DURING = FRIDAY_10 + timedelta(minutes=40)  # the console's clock: both Friday calls have started


# --------------------------------------------------------------------------- a small ASGI client

@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    @property
    def location(self) -> str | None:
        return self.header("location")


@dataclass
class Client:
    """A browser-like client: keeps cookies (Path /console) and speaks ASGI to the app."""

    app: Sanic
    loop: asyncio.AbstractEventLoop
    ip: str = "127.0.0.1"
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, target: str, form: dict | None = None, headers: dict | None = None) -> Response:
        return self.loop.run_until_complete(self._request(method, target, form, headers or {}))

    def get(self, target: str) -> Response:
        return self.request("GET", target)

    def post(self, target: str, form: dict) -> Response:
        return self.request("POST", target, form)

    async def _request(self, method, target, form, headers) -> Response:
        parts = urlsplit(target)
        body = urlencode(form).encode() if form is not None else b""
        all_headers = {"host": "testserver", **headers}
        if form is not None:
            all_headers["content-type"] = "application/x-www-form-urlencoded"
            all_headers["content-length"] = str(len(body))
        if self.cookies:
            all_headers["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": parts.path, "raw_path": parts.path.encode(),
                 "query_string": parts.query.encode(), "root_path": "",
                 "headers": [(k.lower().encode(), v.encode()) for k, v in all_headers.items()],
                 "client": (self.ip, 40000), "server": ("testserver", 80)}
        incoming = [{"type": "http.request", "body": body, "more_body": False}]
        status, out_headers, chunks = 0, [], []

        async def receive():
            if incoming:
                return incoming.pop(0)
            await asyncio.sleep(3600)

        async def send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                out_headers.extend((k.decode(), v.decode()) for k, v in message["headers"])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        for name, value in out_headers:
            if name.lower() == "set-cookie":
                for morsel in SimpleCookie(value).values():
                    if morsel["max-age"] == "0":
                        self.cookies.pop(morsel.key, None)
                    else:
                        self.cookies[morsel.key] = morsel.value
        return Response(status, out_headers, b"".join(chunks))


@pytest.fixture(scope="module")
def app():
    Sanic.test_mode = True  # several apps may start in one process (what sanic-testing does)
    application = Sanic(f"console_test_{uuid.uuid4().hex[:8]}")
    application.blueprint(console.bp)
    loop = asyncio.new_event_loop()
    application.asgi = True
    loop.run_until_complete(application._startup())
    yield application, loop
    loop.close()


@pytest.fixture
def client(app) -> Client:
    return Client(*app)


# --------------------------------------------------------------------------- data

@dataclass(frozen=True)
class World:
    url: str
    alice: int
    bruno: int
    chief: int
    alice_call: int
    bruno_call: int
    customers: dict[str, int]


PASSWORDS = {"alice@hortense.test": "alice-secret", "bruno@hortense.test": "bruno-secret",
             "chief@hortense.test": "chief-secret"}


def _tracker(path) -> None:
    """A Rasa SQL tracker store with two conversations (the real table layout)."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
                   "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
                   "action_name VARCHAR(255), data TEXT)")
        rows = [
            ("conv-C1001", "user", 1.0, {"event": "user", "text": "Je voudrais parler à quelqu'un <b>vite</b>"}),
            ("conv-C1002", "user", 1.5, {"event": "user", "text": "Message de Julien, confidentiel"}),
            ("conv-C1001", "action", 2.0, {"event": "action", "name": "action_listen"}),
            ("conv-C1001", "bot", 3.0, {"event": "bot", "text": "Quel créneau vous conviendrait ?"}),
            ("conv-C1001", "user", 4.0, {"event": "user", "text": "demain à 10h"}),
        ]
        db.executemany("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
                       [(s, t, ts, json.dumps(d)) for s, t, ts, d in rows])


@pytest.fixture
def world(seeded_db, tmp_path, monkeypatch, clock) -> World:
    console.address_limiter.reset()
    advisors.reset_login_delays()
    clock.set(DURING)
    tracker = tmp_path / "tracker.db"
    _tracker(tracker)
    monkeypatch.setenv("HORTENSE_TRACKER_DB", str(tracker))
    monkeypatch.delenv("HORTENSE_TRACKER_URL", raising=False)
    monkeypatch.delenv("HORTENSE_REDIS_URL", raising=False)  # log-in delays on the test clock, in memory
    get_settings.cache_clear()  # settings are read once per process: re-read them with this tracker store
    ids = {}
    with session_scope(seeded_db) as s:
        for email, password in PASSWORDS.items():
            name = email.split("@")[0]
            ids[name] = create_advisor(s, name=name.capitalize(), email=email, password="",
                                       password_hash=hash_password(password, n=16), is_supervisor=name == "chief",
                                       working_hours=() if name == "chief" else DEFAULT_WORKING_HOURS).id
        customers = dict(s.execute(select(Customer.customer_number, Customer.id)).all())

    def book(number):
        with session_scope(seeded_db) as s:
            return ap.book(s, customer_id=customers[number], contract_id=None, start=FRIDAY_10, reason="Facture",
                           phone="0612345678", channel="web", sender_id=f"conv-{number}", now=NOW).appointment

    alice_call, bruno_call = book("C1001"), book("C1002")
    assert (alice_call.advisor_id, bruno_call.advisor_id) == (ids["alice"], ids["bruno"])
    return World(seeded_db, ids["alice"], ids["bruno"], ids["chief"], alice_call.id, bruno_call.id, customers)


def _csrf(page: Response) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def _login(client: Client, email: str, password: str | None = None) -> Response:
    token = _csrf(client.get("/console/login"))
    return client.post("/console/login", {"email": email, "password": password or PASSWORDS[email],
                                          "csrf": token})


def _signed_in(client: Client, email: str) -> str:
    """Log in and return the CSRF token of the new session."""
    response = _login(client, email)
    assert (response.status, response.location) == (303, "/console/calls")
    return _csrf(client.get("/console/calls?day=2026-11-27"))


def _status(world: World, appointment_id: int) -> str:
    with session_scope(world.url) as s:
        return s.get(Appointment, appointment_id).status


# --------------------------------------------------------------------------- login

def test_every_page_requires_login(client, world):
    for target in ("/console/calls", "/console/calls?day=2026-11-27", f"/console/calls/{world.alice_call}/transcript",
                   "/console/agenda", "/console/"):
        response = client.get(target)
        assert (response.status, response.location) == (303, "/console/login"), target
    login_page = client.get("/console/login")
    csrf = _csrf(login_page)
    response = client.post(f"/console/calls/{world.alice_call}/status", {"status": "done", "csrf": csrf})
    assert (response.status, response.location) == (303, "/console/login")
    assert _status(world, world.alice_call) == "booked"


def test_the_session_cookie_is_httponly_strict_and_scoped(client, world):
    cookie = client.get("/console/login").header("set-cookie")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    assert "Max-Age=28800" in cookie


def test_wrong_password_or_unknown_email_is_refused(client, world):
    for email, password in (("alice@hortense.test", "wrong"), ("nobody@hortense.test", "alice-secret")):
        response = _login(client, email, password)
        assert response.status == 401 and "incorrect" in response.text
        assert client.get("/console/calls").status == 303


def test_login_needs_the_forms_csrf_token(client, world):
    client.get("/console/login")
    response = client.post("/console/login", {"email": "alice@hortense.test", "password": "alice-secret"})
    assert response.status == 403
    response = client.post("/console/login", {"email": "alice@hortense.test", "password": "alice-secret",
                                              "csrf": "forged"})
    assert response.status == 403
    assert client.get("/console/calls").status == 303


def test_a_forged_or_tampered_cookie_is_not_a_session(client, world):
    _signed_in(client, "alice@hortense.test")
    payload, _, mac = client.cookies[CONSOLE_COOKIE.name].rpartition(".")
    client.cookies[CONSOLE_COOKIE.name] = payload[:-2] + "xx." + mac
    assert client.get("/console/calls").status == 303


def test_failures_slow_down_this_address_with_growing_delays_never_a_lock(client, world, clock):
    for _ in range(advisors.LOGIN_FREE_FAILURES):
        assert _login(client, "alice@hortense.test", "wrong").status == 401
    assert _login(client, "alice@hortense.test", "wrong").status == 401  # the 4th failure: 1 s to wait
    delayed = _login(client, "alice@hortense.test")  # even the right password waits: nothing is checked
    assert delayed.status == 429 and delayed.header("Retry-After") == "1"
    assert "Réessayez dans 1 seconde." in delayed.text
    waits = []
    for _ in range(12):
        clock.advance(advisors.LOGIN_DELAY_CAP)
        assert _login(client, "alice@hortense.test", "wrong").status == 401
        retry = _login(client, "alice@hortense.test")
        waits.append(int(retry.header("Retry-After") or 0))
    assert waits[:5] == [2, 4, 8, 16, 32] and max(waits) == advisors.LOGIN_DELAY_CAP  # doubling, capped
    clock.advance(advisors.LOGIN_DELAY_CAP)
    assert _login(client, "alice@hortense.test").status == 303  # a delay ends by itself


def test_a_stranger_hammering_an_account_does_not_lock_out_its_advisor(client, world, clock):
    _signed_in(client, "alice@hortense.test")  # alice's usual address (the client's, 127.0.0.1)
    stranger = Client(client.app, client.loop, ip="203.0.113.7")
    statuses = {_login(stranger, "alice@hortense.test", "guess").status for _ in range(19)}
    assert statuses == {401, 429}
    assert _login(stranger, "alice@hortense.test").status == 429  # the stranger waits, even with the password
    desk = Client(client.app, client.loop)
    assert _login(desk, "alice@hortense.test").status == 303  # alice, at her desk, is not slowed down
    assert _login(Client(client.app, client.loop, ip="10.0.0.9"), "bruno@hortense.test").status == 303


def test_many_addresses_guessing_one_account_slow_down_new_addresses_only(client, world, clock):
    _signed_in(client, "alice@hortense.test")
    for i in range(advisors.ACCOUNT_FREE_FAILURES + 1):  # one guess from each of many addresses
        assert _login(Client(client.app, client.loop, ip=f"198.51.100.{i}"), "alice@hortense.test", "x").status == 401
    assert _login(Client(client.app, client.loop, ip="198.51.100.200"), "alice@hortense.test").status == 429
    assert _login(Client(client.app, client.loop), "alice@hortense.test").status == 303  # usual address
    clock.advance(advisors.LOGIN_DELAY_CAP)
    assert _login(Client(client.app, client.loop, ip="198.51.100.200"), "alice@hortense.test").status == 303


def test_unknown_e_mails_slow_down_like_real_accounts(client, world):
    answers = [_login(client, "nobody@hortense.test", "x").status for _ in range(advisors.LOGIN_FREE_FAILURES + 2)]
    assert answers == [401] * (advisors.LOGIN_FREE_FAILURES + 1) + [429]


def test_failed_logins_are_limited_per_address(client, world):
    for i in range(console.IP_FAILURE_LIMIT):
        assert _login(client, f"nobody{i}@hortense.test", "x").status == 401
    assert _login(client, "alice@hortense.test").status == 429
    other = Client(client.app, client.loop, ip="10.0.0.9")
    assert _login(other, "alice@hortense.test").status == 303


def test_logout_voids_the_session_even_if_the_cookie_is_replayed(client, world, clock):
    csrf = _signed_in(client, "alice@hortense.test")
    stolen = dict(client.cookies)
    clock.advance(timedelta(minutes=5))
    assert client.post("/console/logout", {"csrf": csrf}).location == "/console/login"
    assert client.get("/console/calls").status == 303
    thief = Client(client.app, client.loop, cookies=stolen)
    assert thief.get("/console/calls").status == 303


def test_a_deactivated_advisor_is_out_at_once(client, world):
    _signed_in(client, "alice@hortense.test")
    with session_scope(world.url) as s:
        s.execute(update(Advisor).where(Advisor.id == world.alice).values(active=False))
    assert client.get("/console/calls").status == 303


# --------------------------------------------------------------------------- calls

def test_an_advisor_sees_only_their_calls_with_context(client, world):
    _signed_in(client, "alice@hortense.test")
    page = client.get("/console/calls?day=2026-11-27")
    assert page.status == 200
    assert "Camille Dubois" in page.text and "Julien Moreau" not in page.text
    for expected in ("Stockage Virtuel", "14 295 730 100 101", "SV-2023-000101", "06 12 34 56 78", "Facture",
                     "vendredi 27 novembre 2026", f"/console/calls/{world.alice_call}/transcript"):
        assert expected in page.text
    assert "Camille Dubois" not in client.get("/console/calls?day=2026-11-26").text
    assert "Camille Dubois" in client.get("/console/calls").text  # the console's today is that Friday


def test_the_day_navigation_links_and_a_bad_date(client, world):
    _signed_in(client, "alice@hortense.test")
    page = client.get("/console/calls?day=2026-11-27")
    assert "day=2026-11-26" in page.text and "day=2026-11-28" in page.text
    assert client.get("/console/calls?day=not-a-date").status == 200


def test_an_advisor_cannot_touch_another_advisors_call(client, world):
    csrf = _signed_in(client, "alice@hortense.test")
    other = world.bruno_call
    assert client.get(f"/console/calls/{other}/transcript").status == 404
    assert client.post(f"/console/calls/{other}/status", {"status": "done", "csrf": csrf}).status == 404
    assert client.post(f"/console/calls/{other}/cancel", {"reason": "x", "csrf": csrf}).status == 404
    assert client.get("/console/calls/999999/transcript").status == 404
    assert _status(world, other) == "booked"
    with session_scope(world.url) as s:
        assert s.execute(select(Notification).where(Notification.kind == "cancellation")).first() is None


def test_a_supervisor_sees_and_handles_every_call(client, world):
    csrf = _signed_in(client, "chief@hortense.test")
    page = client.get("/console/calls?day=2026-11-27")
    assert "Camille Dubois" in page.text and "Julien Moreau" in page.text
    assert "Alice" in page.text and "Bruno" in page.text  # the advisor column
    assert client.get(f"/console/calls/{world.bruno_call}/transcript").status == 200
    assert client.post(f"/console/calls/{world.bruno_call}/status", {"status": "missed", "csrf": csrf}).status == 303
    assert _status(world, world.bruno_call) == "missed"


def test_marking_a_call_needs_the_csrf_token(client, world):
    csrf = _signed_in(client, "alice@hortense.test")
    target = f"/console/calls/{world.alice_call}/status"
    assert client.post(target, {"status": "done"}).status == 403
    assert client.post(target, {"status": "done", "csrf": "forged"}).status == 403
    assert _status(world, world.alice_call) == "booked"
    response = client.post(target, {"status": "done", "csrf": csrf})
    assert (response.status, response.location) == (303, "/console/calls?day=2026-11-27")
    assert _status(world, world.alice_call) == "done"
    assert client.post(target, {"status": "cancelled", "csrf": csrf}).status == 400
    assert _status(world, world.alice_call) == "done"


def test_a_future_call_cannot_be_marked_yet(client, world, clock):
    clock.set(NOW)
    csrf = _signed_in(client, "alice@hortense.test")
    assert client.post(f"/console/calls/{world.alice_call}/status", {"status": "done", "csrf": csrf}).status == 409
    assert _status(world, world.alice_call) == "booked"


def test_cancelling_a_call_tells_the_customer_the_reason(client, world, clock):
    clock.set(NOW)
    csrf = _signed_in(client, "alice@hortense.test")
    target = f"/console/calls/{world.alice_call}/cancel"
    assert client.post(target, {"reason": "   ", "csrf": csrf}).status == 400
    assert client.post(target, {"reason": "Absente", "csrf": "forged"}).status == 403
    assert _status(world, world.alice_call) == "booked"
    assert client.post(target, {"reason": "Conseillère absente vendredi", "csrf": csrf}).status == 303
    assert _status(world, world.alice_call) == "cancelled"
    with session_scope(world.url) as s:
        note = s.execute(select(Notification).where(Notification.kind == "cancellation")).scalar_one()
    assert note.appointment_id == world.alice_call and "Conseillère absente vendredi" in note.text
    assert note.sender_id == "conv-C1001"


def test_the_transcript_shows_this_conversation_in_order_and_escaped(client, world):
    _signed_in(client, "alice@hortense.test")
    page = client.get(f"/console/calls/{world.alice_call}/transcript")
    assert page.status == 200
    text = page.text
    first = text.index("Je voudrais parler à quelqu&#39;un &lt;b&gt;vite&lt;/b&gt;")
    assert first < text.index("Quel créneau vous conviendrait ?") < text.index("demain à 10h")
    assert "<b>vite</b>" not in text and "Julien" not in text and "action_listen" not in text


def test_the_transcript_page_survives_a_missing_tracker_store(client, world, monkeypatch):
    monkeypatch.setenv("HORTENSE_TRACKER_DB", "/nonexistent/dir/tracker.db")
    get_settings.cache_clear()
    _signed_in(client, "alice@hortense.test")
    page = client.get(f"/console/calls/{world.alice_call}/transcript")
    assert page.status == 200 and "pas disponible" in page.text


def test_pages_carry_security_headers(client, world):
    page = client.get("/console/login")
    assert page.header("cache-control") == "no-store"
    assert page.header("x-frame-options") == "DENY"
    assert "frame-ancestors 'none'" in page.header("content-security-policy")
    assert client.get("/console/static/console.css").status == 200


# --------------------------------------------------------------------------- iCalendar

def _feed_url(page: Response) -> str:
    match = re.search(r'value="(http[^"]+/console/ical/[^"]+\.ics)"', page.text)
    assert match, page.text
    return urlsplit(match.group(1)).path


def test_the_feed_is_issued_revoked_and_regenerated_from_the_console(client, world):
    csrf = _signed_in(client, "alice@hortense.test")
    assert client.post("/console/agenda/new", {}).status == 403
    feed = _feed_url(client.post("/console/agenda/new", {"csrf": csrf}))
    anonymous = Client(client.app, client.loop)
    response = anonymous.get(feed)
    assert response.status == 200 and response.header("content-type").startswith("text/calendar")
    events = Calendar.from_ical(response.body).walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [f"appointment-{world.alice_call}@hortense"]
    assert "Camille Dubois" in str(events[0]["SUMMARY"])

    assert client.post("/console/agenda/revoke", {"csrf": csrf}).status == 303
    assert anonymous.get(feed).status == 404
    renewed = _feed_url(client.post("/console/agenda/new", {"csrf": csrf}))
    assert renewed != feed and anonymous.get(renewed).status == 200 and anonymous.get(feed).status == 404
    assert anonymous.get("/console/ical/guess.ics").status == 404
    assert anonymous.get(renewed.removesuffix(".ics")).status == 404


# --------------------------------------------------------------------------- demo accounts

def test_the_demo_advisors_are_seeded_once_and_can_log_in(client, db_url):
    from hortense.appointments.advisors import DEMO_ADVISORS, DEMO_PASSWORD, seed_advisors
    from hortense.db.calendar_models import AdvisorWorkingHours

    console.address_limiter.reset()
    advisors.reset_login_delays()
    with session_scope(db_url) as s:
        assert seed_advisors(s) == len(DEMO_ADVISORS)
    with session_scope(db_url) as s:
        assert seed_advisors(s) == 0
        hours = {a.email: len(s.execute(select(AdvisorWorkingHours).where(AdvisorWorkingHours.advisor_id == a.id))
                              .all()) for a in s.execute(select(Advisor)).scalars()}
    assert sorted(hours.values()) == [0, 5, 5]  # the supervisor takes no calls
    for _, email, supervisor in DEMO_ADVISORS:
        visitor = Client(client.app, client.loop)
        assert _login(visitor, email, DEMO_PASSWORD).status == 303
        assert ("tous les conseillers" in visitor.get("/console/calls").text) == supervisor
