"""How Hortense converses around the answers: elliptical follow-ups, starting over, complaints, someone else's
data, leaving. The intents `follow_up`, `complain`, `ask_third_party_data` reach `action_hortense_fallback`
(general.py), which hands them here; `restart` is Rasa's default intent, whose action is overridden here."""

from __future__ import annotations

from dataclasses import replace

from rasa_sdk.events import Restarted, SlotSet

from actions.base import (
    SLOT_AWAITING,
    SLOT_CONTRACT,
    SLOT_LAST_PERIOD,
    SLOT_LAST_QUESTION,
    SLOT_OFFERED,
    SLOT_PENDING,
    SLOT_PENDING_TEXT,
    AccountQuestion,
    CustomerAction,
    answer_questions,
    mentioned_contract,
    pick_contract,
    today,
)
from actions.turn import Outcome, Turn
from hortense.account.customers import CustomerView
from hortense.conversation.cues import (
    asks_third_party,
    follow_up,
    is_closing,
    is_complaint,
    is_elliptical,
    wants_restart,
)
from hortense.conversation.questions import questions_in, several_questions
from hortense.energy.periods import add_months, last_complete_month, parse_period
from hortense.replies import common as rc
from hortense.replies import conversation as manners
from hortense.replies import formatting as fr

FOLLOW_UP, COMPLAIN, THIRD_PARTY, RESTART = "follow_up", "complain", "ask_third_party_data", "restart"


def follow_up_outcome(session, customer: CustomerView, turn: Turn) -> Outcome:
    """ "et en septembre ?", "et pour l'autre site ?", "et en heures creuses ?", "et la facture d'avant ?":
    the last question again, with what the message changes (period, site, off-peak part, older invoice)."""
    named = questions_in(turn.text)
    topic = named[0].intent if named else turn.slots.get(SLOT_LAST_QUESTION)
    cue = follow_up(turn.text, today())
    if topic is None or topic not in AccountQuestion.registry:
        if cue.offpeak and not cue.period_named:
            topic = "ask_offpeak_hours"
        else:
            return Outcome([manners.follow_up_unclear(customer)])
    if topic == "ask_offpeak_hours" and turn.slots.get(SLOT_LAST_QUESTION) == "ask_consumption" and not named:
        topic = "ask_consumption"
    # The period: the one named now, else the one of the last question ("le mois d'avant": one month earlier).
    period_text = turn.text if cue.period_named else (turn.slots.get(SLOT_LAST_PERIOD) or "")
    shift = -1 if cue.previous else 1 if cue.next else 0
    if shift and not cue.period_named and topic in ("ask_consumption", "ask_surplus"):
        last = parse_period(turn.slots.get(SLOT_LAST_PERIOD) or "", today())
        month = add_months(last.end if last.explicit else last_complete_month(today()), shift)
        period_text = fr.month(month)
    if topic == "ask_consumption" and (cue.offpeak or cue.peak):
        period_text += " en heures creuses" if cue.offpeak else " en heures pleines"
    if topic == "ask_invoices":
        period_text = turn.text  # "d'avant", "précédente": read by the invoices answer itself
    replies = []
    contract = None
    if cue.other_site:
        if len(customer.contracts) < 2:
            replies.append(manners.no_other_site())
            contract = customer.contracts[0] if customer.contracts else None
        else:
            current = turn.slots.get(SLOT_CONTRACT)
            others = [c for c in customer.contracts if c.contract_number != current]
            contract = others[0] if len(others) == 1 else None
    if contract is None:
        contract = mentioned_contract(customer, turn.text) or pick_contract(customer, replace(turn, text=""))
    if contract is None:
        return Outcome(
            [rc.choose_contract(customer, "cette information")],
            [SlotSet(SLOT_PENDING, topic), SlotSet(SLOT_PENDING_TEXT, period_text.strip()[:500] or None)],
        )
    outcome = AccountQuestion.registry[topic].answer_for(
        session, customer, contract, replace(turn, text=period_text.strip())
    )
    events = outcome.events
    if topic == "ask_consumption" and not cue.period_named:
        events = [*events, SlotSet(SLOT_LAST_PERIOD, turn.slots.get(SLOT_LAST_PERIOD))]
    return Outcome(replies + outcome.replies, events)


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
        return Outcome([manners.restarted(caller.customer)], [Restarted()])


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
