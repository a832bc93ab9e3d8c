"""How Hortense converses around the answers: starting over, complaints, someone else's data, leaving, and
routing elliptical follow-ups (answered by `actions.questions.follow_up_outcome`). The intents `follow_up`,
`complain`, `ask_third_party_data` reach `action_hortense_fallback` (general.py), which hands them here; `restart`
is Rasa's default intent, whose action is overridden here."""

from __future__ import annotations

from rasa_sdk.events import Restarted

from actions.base import (
    SLOT_AWAITING,
    SLOT_LAST_QUESTION,
    SLOT_OFFERED,
    CustomerAction,
)
from actions.questions import answer_questions, follow_up_outcome
from actions.turn import Outcome, Turn
from hortense.conversation.cues import (
    asks_third_party,
    is_closing,
    is_complaint,
    is_elliptical,
    wants_restart,
)
from hortense.conversation.questions import several_questions
from hortense.replies import common as rc
from hortense.replies import conversation as manners

FOLLOW_UP, COMPLAIN, THIRD_PARTY, RESTART = "follow_up", "complain", "ask_third_party_data", "restart"


def aside_outcome(session, caller, turn: Turn, in_form: bool = False) -> Outcome | None:
    """A message that is not a question of the catalogue but must not be dropped: someone else's data, a
    complaint, a follow-up, several questions, a goodbye. None when it is none of these."""
    customer = caller.customer
    intent = turn.intent
    own = customer.customer_number if customer else None
    if intent == THIRD_PARTY or asks_third_party(turn.text, own):
        return Outcome([manners.third_party_declined(customer)])
    if intent == COMPLAIN or is_complaint(turn.text):
        if in_form:
            return Outcome(
                [
                    rc.Reply(
                        "Je suis désolée que la situation vous contrarie. Le conseiller reprendra "
                        "votre dossier avec vous pendant l'appel."
                    )
                ]
            )
        return Outcome([manners.complaint()])
    if customer is not None and customer.contracts:
        several = several_questions(turn.text)
        if several:
            return answer_questions(session, customer, turn, several)
        if intent == FOLLOW_UP or (is_elliptical(turn.text) and turn.slots.get(SLOT_LAST_QUESTION)):
            return follow_up_outcome(session, customer, turn)
    elif intent == FOLLOW_UP:
        return Outcome([rc.login_required(caller.channel)] if customer is None else [rc.no_active_contract()])
    if not in_form and (intent == "goodbye" or is_closing(turn.text)):
        return Outcome([manners.closing(customer)])
    return None


class Restart(CustomerAction):
    """ "On recommence" (intent `restart`, or the widget's menu entry): Rasa's restart, with a fresh greeting.

    Nothing about identity lives in the conversation: the next turn resolves the caller from the verified
    token or link as always; only the conversation's own memory (slots, form) is wiped."""

    action_name = "action_restart"

    def handle(self, session, caller, turn):
        return restart_outcome(caller)


def restart_outcome(caller) -> Outcome:
    return Outcome([manners.restarted(caller.customer)], [Restarted()])


__all__ = [
    "aside_outcome",
    "follow_up_outcome",
    "restart_outcome",
    "wants_restart",
    "SLOT_AWAITING",
    "SLOT_OFFERED",
    "RESTART",
]
