"""`make multi-instance`: the production layout on one machine (hortense/ops/cluster.py), from the command line.

Several Rasa servers and action servers behind nginx, on loopback, sharing PostgreSQL and Redis.

    make multi-instance                   # or: python scripts/multi_instance.py
    python scripts/multi_instance.py --check     # start, send a few messages through nginx, stop

Needs PostgreSQL (--postgres, or HORTENSE_MULTI_POSTGRES_URL / HORTENSE_TEST_POSTGRES_URL: a role allowed to
create databases) and Redis (--redis, or HORTENSE_MULTI_REDIS_URL / HORTENSE_TEST_REDIS_URL). Debian:
`apt-get install -y postgresql redis-server nginx`, then start them (deploy/README.md). Databases
`<name>` and `<name>_tracker` are created on that server (default name: hortense_multi); `--fresh` drops
them first.
"""

from __future__ import annotations

import argparse
import os
import secrets as secrets_mod
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hortense.ops.cluster import (  # noqa: E402
    Cluster,
    create_database,
    prepare_data_database,
    prepare_tracker_database,
    start_cluster,
)
from hortense.ops.launcher import wait_while_running  # noqa: E402
from hortense.settings import SECRET_NAMES  # noqa: E402


def _first_env(*names: str) -> str | None:
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    return None


def _secrets_from_env() -> dict:
    missing = [n for n in SECRET_NAMES if not os.environ.get(n)]
    if missing:
        print(
            f"note: {', '.join(missing)} not set (run through `make multi-instance`, which reads .env); "
            "random values used for this run",
            file=sys.stderr,
        )
    return {n: os.environ.get(n) or secrets_mod.token_urlsafe(32) for n in SECRET_NAMES}


def _check(cluster: Cluster, secrets: dict) -> int:
    """A few turns through nginx for two demo customers; prints the answers."""
    import requests

    from hortense.security.identity import mint_portal_token
    from hortense.settings import get_settings

    settings = replace(get_settings(), portal_jwt_secret=secrets["HORTENSE_PORTAL_JWT_SECRET"])
    ok = True
    for customer, text in [
        ("C1001", "bonjour"),
        ("C1003", "quel est mon numéro de PDL ?"),
        ("C1001", "mes heures creuses ?"),
    ]:
        token = mint_portal_token(customer, settings=settings)
        r = requests.post(
            f"{cluster.chat_url}/webhooks/web/message",
            json={"message": text},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        answer = " | ".join(m.get("text") or "" for m in r.json()) if r.ok else r.text
        print(f"{customer} > {text}\n  {r.status_code} {answer[:160]}")
        ok = ok and r.ok and bool(answer.strip())
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
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
        parser.error(
            "PostgreSQL and Redis URLs are needed (--postgres/--redis or HORTENSE_TEST_POSTGRES_URL/"
            "HORTENSE_TEST_REDIS_URL); see deploy/README.md"
        )
    secrets = _secrets_from_env()
    data_url = create_database(args.postgres, args.name, drop_first=args.fresh)
    tracker_url = create_database(args.postgres, f"{args.name}_tracker", drop_first=args.fresh)
    prepare_data_database(data_url, env=secrets)
    prepare_tracker_database(tracker_url)
    print(
        f"starting {args.actions} action server(s), {args.instances} Rasa server(s) and nginx; logs in {args.workdir}"
    )
    cluster = start_cluster(
        args.workdir,
        data_url=data_url,
        tracker_url=tracker_url,
        redis_url=args.redis,
        secrets=secrets,
        rasa_count=args.instances,
        action_count=args.actions,
    )
    try:
        print(
            f"\nchat entry point (nginx): {cluster.chat_url}/webhooks/web/message  "
            "(Authorization: Bearer <portal JWT>; socket.io at /socket.io/)"
        )
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
        dead = [p.name for p in wait_while_running(cluster.processes)]
        print(f"stopped: {', '.join(dead)} exited; see {args.workdir}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
