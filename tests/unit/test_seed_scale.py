"""The supplier-sized seed (hortense/db/seed_scale.py) and the indexes of migration 0011, on a small scale.

300 customers on SQLite (a temporary file) and on PostgreSQL (a schema of HORTENSE_TEST_POSTGRES_URL, as
tests/integration/test_double_booking.py does; under CI=true a missing PostgreSQL fails): realistic shares,
24 months of readings, the kitty's rule, multi-site businesses, reproducibility, the demo customers untouched,
and every statement of the everyday chat turns served by an index on PostgreSQL.
"""
from __future__ import annotations

import os
import uuid
from collections import Counter
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, event, func, select, text

from hortense.db.calendar_models import STATUS_BOOKED, Appointment
from hortense.db.migrate import include_object, upgrade
from hortense.db.models import (
    OFFER_BOOST,
    OFFER_PRO,
    OFFER_STOCKAGE,
    Contract,
    Customer,
    Invoice,
    KittyUpdate,
    MonthlyConsumption,
    SurplusInjection,
)
from hortense.db.seed import seed_demo
from hortense.db.seed_scale import GENERATED, OFFER_SHARES, seed_scale
from hortense.db.session import get_engine, reset_engines, session_scope
from hortense.energy.periods import add_months
from hortense.energy.surplus import kitty_amount, update_kitties
from tests.conftest import FIXED_TODAY
from tests.services import service_url

N = 300
NOW = datetime.combine(FIXED_TODAY, time(10), ZoneInfo("Europe/Paris"))
DEMO_TABLES = ("customers", "contracts", "offpeak_ranges", "monthly_consumption", "invoices", "instalments",
               "battery_movements", "surplus_injections", "kitty_updates")


def _seed(url: str, seed_number: int = 7, count: int = N, advisors: int = 200) -> str:
    upgrade(url)
    report = seed_scale(
        get_engine(url), count, seed_number=seed_number, advisors=advisors, today=FIXED_TODAY, now=NOW, progress=False
    )
    assert report.customers == count - 8 and report.appointments > 0
    return url


def _typed(url: str) -> list[tuple]:
    """Customers and their contracts as the models read them (dialect-neutral)."""
    with session_scope(url) as s:
        return [
            tuple(r)
            for r in s.execute(
                select(Customer.customer_number, Customer.first_name, Customer.last_name, Customer.company_name,
                       Customer.email, Customer.phone, Customer.is_active, Contract.contract_number, Contract.offer,
                       Contract.pdl, Contract.start_date, Contract.monthly_payment, Contract.instalment_day)
                .join(Contract).order_by(Contract.id)
            )
        ]


def _rows(url: str, table: str, where: str = "") -> list[tuple]:
    with get_engine(url).connect() as conn:
        return [tuple(str(v) for v in r) for r in conn.execute(text(f"SELECT * FROM {table} {where} ORDER BY id"))]


@pytest.fixture(scope="module")
def scaled(tmp_path_factory) -> str:
    url = _seed(f"sqlite:///{tmp_path_factory.mktemp('scale') / 'scale.db'}")
    yield url
    reset_engines()


@pytest.fixture(scope="module")
def _postgres_schema():
    """A schema of HORTENSE_TEST_POSTGRES_URL for this module, selected by PGOPTIONS (libpq reads it for every
    new connection), seeded once."""
    base = service_url("HORTENSE_TEST_POSTGRES_URL")
    schema = f"hortense_scale_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, future=True)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    before = os.environ.get("PGOPTIONS")
    os.environ["PGOPTIONS"] = f"-csearch_path={schema}"
    reset_engines()
    try:
        yield _seed(base)
    finally:
        reset_engines()
        if before is None:
            os.environ.pop("PGOPTIONS", None)
        else:
            os.environ["PGOPTIONS"] = before
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def postgres(_postgres_schema, monkeypatch):
    monkeypatch.setenv("PGOPTIONS", os.environ["PGOPTIONS"])
    return _postgres_schema


