"""Monthly consumption (peak / off-peak) and the virtual battery of Stockage Virtuel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hortense.db.models import BatteryMovement, MonthlyConsumption
from hortense.energy.monthly import MonthlyHistory
from hortense.energy.periods import Period


@dataclass(frozen=True)
class MonthConsumption:
    month: date
    peak_kwh: Decimal
    offpeak_kwh: Decimal

    @property
    def total_kwh(self) -> Decimal:
        return self.peak_kwh + self.offpeak_kwh


class ConsumptionHistory(MonthlyHistory[MonthConsumption]):
    @property
    def total_kwh(self) -> Decimal:
        return self.sum_kwh(lambda m: m.total_kwh)

    @property
    def peak_kwh(self) -> Decimal:
        return self.sum_kwh(lambda m: m.peak_kwh)

    @property
    def offpeak_kwh(self) -> Decimal:
        return self.sum_kwh(lambda m: m.offpeak_kwh)


def consumption_history(session: Session, contract_id: int, period: Period) -> ConsumptionHistory:
    def month(r: MonthlyConsumption) -> MonthConsumption:
        return MonthConsumption(r.month, Decimal(r.peak_kwh), Decimal(r.offpeak_kwh))

    return ConsumptionHistory.read(session, MonthlyConsumption, contract_id, period, month)


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
