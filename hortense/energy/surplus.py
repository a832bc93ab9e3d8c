"""Boost Mon Surplus: kWh injected per month and the kitty (cagnotte) they earn, recomputed monthly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hortense import clock
from hortense.db.models import OFFER_BOOST, Contract, KittyUpdate, SurplusInjection
from hortense.energy.monthly import MonthlyHistory
from hortense.energy.periods import Period

CENT = Decimal("0.01")


@dataclass(frozen=True)
class MonthSurplus:
    month: date
    kwh: Decimal


class SurplusHistory(MonthlyHistory[MonthSurplus]):
    @property
    def total_kwh(self) -> Decimal:
        return self.sum_kwh(lambda m: m.kwh)


def surplus_history(session: Session, contract_id: int, period: Period) -> SurplusHistory:
    return SurplusHistory.read(
        session, SurplusInjection, contract_id, period, lambda r: MonthSurplus(r.month, Decimal(r.kwh))
    )


@dataclass(frozen=True)
class KittyUpdateView:
    month: date
    kwh: Decimal
    price_eur_per_kwh: Decimal
    amount_eur: Decimal
    balance_eur: Decimal
    computed_at: datetime


def kitty_status(session: Session, contract_id: int) -> KittyUpdateView | None:
    """The latest monthly update (its balance is the current kitty), or None before the first one."""
    row = session.execute(
        select(KittyUpdate).where(KittyUpdate.contract_id == contract_id).order_by(KittyUpdate.month.desc()).limit(1)
    ).scalar_one_or_none()
    if row is None:
        return None
    return KittyUpdateView(
        row.month,
        Decimal(row.kwh),
        Decimal(row.price_eur_per_kwh),
        Decimal(row.amount_eur),
        Decimal(row.balance_eur),
        row.computed_at,
    )


def kitty_amount(kwh: Decimal, price: Decimal) -> Decimal:
    """The one rule of the kitty: injected kWh times the contract's resale price, rounded to the cent."""
    return (Decimal(kwh) * Decimal(price)).quantize(CENT, rounding=ROUND_HALF_UP)


def update_kitties(session: Session, now: datetime | None = None) -> int:
    """Record a kitty update for every complete month with injections and no update yet; returns how many.

    Idempotent and safe to run twice at once: the (contract, month) unique constraint rejects a duplicate,
    whose savepoint is rolled back without losing the other contracts' updates.
    """
    now = now or clock.now()
    current_month = date(now.year, now.month, 1)
    created = 0
    contracts = (
        session.execute(select(Contract).where(Contract.offer == OFFER_BOOST, Contract.status == "active"))
        .scalars()
        .all()
    )
    for contract in contracts:
        if contract.resale_price_eur_per_kwh is None:
            continue
        done = set(session.execute(select(KittyUpdate.month).where(KittyUpdate.contract_id == contract.id)).scalars())
        pending = (
            session.execute(
                select(SurplusInjection)
                .where(SurplusInjection.contract_id == contract.id, SurplusInjection.month < current_month)
                .order_by(SurplusInjection.month)
            )
            .scalars()
            .all()
        )
        for injection in pending:
            if injection.month in done:
                continue
            previous = session.execute(
                select(KittyUpdate.balance_eur)
                .where(KittyUpdate.contract_id == contract.id, KittyUpdate.month < injection.month)
                .order_by(KittyUpdate.month.desc())
                .limit(1)
            ).scalar_one_or_none()
            price = Decimal(contract.resale_price_eur_per_kwh)
            amount = kitty_amount(Decimal(injection.kwh), price)
            try:
                with session.begin_nested():
                    session.add(
                        KittyUpdate(
                            contract_id=contract.id,
                            month=injection.month,
                            kwh=injection.kwh,
                            price_eur_per_kwh=price,
                            amount_eur=amount,
                            balance_eur=Decimal(previous or 0) + amount,
                            computed_at=now,
                        )
                    )
                created += 1
            except IntegrityError:
                continue
    return created
