"""The website channel's limits, through its own handlers (`channels.web.WebChat`) and an in-memory socket.io:
a visitor who reconnects under new conversation ids from one address stays limited, all visitors together meet
a ceiling, logged-in customers keep their own limit, and every refused message gets a French answer."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from channels import guard as g
from channels import web
from hortense.security.identity import mint_portal_token, web_sender_id
from hortense.settings import get_settings


class FakeSio:
    """What WebChat asks of python-socketio's AsyncServer: sessions, rooms, emits."""

    def __init__(self) -> None:
        self.sessions: dict[str, dict] = {}
        self.rooms: dict[str, str] = {}
        self.emitted: list[tuple[str, object, str]] = []

    async def save_session(self, sid, session):
        self.sessions[sid] = dict(session)

    async def get_session(self, sid):
        return dict(self.sessions.get(sid, {}))

    async def enter_room(self, sid, room):
        self.rooms[sid] = room

    async def emit(self, event, data=None, room=None, **_):
        self.emitted.append((event, data, room))

    async def disconnect(self, sid):
        self.sessions.pop(sid, None)


class Bot:
    """Rasa's side: answers every message it is given, and counts them."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def __call__(self, message):
        self.seen.append(message.sender_id)
        await message.output_channel.send_response(message.sender_id, {"text": "Bonjour ! Que puis-je pour vous ?"})


def socket_request(address: str) -> SimpleNamespace:
    return SimpleNamespace(remote_addr="", ip=address)


class Site:
    def __init__(self, guard: g.ConnectorGuard) -> None:
        self.sio, self.bot = FakeSio(), Bot()
        self.chat = web.WebChat(self.sio, guard, self.bot, "bot_uttered")
        self.loop = asyncio.new_event_loop()
        self.sockets = 0

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    def say_as_new_visitor(self, text: str, address: str, token: str | None = None) -> list[str]:
        """A fresh socket (a reload, a reconnect): connect, open a session, send one message; what it got."""
        self.sockets += 1
        sid = f"sid-{self.sockets}"
        assert self.run(self.chat.connect(sid, {"sanic.request": socket_request(address)},
                                          {"token": token} if token else None))
        self.run(self.chat.session_request(sid, {}))
        return self.say(sid, text)

    def say(self, sid: str, text: str) -> list[str]:
        room = self.sio.rooms[sid]
        before = len(self.sio.emitted)
        self.run(self.chat.user_message(sid, {"message": text}))
        return [data["text"] for event, data, to in self.sio.emitted[before:]
                if event == "bot_uttered" and to == room]


@pytest.fixture
def site(monkeypatch):
    """Counts in this process's memory (two instances sharing them through Redis: test_rate_limit_and_replay)."""
    monkeypatch.delenv("HORTENSE_REDIS_URL", raising=False)
    get_settings.cache_clear()
    s = Site(g.ConnectorGuard("web", per_minute=3, per_address=5, visitors_per_minute=8))
    yield s
    s.loop.close()


def test_a_visitor_reconnecting_from_one_address_is_still_limited(site):
    answers = [site.say_as_new_visitor("bonjour", "203.0.113.5") for _ in range(8)]
    assert len(site.bot.seen) == 5 and len(set(site.bot.seen)) == 5  # five conversations' messages reached Rasa
    assert answers[5:] == [[g.RATE_LIMITED_TEXT]] * 3  # each refused conversation is told why, in French
    assert site.say_as_new_visitor("bonjour", "198.51.100.9") == ["Bonjour ! Que puis-je pour vous ?"]


def test_one_visitor_socket_keeps_its_own_limit_and_is_told_once(site):
    site.say_as_new_visitor("bonjour", "203.0.113.5")
    answers = [site.say("sid-1", "encore") for _ in range(4)]
    assert answers == [["Bonjour ! Que puis-je pour vous ?"]] * 2 + [[g.RATE_LIMITED_TEXT], []]
    assert len(site.bot.seen) == 3


def test_visitors_from_many_addresses_meet_a_global_ceiling_customers_do_not(site):
    answers = [site.say_as_new_visitor("bonjour", f"198.51.100.{i}") for i in range(10)]
    assert len(site.bot.seen) == 8
    assert answers[8:] == [[g.BUSY_TEXT]] * 2
    for number in ("C1001", "C1002"):  # logged in: their own limit only, from any address
        got = site.say_as_new_visitor("bonjour", "198.51.100.1", token=mint_portal_token(number))
        assert got == ["Bonjour ! Que puis-je pour vous ?"]
    assert site.bot.seen[-1] == web_sender_id("C1002")


def test_a_customer_from_a_busy_address_keeps_their_per_customer_limit(site):
    for _ in range(6):
        site.say_as_new_visitor("bonjour", "203.0.113.5")
    token = mint_portal_token("C1001")
    got = [site.say_as_new_visitor("bonjour", "203.0.113.5", token=token) for _ in range(4)]
    assert got[:3] == [["Bonjour ! Que puis-je pour vous ?"]] * 3 and got[3] == [g.RATE_LIMITED_TEXT]


def test_the_visitor_limits_are_counted_per_ipv6_prefix(site):
    for i in range(5):
        site.say_as_new_visitor("bonjour", f"2001:db8:1:2::{i + 1:x}")
    assert site.say_as_new_visitor("bonjour", "2001:db8:1:2:ffff::1") == [g.RATE_LIMITED_TEXT]
    assert site.say_as_new_visitor("bonjour", "2001:db8:1:3::1") == ["Bonjour ! Que puis-je pour vous ?"]


# --- the HTTP endpoint ----------------------------------------------------------------------------------

def http(site: Site, token: str | None, message: str = "bonjour", address: str = "203.0.113.5"):
    request = SimpleNamespace(headers={"Authorization": f"Bearer {token}"} if token else {},
                              json={"message": message}, remote_addr="", ip=address)
    resp = site.run(site.chat.http_message(request))
    import json

    return resp.status, json.loads(resp.body)


def test_http_customers_are_limited_per_customer_with_a_french_429(site):
    token = mint_portal_token("C1003")
    assert [http(site, token)[0] for _ in range(3)] == [200] * 3
    status, body = http(site, token)
    assert status == 429 and body == {"error": "rate_limited", "message": g.RATE_LIMITED_TEXT}
    assert http(site, mint_portal_token("C1004"))[0] == 200  # another customer, same address


def test_http_refused_requests_are_limited_per_address(site):
    assert {http(site, "forged")[0] for _ in range(web.HTTP_REFUSED_PER_MINUTE)} == {401}
    status, body = http(site, mint_portal_token("C1003"))
    assert status == 429 and "Réessayez dans une minute" in body["message"]
    assert http(site, mint_portal_token("C1003"), address="198.51.100.9")[0] == 200
