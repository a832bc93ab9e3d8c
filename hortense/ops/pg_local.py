"""A throwaway PostgreSQL server of our own (initdb + pg_ctl in a temporary folder, loopback, a free port).

Used by `make bench SCALE=…` (bench/scale.py), which needs `pg_stat_statements` preloaded (only a server we
start ourselves is sure to have it), and by developers to run the PostgreSQL tests without a system service:

    .venv/bin/python -m hortense.ops.pg_local /tmp/pg   # prints the URL; Ctrl-C (or SIGTERM) stops and removes it

PostgreSQL refuses to run as root: as root the cluster belongs to the `postgres` user and the commands run
through `runuser`. Trust authentication on 127.0.0.1 only; the server and its files are gone after `stop()`.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from hortense.ops.launcher import wait_while_running

USER = "hortense"


def find_binary(name: str) -> str | None:
    """`initdb`, `pg_ctl`, `postgres`: on the PATH, else the newest /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    return candidates[-1] if candidates else None


def available() -> bool:
    return bool(find_binary("initdb") and find_binary("pg_ctl"))


@dataclass
class LocalPostgres:
    """One server: `start()` returns a SQLAlchemy URL (superuser `hortense`, database `postgres`)."""

    root: Path
    port: int = 0
    preload: tuple[str, ...] = ("pg_stat_statements",)
    settings: dict = field(default_factory=dict)
    _owner: str | None = None

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://{USER}@127.0.0.1:{self.port}/postgres"

    def _run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        if self._owner:
            cmd = ("runuser", "-u", self._owner, "--", *cmd)
        result = subprocess.run(cmd, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stderr[-2000:]}")
        return result

    def start(self) -> str:
        from hortense.ops.launcher import free_port

        initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
        if not (initdb and pg_ctl):
            raise RuntimeError("PostgreSQL's initdb/pg_ctl not found")
        self.port = self.port or free_port()
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self._owner = "postgres"
            shutil.chown(self.root, self._owner, self._owner)
        self._run(initdb, "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        options = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.root}'",
            "fsync": "off",  # a throwaway server: durability is not what is measured
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "256MB",
            "maintenance_work_mem": "256MB",
            "max_wal_size": "4GB",
            "max_connections": "200",
            "jit": "off",
            "log_line_prefix": "'%m [%p] db=%d '",
            **({"shared_preload_libraries": f"'{','.join(self.preload)}'"} if self.preload else {}),
            **({"pg_stat_statements.track": "all", "pg_stat_statements.max": "10000"} if self.preload else {}),
            **self.settings,
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# hortense.ops.pg_local\n" + "".join(f"{k} = {v}\n" for k, v in options.items()))
        self._run(pg_ctl, "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "60", "start")
        self._wait()
        return self.url

    def _wait(self, seconds: float = 30) -> None:
        from sqlalchemy import create_engine, text

        deadline = time.monotonic() + seconds
        while True:
            engine = create_engine(self.url, future=True)
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
            finally:
                engine.dispose()

    def stop(self, remove: bool = True) -> None:
        pg_ctl = find_binary("pg_ctl")
        if pg_ctl and (self.data / "postmaster.pid").exists():
            self._run(pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0] if argv else "/tmp/hortense-pg")
    server = LocalPostgres(root)
    print(server.start(), flush=True)
    try:
        wait_while_running()  # Ctrl-C or `kill <pid>` stops and removes the server too
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
