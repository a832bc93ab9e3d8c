"""GDPR/CNIL rights and retention, end to end on real stores: the tracker store (SQLite; PostgreSQL too when
HORTENSE_TEST_POSTGRES_URL is set) and the seeded database.

- export (CLI, console) gives one customer's data and conversations, nobody else's; erasure makes them really
  gone from the tracker store and the database, keeps the contracts and invoices, and is audited;
- retention deletes what is older than the period (and never the current session Rasa still counts), blanks
  notification texts and past calls' details, logs its counts;
- an advisor who is not a supervisor can neither export nor erase; a customer downloads only their own
  conversations; every transcript view is audited and shown to supervisors.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, func, select, text

from hortense import cli
from hortense.account import linking
from hortense.appointments.advisors import DEFAULT_WORKING_HOURS, create_advisor, hash_password
from hortense.conversations import store
from hortense.db.calendar_models import Appointment, Notification
from hortense.db.link_models import AccountLink, LinkCode
from hortense.db.models import Contract, Customer, Invoice
from hortense.db.security_models import PrivacyAudit
from hortense.db.session import session_scope
from hortense.privacy import retention, rights
from hortense.settings import get_settings
from tests.services import service_url

UTC = timezone.utc
WHATSAPP = "whatsapp:+33612345601"
OLD_TELEGRAM = "telegram:987654"
LONG_SESSION = "web-C1003"
PASSWORDS = {"alice@hortense.test": "alice-secret", "chief@hortense.test": "chief-secret"}


# --------------------------------------------------------------------------- the tracker store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def tracker_url(request, tmp_path, monkeypatch):
    """An empty Rasa `events` table (Rasa's own layout) in a SQLite file or a throwaway PostgreSQL schema."""
    if request.param == "sqlite":
        path = tmp_path / "tracker.db"
        with sqlite3.connect(path) as db:
            db.execute(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
                "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
                "action_name VARCHAR(255), data TEXT)"
            )
        monkeypatch.setenv("HORTENSE_TRACKER_DB", str(path))
        monkeypatch.delenv("HORTENSE_TRACKER_URL", raising=False)
        get_settings.cache_clear()
        yield f"sqlite:///{path}"
        store.reset_engines()
        return
    base = service_url("HORTENSE_TEST_POSTGRES_URL")
    schema = f"hortense_privacy_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, future=True)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        conn.execute(
            text(
                f'CREATE TABLE "{schema}".events (id SERIAL PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, '
                "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
                "action_name VARCHAR(255), data TEXT)"
            )
        )
    monkeypatch.setenv("PGOPTIONS", f"-csearch_path={schema}")
    monkeypatch.setenv("HORTENSE_TRACKER_URL", base)
    get_settings.cache_clear()
    store.reset_engines()
    try:
        yield base
    finally:
        store.reset_engines()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def add_events(url: str, sender: str, at: datetime, *events: tuple[str, str]) -> None:
    """Events as Rasa stores them: ('session', ''), ('user', text), ('bot', text)."""
    rows = []
    for kind, words in events:
        if kind == "session":
            rows.append(("action", None, "action_session_start", {"event": "action", "name": "action_session_start"}))
            rows.append(("session_started", None, None, {"event": "session_started"}))
        elif kind == "user":
            data = {"event": "user", "text": words, "input_channel": sender.split("-")[0].split(":")[0]}
            rows.append(("user", "greet", None, data))
        else:
            rows.append(("bot", None, None, {"event": "bot", "text": words}))
    with store.engine(url).begin() as conn:
        for i, (type_name, intent, action, data) in enumerate(rows):
            conn.execute(
                text(
                    "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                    "VALUES (:s, :t, :ts, :i, :a, :d)"
                ),
                {"s": sender, "t": type_name, "ts": at.timestamp() + i, "i": intent, "a": action,
                 "d": json.dumps({**data, "timestamp": at.timestamp() + i})},
            )


