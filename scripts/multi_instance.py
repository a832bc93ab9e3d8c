"""Several Rasa servers and action servers behind nginx, on loopback, sharing PostgreSQL and Redis.

The production layout on one machine: N Rasa servers (deploy/endpoints.production.yml: PostgreSQL tracker
store, atomic Redis lock store) and M action servers (PostgreSQL customer database), nginx in front
(deploy/nginx-multi.conf: the chat entry point, and an internal entry point for the action servers).

    make multi-instance                   # or: python scripts/multi_instance.py
    python scripts/multi_instance.py --check     # start, send a few messages through nginx, stop

Needs PostgreSQL (--postgres, or HORTENSE_MULTI_POSTGRES_URL / HORTENSE_TEST_POSTGRES_URL: a role allowed to
create databases) and Redis (--redis, or HORTENSE_MULTI_REDIS_URL / HORTENSE_TEST_REDIS_URL). Debian:
`apt-get install -y postgresql redis-server nginx`, then start them (deploy/README.md). Databases
`<name>` and `<name>_tracker` are created on that server (default name: hortense_multi); `--fresh` drops
them first. Also a library: tests/integration/test_multi_instance.py and bench/run.py import it.
"""
from __future__ import annotations

import argparse
import os
import secrets as secrets_mod
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
NGINX_TEMPLATE = ROOT / "deploy" / "nginx-multi.conf"
PROD_ENDPOINTS = ROOT / "deploy" / "endpoints.production.yml"
PROD_CREDENTIALS = ROOT / "deploy" / "credentials.production.yml"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hortense.settings import SECRET_NAMES, read_env_file  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- PostgreSQL helpers --------------------------------------------------------------------------------------

def pg_parts(url: str) -> dict:
    """host, port, user, password, database of a SQLAlchemy/libpq URL."""
    p = urlsplit(url)
    return {"host": p.hostname or "127.0.0.1", "port": p.port or 5432, "user": unquote(p.username or ""),
            "password": unquote(p.password or ""), "database": (p.path or "/").lstrip("/")}


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


def prepare_data_database(url: str, seed: bool = True, env: Optional[dict] = None) -> None:
    """Migrate and seed the customer database with the project's own commands (`python -m hortense db ...`)."""
    child_env = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "hortense", "db", "upgrade", "--url", url], cwd=ROOT, check=True,
                   env=child_env, stdout=subprocess.DEVNULL)
    if seed:
        subprocess.run([sys.executable, "-m", "hortense", "db", "seed", "--url", url], cwd=ROOT, check=True,
                       env=child_env, stdout=subprocess.DEVNULL)


def prepare_tracker_database(url: str) -> None:
    """Create Rasa's `events` table once, before several Rasa servers start (their create_all would race)."""
    code = ("import sys\nfrom rasa.core.tracker_store import SQLTrackerStore\n"
            "SQLTrackerStore(host=sys.argv[1]).engine.dispose()\n")
    subprocess.run([sys.executable, "-W", "ignore", "-c", code, url], cwd=ROOT, check=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT), "SQLALCHEMY_SILENCE_UBER_WARNING": "1"},
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def tracker_env(url: str) -> dict:
    """The variables deploy/endpoints.production.yml reads for the tracker store."""
    parts = pg_parts(url)
    return {"HORTENSE_TRACKER_DB_HOST": parts["host"], "HORTENSE_TRACKER_DB_PORT": str(parts["port"]),
            "HORTENSE_TRACKER_DB_NAME": parts["database"], "HORTENSE_TRACKER_DB_USER": parts["user"],
            "HORTENSE_TRACKER_DB_PASSWORD": parts["password"]}


# --- processes -----------------------------------------------------------------------------------------------

@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path
    url: str = ""

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 15) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


@dataclass
class Cluster:
    workdir: Path
    env: dict
    rasa: list[Proc] = field(default_factory=list)
    actions: list[Proc] = field(default_factory=list)
    nginx: Optional[Proc] = None
    chat_url: str = ""      # nginx chat entry point (or the first Rasa server without nginx)
    actions_url: str = ""   # what the Rasa servers call

    @property
    def processes(self) -> list[Proc]:
        return [*self.rasa, *self.actions, *([self.nginx] if self.nginx else [])]

    def stop(self) -> None:
        for proc in [*self.rasa, *self.actions]:
            if proc.alive():
                proc.popen.terminate()
        for proc in self.processes:
            proc.stop()


def spawn(name: str, cmd: list[str], env: dict, workdir: Path) -> Proc:
    log = workdir / f"{name}.log"
    popen = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                             start_new_session=True)
    return Proc(name, popen, log)


