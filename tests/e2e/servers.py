"""Real Hortense processes (action server, Rasa server, web app) for end-to-end tests, and how to talk to them.

The processes are started by the project's launcher (hortense/ops/launcher.py), as `make run` starts them.
"""
from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path

import requests

from channels.common import CHANNEL_ENV_VARS
from hortense.ops import launcher
from hortense.ops.launcher import ROOT, free_port
from hortense.ops.launcher import Proc as Process
from hortense.security.identity import mint_portal_token
from hortense.settings import Settings, get_settings

__all__ = ["ROOT", "Process", "Stack", "buttons", "free_port", "start_seeded_stack", "start_stack", "start_web",
           "texts"]

E2E_SECRETS = {
    "HORTENSE_PORTAL_JWT_SECRET": "e2e-portal-secret-0123456789abcdef",
    "HORTENSE_IDENTITY_SECRET": "e2e-identity-secret-0123456789abcdef",
    "HORTENSE_LINKS_SECRET": "e2e-links-secret-0123456789abcdef",
    "HORTENSE_LINK_CODE_PEPPER": "e2e-pepper-0123456789abcdef",
    "HORTENSE_ACTION_SERVER_TOKEN": "e2e-action-token-0123456789abcdef",
}


@dataclass
class Stack:
    """A running action server + Rasa server on a private database, and the settings to talk to them."""

    workdir: Path
    database_url: str
    env: dict
    rasa_url: str
    action_url: str
    processes: list[Process] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return replace(get_settings(), portal_jwt_secret=self.env["HORTENSE_PORTAL_JWT_SECRET"],
                       identity_secret=self.env["HORTENSE_IDENTITY_SECRET"], database_url=self.database_url)

    def token(self, customer: str, minutes: int = 30) -> str:
        return mint_portal_token(customer, minutes=minutes, settings=self.settings)

    def post(self, text: str, token: str | None, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.post(f"{self.rasa_url}/webhooks/web/message", json={"message": text, **kwargs},
                             headers=headers, timeout=60)

    def say(self, customer: str, text: str) -> list[dict]:
        """One turn as a logged-in customer; returns the bot's messages (text, buttons, image…)."""
        response = self.post(text, self.token(customer))
        assert response.status_code == 200, response.text
        return response.json()

    def forget_conversations(self) -> None:
        """Delete the stored events of every conversation: the next message starts a new conversation, with
        nothing an earlier test left (a chosen site, a half-filled form, what was just asked)."""
        with closing(sqlite3.connect(self.env["HORTENSE_TRACKER_DB"])) as con, con:
            if con.execute("select 1 from sqlite_master where type = 'table' and name = 'events'").fetchone():
                con.execute("delete from events")

    def stop(self) -> None:
        for p in reversed(self.processes):
            p.stop()


def start_stack(workdir: Path, database_url: str, extra_env: dict | None = None,
                credentials: str | Path = "credentials.yml", endpoints: str | Path = "endpoints.yml") -> Stack:
    rasa_port, action_port = free_port(), free_port()
    env = launcher.child_env(E2E_SECRETS, {
        "HORTENSE_DATABASE_URL": database_url,
        "HORTENSE_TRACKER_DB": str(workdir / "tracker.db"),
        "HORTENSE_ACTION_PORT": str(action_port),
        "HORTENSE_ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
        "HORTENSE_RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "HORTENSE_MESSAGE_RATE_PER_MINUTE": "600",  # tests type faster than people; the flood test sets its own
    }, extra_env, defaults=dict.fromkeys(CHANNEL_ENV_VARS, ""))  # credentials.yml names them; unset stops Rasa
    stack = Stack(workdir, database_url, env, f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{action_port}")
    try:
        actions = launcher.start_actions(env, action_port, workdir)
        stack.processes.append(actions)
        rasa = launcher.start_rasa(env, rasa_port, workdir, model=launcher.model_path(), credentials=credentials,
                                   endpoints=endpoints)
        stack.processes.append(rasa)
        launcher.wait_ready(actions, 90)
        launcher.wait_ready(rasa, 300)
    except BaseException:
        stack.stop()
        raise
    return stack


def start_web(stack: Stack, port: int, name: str = "web", extra_env: dict | None = None) -> str:
    """`python -m web.app` with the stack's environment (same secrets, database, Rasa); stopped with the stack."""
    env = {**stack.env, "HORTENSE_WEB_HOST": "127.0.0.1", "HORTENSE_RASA_PUBLIC_URL": stack.rasa_url,
           "HORTENSE_DEMO_LOGIN": "1", **(extra_env or {})}
    web = launcher.start_web(env, port, stack.workdir, name=name)
    stack.processes.append(web)
    launcher.wait_ready(web, 60)
    return web.url


def texts(messages: list[dict]) -> str:
    """All the text of a bot answer in one string, for assertions."""
    return "\n".join(m.get("text") or "" for m in messages)


def buttons(messages: list[dict]) -> list[dict]:
    return [b for m in messages for b in (m.get("buttons") or [])]


def start_seeded_stack(workdir: Path, extra_env: dict | None = None) -> Stack:
    """A stack on a fresh SQLite database migrated by Alembic and seeded with the demo customers and advisors."""
    from hortense.appointments.advisors import seed_advisors
    from hortense.db.migrate import upgrade
    from hortense.db.seed import seed_demo
    from hortense.db.session import reset_engines, session_scope

    url = f"sqlite:///{workdir / 'hortense.db'}"
    upgrade(url)
    with session_scope(url) as session:
        seed_demo(session)
        seed_advisors(session)
    reset_engines()
    return start_stack(workdir, url, extra_env)
