"""Ma conso / Mon surplus: consumption, virtual battery, injected surplus, kitty."""

from __future__ import annotations

import re
from abc import abstractmethod
from typing import Any, ClassVar

from actions.base import today
from actions.questions import AccountQuestion, one_reply
from actions.turn import Turn
from hortense.account.customers import ContractView, CustomerView
from hortense.account.offers import BATTERY, KITTY
from hortense.documents import urls as document_links
from hortense.energy import consumption, surplus
from hortense.energy.periods import normalise, parse_period
from hortense.replies import Reply
from hortense.replies import energy as replies


def with_chart(reply: Reply, customer, contract, kind: str, history) -> list[Reply]:
    """The table comes with a chart: one bot message holding the chart's image and its caption, which every
    connector sends as one platform message where the platform allows it (`channels.messaging`)."""
    if not history.months:
        return [reply]
    try:
        url = document_links.chart_link(customer, contract, kind, history.period)
    except ValueError:  # a period too long to draw: the table is enough
        return [reply]
    what = "votre consommation" if kind == "consumption" else "votre surplus injecté"
    detail = " (heures pleines et heures creuses)" if kind == "consumption" else ""
    per_month = ", mois par mois" if history.period.start != history.period.end else ""
    caption = f"Graphique : {what} {replies.period_label(history.period)}{per_month}{detail}."
    return [reply, Reply(caption, image=url)]


def consumption_focus(text: str) -> str | None:
    """ "ma conso en heures creuses": the off-peak part only (not "mes heures creuses", a question of its own)."""
    t = normalise(text)
    if re.search(r"\b(heures? creuses|hc)\b", t) and re.search(r"\b(heures? pleines|hp)\b", t):
        return None
    if re.search(r"\b(heures? creuses|hc)\b", t):
        return "offpeak"
    if re.search(r"\b(heures? pleines|hp)\b", t):
        return "peak"
    return None


class ChartedQuestion(AccountQuestion):
    """A question about months of records (consumption, surplus): the months the customer asked for, told as a
    table, then drawn as a chart of `chart_kind`; the question's offer feature is that chart's
    (`document_links.CHART_KINDS`, the one place that pairs them)."""

    chart_kind: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.feature = document_links.CHART_KINDS[cls.chart_kind]

    @abstractmethod
    def records(self, session, contract_id: int, period) -> Any:
        """The months of records of `period`."""

    @abstractmethod
    def table(self, customer: CustomerView, contract: ContractView, history: Any, turn: Turn) -> Reply:
        """The records told as a table (the turn may narrow what is told)."""

    def answer(self, session, customer, contract, turn):
        history = self.records(session, contract.id, parse_period(turn.text, today()))
        reply = self.table(customer, contract, history, turn)
        return with_chart(reply, customer, contract, self.chart_kind, history)


class AskConsumption(ChartedQuestion):
    intent = "ask_consumption"
    wanted = "la consommation"
    chart_kind = "consumption"

    def records(self, session, contract_id, period):
        return consumption.consumption_history(session, contract_id, period)

    def table(self, customer, contract, history, turn):
        """Only the off-peak or the peak part when the customer asks for it."""
        return replies.consumption(customer, contract, history, consumption_focus(turn.text))


AskBatteryLevel = one_reply(
    "ask_battery_level", "la batterie virtuelle", replies.battery, BATTERY, consumption.battery_status
)


class AskSurplus(ChartedQuestion):
    intent = "ask_surplus"
    wanted = "le surplus injecté"
    chart_kind = "surplus"

    def records(self, session, contract_id, period):
        return surplus.surplus_history(session, contract_id, period)

    def table(self, customer, contract, history, turn):
        return replies.surplus(customer, contract, history)


AskKitty = one_reply(
    "ask_kitty",
    "la cagnotte",
    replies.kitty,
    KITTY,
    lambda session, contract_id, _: surplus.kitty_status(session, contract_id),
)
