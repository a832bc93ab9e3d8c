"""Several Rasa servers and action servers behind nginx, on loopback, sharing PostgreSQL and Redis.

The production layout on one machine: N Rasa servers (deploy/endpoints.production.yml: PostgreSQL tracker
store, atomic Redis lock store) and M action servers (PostgreSQL customer database), nginx in front
(deploy/nginx-multi.conf: the chat entry point, and an internal entry point for the action servers).
Processes are started by `hortense.ops.launcher`. Used by `make multi-instance` (scripts/multi_instance.py),
tests/integration/test_multi_instance.py and bench/run.py.

Needs PostgreSQL (a role allowed to create databases) and Redis; nginx is used when installed. Debian:
`apt-get install -y postgresql redis-server nginx`, then start them (deploy/README.md).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from hortense.ops.launcher import (
    ROOT,
    Proc,
    child_env,
    config_defaults,
    free_port,
    model_path,
    spawn,
    start_actions,
    start_rasa,
    stop_all,
    wait_http,
    wait_ready,
)

NGINX_TEMPLATE = ROOT / "deploy" / "nginx-multi.conf"
PROD_ENDPOINTS = ROOT / "deploy" / "endpoints.production.yml"
PROD_CREDENTIALS = ROOT / "deploy" / "credentials.production.yml"


# --- PostgreSQL helpers --------------------------------------------------------------------------------------


def pg_parts(url: str) -> dict:
    """host, port, user, password, database of a SQLAlchemy/libpq URL."""
    p = urlsplit(url)
    return {
        "host": p.hostname or "127.0.0.1",
        "port": p.port or 5432,
        "user": unquote(p.username or ""),
        "password": unquote(p.password or ""),
        "database": (p.path or "/").lstrip("/"),
    }


def with_database(url: str, database: str) -> str:
    p = urlsplit(url)
    return p._replace(path=f"/{database}").geturl()


def create_database(admin_url: str, name: str, drop_first: bool = True) -> str:
    """Create database `name` on the server of `admin_url` (AUTOCOMMIT); returns its URL."""
    from sqlalchemy import create_engine, text

    if not name.replace("_", "").isalnum():
        raise ValueError(f"bad database name {name!r}")
    engine = create_engine(admin_url, future=True, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if exists and drop_first:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                exists = None
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return with_database(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, future=True, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def prepare_data_database(url: str, seed: bool = True, env: dict | None = None) -> None:
    """Migrate and seed the customer database with the project's own commands (`python -m hortense db ...`)."""
    env = child_env(env)
    for command in ("upgrade", "seed") if seed else ("upgrade",):
        subprocess.run(
            [sys.executable, "-m", "hortense", "db", command, "--url", url],
            cwd=ROOT,
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )


def prepare_tracker_database(url: str) -> None:
    """Create Rasa's `events` table once, before several Rasa servers start (their create_all would race)."""
    code = (
        "import sys\nfrom rasa.core.tracker_store import SQLTrackerStore\n"
        "SQLTrackerStore(host=sys.argv[1]).engine.dispose()\n"
    )
    subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code, url],
        cwd=ROOT,
        check=True,
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def tracker_env(url: str) -> dict:
    """The variables deploy/endpoints.production.yml reads for the tracker store."""
    parts = pg_parts(url)
    return {
        "HORTENSE_TRACKER_DB_HOST": parts["host"],
        "HORTENSE_TRACKER_DB_PORT": str(parts["port"]),
        "HORTENSE_TRACKER_DB_NAME": parts["database"],
        "HORTENSE_TRACKER_DB_USER": parts["user"],
        "HORTENSE_TRACKER_DB_PASSWORD": parts["password"],
    }


# --- processes -----------------------------------------------------------------------------------------------


@dataclass
class Cluster:
    workdir: Path
    env: dict
    rasa: list[Proc] = field(default_factory=list)
    actions: list[Proc] = field(default_factory=list)
    nginx: Proc | None = None
    chat_url: str = ""  # nginx chat entry point (or the first Rasa server without nginx)
    actions_url: str = ""  # what the Rasa servers call

    @property
    def processes(self) -> list[Proc]:
        return [*self.rasa, *self.actions, *([self.nginx] if self.nginx else [])]

    def stop(self) -> None:
        stop_all(self.processes)