def wait_http(url: str, proc: Proc, seconds: float) -> None:
    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited early:\n{proc.tail()}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{proc.name} not ready after {seconds:.0f} s ({url}):\n{proc.tail()}")


def model_path() -> Path:
    sys.path.insert(0, str(ROOT / "scripts"))
    from train import model_path as current

    path = current()
    if not path.exists():
        raise RuntimeError(f"no trained model at {path}: run `make train` first")
    return path


def render_nginx(prefix: Path, chat_port: int, actions_port: int, rasa_ports: Iterable[int],
                 action_ports: Iterable[int]) -> Path:
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    servers = lambda ports: "\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in ports)  # noqa: E731
    conf = (NGINX_TEMPLATE.read_text().replace("@PREFIX@", str(prefix)).replace("@CHAT_PORT@", str(chat_port))
            .replace("@ACTIONS_PORT@", str(actions_port)).replace("@RASA_SERVERS@", servers(rasa_ports))
            .replace("@ACTION_SERVERS@", servers(action_ports)))
    path = prefix / "nginx.conf"
    path.write_text(conf)
    return path


def config_defaults(*files: Path) -> dict:
    """Values for the `${VAR}`s of Rasa config files that the environment lacks: .env.example's (an empty
    channel secret disables that channel). Rasa refuses to start on an unset variable."""
    import re

    documented = read_env_file(ROOT / ".env.example")
    names = {m for f in files if f.exists() for m in re.findall(r"\$\{(\w+)\}", f.read_text())}
    return {n: documented.get(n, "") for n in names if n not in os.environ}


def base_env(secrets: dict, extra: Optional[dict] = None) -> dict:
    return {**config_defaults(PROD_CREDENTIALS, ROOT / "credentials.yml"), **os.environ, **secrets,
            "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1", **(extra or {})}


