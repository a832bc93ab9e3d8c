"""Shared fixtures for Hortense's tests.

Only `_hortense_test_env` is autouse: every test runs with known test secrets and never reaches the
developer's database. Tests that need a database ask for one explicitly:

- `db_url`: a fresh, empty SQLite file whose schema comes from the real Alembic migrations;
- `seeded_db`: the same, with the demo customers seeded as of `FIXED_TODAY`;
- `session`: a short-lived session (committed at the end of the test) on the seeded database.

`db_url` and `seeded_db` copy a template built once per run (migrated by `hortense.db.migrate.upgrade`,
then seeded by `seed_demo`), so each test still gets its own file and can write to it freely.
"""
from __future__ import annotations

import sqlite3
import sys
from contextlib import closing
from datetime import date, datetime, time
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:  # so that a bare `pytest` (not `python -m pytest`) finds `hortense`
    sys.path.insert(0, str(PROJECT_ROOT))

from hortense import clock as hortense_clock  # noqa: E402
from hortense.db import session as db_session  # noqa: E402
from hortense.settings import SECRET_NAMES, get_settings  # noqa: E402

# The day the demo data is generated for: every date-dependent assertion is relative to it.
FIXED_TODAY = date(2026, 11, 26)

# Distinct, long enough (HS256 wants >= 32 bytes) and obviously fake.
TEST_SECRETS = {
    "HORTENSE_PORTAL_JWT_SECRET": "test-portal-jwt-secret-0123456789abcdef",
    "HORTENSE_IDENTITY_SECRET": "test-identity-secret-0123456789abcdef",
    "HORTENSE_LINKS_SECRET": "test-links-secret-0123456789abcdef",
    "HORTENSE_LINK_CODE_PEPPER": "test-link-code-pepper-0123456789abcdef",
    "HORTENSE_ACTION_SERVER_TOKEN": "test-action-server-token-0123456789abcdef",
}


def pytest_configure(config):
    # hortense.db.session silences this SQLite warning at import; pytest resets warning filters per test.
    config.addinivalue_line(
        "filterwarnings", r"ignore:Dialect sqlite\+pysqlite does \*not\* support Decimal objects")


@pytest.fixture(autouse=True)
def _hortense_test_env(monkeypatch):
    """Test secrets in the environment and a throwaway database URL, with settings re-read around each test.

    The default URL is an in-memory SQLite database: a test that touches the database without asking
    for `db_url` fails loudly (no tables) instead of writing to `var/hortense.db`.
    """
    for name in (*TEST_SECRETS, *SECRET_NAMES):  # secrets added to settings later get a test value too
        monkeypatch.setenv(name, TEST_SECRETS.get(name) or f"test-{name.lower()}-0123456789abcdef")
    monkeypatch.setenv("HORTENSE_DATABASE_URL", "sqlite://")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    db_session.reset_engines()


@pytest.fixture
def clock(monkeypatch) -> hortense_clock.FakeClock:
    """Hortense's one clock, stopped at 10:00 (Paris) on FIXED_TODAY, the day the demo data is seeded for.

    Everything that reads the time (sessions, tokens, links, slots, reminders, today's date) reads this
    clock, so a test that uses it never mixes its fixed time with the real one. `.set()` / `.advance()`
    move it; it is put back to the real clock after the test.
    """
    from zoneinfo import ZoneInfo

    fake = hortense_clock.FakeClock(datetime.combine(FIXED_TODAY, time(10), ZoneInfo("Europe/Paris")))
    monkeypatch.setattr(hortense_clock, "_source", fake)
    return fake


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory) -> Path:
    """One database migrated to head by the real Alembic migrations, copied by `db_url` (copying is much
    faster than migrating again for every test)."""
    from hortense.db.migrate import upgrade

    path = tmp_path_factory.mktemp("templates") / "migrated.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _seeded_template(_migrated_template) -> Path:
    """A copy of the migrated template with the demo seeded as of FIXED_TODAY, copied by `seeded_db`."""
    from hortense.db.seed import seed_demo

    path = _migrated_template.with_name("seeded.db")
    _copy_database(_migrated_template, path)
    url = f"sqlite:///{path}"
    with db_session.session_scope(url) as s:
        seed_demo(s, today=FIXED_TODAY)
    db_session.get_engine(url).dispose()
    return path


def _copy_database(source: Path, target: Path) -> None:
    """SQLite's backup API: a consistent copy even while the source has a write-ahead log."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _use_database(path: Path, template: Path, monkeypatch) -> str:
    _copy_database(template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("HORTENSE_DATABASE_URL", url)
    get_settings.cache_clear()
    return url


@pytest.fixture
def db_url(_hortense_test_env, _migrated_template, tmp_path, monkeypatch) -> str:
    """URL of a fresh SQLite file in `tmp_path`, migrated to head with Alembic (`hortense.db.migrate.upgrade`)
    and empty; `get_settings().database_url` returns it for the rest of the test."""
    return _use_database(tmp_path / "hortense-test.db", _migrated_template, monkeypatch)


@pytest.fixture
def seeded_db(_hortense_test_env, _seeded_template, tmp_path, monkeypatch) -> str:
    """Like `db_url`, with the demo customers seeded by `seed_demo(session, today=FIXED_TODAY)`."""
    return _use_database(tmp_path / "hortense-test.db", _seeded_template, monkeypatch)


@pytest.fixture
def session(seeded_db):
    """A session on the seeded database, committed and closed at teardown (use `session_scope` for more)."""
    with db_session.session_scope(seeded_db) as s:
        yield s
