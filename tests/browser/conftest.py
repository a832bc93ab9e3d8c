"""The real stack for browser tests: action server + Rasa (tests.e2e.servers) and the web app, on one private
database, plus the tools to drive Chromium (Debian's chromium, playwright-core from node_modules).

Without those tools the browser tests are skipped on a laptop, and fail under CI (CI=true): a CI run that
silently skipped them would claim a customer space nobody has seen working.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from hortense.db.migrate import upgrade
from hortense.db.seed import seed_demo
from hortense.db.session import reset_engines, session_scope
from tests.e2e.servers import Stack, free_port, start_stack, start_web

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"
DRIVER = Path(__file__).resolve().parent / "drive.mjs"
WEB_SECRETS = {"HORTENSE_DOCUMENTS_SECRET": "browser-documents-secret-0123456789abcdef"}


def _missing(what: str) -> None:
    message = f"browser test needs {what}"
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(f"{message} (CI=true: a browser test may not be skipped)", pytrace=False)
    pytest.skip(message)


@dataclass(frozen=True)
class BrowserTools:
    node: str
    chromium: str
    driver: Path


@pytest.fixture(scope="session")
def browser_tools() -> BrowserTools:
    chromium = os.environ.get("HORTENSE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium or not Path(chromium).exists():
        _missing("Chromium (apt-get install -y chromium, or HORTENSE_CHROMIUM=/path/to/chrome)")
    node = shutil.which("node")
    if not node:
        _missing("Node.js (node on PATH)")
    for package in ("playwright-core/package.json", "rasa-webchat/lib/index.js"):
        if not (ROOT / "node_modules" / package).exists():
            _missing(f"node_modules/{package} (npm ci --no-audit --no-fund)")
    return BrowserTools(node, chromium, DRIVER)


@dataclass
class WebStack:
    stack: Stack
    web_url: str
    spare_port: int  # a second web app may listen here (its origin is allowed by Rasa too)

    @property
    def database_url(self) -> str:
        return self.stack.database_url


@pytest.fixture(scope="session")
def web_stack(browser_tools, tmp_path_factory) -> WebStack:
    """Action server, Rasa and the web app, configured the way `make run` wires them, on a seeded database."""
    workdir = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{workdir / 'hortense.db'}"
    upgrade(url)
    with session_scope(url) as session:
        seed_demo(session)
    reset_engines()
    web_port, spare_port = free_port(), free_port()
    web_url = f"http://127.0.0.1:{web_port}"
    origins = f"{web_url},http://127.0.0.1:{spare_port}"
    # The actions sign document links for the web app; Rasa's socket.io must accept the pages' origins.
    stack = start_stack(workdir, url, extra_env={**WEB_SECRETS, "HORTENSE_WEB_BASE_URL": web_url,
                                                 "HORTENSE_ALLOWED_ORIGINS": origins})
    try:
        start_web(stack, web_port)
    except BaseException:
        stack.stop()
        raise
    yield WebStack(stack, web_url, spare_port)
    stack.stop()


@pytest.fixture(scope="session")
def short_token_web_url(web_stack) -> str:
    """A second web app whose portal tokens live one minute, so the widget must renew its token quickly."""
    return start_web(web_stack.stack, web_stack.spare_port, "web-short-tokens",
                     {"HORTENSE_PORTAL_TOKEN_MINUTES": "1"})
