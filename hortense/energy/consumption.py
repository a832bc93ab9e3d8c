"""Monthly consumption (peak / off-peak) and the virtual battery of Stockage Virtuel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hortense.db.models import BatteryMovement, MonthlyConsumption
from hortense.energy.periods import Period


@dataclass(frozen=True)
class MonthConsumption:
    month: date
    peak_kwh: Decimal
    offpeak_kwh: Decimal

    @property
    def total_kwh(self) -> Decimal:
        return self.peak_kwh + self.offpeak_kwh


@dataclass(frozen=True)
class ConsumptionHistory:
    period: Period
    months: tuple[MonthConsumption, ...]
    has_any_data: bool  # False for a customer with no reading at all yet

    @property
    def total_kwh(self) -> Decimal:
        return sum((m.total_kwh for m in self.months), Decimal(0))

    @property
    def peak_kwh(self) -> Decimal:
        return sum((m.peak_kwh for m in self.months), Decimal(0))

    @property
    def offpeak_kwh(self) -> Decimal:
        return sum((m.offpeak_kwh for m in self.months), Decimal(0))


def consumption_history(session: Session, contract_id: int, period: Period) -> ConsumptionHistory:
    rows = (
        session.execute(
            select(MonthlyConsumption)
            .where(
                MonthlyConsumption.contract_id == contract_id,
                MonthlyConsumption.month >= period.start,
                MonthlyConsumption.month <= period.end,
            )
            .order_by(MonthlyConsumption.month)
        )
        .scalars()
        .all()
    )
    months = tuple(MonthConsumption(r.month, Decimal(r.peak_kwh), Decimal(r.offpeak_kwh)) for r in rows)
    has_any = (
        bool(months)
        or session.execute(
            select(func.count()).select_from(MonthlyConsumption).where(MonthlyConsumption.contract_id == contract_id)
        ).scalar_one()
        > 0
    )
    return ConsumptionHistory(period, months, has_any)


@dataclass(frozen=True)
class BatteryMovementView:
    occurred_on: date
    kwh: Decimal
    label: str


@dataclass(frozen=True)
class BatteryStatus:
    level_kwh: Decimal
    last_update: date | None
    month_movements: tuple[BatteryMovementView, ...]  # movements of the current month (or the latest month)
    movements_month: date | None

    @property
    def month_stored_kwh(self) -> Decimal:
        return sum((m.kwh for m in self.month_movements if m.kwh > 0), Decimal(0))

    @property
    def month_used_kwh(self) -> Decimal:
        return -sum((m.kwh for m in self.month_movements if m.kwh < 0), Decimal(0))


def battery_status(session: Session, contract_id: int, today: date) -> BatteryStatus:
    """The level is the sum of the ledger up to today; the month shown is this month, else the latest with moves."""
    level, last = session.execute(
        select(func.coalesce(func.sum(BatteryMovement.kwh), 0), func.max(BatteryMovement.occurred_on)).where(
            BatteryMovement.contract_id == contract_id, BatteryMovement.occurred_on <= today
        )
    ).one()
    if last is None:
        return BatteryStatus(Decimal(0), None, (), None)
    shown = date(last.year, last.month, 1)
    rows = (
        session.execute(
            select(BatteryMovement)
            .where(
                BatteryMovement.contract_id == contract_id,
                BatteryMovement.occurred_on >= shown,
                BatteryMovement.occurred_on <= today,
            )
            .order_by(BatteryMovement.occurred_on, BatteryMovement.id)
        )
        .scalars()
        .all()
    )
    moves = tuple(BatteryMovementView(r.occurred_on, Decimal(r.kwh), r.label) for r in rows)
    return BatteryStatus(Decimal(level).quantize(Decimal("0.001")), last, moves, shown)
