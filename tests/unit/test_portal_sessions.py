"""The customer's browser session ends on the server: a cookie copied before log-out (or before a password
change) is refused afterwards, although its signature and expiry are still valid."""
from __future__ import annotations

import json

import pytest

from tests.unit.test_web_documents import WebClient


@pytest.fixture
def client(seeded_db, clock, monkeypatch) -> WebClient:
    from web.app import create_app

    monkeypatch.setenv("HORTENSE_DEMO_LOGIN", "1")
    return WebClient(create_app())


def replay(app_client: WebClient, cookies: dict[str, str]) -> WebClient:
    """Another browser (an attacker) holding a copy of the cookies."""
    other = WebClient(app_client.app)
    other.cookies.update(cookies)
    return other


def test_replayed_cookie_is_refused_after_log_out(client):
    client.login("C1001")
    copied = dict(client.cookies)
    attacker = replay(client, copied)
    assert attacker.get("/token").status == 200  # the copy works while the session lives

    space = client.get("/")
    assert client.post("/deconnexion", {"csrf": space.field("csrf")}).status == 303
    assert client.get("/token").status == 401

    attacker = replay(client, copied)
    refused = attacker.get("/token")
    assert refused.status == 401
    assert "Démo — choix du client" in replay(client, copied).get("/").text  # not the customer's space


def test_password_change_ends_every_session_of_the_customer(client):
    from hortense.security.portal_sessions import password_changed

    client.login("C1002")
    other_browser = WebClient(client.app)
    other_browser.login("C1002")
    bystander = WebClient(client.app)
    bystander.login("C1003")
    assert password_changed("C1002") == 2
    assert client.get("/token").status == 401 and other_browser.get("/token").status == 401
    assert json.loads(bystander.get("/token").body)["conversation_id"] == "web-C1003"


def test_session_expires_on_the_server_clock(client, clock):
    client.login("C1001")
    copied = dict(client.cookies)
    clock.advance(8 * 3600 + 1)
    assert replay(client, copied).get("/token").status == 401


def test_a_cookie_forged_for_another_customer_is_refused(client):
    from web.sessions import BrowserSession, decode_session, encode_session

    client.login("C1001")
    mine = decode_session(client.cookies["hortense_session"])
    assert mine is not None and mine.session_id
    forged = encode_session(BrowserSession(mine.nonce, "C1002", mine.expires, mine.session_id))
    attacker = WebClient(client.app)
    attacker.cookies["hortense_session"] = forged  # even with the signing key: the session is C1001's
    assert attacker.get("/token").status == 401
