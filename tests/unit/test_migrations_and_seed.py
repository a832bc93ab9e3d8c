"""The Alembic migrations build exactly the schema of the models, and the demo seed covers every case."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError

from hortense.db import all_models  # noqa: F401  (registers every table)
from hortense.db.base import Base
from hortense.db.migrate import alembic_config, current_heads, upgrade
from hortense.db.models import (
    OFFER_BOOST,
    OFFER_PRO,
    OFFER_STOCKAGE,
    OFFERS,
    BatteryMovement,
    Contract,
    Customer,
    Instalment,
    Invoice,
    KittyUpdate,
    MonthlyConsumption,
    OffpeakRange,
    SurplusInjection,
)
from hortense.db.seed import seed_demo
from hortense.db.session import get_engine, session_scope

from tests.conftest import FIXED_TODAY

ALL_MODELS = (Customer, Contract, OffpeakRange, BatteryMovement, MonthlyConsumption, SurplusInjection, KittyUpdate,
              Invoice, Instalment)


def _table_names(url: str) -> set[str]:
    return set(inspect(get_engine(url)).get_table_names()) - {"alembic_version"}


def _counts(url: str) -> dict[str, int]:
    with session_scope(url) as s:
        return {m.__tablename__: s.execute(select(func.count()).select_from(m)).scalar_one() for m in ALL_MODELS}


def _script_heads() -> list[str]:
    return sorted(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


# --- migrations ------------------------------------------------------------------------------------------------

def test_upgrade_creates_every_table_of_the_models(db_url):
    assert _table_names(db_url) == set(Base.metadata.tables)
    assert {m.__tablename__ for m in ALL_MODELS} <= _table_names(db_url)


def test_upgrade_creates_every_column_of_every_model(db_url):
    inspector = inspect(get_engine(db_url))
    for name, table in Base.metadata.tables.items():
        migrated = {c["name"]: c for c in inspector.get_columns(name)}
        assert set(migrated) == set(table.columns.keys()), name
        for column in table.columns:
            assert migrated[column.name]["nullable"] == column.nullable, f"{name}.{column.name}"


def test_migrated_schema_has_no_difference_with_the_models(db_url):
    """What `alembic revision --autogenerate` would see: nothing (a model changed without a migration fails)."""
    with get_engine(db_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_unique_constraints_of_the_models_exist_in_the_database(db_url):
    inspector = inspect(get_engine(db_url))
    assert {tuple(u["column_names"]) for u in inspector.get_unique_constraints("kitty_updates")} == {
        ("contract_id", "month")}
    assert ("pdl",) in {tuple(u["column_names"]) for u in inspector.get_unique_constraints("contracts")}


def test_current_heads_is_the_script_head(db_url):
    heads = _script_heads()
    assert heads
    assert sorted(current_heads(db_url)) == heads  # every branch applied, none left behind


def test_current_heads_of_an_empty_database_is_empty(tmp_path):
    assert current_heads(f"sqlite:///{tmp_path / 'empty.db'}") == []


def test_upgrade_uses_the_settings_url_by_default(db_url, tmp_path, monkeypatch):
    from hortense.settings import get_settings

    other = f"sqlite:///{tmp_path / 'sub' / 'from-settings.db'}"  # the parent folder is created too
    monkeypatch.setenv("HORTENSE_DATABASE_URL", other)
    get_settings.cache_clear()
    upgrade()
    assert sorted(current_heads(other)) == _script_heads()
    assert _table_names(other) == set(Base.metadata.tables)


def test_running_upgrade_twice_is_harmless(seeded_db):
    before = _counts(seeded_db)
    upgrade(seeded_db)
    assert sorted(current_heads(seeded_db)) == _script_heads()
    assert _table_names(seeded_db) == set(Base.metadata.tables)
    assert _counts(seeded_db) == before  # data untouched


def test_migrated_schema_enforces_the_pdl_length_and_offer_checks(session):
    customer = session.execute(select(Customer).where(Customer.customer_number == "C1001")).scalar_one()

    def contract(**overrides):
        values = dict(customer_id=customer.id, contract_number="X-1", offer=OFFER_STOCKAGE, pdl="1" * 14,
                      supply_address="1 rue A", supply_postcode="69001", supply_city="Lyon",
                      start_date=date(2026, 1, 1), subscribed_power_kva=6)
        values.update(overrides)
        return Contract(**values)

    for bad in (dict(pdl="1" * 13), dict(offer="tarif_bleu")):
        with pytest.raises(IntegrityError):
            with session.begin_nested():
                session.add(contract(**bad))
    with session.begin_nested():  # the valid one goes in: the failures above were the checks
        session.add(contract())


# --- seed --------------------------------------------------------------------------------------------------------

def _customers(session) -> list[Customer]:
    return session.execute(select(Customer).order_by(Customer.id)).scalars().all()


def _count(session, model, contract_id) -> int:
    return session.execute(
        select(func.count()).select_from(model).where(model.contract_id == contract_id)).scalar_one()


def test_seed_creates_at_least_seven_customers_covering_the_three_offers(session):
    customers = _customers(session)
    assert len(customers) >= 7
    assert {c.offer for cu in customers for c in cu.contracts} == set(OFFERS)
    assert len({cu.customer_number for cu in customers}) == len(customers)


def test_seed_has_a_business_with_two_contracts(session):
    businesses = [cu for cu in _customers(session) if cu.company_name and len(cu.contracts) >= 2]
    assert businesses
    sites = businesses[0].contracts
    assert all(c.site_label for c in sites), "a multi-site business names its sites"
    assert len({c.pdl for c in sites}) == len(sites)


def test_seed_has_monthly_and_non_monthly_payers(session):
    contracts = session.execute(select(Contract)).scalars().all()
    monthly = [c for c in contracts if c.monthly_payment]
    assert monthly and any(not c.monthly_payment for c in contracts)
    for c in monthly:
        assert c.instalment_day is not None
        assert _count(session, Instalment, c.id) > 0
    for c in contracts:
        if not c.monthly_payment:
            assert _count(session, Instalment, c.id) == 0


def test_seed_has_a_customer_with_an_empty_history(session):
    empty = []
    for cu in _customers(session):
        ids = [c.id for c in cu.contracts]
        if all(_count(session, m, i) == 0 for i in ids
               for m in (MonthlyConsumption, BatteryMovement, SurplusInjection, Invoice)):
            empty.append(cu)
    assert empty
    assert all(c.start_date <= FIXED_TODAY for cu in empty for c in cu.contracts)


def test_seed_history_ends_with_the_last_complete_month(session):
    last_complete = date(2026, 10, 1)
    assert session.execute(select(func.max(MonthlyConsumption.month))).scalar_one() == last_complete
    assert session.execute(select(func.max(SurplusInjection.month))).scalar_one() == last_complete


def test_seed_boost_contracts_have_a_resale_price_and_the_others_none(session):
    for c in session.execute(select(Contract)).scalars():
        if c.offer == OFFER_BOOST:
            assert c.resale_price_eur_per_kwh is not None and Decimal(c.resale_price_eur_per_kwh) > 0
        else:
            assert c.resale_price_eur_per_kwh is None


def test_seed_pro_and_stockage_have_consumption_boost_has_injections(session):
    for c in session.execute(select(Contract)).scalars():
        if c.offer == OFFER_BOOST:
            assert _count(session, MonthlyConsumption, c.id) == 0
            assert _count(session, SurplusInjection, c.id) > 0
        elif c.offer in (OFFER_STOCKAGE, OFFER_PRO) and _count(session, Invoice, c.id):
            assert _count(session, MonthlyConsumption, c.id) > 0
            assert _count(session, SurplusInjection, c.id) == 0


def test_all_pdls_are_14_digits_and_unique(session):
    pdls = session.execute(select(Contract.pdl)).scalars().all()
    assert pdls
    assert all(len(p) == 14 and p.isdigit() for p in pdls)
    assert len(set(pdls)) == len(pdls)


def test_seeding_twice_adds_nothing(seeded_db):
    before = _counts(seeded_db)
    with session_scope(seeded_db) as s:
        assert seed_demo(s, today=FIXED_TODAY) == 0
    with session_scope(seeded_db) as s:  # even on another day: it looks at whether customers exist
        assert seed_demo(s, today=date(2027, 3, 1)) == 0
    assert _counts(seeded_db) == before
    assert all(n > 0 for n in before.values())


def test_seed_returns_the_number_of_customers_added(db_url):
    with session_scope(db_url) as s:
        added = seed_demo(s, today=FIXED_TODAY)
    assert added == _counts(db_url)["customers"] >= 7


def test_seed_is_deterministic_for_a_given_day(seeded_db, tmp_path):
    other = f"sqlite:///{tmp_path / 'other.db'}"
    upgrade(other)
    with session_scope(other) as s:
        seed_demo(s, today=FIXED_TODAY)

    def snapshot(url):
        with session_scope(url) as s:
            return (
                s.execute(select(MonthlyConsumption.contract_id, MonthlyConsumption.month,
                                 MonthlyConsumption.peak_kwh, MonthlyConsumption.offpeak_kwh)
                          .order_by(MonthlyConsumption.id)).all(),
                s.execute(select(KittyUpdate.contract_id, KittyUpdate.month, KittyUpdate.balance_eur)
                          .order_by(KittyUpdate.id)).all(),
                s.execute(select(Invoice.number, Invoice.amount_eur).order_by(Invoice.id)).all(),
            )

    assert snapshot(seeded_db) == snapshot(other)
