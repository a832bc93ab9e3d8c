"""The one process launcher: Rasa, the action server, the web app and the scheduler as child processes.

`make run` (scripts/run.sh: `python -m hortense.ops.launcher`), the end-to-end and browser tests
(tests/e2e/servers.py), the benchmark (bench/run.py) and the multi-instance layout (`hortense.ops.cluster`) all
start their processes with `start_actions`, `start_rasa`, `start_web` and `start_scheduler`, then
`wait_ready`: one command line per process, one readiness check per kind, one way to stop.

Besides `hortense.settings`, this is the one module that reads `os.environ`: it builds the environment of the
children (`child_env`) from its own.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hortense.settings import PROJECT_ROOT, get_settings, read_env_file

ROOT = PROJECT_ROOT
VENV_BIN = Path(sys.executable).parent
RASA = VENV_BIN / "rasa"
# What every child gets: the project importable, Rasa and TensorFlow quiet, no telemetry.
STANDARD_ENV = {
    "PYTHONPATH": str(ROOT),
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
}
# The URL that answers 200 once a process of that kind serves requests.
READY_PATHS = {"actions": "/health", "rasa": "/webhooks/web/", "web": "/health"}

PathLike = str | Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def model_path() -> Path:
    """The trained model for the current data, domain and config (scripts/train.py names it after their hash)."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train.py"), "--print"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.strip()
    path = Path(out)
    if not path.exists():
        raise RuntimeError(f"no trained model at {path}: run `make train` first")
    return path


def config_defaults(*files: Path) -> dict[str, str]:
    """Values for the `${VAR}`s of Rasa config files that the environment lacks: .env.example's (an empty channel
    secret disables that channel). Rasa refuses to start on an unset variable."""
    documented = read_env_file(ROOT / ".env.example")
    names = {m for f in files if f.exists() for m in re.findall(r"\$\{(\w+)\}", f.read_text())}
    return {n: documented.get(n, "") for n in names if n not in os.environ}


def child_env(*layers: dict | None, defaults: dict | None = None) -> dict[str, str]:
    """`defaults`, then this process's environment, then the standard variables, then each layer in turn."""
    env = {**(defaults or {}), **os.environ, **STANDARD_ENV}
    for layer in layers:
        env.update({k: str(v) for k, v in (layer or {}).items()})
    return env


