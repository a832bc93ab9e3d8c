"""Small doors (issue 12, item 5): error pages that are not 500s, no version or wildcard CORS given away,
private files, and https-only cookies and HSTS when the site is served over https."""
from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import text

from tests.unit.test_web_documents import WebClient


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def world_readable_umask():
    old = os.umask(0o022)  # what a developer's shell usually has
    yield
    os.umask(old)


def test_get_static_folder_is_404(seeded_db, clock):
    from web.app import create_app

    client = WebClient(create_app())
    assert client.get("/static/").status == 404
    assert client.get("/static/chat.js").status == 200


def test_action_server_health_refuses_other_methods_and_sends_no_cors(monkeypatch):
    from actions.server import build_app

    client = WebClient(build_app())
    posted = client.request("POST", "/health", {})
    assert posted.status == 405
    ok = client.get("/health")
    assert ok.status == 200
    for page in (posted, ok, client.get("/")):
        assert "access-control-allow-origin" not in {k.lower() for k in page.headers}
    assert b"request_body" not in posted.body


def test_rasa_root_route_hides_the_version():
    import rasa
    from rasa.core.run import _create_app_without_api

    from hortense.rasa.patches import hide_version

    app = _create_app_without_api()
    hide_version(app)
    client = WebClient(app)
    page = client.get("/")
    assert page.status == 200 and rasa.__version__.encode() not in page.body


def test_databases_and_logs_are_created_private(tmp_path, world_readable_umask, monkeypatch):
    from hortense.db import session as db_session
    from hortense.db.migrate import upgrade
    from hortense.ops.launcher import spawn

    db = tmp_path / "var" / "hortense.db"
    upgrade(f"sqlite:///{db}")
    assert mode(db) == 0o600 and mode(db.parent) == 0o700
    other = tmp_path / "other" / "x.db"
    with db_session.session_scope(f"sqlite:///{other}") as s:
        s.execute(text("SELECT 1"))
    db_session.reset_engines()
    assert mode(other) == 0o600 and mode(other.parent) == 0o700

    proc = spawn("echo", ["true"], dict(os.environ), tmp_path / "log")
    proc.popen.wait(10)
    assert mode(proc.log) == 0o600 and mode(tmp_path / "log") == 0o700


def test_tracker_store_file_is_private(tmp_path, world_readable_umask):
    from rasa.core.tracker_store import TrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.utils.endpoints import EndpointConfig

    from hortense.rasa.tracker_store import uninstall_log_redaction

    db = tmp_path / "tracker.db"
    TrackerStore.create(EndpointConfig(type="hortense.rasa.tracker_store.RedactingSQLTrackerStore",
                                       dialect="sqlite", db=str(db)), Domain.empty())
    uninstall_log_redaction()
    assert mode(db) == 0o600


def test_https_base_url_means_secure_cookies_and_hsts(seeded_db, clock, monkeypatch):
    from hortense.settings import get_settings
    from web.app import create_app

    monkeypatch.setenv("HORTENSE_WEB_BASE_URL", "https://client.hortense.example")
    monkeypatch.setenv("HORTENSE_DEMO_LOGIN", "1")
    get_settings.cache_clear()
    client = WebClient(create_app())
    picker = client.get("/")
    assert picker.headers["strict-transport-security"].startswith("max-age=")
    answer = client.post("/connexion", {"csrf": picker.field("csrf"), "customer": "C1001"})
    cookie = next(v for k, v in answer.headers.items() if k == "set-cookie")
    assert "Secure" in cookie


def test_plain_http_base_url_has_no_hsts(seeded_db, clock):
    from web.app import create_app

    assert "strict-transport-security" not in WebClient(create_app()).get("/").headers
