"""Greeting, help, robot question, out-of-scope pointers, the fallback and yes/no answers."""
from __future__ import annotations

import re

from rasa_sdk.events import FollowupAction

from actions import appointments
from actions.base import CustomerAction, mentioned_contract
from actions.turn import Outcome, Turn
from hortense.energy.topics import energy_topic
from hortense.ops import metrics
from hortense.replies import common as rc
from hortense.replies import general as replies

FALLBACK_INTENT = "nlu_fallback"
_PAYLOAD = re.compile(r"^/(\w+)(\{.*\})?$")


class Greet(CustomerAction):
    action_name = "action_greet"

    def handle(self, session, caller, turn):
        return Outcome([rc.greeting(caller.customer, caller.channel)])


class Help(CustomerAction):
    action_name = "action_help"

    def handle(self, session, caller, turn):
        return Outcome([rc.help_reply(caller.customer)])


class BotChallenge(CustomerAction):
    action_name = "action_bot_challenge"

    def handle(self, session, caller, turn):
        return Outcome([replies.bot_challenge()])


class OutOfScope(CustomerAction):
    action_name = "action_out_of_scope"

    def handle(self, session, caller, turn):
        department = None
        customer = caller.customer
        if customer and customer.contracts:
            contract = mentioned_contract(customer, turn.text) or customer.contracts[0]
            departments = {c.department for c in customer.contracts}
            department = contract.department if len(departments) == 1 or mentioned_contract(customer, turn.text) \
                else None
        return Outcome([replies.out_of_scope(energy_topic(turn.text), department, customer)])


def consecutive_misses(turn: Turn) -> int:
    """How many user messages in a row, ending with this one, Hortense did not understand."""
    misses = 0
    for event in reversed(turn.events):
        if event.get("event") != "user":
            continue
        if ((event.get("parse_data") or {}).get("intent") or {}).get("name") == FALLBACK_INTENT:
            misses += 1
        else:
            break
    return misses


class Fallback(CustomerAction):
    """First miss: "Vouliez-vous dire… ?" with the likeliest intents; second miss in a row: offer an advisor."""

    action_name = "action_hortense_fallback"

    def handle(self, session, caller, turn):
        metrics.record_fallback(caller.channel)
        if consecutive_misses(turn) >= 2:
            return Outcome([replies.second_miss()])
        ranked = [r.get("name") for r in turn.intent_ranking if r.get("name") not in (FALLBACK_INTENT, None)]
        return Outcome([replies.did_you_mean(ranked)])


def last_offer(turn: Turn) -> str | None:
    """The intent of the first thing the bot's previous message offered: what a plain "oui" accepts."""
    seen_current = False
    for event in reversed(turn.events):
        kind = event.get("event")
        if kind == "user":
            if seen_current:
                return None
            seen_current = True
        elif kind == "bot" and seen_current:
            buttons = (event.get("data") or {}).get("buttons") or []
            match = _PAYLOAD.match(buttons[0].get("payload") or "") if buttons else None
            return match.group(1) if match else None
    return None


# What "oui" runs after the bot offered one thing.
OFFER_ACTIONS = {
    "book_appointment": "action_start_booking",
    "reschedule_appointment": "action_start_reschedule",
    "ask_battery_level": "action_ask_battery_level",
    "ask_kitty": "action_ask_kitty",
    "ask_consumption": "action_ask_consumption",
    "ask_surplus": "action_ask_surplus",
    "ask_invoices": "action_ask_invoices",
}


class Affirm(CustomerAction):
    action_name = "action_affirm"

    def handle(self, session, caller, turn):
        cancelling = appointments.confirm_cancellation(session, caller, turn)
        if cancelling is not None:
            return cancelling
        offered = last_offer(turn)
        if offered in OFFER_ACTIONS:
            return Outcome([], [FollowupAction(OFFER_ACTIONS[offered])])
        return Outcome([rc.Reply("Très bien ! Que puis-je faire pour vous ?", rc.menu_buttons(caller.customer))])


class Deny(CustomerAction):
    action_name = "action_deny"

    def handle(self, session, caller, turn):
        kept = appointments.keep_appointment(turn)
        if kept is not None:
            return kept
        return Outcome([rc.Reply("D'accord. Puis-je vous aider pour autre chose ?", rc.menu_buttons(caller.customer))])