@dataclass
class Proc:
    """One child process: its name, log file and, for servers, its base URL and readiness URL."""

    name: str
    popen: subprocess.Popen
    log: Path
    url: str = ""
    ready_url: str = ""

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def terminate(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()

    def stop(self, timeout: float = 15) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def stop_all(procs: list[Proc]) -> None:
    """Ask every process to stop first, then wait for each (a Rasa server takes a while)."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.stop()


def spawn(
    name: str, cmd: list[str], env: dict, workdir: Path, log: Path | None = None, cwd: Path | None = None
) -> Proc:
    """Start `cmd` in its own session (a Ctrl-C in the terminal reaches only us: we stop the children), output to
    `log` (default: `<workdir>/<name>.log`)."""
    from hortense.security.files import create_private, private_dir, private_umask

    private_umask()  # the children create databases and logs 0600 in 0700 folders
    private_dir(workdir, chmod_existing=True)
    log = create_private(log or workdir / f"{name}.log")
    with log.open("w") as out:
        popen = subprocess.Popen(
            cmd, cwd=cwd or ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Proc(name, popen, log)


def wait_http(url: str, proc: Proc, seconds: float) -> None:
    """Until `url` answers 200; RuntimeError with the end of the log if the process exits or time runs out."""
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


def wait_ready(proc: Proc, seconds: float) -> None:
    """Until the process serves requests (servers), or at once for processes without HTTP (the scheduler)."""
    if proc.ready_url:
        wait_http(proc.ready_url, proc, seconds)
    elif not proc.alive():
        raise RuntimeError(f"{proc.name} exited early:\n{proc.tail()}")


def _server(proc: Proc, port: int, kind: str) -> Proc:
    proc.url = f"http://127.0.0.1:{port}"
    proc.ready_url = proc.url + READY_PATHS[kind]
    return proc


def start_actions(env: dict, port: int, workdir: Path, name: str = "actions") -> Proc:
    """`python -m actions.server` on `port` (loopback unless HORTENSE_ACTION_HOST says otherwise)."""
    proc = spawn(name, [sys.executable, "-m", "actions.server"], {**env, "HORTENSE_ACTION_PORT": str(port)}, workdir)
    return _server(proc, port, "actions")


def start_rasa(
    env: dict,
    port: int,
    workdir: Path,
    *,
    model: PathLike,
    credentials: PathLike = "credentials.yml",
    endpoints: PathLike = "endpoints.yml",
    host: str = "127.0.0.1",
    cors: str | None = None,
    name: str = "rasa",
    cwd: Path | None = None,
) -> Proc:
    """`rasa run` with the given model, credentials and endpoints (paths relative to `cwd`, the project root by
    default)."""
    cmd = [
        str(RASA),
        "run",
        "-m",
        str(model),
        "--credentials",
        str(credentials),
        "--endpoints",
        str(endpoints),
        "-i",
        host,
        "-p",
        str(port),
    ]
    if cors:
        cmd += ["--cors", cors]
    return _server(spawn(name, cmd, env, workdir, cwd=cwd), port, "rasa")


def start_web(env: dict, port: int, workdir: Path, name: str = "web") -> Proc:
    """`python -m web.app` on `port`."""
    proc = spawn(name, [sys.executable, "-m", "web.app"], {**env, "HORTENSE_WEB_PORT": str(port)}, workdir)
    return _server(proc, port, "web")


def start_scheduler(env: dict, workdir: Path, name: str = "scheduler") -> Proc:
    """`python -m hortense.appointments.scheduler`: reminders, kitties, past calls. Exactly one per database."""
    return spawn(name, [sys.executable, "-m", "hortense.appointments.scheduler"], env, workdir)


# --- make run ------------------------------------------------------------------------------------------------


def _demo_login_line(on: bool) -> str:
    if on:
        return (
            "Demo customer picker: ON (HORTENSE_DEMO_LOGIN=1, set by `make run`): anybody reaching this web app "
            "can log in as any demo customer. Never in production."
        )
    return "Demo customer picker: off (HORTENSE_DEMO_LOGIN=1 turns it on, on a laptop only)."


def _interrupt(*_: Any) -> None:
    raise KeyboardInterrupt


def stop_on_sigterm() -> None:
    """SIGTERM (`kill <pid>`) stops this process as Ctrl-C does: a KeyboardInterrupt, so that `finally` blocks
    stop what it started."""
    signal.signal(signal.SIGTERM, _interrupt)


def wait_while_running(procs: list[Proc] | None = None) -> list[Proc]:
    """Block until Ctrl-C or SIGTERM (a KeyboardInterrupt for the caller's `finally`) or until one of `procs`
    exits; the processes that exited."""
    stop_on_sigterm()
    while all(proc.alive() for proc in procs or ()):
        time.sleep(0.5)
    return [proc for proc in procs or () if not proc.alive()]


def run_local(logs: Path = ROOT / "var" / "log") -> int:
    """Every process on this machine, as configured by the environment (scripts/env.sh): start them, wait until
    they answer, print the URLs, and stop them all on Ctrl-C or when one of them stops."""
    settings = get_settings()
    env = child_env()
    model = model_path()
    procs: list[Proc] = []
    stop_on_sigterm()
    try:
        procs.append(start_actions(env, settings.action_port, logs))
        procs.append(
            start_rasa(
                env,
                settings.rasa_port,
                logs,
                model=model,
                host=settings.rasa_host,
                cors=",".join(settings.allowed_origins),
            )
        )
        procs.append(start_web(env, settings.web_port, logs))
        procs.append(start_scheduler(env, logs))
        for proc in procs:
            print(f"started {proc.name} (pid {proc.pid}, log {_shown(proc.log)})", flush=True)
        for proc in procs:
            try:
                wait_ready(proc, {"rasa": 180}.get(proc.name, 60))
            except RuntimeError as error:
                print(f"{proc.name} did not start; see {_shown(proc.log)}\n{error}", file=sys.stderr)
                return 1
        print(
            f"""
Hortense is running.
  Rasa server (website channel):  http://localhost:{settings.rasa_port}/webhooks/web/  (socket.io at /socket.io)
  Action server:                  http://127.0.0.1:{settings.action_port}  (reachable by Rasa only: token)
  Customer space demo:            http://localhost:{settings.web_port}/
  Advisors' console:              http://localhost:{settings.web_port}/console/

{_demo_login_line(settings.demo_login)}
Chat in a terminal as a demo customer (in another shell):  make chat CUSTOMER=C1001
Demo customers:                                              make customers
Press Ctrl-C to stop everything.""",
            flush=True,
        )
        stopped = ", ".join(proc.name for proc in wait_while_running(procs))
        print(f"a process stopped ({stopped}); see {_shown(logs)}/", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop_all(procs)


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


if __name__ == "__main__":
    sys.exit(run_local())
