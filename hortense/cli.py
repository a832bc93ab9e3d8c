"""The `hortense` command line: environment, database, demo tokens and a terminal chat over the secure endpoint."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any


def cmd_init_env(_: argparse.Namespace) -> int:
    from hortense.settings import ENV_FILE, ensure_env_file

    added = ensure_env_file()
    print(f"{ENV_FILE}: " + (f"added {', '.join(added)}" if added else "secrets already set"))
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from hortense.db.migrate import upgrade

    upgrade(args.url)
    print("database schema up to date")
    return 0


def cmd_db_seed(args: argparse.Namespace) -> int:
    if args.customers:
        return _seed_scale(args)
    from hortense.appointments.advisors import seed_advisors
    from hortense.db.seed import seed_demo
    from hortense.db.session import session_scope

    with session_scope(args.url) as session:
        added = seed_demo(session)
        advisors = seed_advisors(session)
    print(f"seeded {added} demo customers" if added else "database already has customers: nothing seeded")
    if advisors:
        print(f"seeded {advisors} demo advisors (console password: hortense-demo)")
    return 0


def _seed_scale(args: argparse.Namespace) -> int:
    from hortense.db.seed_scale import seed_scale
    from hortense.db.session import get_engine

    report = seed_scale(
        get_engine(args.url),
        args.customers,
        seed_number=args.seed,
        advisors=args.advisors,
        calls_per_day=args.calls_per_day,
        progress=not args.quiet,
    )
    done = report.customers or report.appointments
    print(f"seeded {report.describe()}" if done else "generated customers and calls already there: nothing seeded")
    return 0


def cmd_db_seed_tracker(args: argparse.Namespace) -> int:
    from sqlalchemy import create_engine

    from hortense.db.seed_tracker import ensure_table, seed_tracker
    from hortense.db.session import get_engine
    from hortense.settings import get_settings

    tracker_url = args.tracker_url or get_settings().tracker_url
    if not tracker_url:
        print("no tracker store: --tracker-url or HORTENSE_TRACKER_URL / HORTENSE_TRACKER_DB", file=sys.stderr)
        return 2
    ensure_table(tracker_url)
    tracker = create_engine(tracker_url, future=True)
    try:
        report = seed_tracker(
            tracker, args.events, data=get_engine(args.url), seed_number=args.seed, progress=not args.quiet
        )
    finally:
        tracker.dispose()
    print(f"stored {report.describe()}" if report.events else "the tracker store already holds as many events")
    return 0


def cmd_import_reviewed(args: argparse.Namespace) -> int:
    from pathlib import Path

    from hortense.db.session import session_scope
    from hortense.review.export import REVIEWED, import_reviewed

    target = Path(args.out) if args.out else REVIEWED
    with session_scope(args.url) as session:
        report = import_reviewed(session, target)
    print(
        f"{target}: {report.written} examples ({report.added} new; {report.skipped_known} already in the training data)"
        if report.written
        else "no labelled example to write"
    )
    return 0


def cmd_customers(args: argparse.Namespace) -> int:
    from hortense.db.seed import demo_customers

    for c in demo_customers():
        offers = ", ".join(sorted({s.offer for s in c.sites}))
        name = c.company or f"{c.first} {c.last}"
        print(f"{c.number}  {name:32} {offers}  ({len(c.sites)} contrat{'s' if len(c.sites) > 1 else ''})")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from hortense.security.identity import mint_portal_token

    print(mint_portal_token(args.customer, minutes=args.minutes))
    return 0


def cmd_link_code(args: argparse.Namespace) -> int:
    """What the customer space's "code de liaison" button does: a one-time code, shown once."""
    from hortense.account import linking as links
    from hortense.db.session import session_scope

    try:
        with session_scope() as session:
            code = links.issue_code(session, args.customer)
    except LookupError:
        print(f"no active customer {args.customer}", file=sys.stderr)
        return 1
    print(f"{code}  (valable 10 minutes, une seule fois : « lier mon compte {code} »)")
    return 0


def _cli_actor() -> str:
    import getpass

    from hortense.privacy import audit

    try:
        user = getpass.getuser()
    except Exception:  # no user name in this environment (a container without one)
        user = "unknown"
    return audit.cli_actor(user)


def _exercise_right(args: argparse.Namespace, right: Callable[..., Any], nothing_done: str) -> tuple[Any, int]:
    """Export or erasure (`right`) for `args.customer`, audited as this shell's user: (its result, 0), or
    (None, the exit code) once stderr says why nothing was done."""
    from hortense import clock
    from hortense.db.session import session_scope
    from hortense.privacy import rights, transcripts
    from hortense.settings import get_settings

    try:
        with session_scope(args.url) as session:
            return right(session, get_settings().tracker_url, args.customer, actor=_cli_actor(), now=clock.now()), 0
    except rights.UnknownCustomer:
        print(f"unknown customer {args.customer}", file=sys.stderr)
        return None, 1
    except transcripts.TrackerUnavailable as exc:
        print(f"the tracker store is unreadable, {nothing_done}: {exc}", file=sys.stderr)
        return None, 2


def cmd_privacy_export(args: argparse.Namespace) -> int:
    """Everything Hortense holds about one customer, as JSON (GDPR access/portability); audited."""
    from pathlib import Path

    from hortense.privacy import rights

    data, failed = _exercise_right(args, rights.export_customer, "nothing exported")
    if failed:
        return failed
    body = rights.to_json(data)
    if args.out:
        target = Path(args.out)
        target.touch(mode=0o600, exist_ok=True)
        target.write_text(body + "\n", encoding="utf-8")
        print(f"{target}: {len(data['conversations'])} conversation(s) exported for {args.customer}", file=sys.stderr)
    else:
        print(body)
    return 0


