"""Mon contrat: PDL, contract number, off-peak hours, offer details, and choosing among several contracts."""

from __future__ import annotations

from dataclasses import replace

from rasa_sdk.events import SlotSet

from actions.base import (
    SLOT_CONTRACT,
    SLOT_PENDING,
    SLOT_PENDING_TEXT,
    CustomerAction,
    mentioned_contract,
    merge_events,
    today,
)
from actions.questions import AccountQuestion, one_reply
from actions.turn import Outcome
from hortense.conversation.questions import questions_in
from hortense.energy.periods import parse_period
from hortense.replies import account as replies
from hortense.replies import common as rc

AskPdl = one_reply("ask_pdl", "le numéro de PDL", replies.pdl)
AskContractNumber = one_reply("ask_contract_number", "le numéro de contrat", replies.contract_number)
AskOffpeakHours = one_reply("ask_offpeak_hours", "les heures creuses", replies.offpeak)
AskContractDetails = one_reply("ask_contract_details", "le détail", replies.details)

SECOND_GUESS = 0.15


def question_in(turn) -> AccountQuestion | None:
    """ "Le numéro de contrat de l'atelier" names a site *and* asks something: the runner-up intent says what."""
    for ranked in turn.intent_ranking:
        question = AccountQuestion.registry.get(ranked.get("name") or "")
        if question is not None and (ranked.get("confidence") or 0) >= SECOND_GUESS:
            return question
    return None


class SelectContract(CustomerAction):
    """A button (or a typed site name) picks one contract; it must be one of the caller's own.

    The question(s) waiting for that choice are answered with the words of the message that asked them (its
    period, its subject), never with the button's payload, whose contract number holds digits like a year."""

    action_name = "action_select_contract"

    def handle(self, session, caller, turn):
        customer = caller.customer
        if customer is None:
            return Outcome([rc.login_required(caller.channel)])
        number = turn.entity("contract_number")
        contract = customer.contract_by_number(number) if number else mentioned_contract(customer, turn.text)
        if contract is None:
            if number:
                return Outcome([rc.unknown_contract(customer)])
            return Outcome([rc.choose_contract(customer, "continuer")])
        asked = turn.slots.get(SLOT_PENDING_TEXT) or ""
        typed = "" if turn.text.startswith("/") else turn.text
        # A period typed with the site ("l'atelier, en septembre") wins over the one of the question.
        text = typed if typed and parse_period(typed, today()).explicit else (asked or typed)
        pending = [p for p in (turn.slots.get(SLOT_PENDING) or "").split(",") if p in AccountQuestion.registry]
        if not pending:  # the site and the question in one message: the words say which question, else the NLU
            named = [q.intent for q in questions_in(typed)]
            question = question_in(turn)
            pending = named or ([question.intent] if question else [])
        if not pending:
            return Outcome(
                [
                    rc.Reply(
                        f"C'est noté : je vous réponds pour {contract.short_name}. Que souhaitez-vous savoir ?",
                        rc.menu_buttons(customer),
                    )
                ],
                [SlotSet(SLOT_CONTRACT, contract.contract_number)],
            )
        clauses = {q.intent: q.text for q in questions_in(asked)} if len(pending) > 1 else {}
        replies, events = [], []
        for intent in pending:
            outcome = AccountQuestion.registry[intent].answer_for(
                session, customer, contract, replace(turn, text=clauses.get(intent, text))
            )
            replies += outcome.replies
            events += outcome.events
        return Outcome(replies, merge_events(events))
