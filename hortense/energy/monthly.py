"""A contract's monthly meter records (consumption, injected surplus) over a period.

Both tables have one row a contract a month (`contract_id`, `month`): the consumption and the surplus histories
read them the same way, and both tell "nothing in this period" from "no reading at all yet".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hortense.energy.periods import Period

Month = TypeVar("Month")
History = TypeVar("History", bound="MonthlyHistory")


@dataclass(frozen=True)
class MonthlyHistory(Generic[Month]):
    """The months of a period that have a record, oldest first (`ConsumptionHistory`, `SurplusHistory`)."""

    period: Period
    months: tuple[Month, ...]
    has_any_data: bool  # False for a contract with no reading at all yet

    @classmethod
    def read(
        cls: type[History], session: Session, model: Any, contract_id: int, period: Period, month: Callable[[Any], Any]
    ) -> History:
        """The contract's rows of `model` in `period`, each made a month by `month`."""
        rows = (
            session.execute(
                select(model)
                .where(model.contract_id == contract_id, model.month >= period.start, model.month <= period.end)
                .order_by(model.month)
            )
            .scalars()
            .all()
        )
        has_any = (
            bool(rows)
            or session.execute(
                select(func.count()).select_from(model).where(model.contract_id == contract_id)
            ).scalar_one()
            > 0
        )
        return cls(period, tuple(month(r) for r in rows), has_any)

    def sum_kwh(self, kwh: Callable[[Month], Decimal]) -> Decimal:
        return sum((kwh(m) for m in self.months), Decimal(0))
