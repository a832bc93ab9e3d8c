"""Ma conso / Mon surplus: consumption, virtual battery, injected surplus, kitty."""
from __future__ import annotations

from actions.base import AccountQuestion, today
from hortense import consumption, surplus
from hortense.offers import BATTERY, CONSUMPTION, KITTY, SURPLUS
from hortense.periods import parse_period
from hortense.replies import energy as replies


class AskConsumption(AccountQuestion):
    intent = "ask_consumption"
    feature = CONSUMPTION
    wanted = "la consommation"

    def answer(self, session, customer, contract, turn):
        history = consumption.consumption_history(session, contract.id, parse_period(turn.text, today()))
        return [replies.consumption(customer, contract, history)]


class AskBatteryLevel(AccountQuestion):
    intent = "ask_battery_level"
    feature = BATTERY
    wanted = "la batterie virtuelle"

    def answer(self, session, customer, contract, turn):
        return [replies.battery(customer, contract, consumption.battery_status(session, contract.id, today()))]


class AskSurplus(AccountQuestion):
    intent = "ask_surplus"
    feature = SURPLUS
    wanted = "le surplus injecté"

    def answer(self, session, customer, contract, turn):
        history = surplus.surplus_history(session, contract.id, parse_period(turn.text, today()))
        return [replies.surplus(customer, contract, history)]


class AskKitty(AccountQuestion):
    intent = "ask_kitty"
    feature = KITTY
    wanted = "la cagnotte"

    def answer(self, session, customer, contract, turn):
        return [replies.kitty(customer, contract, surplus.kitty_status(session, contract.id))]