def cmd_privacy_erase(args: argparse.Namespace) -> int:
    """Erase one customer's conversations and personal data (GDPR erasure); audited. Needs --yes."""
    from hortense.privacy import rights

    if not args.yes:
        print(
            f"this erases {args.customer}'s conversations and personal data for good: add --yes to confirm",
            file=sys.stderr,
        )
        return 2
    report, failed = _exercise_right(args, rights.erase_customer, "nothing erased")
    if failed:
        return failed
    print(f"{args.customer}: {report.describe()}")
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    """Chat in the terminal as a demo customer, through the same JWT-protected endpoint as any client."""
    import requests

    from hortense.security.identity import mint_portal_token
    from hortense.settings import get_settings

    url = f"{get_settings().rasa_url}/webhooks/web/message"
    token = mint_portal_token(args.customer, minutes=120)
    print(f"Conversation avec Hortense en tant que {args.customer} (Ctrl-D pour quitter)")
    while True:
        try:
            text = input("vous> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not text:
            continue
        try:
            reply = requests.post(url, json={"message": text}, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        except requests.RequestException as exc:
            print(f"(Hortense est injoignable : {exc})")
            continue
        if reply.status_code != 200:
            print(f"(erreur {reply.status_code} : {reply.text})")
            continue
        for message in reply.json():
            if message.get("text"):
                print(f"hortense> {message['text']}")
            if message.get("image"):
                print(f"hortense> [image] {message['image']}")
            for i, button in enumerate(message.get("buttons") or [], 1):
                print(f"          {i}. {button['title']}  → {button['payload']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hortense", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init-env", help="create .env with random secrets").set_defaults(func=cmd_init_env)
    db = sub.add_parser("db", help="database schema and demo data").add_subparsers(dest="db_command", required=True)
    for name, func, text in (
        ("upgrade", cmd_db_upgrade, "create or migrate the schema (Alembic)"),
        ("seed", cmd_db_seed, "insert the demo customers if the database is empty"),
    ):
        p = db.add_parser(name, help=text)
        p.add_argument("--url", help="database URL (default: HORTENSE_DATABASE_URL)")
        p.set_defaults(func=func)
        if name == "seed":
            p.add_argument(
                "--customers",
                type=int,
                help="a supplier-sized database: this many customers in all (the demo ones included), "
                "their contracts and history, advisors and a year of calls (hortense/db/seed_scale.py)",
            )
            p.add_argument("--seed", type=int, default=1, help="with --customers: the random seed (default 1)")
            p.add_argument("--advisors", type=int, default=200, help="with --customers: advisors in all (default 200)")
            p.add_argument(
                "--calls-per-day",
                type=float,
                help="with --customers: calls per advisor and working day (default: about one a year per customer)",
            )
            p.add_argument("--quiet", action="store_true", help="with --customers: no progress bar")
    p = db.add_parser("seed-tracker", help="fill Rasa's tracker store with realistic conversations (scale benchmark)")
    p.add_argument("--events", type=int, default=1_000_000, help="events in all (default 1,000,000)")
    p.add_argument("--tracker-url", help="the tracker store (default: HORTENSE_TRACKER_URL or HORTENSE_TRACKER_DB)")
    p.add_argument("--url", help="the customer database whose customers and calls it is about")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_db_seed_tracker)
    sub.add_parser("customers", help="list the demo customers").set_defaults(func=cmd_customers)
    p = sub.add_parser("import-reviewed", help="write the supervisors' labelled messages into data/nlu/reviewed.yml")
    p.add_argument("--out", help="the YAML file to write (default: data/nlu/reviewed.yml)")
    p.add_argument("--url", help="database URL (default: HORTENSE_DATABASE_URL)")
    p.set_defaults(func=cmd_import_reviewed)
    p = sub.add_parser("token", help="mint a portal JWT for a customer (what the portal does at login)")
    p.add_argument("customer")
    p.add_argument("--minutes", type=int, default=None)
    p.set_defaults(func=cmd_token)
    p = sub.add_parser("link-code", help="issue a one-time code linking a messaging conversation to a customer")
    p.add_argument("customer")
    p.set_defaults(func=cmd_link_code)
    privacy = sub.add_parser("privacy", help="GDPR: export or erase one customer's conversations and data")
    privacy_sub = privacy.add_subparsers(dest="privacy_command", required=True)
    p = privacy_sub.add_parser("export", help="everything held about a customer, as JSON (audited)")
    p.add_argument("customer")
    p.add_argument("--out", help="write the JSON to this file (created 0600) instead of standard output")
    p.add_argument("--url", help="database URL (default: HORTENSE_DATABASE_URL)")
    p.set_defaults(func=cmd_privacy_export)
    p = privacy_sub.add_parser("erase", help="erase a customer's conversations and personal data (audited)")
    p.add_argument("customer")
    p.add_argument("--yes", action="store_true", help="confirm the erasure (it cannot be undone)")
    p.add_argument("--url", help="database URL (default: HORTENSE_DATABASE_URL)")
    p.set_defaults(func=cmd_privacy_erase)
    p = sub.add_parser("chat", help="chat in the terminal as a customer over the secure endpoint")
    p.add_argument("customer")
    p.set_defaults(func=cmd_chat)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
