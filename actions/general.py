"""Greeting, help, robot question, out-of-scope pointers, the fallback and yes/no answers."""

from __future__ import annotations

import re
from dataclasses import replace

from rasa_sdk.events import FollowupAction, SlotSet

from actions import appointments
from actions.appointments import PENDING_CANCEL
from actions.base import (
    AWAIT_CANCEL,
    AWAIT_MOVE,
    AWAIT_OFFER,
    AWAIT_SUGGESTION,
    SLOT_AWAITING,
    SLOT_OFFERED,
    CustomerAction,
    action_for_intent,
    mentioned_contract,
    reply_action,
)
from actions.conversation import RESTART, aside_outcome, restart_outcome
from actions.questions import AccountQuestion, answer_questions
from actions.turn import Outcome, Turn
from hortense.conversation.cues import is_closing, wants_restart
from hortense.conversation.questions import call_request_in, questions_in
from hortense.energy.topics import energy_topic
from hortense.ops import metrics
from hortense.replies import appointments as appointment_replies
from hortense.replies import common as rc
from hortense.replies import conversation as manners
from hortense.replies import general as replies

FALLBACK_INTENT = "nlu_fallback"
_PAYLOAD = re.compile(r"^/(\w+)(\{.*\})?$")


class Greet(CustomerAction):
    """ "Bonjour" — and when the greeting carries questions ("bonjour, mon pdl et mes heures creuses"), they are
    answered right after it."""

    action_name = "action_greet"

    def handle(self, session, caller, turn):
        greeting = rc.greeting(caller.customer, caller.channel)
        customer = caller.customer
        if customer is not None and customer.contracts:
            asked = questions_in(turn.text)
            # Both answer with "Bonjour <prénom> !" first when the message opens with a greeting.
            if len(asked) >= 2:
                return answer_questions(session, customer, turn, asked)
            if len(asked) == 1:
                outcome = AccountQuestion.registry[asked[0].intent].handle(session, caller, turn)
                if outcome.replies and outcome.replies[0].text.startswith("Bonjour"):
                    return outcome
                return Outcome([rc.Reply(f"Bonjour {customer.first_name} !"), *outcome.replies], outcome.events)
        return Outcome([greeting])


Help = reply_action("action_help", rc.help_reply)
BotChallenge = reply_action("action_bot_challenge", lambda customer: replies.bot_challenge())


class OutOfScope(CustomerAction):
    action_name = "action_out_of_scope"

    def handle(self, session, caller, turn):
        if energy_topic(turn.text) is None:
            aside = aside_outcome(session, caller, turn)
            if aside is not None:
                return aside
        department = None
        customer = caller.customer
        if customer and customer.contracts:
            contract = mentioned_contract(customer, turn.text) or customer.contracts[0]
            departments = {c.department for c in customer.contracts}
            department = (
                contract.department if len(departments) == 1 or mentioned_contract(customer, turn.text) else None
            )
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
    """Intents without an answer of their own, and messages not understood.

    `follow_up`, `complain`, `ask_third_party_data` (and the same cues found in a message the NLU missed) get
    their answer from actions.conversation; several questions in a not-understood message are all answered.
    Otherwise: first miss, "Vouliez-vous dire… ?" with the likeliest intents ("oui" takes the first); second
    miss in a row, an advisor is offered."""

    action_name = "action_hortense_fallback"

    def handle(self, session, caller, turn):
        if turn.intent == RESTART or wants_restart(turn.text):
            return restart_outcome(caller)
        aside = aside_outcome(session, caller, turn)
        if aside is not None:
            return aside
        # One question the keywords recognise and the NLU ranked near the top ("mon surplus en 2022"): answer it.
        asked = questions_in(turn.text) if caller.customer is not None else []
        ranked_names = [r.get("name") for r in turn.intent_ranking if r.get("name") != FALLBACK_INTENT][:3]
        if len(asked) == 1 and asked[0].intent in ranked_names:
            return AccountQuestion.registry[asked[0].intent].handle(session, caller, turn)
        if asked and call_request_in(turn.text):
            # "mon pdl et je voudrais un rdv demain": two requests in one message split the NLU's vote. The
            # questions are answered, then the booking follows (AccountQuestion.handle).
            return AccountQuestion.registry[asked[0].intent].handle(session, caller, turn)
        metrics.record_fallback(caller.channel)
        if consecutive_misses(turn) >= 2:
            return Outcome([replies.second_miss()])
        ranked = [r.get("name") for r in turn.intent_ranking if r.get("name") not in (FALLBACK_INTENT, None)]
        reply = replies.did_you_mean(ranked)
        first = next((b.payload for b in reply.buttons), "")
        action = action_for_intent(first.lstrip("/").split("{")[0]) if first != "/help" else None
        events = [SlotSet(SLOT_AWAITING, AWAIT_SUGGESTION if action else None), SlotSet(SLOT_OFFERED, action)]
        return Outcome([reply], events)


