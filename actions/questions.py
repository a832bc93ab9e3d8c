"""Account questions: one question about one contract (`AccountQuestion`, registered by intent), several in one
message (`answer_questions`), and the elliptical follow-up that asks the last one again ("et en septembre ?")."""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any, ClassVar

from rasa_sdk.events import FollowupAction, SlotSet
from sqlalchemy.orm import Session

from actions.base import (
    QUESTIONS,
    SLOT_CONTRACT,
    SLOT_LAST_PERIOD,
    SLOT_LAST_QUESTION,
    SLOT_PENDING,
    SLOT_PENDING_TEXT,
    CustomerAction,
    mentioned_contract,
    merge_events,
    period_phrase,
    pick_contract,
    today,
)
from actions.turn import Outcome, Turn
from hortense.account.customers import ContractView, CustomerView
from hortense.account.offers import access
from hortense.conversation.cues import asks_third_party, follow_up, is_elliptical
from hortense.conversation.questions import Question, call_request_in, questions_in, several_questions
from hortense.energy.periods import add_months, last_complete_month, normalise, parse_period
from hortense.replies import Reply
from hortense.replies import appointments as appointment_replies
from hortense.replies import common as rc
from hortense.replies import conversation as manners
from hortense.replies import formatting as fr
from hortense.security.caller import Caller


def waits_for_site(outcome: Outcome) -> bool:
    """Did the answer ask which site (the questions wait in `pending_question`)?"""
    return any(e.get("name") == SLOT_PENDING and e.get("value") for e in outcome.events)


class AccountQuestion(CustomerAction):
    """A question about one contract: resolve the customer, pick the contract, check the offer, answer."""

    intent: ClassVar[str]
    feature: ClassVar[str | None] = None
    wanted: ClassVar[str] = "cette information"  # "Pour lequel souhaitez-vous <wanted> ?"
    registry: ClassVar[dict[str, AccountQuestion]] = QUESTIONS

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "intent", None) and not getattr(cls, "__abstractmethods__", None):
            cls.action_name = f"action_{cls.intent}"
            AccountQuestion.registry[cls.intent] = cls()

    @abstractmethod
    def answer(self, session: Session, customer: CustomerView, contract: ContractView, turn: Turn) -> list[Reply]:
        """The answer for one contract whose offer allows this question."""

    def handle(self, session: Session, caller: Caller, turn: Turn) -> Outcome:
        outcome = self.answer_message(session, caller, turn)
        if caller.customer is None or not call_request_in(turn.text):
            return outcome
        if waits_for_site(outcome):  # the site question goes first: the call is not forgotten, it is asked after
            return Outcome([*outcome.replies, appointment_replies.booking_after_site()], outcome.events)
        # "mon pdl et je voudrais un rdv demain matin": the booking follows the answer, with its time.
        return Outcome(outcome.replies, [*outcome.events, FollowupAction("action_start_booking")])

    def answer_message(self, session: Session, caller: Caller, turn: Turn) -> Outcome:
        customer = caller.customer
        if customer is None:
            return Outcome([rc.login_required(caller.channel)])
        if asks_third_party(turn.text, customer.customer_number):
            return Outcome([manners.third_party_declined(customer)])
        if not customer.contracts:
            return Outcome([rc.no_active_contract()])
        several = several_questions(turn.text)
        if several:
            return answer_questions(session, customer, turn, several)
        if is_elliptical(turn.text) and not questions_in(turn.text) and turn.slots.get(SLOT_LAST_QUESTION):
            return follow_up_outcome(session, customer, turn)
        contract = pick_contract(customer, turn)
        if contract is None:
            outcome = Outcome(
                [rc.choose_contract(customer, self.wanted)],
                [SlotSet(SLOT_PENDING, self.intent), SlotSet(SLOT_PENDING_TEXT, turn.text[:500])],
            )
        else:
            outcome = self.answer_for(session, customer, contract, turn)
        return greeted(customer, turn, outcome)

    def answer_for(self, session: Session, customer: CustomerView, contract: ContractView, turn: Turn) -> Outcome:
        events = [
            SlotSet(SLOT_PENDING, None),
            SlotSet(SLOT_PENDING_TEXT, None),
            SlotSet(SLOT_LAST_QUESTION, self.intent),
            SlotSet(SLOT_LAST_PERIOD, period_phrase(turn.text)),
        ]
        if len(customer.contracts) > 1:
            events.append(SlotSet(SLOT_CONTRACT, contract.contract_number))
        if self.feature:
            allowed = access(contract.offer, self.feature, contract.monthly_payment)
            if not allowed.allowed:
                return Outcome([rc.unavailable(self.feature, contract, allowed.reason, customer)], events)
        answered = self.answer(session, customer, contract, turn)
        if isinstance(answered, Outcome):
            return Outcome(answered.replies, events + answered.events)
        return Outcome(answered, events)


def one_reply(
    intent: str,
    wanted: str,
    reply: Callable[..., Reply],
    feature: str | None = None,
    records: Callable[[Session, int, date], Any] | None = None,
    link: Callable[[CustomerView, ContractView], str] | None = None,
) -> type[AccountQuestion]:
    """An account question whose whole answer is one reply: `reply(customer, contract)`, or with one more argument,
    `records(session, contract.id, today())` when it shows the contract's records, `link(customer, contract)` when
    it hands over a signed link."""

    def answer(self, session: Session, customer: CustomerView, contract: ContractView, turn: Turn) -> list[Reply]:
        if records is not None:
            return [reply(customer, contract, records(session, contract.id, today()))]
        if link is not None:
            return [reply(customer, contract, link(customer, contract))]
        return [reply(customer, contract)]

    name = "".join(word.capitalize() for word in intent.split("_"))
    namespace = {"intent": intent, "wanted": wanted, "feature": feature, "answer": answer}
    return type(name, (AccountQuestion,), namespace)


_HELLO = re.compile(r"^\s*(bonjour|bonsoir|salut|hello|coucou|bjr|slt)\b")


def greeted(customer: CustomerView, turn: Turn, outcome: Outcome) -> Outcome:
    """ "Bonjour, mon PDL svp": the answer opens with a greeting too."""
    if not _HELLO.match(normalise(turn.text)):
        return outcome
    return Outcome([Reply(f"Bonjour {customer.first_name} !"), *outcome.replies], outcome.events)


def answer_questions(session: Session, customer: CustomerView, turn: Turn, questions: list[Question]) -> Outcome:
    """Several questions in one message: every one answered, in the customer's order, for one contract."""
    contract = pick_contract(customer, turn)
    if contract is None:
        return Outcome(
            [rc.choose_contract(customer, "ces informations")],
            [SlotSet(SLOT_PENDING, ",".join(q.intent for q in questions)), SlotSet(SLOT_PENDING_TEXT, turn.text[:500])],
        )
    replies: list[Reply] = []
    events: list[dict] = []
    if _HELLO.match(normalise(turn.text)):
        replies.append(Reply(f"Bonjour {customer.first_name} !"))
    for question in questions:
        action = AccountQuestion.registry[question.intent]
        outcome = action.answer_for(session, customer, contract, replace(turn, text=question.text))
        replies += outcome.replies
        events += outcome.events
    return Outcome(replies, merge_events(events))


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