def senders(url: str) -> dict[str, list[str]]:
    """Each conversation's stored texts (user and bot), in order."""
    with store.engine(url).connect() as conn:
        rows = conn.execute(text("SELECT sender_id, type_name, data FROM events ORDER BY id")).all()
    out: dict[str, list[str]] = {}
    for sender, type_name, data in rows:
        out.setdefault(sender, [])
        if type_name in ("user", "bot"):
            out[sender].append(json.loads(data)["text"])
    return out


def event_count(url: str, sender: str) -> int:
    with store.engine(url).connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM events WHERE sender_id = :s"), {"s": sender}).scalar()


# --------------------------------------------------------------------------- the world


@dataclass(frozen=True)
class World:
    db: str
    tracker: str
    c1001: int
    c1002: int
    alice: int
    chief: int
    past_call: int
    next_call: int
    other_call: int


def _appointment(s, customer_id, advisor_id, start, status, reason, phone, sender, created) -> int:
    row = Appointment(customer_id=customer_id, advisor_id=advisor_id, start_utc=start,
                      end_utc=start + timedelta(minutes=30), reason=reason, phone=phone, channel="web",
                      sender_id=sender, status=status, created_at=created, updated_at=created)
    s.add(row)
    s.flush()
    return row.id


@pytest.fixture
def world(seeded_db, tracker_url, clock) -> World:
    now = clock_now(clock)
    long_ago = now - timedelta(days=200)
    with session_scope(seeded_db) as s:
        ids = {}
        for email, password in PASSWORDS.items():
            name = email.split("@")[0]
            ids[name] = create_advisor(
                s, name=name.capitalize(), email=email, password="", password_hash=hash_password(password, n=16),
                is_supervisor=name == "chief", working_hours=() if name == "chief" else DEFAULT_WORKING_HOURS,
            ).id
        customers = dict(s.execute(select(Customer.customer_number, Customer.id)).all())
        c1001, c1002 = customers["C1001"], customers["C1002"]
        code = linking.issue_code(s, "C1001", now)
        assert linking.link(s, "whatsapp", WHATSAPP, code, now).ok
        linking.issue_code(s, "C1001", now)  # a code still pending
        past = _appointment(s, c1001, ids["alice"], long_ago, "done", "Question sur ma facture de Camille",
                            "+33612345601", "web-C1001", long_ago - timedelta(days=1))
        upcoming = _appointment(s, c1001, ids["alice"], now + timedelta(days=1), "booked", "Changer de puissance",
                                "+33612345601", WHATSAPP, now)
        other = _appointment(s, c1002, ids["alice"], now + timedelta(days=2), "booked", "Question de Julien",
                             "+33612345602", "web-C1002", now)
        s.add_all([
            Notification(appointment_id=past, kind="confirmation", channel="web", sender_id="web-C1001",
                         text="Camille, votre appel est confirmé", due_at=long_ago - timedelta(days=1),
                         sent_at=long_ago - timedelta(days=1), created_at=long_ago - timedelta(days=1)),
            Notification(appointment_id=upcoming, kind="reminder", channel="whatsapp", sender_id=WHATSAPP,
                         text="Rappel : appel demain", due_at=now + timedelta(hours=20), created_at=now),
            Notification(appointment_id=other, kind="confirmation", channel="web", sender_id="web-C1002",
                         text="Julien, votre appel est confirmé", due_at=now, sent_at=now, created_at=now),
        ])
    add_events(tracker_url, "web-C1001", long_ago, ("session", ""), ("user", "Je suis Camille, vieux message"),
               ("bot", "Bonjour Camille"))
    add_events(tracker_url, "web-C1001", now - timedelta(hours=1), ("session", ""), ("user", "Où en est ma facture ?"),
               ("bot", "Votre facture est payée."))
    add_events(tracker_url, WHATSAPP, now - timedelta(hours=2), ("session", ""), ("user", "Bonjour depuis WhatsApp"),
               ("bot", "Bonjour !"))
    add_events(tracker_url, "web-C1002", now - timedelta(hours=3), ("session", ""), ("user", "Message de Julien"),
               ("bot", "Bonjour Julien"))
    add_events(tracker_url, OLD_TELEGRAM, now - timedelta(days=400), ("user", "Très vieux message anonyme"),
               ("bot", "Bonjour"))
    # One session that began before the cut-off and is still going: Rasa counts its rows, they all stay.
    add_events(tracker_url, LONG_SESSION, long_ago, ("session", ""), ("user", "Début de session ancien"))
    add_events(tracker_url, LONG_SESSION, now - timedelta(minutes=5), ("user", "Suite d'aujourd'hui"))
    return World(seeded_db, tracker_url, c1001, c1002, ids["alice"], ids["chief"], past, upcoming, other)


