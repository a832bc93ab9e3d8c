"""Customer-account models: customers, contracts and what each offer records month by month.

Facts that change by contract (off-peak ranges, resale price, instalment day) are rows, not code.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Integer,
    Numeric,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from hortense.db.base import Base, child_keys

OFFERS = OFFER_STOCKAGE, OFFER_BOOST, OFFER_PRO = ("stockage_virtuel", "boost_surplus", "electricite_verte_pro")

# Trigram indexes of the console's searches by part of a name or contract number: PostgreSQL only (pg_trgm), made
# by migration 0011 and not declared on the models (no dialect-neutral form); tests check they exist and serve.
POSTGRES_ONLY_INDEXES = {
    "customers": ("ix_customers_search_name",),
    "contracts": ("ix_contracts_contract_number_trgm",),
}

KWH = Numeric(12, 3)
EUR = Numeric(12, 2)


def contract_month_columns() -> tuple[Column, Column, Column]:
    """Fresh `id`, `contract_id` and `month` (first day of the month) columns, in that order, of a table with one row
    per contract and month (its `UniqueConstraint("contract_id", "month")` is declared beside)."""
    return (*child_keys("contracts"), Column(Date, nullable=False))


def address_columns() -> tuple[Column, Column, Column]:
    """Fresh street, postcode and city columns, in that order: a customer's billing address and a contract's supply
    address are kept alike."""
    return Column(String(200), nullable=False), Column(String(10), nullable=False), Column(String(100), nullable=False)


class Customer(Base):
    __tablename__ = "customers"

    id = Column(Integer, primary_key=True)
    customer_number = Column(String(20), nullable=False, unique=True)  # the portal JWT `sub`
    civility = Column(String(10), nullable=False, default="")
    first_name = Column(String(80), nullable=False)
    last_name = Column(String(80), nullable=False)
    company_name = Column(String(120))  # set for small businesses
    email = Column(String(200), nullable=False)
    phone = Column(String(20), index=True)  # E.164, e.g. +33612345678 (the console searches by phone)
    billing_address, billing_postcode, billing_city = address_columns()
    is_active = Column(Boolean, nullable=False, default=True)

    contracts = relationship("Contract", back_populates="customer", order_by="Contract.id")


class Contract(Base):
    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint(f"offer IN ('{OFFER_STOCKAGE}', '{OFFER_BOOST}', '{OFFER_PRO}')", name="offer"),
        CheckConstraint("length(pdl) = 14", name="pdl_length"),
    )

    id, customer_id = child_keys("customers")
    contract_number = Column(String(30), nullable=False, unique=True)
    offer = Column(String(40), nullable=False)
    pdl = Column(String(14), nullable=False, unique=True)
    site_label = Column(String(120))  # "Boutique de Lyon" for multi-site businesses
    supply_address, supply_postcode, supply_city = address_columns()
    start_date = Column(Date, nullable=False)
    subscribed_power_kva = Column(Integer, nullable=False)
    monthly_payment = Column(Boolean, nullable=False, default=False)
    instalment_day = Column(Integer)  # day of month of the debit, monthly payers only
    resale_price_eur_per_kwh = Column(Numeric(8, 5))  # Boost Mon Surplus only
    status = Column(String(20), nullable=False, default="active")

    customer = relationship("Customer", back_populates="contracts")
    offpeak_ranges = relationship("OffpeakRange", order_by="(OffpeakRange.season, OffpeakRange.start_time)")


class OffpeakRange(Base):
    """One daily off-peak range; `season` is NULL for all-year ranges, else 'hiver' / 'été' with months."""

    __tablename__ = "offpeak_ranges"

    id, contract_id = child_keys("contracts")
    start_time = Column(Time, nullable=False)
    end_time = Column(Time, nullable=False)
    season = Column(String(20))
    season_start_month = Column(Integer)
    season_end_month = Column(Integer)


class BatteryMovement(Base):
    """Virtual-battery ledger: positive kWh stored from surplus, negative kWh drawn back."""

    __tablename__ = "battery_movements"

    id, contract_id = child_keys("contracts")
    occurred_on = Column(Date, nullable=False)
    kwh = Column(KWH, nullable=False)
    label = Column(String(80), nullable=False)


class MonthlyConsumption(Base):
    __tablename__ = "monthly_consumption"
    __table_args__ = (UniqueConstraint("contract_id", "month"),)

    id, contract_id, month = contract_month_columns()
    peak_kwh = Column(KWH, nullable=False)
    offpeak_kwh = Column(KWH, nullable=False)


class SurplusInjection(Base):
    __tablename__ = "surplus_injections"
    __table_args__ = (UniqueConstraint("contract_id", "month"),)

    id, contract_id, month = contract_month_columns()
    kwh = Column(KWH, nullable=False)


class KittyUpdate(Base):
    """One monthly kitty computation, recorded so that it is auditable and never applied twice."""

    __tablename__ = "kitty_updates"
    __table_args__ = (UniqueConstraint("contract_id", "month"),)

    id, contract_id, month = contract_month_columns()
    kwh = Column(KWH, nullable=False)
    price_eur_per_kwh = Column(Numeric(8, 5), nullable=False)
    amount_eur = Column(EUR, nullable=False)
    balance_eur = Column(EUR, nullable=False)
    computed_at = Column(DateTime(timezone=True), nullable=False)


class Invoice(Base):
    __tablename__ = "invoices"

    id, contract_id = child_keys("contracts")
    number = Column(String(30), nullable=False, unique=True)
    kind = Column(String(20), nullable=False)  # 'consumption' or 'resale'
    issued_on = Column(Date, nullable=False)
    period_start = Column(Date, nullable=False)
    period_end = Column(Date, nullable=False)
    amount_eur = Column(EUR, nullable=False)
    status = Column(String(30), nullable=False)  # 'paid', 'unpaid', 'to_be_paid_to_customer', 'paid_to_customer'
    due_date = Column(Date)
    paid_on = Column(Date)


class Instalment(Base):
    __tablename__ = "instalments"
    __table_args__ = (UniqueConstraint("contract_id", "due_date"),)

    id, contract_id = child_keys("contracts")
    due_date = Column(Date, nullable=False)
    amount_eur = Column(EUR, nullable=False)
    status = Column(String(20), nullable=False, default="scheduled")  # 'scheduled', 'paid', 'rejected'