def test_offers_come_in_realistic_shares_with_every_payment_mode(scaled):
    with session_scope(scaled) as s:
        rows = s.execute(
            select(Contract.offer, Contract.monthly_payment).join(Customer).where(Customer.customer_number.like(GENERATED))
        ).all()
        per_customer = s.execute(
            select(func.min(Contract.offer)).join(Customer).where(Customer.customer_number.like(GENERATED))
            .group_by(Customer.id)
        ).scalars().all()
    offers = Counter(per_customer)  # a customer's sites share the offer
    for offer, share in OFFER_SHARES:
        assert abs(offers[offer] / len(per_customer) - share) < 0.08, (offer, offers)
    for offer in (OFFER_STOCKAGE, OFFER_BOOST, OFFER_PRO):
        modes = {m for o, m in rows if o == offer}
        assert modes == {True, False}, offer


def test_every_contract_of_two_years_has_24_months_of_readings_and_its_invoices(scaled):
    two_years_ago = add_months(date(FIXED_TODAY.year, FIXED_TODAY.month, 1), -24)
    with session_scope(scaled) as s:
        readings = dict(
            s.execute(select(MonthlyConsumption.contract_id, func.count()).group_by(MonthlyConsumption.contract_id)).all()
        )
        injections = dict(
            s.execute(select(SurplusInjection.contract_id, func.count()).group_by(SurplusInjection.contract_id)).all()
        )
        invoices = dict(s.execute(select(Invoice.contract_id, func.count()).group_by(Invoice.contract_id)).all())
        old = s.execute(
            select(Contract.id, Contract.offer).join(Customer)
            .where(Customer.customer_number.like(GENERATED), Contract.start_date <= two_years_ago)
        ).all()
    assert len(old) > 100
    for contract_id, offer in old:
        history = injections if offer == OFFER_BOOST else readings
        assert history.get(contract_id) == 24, (contract_id, offer)
        assert invoices.get(contract_id, 0) >= 7


def test_the_kitty_is_the_injected_kwh_times_the_resale_price_month_after_month(scaled):
    with session_scope(scaled) as s:
        boost = s.execute(select(Contract).where(Contract.offer == OFFER_BOOST, Contract.id > 9)).scalars().all()
        assert boost
        for contract in boost[:40]:
            updates = s.execute(
                select(KittyUpdate).where(KittyUpdate.contract_id == contract.id).order_by(KittyUpdate.month)
            ).scalars().all()
            injected = s.execute(
                select(SurplusInjection).where(SurplusInjection.contract_id == contract.id)
                .order_by(SurplusInjection.month)
            ).scalars().all()
            assert [u.month for u in updates] == [i.month for i in injected]
            balance = Decimal(0)
            for update, injection in zip(updates, injected, strict=True):
                amount = kitty_amount(Decimal(injection.kwh), Decimal(contract.resale_price_eur_per_kwh))
                balance += amount
                assert Decimal(str(update.amount_eur)) == amount
                assert Decimal(str(update.balance_eur)).quantize(Decimal("0.01")) == balance
        # what the scheduler's monthly job would record is already there
        assert update_kitties(s, NOW) == 0


def test_businesses_with_several_sites_exist(scaled):
    with session_scope(scaled) as s:
        sites = s.execute(
            select(Customer.company_name, func.count(Contract.id), func.min(Contract.offer), func.max(Contract.offer))
            .join(Contract).where(Customer.customer_number.like(GENERATED)).group_by(Customer.id)
            .having(func.count(Contract.id) > 1)
        ).all()
    assert sites
    assert all(company and low == high == OFFER_PRO for company, _, low, high in sites)


def test_demo_customers_are_unchanged(scaled, seeded_db):
    for table in DEMO_TABLES:
        where = {"customers": "WHERE id <= 8", "contracts": "WHERE customer_id <= 8"}.get(table, "WHERE contract_id <= 9")
        assert _rows(scaled, table, where) == _rows(seeded_db, table, where), table


def test_calls_respect_one_booked_call_per_customer_and_advisor_slot(scaled):
    with session_scope(scaled) as s:
        booked = s.execute(
            select(Appointment.customer_id, Appointment.advisor_id, Appointment.start_utc)
            .where(Appointment.status == STATUS_BOOKED)
        ).all()
        statuses = set(s.execute(select(Appointment.status).distinct()).scalars())
    assert booked
    assert len({c for c, _, _ in booked}) == len(booked)
    assert len({(a, t) for _, a, t in booked}) == len(booked)
    assert {"booked", "done", "missed", "cancelled"} <= statuses