def render_nginx(
    prefix: Path, chat_port: int, actions_port: int, rasa_ports: Iterable[int], action_ports: Iterable[int]
) -> Path:
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    servers = lambda ports: "\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in ports)  # noqa: E731
    conf = (
        NGINX_TEMPLATE.read_text()
        .replace("@PREFIX@", str(prefix))
        .replace("@CHAT_PORT@", str(chat_port))
        .replace("@ACTIONS_PORT@", str(actions_port))
        .replace("@RASA_SERVERS@", servers(rasa_ports))
        .replace("@ACTION_SERVERS@", servers(action_ports))
    )
    path = prefix / "nginx.conf"
    path.write_text(conf)
    return path


def base_env(secrets: dict, extra: dict | None = None) -> dict:
    """The children's environment: the launcher's, with Rasa's config defaults, the run's secrets and `extra`."""
    return child_env(secrets, extra, defaults=config_defaults(PROD_CREDENTIALS, ROOT / "credentials.yml"))


def start_cluster(
    workdir: Path,
    *,
    data_url: str,
    tracker_url: str,
    redis_url: str,
    secrets: dict,
    rasa_endpoints: list[Path] | None = None,
    rasa_count: int = 2,
    action_count: int = 2,
    use_nginx: bool = True,
    nginx_rasa: int | None = None,
    model: Path | None = None,
    extra_env: dict | None = None,
    ready_timeout: float = 420,
) -> Cluster:
    """Start action servers, nginx (when installed and `use_nginx`) and Rasa servers; wait until all answer.

    `rasa_endpoints`: one endpoints file per Rasa server (default: deploy/endpoints.production.yml for
    `rasa_count` servers). nginx balances the first `nginx_rasa` Rasa servers (default: all).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    endpoints = rasa_endpoints or [PROD_ENDPOINTS] * rasa_count
    model = model or model_path()
    env = base_env(
        secrets,
        {
            "HORTENSE_DATABASE_URL": data_url,
            "HORTENSE_REDIS_URL": redis_url,
            **tracker_env(tracker_url),
            **(extra_env or {}),
        },
    )
    cluster = Cluster(workdir, env)
    nginx_bin = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    try:
        action_ports = [free_port() for _ in range(action_count)]
        for i, port in enumerate(action_ports):
            cluster.actions.append(start_actions(env, port, workdir, name=f"actions-{i + 1}"))
        rasa_ports = [free_port() for _ in endpoints]
        if use_nginx and nginx_bin:
            chat_port, lb_actions_port = free_port(), free_port()
            prefix = workdir / "nginx"
            conf = render_nginx(
                prefix, chat_port, lb_actions_port, rasa_ports[: nginx_rasa or len(rasa_ports)], action_ports
            )
            cluster.nginx = spawn(
                "nginx",
                [nginx_bin, "-p", str(prefix), "-c", str(conf), "-e", "stderr", "-g", "daemon off;"],
                env,
                workdir,
            )
            cluster.nginx.url = f"http://127.0.0.1:{chat_port}"
            cluster.chat_url = cluster.nginx.url
            cluster.actions_url = f"http://127.0.0.1:{lb_actions_port}"
        for i, (port, endpoints_file) in enumerate(zip(rasa_ports, endpoints, strict=True)):
            action_url = cluster.actions_url or cluster.actions[i % len(cluster.actions)].url
            cluster.rasa.append(
                start_rasa(
                    {**env, "HORTENSE_ACTION_SERVER_URL": f"{action_url}/webhook"},
                    port,
                    workdir,
                    model=model,
                    credentials=PROD_CREDENTIALS,
                    endpoints=endpoints_file,
                    name=f"rasa-{i + 1}",
                )
            )
        cluster.chat_url = cluster.chat_url or cluster.rasa[0].url
        for proc in cluster.actions:
            wait_ready(proc, 120)
        if cluster.nginx:
            wait_http(f"{cluster.nginx.url}/nginx-health", cluster.nginx, 30)
        deadline = time.monotonic() + ready_timeout
        for proc in cluster.rasa:
            wait_ready(proc, max(10.0, deadline - time.monotonic()))
    except BaseException:
        cluster.stop()
        raise
    return cluster
