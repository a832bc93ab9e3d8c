"""Ma conso / Mon surplus: consumption, virtual battery, injected surplus, kitty."""

from __future__ import annotations

import re

from actions.base import today
from actions.questions import AccountQuestion, one_reply
from hortense.account.offers import BATTERY, CONSUMPTION, KITTY, SURPLUS
from hortense.documents import urls as document_links
from hortense.energy import consumption, surplus
from hortense.energy.periods import normalise, parse_period
from hortense.replies import Reply
from hortense.replies import energy as replies


def with_chart(reply: Reply, customer, contract, kind: str, history, turn) -> list[Reply]:
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


class AskConsumption(AccountQuestion):
    intent = "ask_consumption"
    feature = CONSUMPTION
    wanted = "la consommation"

    def answer(self, session, customer, contract, turn):
        history = consumption.consumption_history(session, contract.id, parse_period(turn.text, today()))
        reply = replies.consumption(customer, contract, history, consumption_focus(turn.text))
        return with_chart(reply, customer, contract, "consumption", history, turn)


AskBatteryLevel = one_reply(
    "ask_battery_level", "la batterie virtuelle", replies.battery, BATTERY, consumption.battery_status
)


class AskSurplus(AccountQuestion):
    intent = "ask_surplus"
    feature = SURPLUS
    wanted = "le surplus injecté"

    def answer(self, session, customer, contract, turn):
        history = surplus.surplus_history(session, contract.id, parse_period(turn.text, today()))
        reply = replies.surplus(customer, contract, history)
        return with_chart(reply, customer, contract, "surplus", history, turn)


AskKitty = one_reply(
    "ask_kitty",
    "la cagnotte",
    replies.kitty,
    KITTY,
    lambda session, contract_id, _: surplus.kitty_status(session, contract_id),
)