def test_the_same_seed_gives_the_same_database_and_another_one_another(scaled, tmp_path):
    again = _seed(f"sqlite:///{tmp_path / 'again.db'}", count=60, advisors=10)  # the first 52 customers again
    other = _seed(f"sqlite:///{tmp_path / 'other.db'}", seed_number=8, count=60, advisors=10)
    contracts = len(_rows(again, "contracts"))
    for table, where in (("customers", "WHERE id <= 60"), ("contracts", "WHERE customer_id <= 60"),
                         ("monthly_consumption", f"WHERE contract_id <= {contracts}"),
                         ("invoices", f"WHERE contract_id <= {contracts}"),
                         ("kitty_updates", f"WHERE contract_id <= {contracts}")):
        assert _rows(again, table, where) == _rows(scaled, table, where), table
    assert _rows(other, "customers") != _rows(again, "customers")


# --- PostgreSQL: COPY gives the same rows, the schema matches the models, the turns' statements use indexes ------


# What a turn of the bench's question mix runs (actions/…): greeting, PDL, consumption, invoices, kitty, battery,
# off-peak hours, offer, instalment, contract number, appointment.
TURN_ACTIONS = (
    ("actions.general", "Greet", "bonjour", "greet"),
    ("actions.account", "AskPdl", "mon pdl", "ask_pdl"),
    ("actions.account", "AskOffpeakHours", "mes heures creuses", "ask_offpeak_hours"),
    ("actions.account", "AskContractDetails", "mon offre", "ask_contract_details"),
    ("actions.account", "AskContractNumber", "mon numéro de contrat", "ask_contract_number"),
    ("actions.energy", "AskConsumption", "ma conso des 3 derniers mois", "ask_consumption"),
    ("actions.energy", "AskBatteryLevel", "ma batterie", "ask_battery_level"),
    ("actions.energy", "AskKitty", "ma cagnotte", "ask_kitty"),
    ("actions.billing", "AskInvoices", "ma dernière facture", "ask_invoices"),
    ("actions.billing", "AskNextInstalment", "mon prochain prélèvement", "ask_next_instalment"),
    ("actions.appointments", "AskAppointment", "mon rendez-vous", "ask_appointment"),
)


@pytest.mark.postgres
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_postgres_seed_matches_sqlite_and_the_models(postgres, scaled):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from hortense.db import all_models  # noqa: F401
    from hortense.db.base import Base

    for table in ("customers", "contracts", "monthly_consumption", "invoices", "kitty_updates", "appointments"):
        assert len(_rows(postgres, table)) == len(_rows(scaled, table)), table
    assert _typed(postgres) == _typed(scaled)  # COPY and executemany write the same rows
    with get_engine(postgres).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"include_object": include_object}), Base.metadata)
        indexes = {r[0] for r in conn.execute(text("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"))}
        # the sequences continue after the rows COPY numbered
        next_id = conn.execute(text("SELECT nextval(pg_get_serial_sequence('customers', 'id'))")).scalar_one()
    assert diff == []
    assert {"ix_customers_search_name", "ix_contracts_contract_number_trgm", "ix_appointments_advisor_id_start_utc",
            "ix_customers_phone", "ix_appointments_phone"} <= indexes
    assert next_id == N + 1


def _explain_without_seq_scans(url: str, statements: list[tuple[str, object]]) -> list[str]:
    """Each statement's plan with sequential scans disabled: a `Seq Scan` left means no index can serve it."""
    bad = []
    engine = get_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        cursor = conn.connection.cursor()
        for statement, params in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN " + statement, params)
            plan = "\n".join(r[0] for r in cursor.fetchall())
            if "Seq Scan" in plan:
                bad.append(f"{statement}\n{plan}")
        cursor.close()
    return bad