def answering_action(name: str) -> CustomerAction | None:
    """The action behind an offer that answers without starting a form (those run as a follow-up action)."""
    for question in AccountQuestion.registry.values():
        if question.action_name == name:
            return question
    return {
        "action_help": Help(),
        "action_ask_appointment": appointments.AskAppointment(),
        "action_cancel_appointment": appointments.CancelAppointment(),
    }.get(name)


def last_offer(turn: Turn) -> str | None:
    """The intent of the first button of the bot's previous message. Only a fallback for conversations whose
    state predates the `awaiting`/`offered_action` slots: those slots are what "oui" reads first."""
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


class Affirm(CustomerAction):
    """ "Oui" / "ok" / "ouais": acts on what was just asked, as the `awaiting` and `offered_action` slots say.
    (A pending cancellation or move has its own rules, conditioned on `awaiting`.)"""

    action_name = "action_affirm"

    def handle(self, session, caller, turn):
        awaiting = turn.slots.get(SLOT_AWAITING)
        if awaiting == AWAIT_CANCEL:
            cancelling = appointments.confirm_cancellation(session, caller, turn)
            if cancelling is not None:
                return cancelling
        offered = turn.slots.get(SLOT_OFFERED)
        if awaiting in (AWAIT_OFFER, AWAIT_SUGGESTION, AWAIT_MOVE) and offered:
            inline = answering_action(offered)
            if inline is not None:  # answered in this turn: no follow-up action the rules would not expect
                return inline.handle(session, caller, replace(turn, text=""))
            return Outcome([], [SlotSet(SLOT_AWAITING, None), SlotSet(SLOT_OFFERED, None), FollowupAction(offered)])
        if is_closing(turn.text):
            return Outcome([manners.closing(caller.customer)])
        if SLOT_AWAITING not in turn.slots:  # a conversation from before the slot existed
            legacy = action_for_intent(last_offer(turn))
            if legacy:
                return Outcome([], [FollowupAction(legacy)])
        return Outcome([rc.Reply("Très bien ! Que puis-je faire pour vous ?", rc.menu_buttons(caller.customer))])


class Deny(CustomerAction):
    action_name = "action_deny"

    def handle(self, session, caller, turn):
        awaiting = turn.slots.get(SLOT_AWAITING)
        if awaiting in (AWAIT_CANCEL, AWAIT_MOVE):
            return Outcome([appointment_replies.kept()], [SlotSet(PENDING_CANCEL, None)])
        if awaiting == AWAIT_SUGGESTION:
            return Outcome(
                [
                    rc.Reply(
                        "D'accord. Pouvez-vous reformuler votre question, ou choisir un sujet ?",
                        rc.menu_buttons(caller.customer),
                    )
                ]
            )
        if awaiting == AWAIT_OFFER:
            return Outcome([rc.Reply("D'accord. Je reste là si vous avez une autre question.")])
        # "non merci", "non c'est tout": nothing was pending, the customer is leaving.
        return Outcome([manners.closing(caller.customer)])
