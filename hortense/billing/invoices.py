"""Invoices (consumption, and resale for Boost Mon Surplus) and the monthly payment schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hortense.db.models import Instalment, Invoice

RECENT_INVOICES = 4
SCHEDULE_SHOWN = 3


@dataclass(frozen=True)
class InvoiceView:
    id: int
    number: str
    kind: str
    issued_on: date
    period_start: date
    period_end: date
    amount_eur: Decimal
    status: str
    due_date: date | None
    paid_on: date | None

    @property
    def is_settled(self) -> bool:
        return self.status in ("paid", "paid_to_customer")


def _invoice_view(r: Invoice) -> InvoiceView:
    return InvoiceView(
        r.id,
        r.number,
        r.kind,
        r.issued_on,
        r.period_start,
        r.period_end,
        Decimal(r.amount_eur),
        r.status,
        r.due_date,
        r.paid_on,
    )


def recent_invoices(session: Session, contract_id: int, limit: int = RECENT_INVOICES) -> tuple[InvoiceView, ...]:
    rows = (
        session.execute(
            select(Invoice)
            .where(Invoice.contract_id == contract_id)
            .order_by(Invoice.issued_on.desc(), Invoice.id.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )
    return tuple(_invoice_view(r) for r in rows)


def invoice_for_contract(session: Session, contract_id: int, number: str) -> InvoiceView | None:
    """An invoice only if it belongs to this contract: the ownership check for document downloads."""
    row = session.execute(
        select(Invoice).where(Invoice.contract_id == contract_id, Invoice.number == number)
    ).scalar_one_or_none()
    return _invoice_view(row) if row else None


@dataclass(frozen=True)
class InstalmentView:
    due_date: date
    amount_eur: Decimal
    status: str


def upcoming_instalments(
    session: Session, contract_id: int, today: date, limit: int = SCHEDULE_SHOWN
) -> tuple[InstalmentView, ...]:
    rows = (
        session.execute(
            select(Instalment)
            .where(
                Instalment.contract_id == contract_id, Instalment.due_date >= today, Instalment.status == "scheduled"
            )
            .order_by(Instalment.due_date)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    return tuple(InstalmentView(r.due_date, Decimal(r.amount_eur), r.status) for r in rows)