def audit_rows(db: str, action: str | None = None) -> list[PrivacyAudit]:
    with session_scope(db) as s:
        stmt = select(PrivacyAudit).order_by(PrivacyAudit.id)
        if action:
            stmt = stmt.where(PrivacyAudit.action == action)
        rows = s.execute(stmt).scalars().all()
        s.expunge_all()
        return rows


# --------------------------------------------------------------------------- CLI: export and erase


def test_cli_export_gives_that_customers_data_and_conversations_only(world, capsys):
    assert cli.main(["privacy", "export", "C1001"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["client"]["numero"] == "C1001" and data["client"]["email"] == "camille.dubois@example.fr"
    conversations = {c["conversation"]: [m["texte"] for m in c["messages"]] for c in data["conversations"]}
    assert set(conversations) == {"web-C1001", WHATSAPP}
    assert "Bonjour depuis WhatsApp" in conversations[WHATSAPP]
    assert "Je suis Camille, vieux message" in conversations["web-C1001"]
    flat = json.dumps(data, ensure_ascii=False)
    assert "Julien" not in flat and "web-C1002" not in flat
    assert {a["motif"] for a in data["rendez_vous"]} == {"Question sur ma facture de Camille", "Changer de puissance"}
    assert data["comptes_messagerie_lies"][0]["conversation"] == WHATSAPP
    (row,) = audit_rows(world.db, "export")
    assert row.customer_number == "C1001" and row.actor.startswith("cli:")


def test_cli_export_to_a_private_file(world, tmp_path):
    out = tmp_path / "c1001.json"
    assert cli.main(["privacy", "export", "C1001", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["client"]["numero"] == "C1001"
    assert out.stat().st_mode & 0o777 == 0o600


def test_cli_erase_needs_yes_and_a_known_customer(world, capsys):
    assert cli.main(["privacy", "erase", "C1001"]) == 2
    assert event_count(world.tracker, "web-C1001") > 0
    assert cli.main(["privacy", "erase", "C9999", "--yes"]) == 1
    assert audit_rows(world.db, "erase") == []


def test_cli_erase_removes_conversations_and_personal_data(world, capsys):
    before_other = senders(world.tracker)["web-C1002"]
    assert cli.main(["privacy", "erase", "C1001", "--yes"]) == 0
    assert "supprimés" in capsys.readouterr().out

    # The tracker store: every event of the customer's conversations is gone, nobody else's.
    left = senders(world.tracker)
    assert "web-C1001" not in left and WHATSAPP not in left
    assert event_count(world.tracker, "web-C1001") == 0 and event_count(world.tracker, WHATSAPP) == 0
    assert left["web-C1002"] == before_other
    with store.engine(world.tracker).connect() as conn:
        dump = " ".join(r[0] for r in conn.execute(text("SELECT data FROM events")).all())
    assert "Camille" not in dump and "WhatsApp" not in dump

    with session_scope(world.db) as s:
        customer = s.get(Customer, world.c1001)
        assert (customer.first_name, customer.last_name, customer.email, customer.phone) == (
            rights.ERASED_FIRST_NAME, rights.ERASED_LAST_NAME, "", None)
        assert customer.billing_address == "" and customer.is_active is False
        assert s.execute(select(AccountLink).where(AccountLink.customer_id == world.c1001)).first() is None
        assert s.execute(select(LinkCode).where(LinkCode.customer_id == world.c1001)).first() is None
        for appointment_id in (world.past_call, world.next_call):
            a = s.get(Appointment, appointment_id)
            assert (a.reason, a.phone, a.sender_id) == ("", "", "")
        assert s.get(Appointment, world.next_call).status == "cancelled"
        texts = s.execute(select(Notification.text, Notification.sender_id)
                          .join(Appointment, Appointment.id == Notification.appointment_id)
                          .where(Appointment.customer_id == world.c1001)).all()
        assert texts and all(t == ("", "") for t in texts)
        # What contract and accounting law require stays.
        assert s.execute(select(func.count()).select_from(Contract).where(Contract.customer_id == world.c1001)).scalar()
        assert s.execute(select(func.count()).select_from(Invoice).join(Contract)
                         .where(Contract.customer_id == world.c1001)).scalar()
        assert customer.customer_number == "C1001"
        # Somebody else's data is untouched.
        other = s.get(Customer, world.c1002)
        assert other.first_name == "Julien" and other.is_active
        assert s.get(Appointment, world.other_call).reason == "Question de Julien"
    (row,) = audit_rows(world.db, "erase")
    assert row.customer_number == "C1001" and row.actor.startswith("cli:") and "événements" in row.detail
    # An erasure runs again without harm (e.g. after a failure half-way).
    assert cli.main(["privacy", "erase", "C1001", "--yes"]) == 0


# --------------------------------------------------------------------------- retention


def test_retention_deletes_what_is_older_than_the_period(world, clock, caplog, monkeypatch):
    monkeypatch.setenv("HORTENSE_TRANSCRIPT_RETENTION_DAYS", "180")
    get_settings.cache_clear()
    from hortense.appointments.scheduler import Jobs

    with caplog.at_level(logging.INFO, logger="hortense.privacy.retention"):
        report = Jobs(transport=None, url=world.db).apply_retention()  # type: ignore[arg-type]
    # web-C1001's old session (4 events), the old telegram chat (2), and the long session's `action_session_start`,
    # timed before its `session_started` (Rasa neither loads nor counts it)
    assert (report.events, report.conversations) == (4 + 2 + 1, 3)
    left = senders(world.tracker)
    assert left["web-C1001"] == ["Où en est ma facture ?", "Votre facture est payée."]
    assert OLD_TELEGRAM not in left
    assert left["web-C1002"] == ["Message de Julien", "Bonjour Julien"]
    assert left[LONG_SESSION] == ["Début de session ancien", "Suite d'aujourd'hui"]  # Rasa still counts them
    assert "7 events deleted in 3 conversations" in caplog.text
    with session_scope(world.db) as s:
        past = s.get(Appointment, world.past_call)
        assert (past.reason, past.phone, past.sender_id, past.status) == ("", "", "", "done")
        assert s.get(Appointment, world.next_call).reason == "Changer de puissance"  # not past
        by_appointment = dict(s.execute(select(Notification.appointment_id, Notification.text)).all())
        assert by_appointment[world.past_call] == ""
        assert by_appointment[world.next_call] == "Rappel : appel demain"
    (row,) = audit_rows(world.db, "retention")
    assert row.actor == "scheduler" and "7 événements" in row.detail
    # The next day, nothing more is old enough: nothing is counted twice.
    clock.advance(timedelta(days=1))
    again = Jobs(transport=None, url=world.db).apply_retention()  # type: ignore[arg-type]
    assert again.changed == 0


def test_retention_period_is_a_setting(world, monkeypatch):
    monkeypatch.setenv("HORTENSE_TRANSCRIPT_RETENTION_DAYS", "1")
    get_settings.cache_clear()
    assert get_settings().transcript_retention_days == 1
    monkeypatch.setenv("HORTENSE_TRANSCRIPT_RETENTION_DAYS", "zéro")
    get_settings.cache_clear()
    assert get_settings().transcript_retention_days == 180


def test_retention_keeps_rasas_tracker_consistent(tmp_path, seeded_db, clock):
    """On Rasa's own store: after the purge Rasa loads the current session and stores new events once."""
    import asyncio

    from rasa.core.tracker_store import TrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
    from rasa.utils.endpoints import EndpointConfig

    path = tmp_path / "rasa-tracker.db"
    rasa_store = TrackerStore.create(
        EndpointConfig(type="hortense.rasa.tracker_store.RedactingSQLTrackerStore", dialect="sqlite", db=str(path)),
        Domain.empty(),
    )
    now = clock()
    old, recent = now - 200 * 86400, now - 600
    tracker = asyncio.run(rasa_store.get_or_create_tracker("web-C1001", append_action_listen=False))
    for event in (ActionExecuted("action_session_start", timestamp=old), SessionStarted(timestamp=old),
                  UserUttered("ancien message", timestamp=old + 1), BotUttered("ancienne réponse", timestamp=old + 2),
                  ActionExecuted("action_session_start", timestamp=recent), SessionStarted(timestamp=recent),
                  UserUttered("nouveau message", timestamp=recent + 1)):
        tracker.update(event)
    asyncio.run(rasa_store.save(tracker))
    url = f"sqlite:///{path}"
    with session_scope(seeded_db) as s:
        report = retention.apply_retention(s, url, clock_now(clock), 180)
    assert report.events == 4
    live = asyncio.run(rasa_store.retrieve("web-C1001"))
    live.update(BotUttered("nouvelle réponse", timestamp=now))
    asyncio.run(rasa_store.save(live))
    texts = senders(url)["web-C1001"]
    assert texts == ["nouveau message", "nouvelle réponse"]  # nothing old, nothing stored twice
    store.reset_engines()


def clock_now(clock) -> datetime:
    return datetime.fromtimestamp(clock(), UTC)


# --------------------------------------------------------------------------- the web: console and customer


@pytest.fixture
def app(world, monkeypatch):
    from web import console
    from web.app import create_app

    console.address_limiter.reset()
    monkeypatch.setenv("HORTENSE_DEMO_LOGIN", "1")
    get_settings.cache_clear()
    return create_app()


def browser(app):
    from tests.unit.test_web_documents import WebClient

    return WebClient(app)


def console_login(app, email: str):
    client = browser(app)
    page = client.get("/console/login")
    done = client.post("/console/login", {"email": email, "password": PASSWORDS[email], "csrf": page.field("csrf")})
    assert done.status == 303 and done.location == "/console/calls"
    return client, client.get("/console/agenda").field("csrf")


def test_supervisor_exports_from_the_console_with_confirmation(app, world):
    client, csrf = console_login(app, "chief@hortense.test")
    page = client.get("/console/confidentialite?client=C1001")
    assert page.status == 200 and "web-C1001" in page.text and WHATSAPP in page.text
    refused = client.post("/console/confidentialite/export", {"csrf": csrf, "customer": "C1001", "confirm": "C1002"})
    assert refused.status == 400 and "Confirmation incorrecte" in refused.text
    no_csrf = client.post("/console/confidentialite/export", {"customer": "C1001", "confirm": "C1001"})
    assert no_csrf.status == 403
    assert audit_rows(world.db, "export") == []
    done = client.post("/console/confidentialite/export", {"csrf": csrf, "customer": "C1001", "confirm": "C1001"})
    assert done.status == 200 and done.content_type.startswith("application/json")
    assert "attachment" in done.headers["content-disposition"]
    data = json.loads(done.body)
    assert {c["conversation"] for c in data["conversations"]} == {"web-C1001", WHATSAPP}
    (row,) = audit_rows(world.db, "export")
    assert row.actor == f"advisor:{world.chief} (Chief)" and row.customer_number == "C1001"


def test_supervisor_erases_from_the_console_with_confirmation(app, world):
    client, csrf = console_login(app, "chief@hortense.test")
    refused = client.post("/console/confidentialite/erase", {"csrf": csrf, "customer": "C1001", "confirm": ""})
    assert refused.status == 400 and event_count(world.tracker, "web-C1001") > 0
    done = client.post("/console/confidentialite/erase", {"csrf": csrf, "customer": "C1001", "confirm": "C1001"})
    assert done.status == 200 and "effacées" in done.text
    assert event_count(world.tracker, "web-C1001") == 0 and event_count(world.tracker, WHATSAPP) == 0
    assert event_count(world.tracker, "web-C1002") > 0
    with session_scope(world.db) as s:
        assert s.get(Customer, world.c1001).email == ""
    (row,) = audit_rows(world.db, "erase")
    assert row.actor.startswith(f"advisor:{world.chief}")
    log = client.get("/console/confidentialite")
    assert "Effacement des données" in log.text and "C1001" in log.text


def test_an_advisor_cannot_export_erase_or_read_the_audit(app, world):
    client, csrf = console_login(app, "alice@hortense.test")
    assert client.get("/console/confidentialite").status == 404
    assert client.get("/console/confidentialite?client=C1001").status == 404
    form = {"csrf": csrf, "customer": "C1001", "confirm": "C1001"}
    export = client.post("/console/confidentialite/export", form)
    assert export.status == 404 and b"camille" not in export.body.lower()
    assert client.post("/console/confidentialite/erase", form).status == 404
    assert event_count(world.tracker, "web-C1001") == 8
    with session_scope(world.db) as s:
        assert s.get(Customer, world.c1001).first_name == "Camille"
    assert audit_rows(world.db, "export") == [] and audit_rows(world.db, "erase") == []
    # Not signed in at all: the log-in page.
    stranger = browser(app)
    assert stranger.post("/console/confidentialite/erase", {"customer": "C1001", "confirm": "C1001"}).status == 303


def test_every_transcript_view_is_audited_and_shown_to_supervisors(app, world):
    client, _ = console_login(app, "alice@hortense.test")
    page = client.get(f"/console/calls/{world.next_call}/transcript")
    assert page.status == 200 and "Bonjour depuis WhatsApp" in page.text
    (row,) = audit_rows(world.db, "transcript_view")
    assert row.actor == f"advisor:{world.alice} (Alice)" and row.customer_number == "C1001"
    assert WHATSAPP in row.detail and str(world.next_call) in row.detail
    chief, _ = console_login(app, "chief@hortense.test")
    log = chief.get("/console/confidentialite?client=C1001")
    assert "Consultation d'une conversation" in log.text and "Alice" in log.text


def test_a_customer_downloads_only_their_own_conversations(app, world):
    camille = browser(app)
    assert camille.get("/mes-conversations.json").status == 401
    camille.login("C1001")
    space = camille.get("/")
    assert "/mes-conversations.json" in space.body.decode() and "6 mois" in space.text
    for target in ("/mes-conversations.json", "/mes-conversations.json?client=C1002"):
        download = camille.get(target)
        assert download.status == 200 and download.content_type.startswith("application/json")
        data = json.loads(download.body)
        assert data["client"] == "C1001"
        assert {c["conversation"] for c in data["conversations"]} == {"web-C1001", WHATSAPP}
        assert "Julien" not in download.body.decode()
    julien = browser(app)
    julien.login("C1002")
    data = json.loads(julien.get("/mes-conversations.json").body)
    assert [c["conversation"] for c in data["conversations"]] == ["web-C1002"]
    assert "Camille" not in json.dumps(data, ensure_ascii=False)
    rows = audit_rows(world.db, "customer_download")
    assert [r.actor for r in rows] == ["customer:C1001", "customer:C1001", "customer:C1002"]


def test_the_policy_page_and_the_widget_notice(app, world):
    page = browser(app).get("/confidentialite")
    assert page.status == 200 and "6 mois" in page.text and "CNIL" in page.text
    home = browser(app).get("/")
    config = json.loads(re.search(r'id="hortense-chat-config">(.*?)</script>', home.body.decode()).group(1))
    assert "6 mois" in config["privacyNotice"] and config["privacyUrl"] == "/confidentialite"
    assert 'href="/confidentialite"' in home.body.decode()
