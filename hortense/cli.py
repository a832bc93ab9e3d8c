"""The `hortense` command line: environment, database, demo tokens and a terminal chat over the secure endpoint."""
from __future__ import annotations

import argparse
import sys


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


def cmd_customers(args: argparse.Namespace) -> int:
    from hortense.db.seed import DEMO_CUSTOMERS

    for c in DEMO_CUSTOMERS:
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
    for name, func, text in (("upgrade", cmd_db_upgrade, "create or migrate the schema (Alembic)"),
                             ("seed", cmd_db_seed, "insert the demo customers if the database is empty")):
        p = db.add_parser(name, help=text)
        p.add_argument("--url", help="database URL (default: HORTENSE_DATABASE_URL)")
        p.set_defaults(func=func)
    sub.add_parser("customers", help="list the demo customers").set_defaults(func=cmd_customers)
    p = sub.add_parser("token", help="mint a portal JWT for a customer (what the portal does at login)")
    p.add_argument("customer")
    p.add_argument("--minutes", type=int, default=None)
    p.set_defaults(func=cmd_token)
    p = sub.add_parser("link-code", help="issue a one-time code linking a messaging conversation to a customer")
    p.add_argument("customer")
    p.set_defaults(func=cmd_link_code)
    p = sub.add_parser("chat", help="chat in the terminal as a customer over the secure endpoint")
    p.add_argument("customer")
    p.set_defaults(func=cmd_chat)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