@pytest.mark.postgres
def test_every_statement_of_a_chat_turn_and_of_the_console_uses_an_index_on_postgres(postgres, monkeypatch):
    import importlib

    from hortense.appointments import calls as desk
    from hortense.settings import get_settings
    from tests.unit import actions_support as support

    monkeypatch.setenv("HORTENSE_DATABASE_URL", postgres)
    get_settings.cache_clear()
    engine = get_engine(postgres)
    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with session_scope(postgres) as s:
            numbers = s.execute(
                select(Customer.customer_number).where(Customer.customer_number.like(GENERATED)).order_by(Customer.id)
            ).scalars().all()[:3]
        for number in ["C1001", "C1003", "C1006", *numbers]:
            for module, name, message, intent in TURN_ACTIONS:
                action = getattr(importlib.import_module(module), name)()
                support.run(action, support.tracker(message, intent, number))
        with session_scope(postgres) as s:
            scope = desk.Scope(None)
            for query in ("Dubois", "C1001", "14295730100101", "06 12 34 56 01", "SV-2023"):
                desk.search(s, scope, query)
            desk.upcoming(s, desk.Scope(1), NOW)
            # The supervisor's "À venir": everybody's next calls a page at a time, and those to close.
            everybody = desk.Scope(None)
            first = desk.upcoming(s, everybody, NOW, size=5)
            assert first.next_after is not None
            desk.upcoming(s, everybody, NOW, after=first.next_after, size=5)
            desk.awaiting_outcome(s, everybody, NOW)
            # An advisor's iCalendar feed.
            from hortense.appointments.icalendar_feed import build_feed

            advisor = s.execute(select(Appointment.advisor_id).limit(1)).scalar_one()
            assert build_feed(s, advisor, NOW)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert len(captured) > 30
    assert _explain_without_seq_scans(postgres, captured) == []


@pytest.mark.postgres
def test_rasa_reads_a_conversation_on_an_index_in_a_full_tracker_store(postgres):
    """Rasa's per-turn reads (events of the latest session, and their count before saving) on a store of
    realistic conversations (hortense/db/seed_tracker.py): served by Rasa's own index on sender_id."""
    from rasa.core.tracker_store import SQLTrackerStore

    from hortense.db.seed_tracker import seed_tracker

    store = SQLTrackerStore(host=postgres)
    try:
        report = seed_tracker(store.engine, 5000, data=get_engine(postgres), now=NOW, progress=False)
        assert report.events >= 5000 and report.sessions > report.conversations / 2
        with store.engine.connect() as conn:
            sender = conn.execute(text("SELECT sender_id FROM events GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")).scalar()
        with store.session_scope() as session:
            query = store._event_query(session, sender, fetch_events_from_all_sessions=False)
            statements = [
                str(q.statement.compile(store.engine, compile_kwargs={"literal_binds": True}))
                for q in (query, query.from_self(func.count()))
            ]
            assert len(query.all()) < len(store._event_query(session, sender, fetch_events_from_all_sessions=True).all())
        with store.engine.connect() as conn:
            conn.exec_driver_sql("SET enable_seqscan = off")
            for statement in statements:
                plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement))
                assert "Seq Scan" not in plan and "ix_events_sender_id" in plan, plan
    finally:
        store.engine.dispose()


def test_console_search_returns_the_newest_calls_of_the_customers_found(scaled):
    from hortense.appointments import calls as desk

    with session_scope(scaled) as s:
        everybody = desk.Scope(None)
        name = s.execute(
            select(Customer.last_name).join(Appointment, Appointment.customer_id == Customer.id)
            .group_by(Customer.last_name).order_by(func.count().desc()).limit(1)
        ).scalar_one()
        found = desk.search(s, everybody, name)
        assert len(found) > 5
        assert [c.start for c in found] == sorted((c.start for c in found), reverse=True)
        assert all(name.lower() in c.customer_name.lower() for c in found)
        assert [c.id for c in desk.search(s, everybody, name, limit=5)] == [c.id for c in found[:5]]
        one = found[0]
        assert one.id in {c.id for c in desk.search(s, everybody, one.customer_number)}
        assert one.id in {c.id for c in desk.search(s, everybody, one.phone)}
