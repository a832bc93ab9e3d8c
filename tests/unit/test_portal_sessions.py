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


# --- the demo customer picker --------------------------------------------------------------------------

def test_demo_picker_is_off_by_default(seeded_db, monkeypatch):
    from hortense.settings import get_settings
    from web.app import create_app

    monkeypatch.delenv("HORTENSE_DEMO_LOGIN", raising=False)
    monkeypatch.setattr("hortense.settings.read_env_file", lambda *a, **k: {})  # whatever the developer's .env says
    get_settings.cache_clear()
    assert get_settings().demo_login is False
    client = WebClient(create_app())
    page = client.get("/")
    assert "désactivée" in page.text and "Camille Dubois" not in page.text
    assert client.post("/connexion", {"customer": "C1001", "csrf": "x"}).status == 404


def test_web_app_refuses_to_start_with_the_picker_on_and_a_production_database(monkeypatch):
    from hortense.settings import get_settings
    from web.app import UnsafeConfiguration, create_app

    monkeypatch.setenv("HORTENSE_DEMO_LOGIN", "1")
    monkeypatch.setenv("HORTENSE_DATABASE_URL", "postgresql+psycopg2://hortense:x@db:5432/hortense")
    get_settings.cache_clear()
    with pytest.raises(UnsafeConfiguration, match="HORTENSE_DEMO_LOGIN"):
        create_app()
    monkeypatch.setenv("HORTENSE_DEMO_LOGIN", "0")
    get_settings.cache_clear()
    create_app()  # off: starts (no database touched)


def test_make_run_turns_the_picker_on_and_says_so():
    from hortense.ops.launcher import _demo_login_line
    from hortense.settings import PROJECT_ROOT

    run = (PROJECT_ROOT / "scripts" / "run.sh").read_text(encoding="utf-8")
    assert 'export HORTENSE_DEMO_LOGIN="${HORTENSE_DEMO_LOGIN:-1}"' in run
    assert "ON" in _demo_login_line(True) and "Never in production" in _demo_login_line(True)
    production = (PROJECT_ROOT / "deploy" / "README.md").read_text(encoding="utf-8")
    assert "HORTENSE_DEMO_LOGIN` unset or `0`" in production
