"""Start real Hortense processes (action server, Rasa server) for end-to-end tests, and talk to them."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import requests

from channels.common import CHANNEL_ENV_VARS
from hortense.security.identity import mint_portal_token
from hortense.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent

E2E_SECRETS = {
    "HORTENSE_PORTAL_JWT_SECRET": "e2e-portal-secret-0123456789abcdef",
    "HORTENSE_IDENTITY_SECRET": "e2e-identity-secret-0123456789abcdef",
    "HORTENSE_LINKS_SECRET": "e2e-links-secret-0123456789abcdef",
    "HORTENSE_LINK_CODE_PEPPER": "e2e-pepper-0123456789abcdef",
    "HORTENSE_ACTION_SERVER_TOKEN": "e2e-action-token-0123456789abcdef",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def model_path() -> Path:
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "train.py"), "--print"], capture_output=True,
                         text=True, check=True).stdout.strip()
    path = Path(out)
    if not path.exists():
        raise RuntimeError(f"no trained model at {path}: run `make train` first (make test does)")
    return path


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


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

    def stop(self) -> None:
        for p in reversed(self.processes):
            p.stop()


def wait_ready(url: str, proc: Process, seconds: int) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited early:\n{proc.tail()}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{proc.name} not ready after {seconds} s:\n{proc.tail()}")


def start_stack(workdir: Path, database_url: str, extra_env: dict | None = None,
                credentials: str | Path = "credentials.yml", endpoints: str | Path = "endpoints.yml") -> Stack:
    rasa_port, action_port = free_port(), free_port()
    env = {
        **dict.fromkeys(CHANNEL_ENV_VARS, ""),  # credentials.yml names them; unset would stop Rasa
        **os.environ,
        **E2E_SECRETS,
        "HORTENSE_DATABASE_URL": database_url,
        "HORTENSE_TRACKER_DB": str(workdir / "tracker.db"),
        "HORTENSE_ACTION_PORT": str(action_port),
        "HORTENSE_ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
        "HORTENSE_RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "PYTHONPATH": str(ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "HORTENSE_MESSAGE_RATE_PER_MINUTE": "600",  # tests type faster than people; the flood test sets its own
        **(extra_env or {}),
    }
    stack = Stack(workdir, database_url, env, f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{action_port}")

    def spawn(name: str, cmd: list[str]) -> Process:
        log = workdir / f"{name}.log"
        popen = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        proc = Process(name, popen, log)
        stack.processes.append(proc)
        return proc

    try:
        actions = spawn("actions", [sys.executable, "-m", "actions.server"])
        rasa = spawn("rasa", [str(VENV_BIN / "rasa"), "run", "-m", str(model_path()), "--credentials",
                              str(credentials), "--endpoints", str(endpoints), "-i", "127.0.0.1", "-p",
                              str(rasa_port)])
        wait_ready(f"{stack.action_url}/health", actions, 90)
        wait_ready(f"{stack.rasa_url}/webhooks/web/", rasa, 300)
    except BaseException:
        stack.stop()
        raise
    return stack


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
