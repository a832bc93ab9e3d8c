"""Customers and their contracts, read as plain frozen views so callers never hold a live session object."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from hortense.account.offers import OFFER_LABELS
from hortense.db.models import Contract, Customer, OffpeakRange
from hortense.views import view_of


@dataclass(frozen=True)
class OffpeakView:
    start: time
    end: time
    season: str | None
    season_start_month: int | None
    season_end_month: int | None


@dataclass(frozen=True)
class ContractView:
    id: int
    contract_number: str
    offer: str
    pdl: str
    site_label: str | None
    supply_address: str
    supply_postcode: str
    supply_city: str
    start_date: date
    subscribed_power_kva: int
    monthly_payment: bool
    instalment_day: int | None
    resale_price_eur_per_kwh: Decimal | None
    offpeak: tuple[OffpeakView, ...]

    @property
    def offer_label(self) -> str:
        return OFFER_LABELS[self.offer]

    @property
    def department(self) -> str:
        """Département number from the postcode (Corsica 20xxx -> 2A/2B, overseas 97x)."""
        pc = self.supply_postcode
        if pc.startswith("97"):
            return pc[:3]
        if pc.startswith("20"):
            return "2A" if int(pc) < 20200 else "2B"
        return pc[:2]

    @property
    def short_name(self) -> str:
        """How to name this contract on a button: the site label, else the city and contract number."""
        return self.site_label or f"{self.supply_city} ({self.contract_number})"


@dataclass(frozen=True)
class CustomerView:
    id: int
    customer_number: str
    civility: str
    first_name: str
    last_name: str
    company_name: str | None
    email: str
    phone: str | None
    billing_address: str
    billing_postcode: str
    billing_city: str
    contracts: tuple[ContractView, ...]

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def holder_name(self) -> str:
        """The contract holder as written on documents: the company for a business."""
        return self.company_name or f"{self.civility} {self.full_name}".strip()

    def contract(self, contract_id: int) -> ContractView | None:
        """Only this customer's own contracts can be picked: the ownership check for any contract id."""
        return next((c for c in self.contracts if c.id == contract_id), None)

    def contract_by_number(self, number: str) -> ContractView | None:
        number = (number or "").strip().upper()
        return next((c for c in self.contracts if c.contract_number.upper() == number), None)


def _offpeak_view(r: OffpeakRange) -> OffpeakView:
    return OffpeakView(r.start_time, r.end_time, r.season, r.season_start_month, r.season_end_month)


def _contract_view(c: Contract) -> ContractView:
    return view_of(ContractView, c, offpeak=tuple(_offpeak_view(r) for r in c.offpeak_ranges))


def load_customer(session: Session, customer_number: str) -> CustomerView | None:
    """The active customer with this number and their active contracts, or None."""
    stmt = (
        select(Customer)
        .where(Customer.customer_number == customer_number, Customer.is_active.is_(True))
        .options(selectinload(Customer.contracts).selectinload(Contract.offpeak_ranges))
    )
    customer = session.execute(stmt).scalar_one_or_none()
    if customer is None:
        return None
    return view_of(
        CustomerView, customer, contracts=tuple(_contract_view(c) for c in customer.contracts if c.status == "active")
    )


def load_customer_by_id(session: Session, customer_id: int) -> CustomerView | None:
    number = session.execute(select(Customer.customer_number).where(Customer.id == customer_id)).scalar_one_or_none()
    return load_customer(session, number) if number else None


def seasonal_ranges(contract: ContractView, on: date) -> tuple[OffpeakView, ...]:
    """The ranges in force on a given day (all-year ranges, or those of the season containing that month)."""

    def in_season(r: OffpeakView) -> bool:
        a, b = r.season_start_month, r.season_end_month
        if r.season is None or a is None or b is None:
            return True
        m = on.month
        return a <= m <= b if a <= b else (m >= a or m <= b)

    return tuple(r for r in contract.offpeak if in_season(r))