def start_cluster(
    workdir: Path,
    *,
    data_url: str,
    tracker_url: str,
    redis_url: str,
    secrets: dict,
    rasa_endpoints: Optional[list[Path]] = None,
    rasa_count: int = 2,
    action_count: int = 2,
    use_nginx: bool = True,
    nginx_rasa: Optional[int] = None,
    model: Optional[Path] = None,
    extra_env: Optional[dict] = None,
    ready_timeout: float = 420,
) -> Cluster:
    """Start action servers, nginx (when installed and `use_nginx`) and Rasa servers; wait until all answer.

    `rasa_endpoints`: one endpoints file per Rasa server (default: deploy/endpoints.production.yml for
    `rasa_count` servers). nginx balances the first `nginx_rasa` Rasa servers (default: all).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    endpoints = rasa_endpoints or [PROD_ENDPOINTS] * rasa_count
    model = model or model_path()
    env = base_env(secrets, {"HORTENSE_DATABASE_URL": data_url, "HORTENSE_REDIS_URL": redis_url,
                             **tracker_env(tracker_url), **(extra_env or {})})
    cluster = Cluster(workdir, env)
    nginx_bin = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    try:
        action_ports = [free_port() for _ in range(action_count)]
        for i, port in enumerate(action_ports):
            proc = spawn(f"actions-{i + 1}", [sys.executable, "-m", "actions.server"],
                         {**env, "HORTENSE_ACTION_PORT": str(port)}, workdir)
            proc.url = f"http://127.0.0.1:{port}"
            cluster.actions.append(proc)
        rasa_ports = [free_port() for _ in endpoints]
        if use_nginx and nginx_bin:
            chat_port, lb_actions_port = free_port(), free_port()
            prefix = workdir / "nginx"
            conf = render_nginx(prefix, chat_port, lb_actions_port, rasa_ports[:nginx_rasa or len(rasa_ports)],
                                action_ports)
            cluster.nginx = spawn("nginx", [nginx_bin, "-p", str(prefix), "-c", str(conf), "-e", "stderr",
                                            "-g", "daemon off;"], env, workdir)
            cluster.nginx.url = f"http://127.0.0.1:{chat_port}"
            cluster.chat_url = cluster.nginx.url
            cluster.actions_url = f"http://127.0.0.1:{lb_actions_port}"
        for i, (port, endpoints_file) in enumerate(zip(rasa_ports, endpoints)):
            action_url = cluster.actions_url or cluster.actions[i % len(cluster.actions)].url
            proc = spawn(f"rasa-{i + 1}", [str(VENV_BIN / "rasa"), "run", "-m", str(model), "--credentials",
                                          str(PROD_CREDENTIALS), "--endpoints", str(endpoints_file),
                                          "-i", "127.0.0.1", "-p", str(port)],
                         {**env, "HORTENSE_ACTION_SERVER_URL": f"{action_url}/webhook"}, workdir)
            proc.url = f"http://127.0.0.1:{port}"
            cluster.rasa.append(proc)
        cluster.chat_url = cluster.chat_url or cluster.rasa[0].url
        for proc in cluster.actions:
            wait_http(f"{proc.url}/health", proc, 120)
        if cluster.nginx:
            wait_http(f"{cluster.nginx.url}/nginx-health", cluster.nginx, 30)
        deadline = time.monotonic() + ready_timeout
        for proc in cluster.rasa:
            wait_http(f"{proc.url}/webhooks/web/", proc, max(10.0, deadline - time.monotonic()))
    except BaseException:
        cluster.stop()
        raise
    return cluster


# --- command line ------------------------------------------------------------------------------------------

def _first_env(*names: str) -> Optional[str]:
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    return None


def _secrets_from_env() -> dict:
    missing = [n for n in SECRET_NAMES if not os.environ.get(n)]
    if missing:
        print(f"note: {', '.join(missing)} not set (run through `make multi-instance`, which reads .env); "
              "random values used for this run", file=sys.stderr)
    return {n: os.environ.get(n) or secrets_mod.token_urlsafe(32) for n in SECRET_NAMES}


def _check(cluster: Cluster, secrets: dict) -> int:
    """A few turns through nginx for two demo customers; prints the answers."""
    import requests

    from hortense.security.identity import mint_portal_token
    from hortense.settings import get_settings
    from dataclasses import replace

    settings = replace(get_settings(), portal_jwt_secret=secrets["HORTENSE_PORTAL_JWT_SECRET"])
    ok = True
    for customer, text in [("C1001", "bonjour"), ("C1003", "quel est mon numéro de PDL ?"),
                           ("C1001", "mes heures creuses ?")]:
        token = mint_portal_token(customer, settings=settings)
        r = requests.post(f"{cluster.chat_url}/webhooks/web/message", json={"message": text},
                          headers={"Authorization": f"Bearer {token}"}, timeout=60)
        answer = " | ".join(m.get("text") or "" for m in r.json()) if r.ok else r.text
        print(f"{customer} > {text}\n  {r.status_code} {answer[:160]}")
        ok = ok and r.ok and bool(answer.strip())
    return 0 if ok else 1


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=2, help="Rasa servers (default 2)")
    parser.add_argument("--actions", type=int, default=2, help="action servers (default 2)")
    parser.add_argument("--postgres", default=_first_env("HORTENSE_MULTI_POSTGRES_URL", "HORTENSE_TEST_POSTGRES_URL"))
    parser.add_argument("--redis", default=_first_env("HORTENSE_MULTI_REDIS_URL", "HORTENSE_TEST_REDIS_URL"))
    parser.add_argument("--name", default="hortense_multi", help="database name (and <name>_tracker)")
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "multi")
    parser.add_argument("--fresh", action="store_true", help="drop and re-create the databases")
    parser.add_argument("--check", action="store_true", help="send a few messages through nginx, then stop")
    args = parser.parse_args(argv)
    if not args.postgres or not args.redis:
        parser.error("PostgreSQL and Redis URLs are needed (--postgres/--redis or HORTENSE_TEST_POSTGRES_URL/"
                     "HORTENSE_TEST_REDIS_URL); see deploy/README.md")
    secrets = _secrets_from_env()
    data_url = create_database(args.postgres, args.name, drop_first=args.fresh)
    tracker_url = create_database(args.postgres, f"{args.name}_tracker", drop_first=args.fresh)
    prepare_data_database(data_url, env=secrets)
    prepare_tracker_database(tracker_url)
    print(f"starting {args.actions} action server(s), {args.instances} Rasa server(s) and nginx; logs in "
          f"{args.workdir}")
    cluster = start_cluster(args.workdir, data_url=data_url, tracker_url=tracker_url, redis_url=args.redis,
                            secrets=secrets, rasa_count=args.instances, action_count=args.actions)
    try:
        print(f"\nchat entry point (nginx): {cluster.chat_url}/webhooks/web/message  "
              "(Authorization: Bearer <portal JWT>; socket.io at /socket.io/)")
        for proc in cluster.rasa:
            print(f"  {proc.name}: {proc.url}  pid {proc.pid}")
        for proc in cluster.actions:
            print(f"  {proc.name}: {proc.url}  pid {proc.pid}")
        if cluster.nginx:
            print(f"  action servers behind nginx: {cluster.actions_url}")
        if args.check:
            return _check(cluster, secrets)
        print("\nmake chat / make token work against it with HORTENSE_RASA_URL=" + cluster.chat_url)
        print("Ctrl-C stops everything.")
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        while all(p.alive() for p in cluster.processes):
            time.sleep(1)
        dead = [p.name for p in cluster.processes if not p.alive()]
        print(f"stopped: {', '.join(dead)} exited; see {args.workdir}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
