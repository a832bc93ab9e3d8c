"""Base classes: every action that touches customer data resolves the caller first, in one place."""
from __future__ import annotations

import logging
import re
from abc import ABCMeta, abstractmethod
from datetime import date
from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from actions.turn import Outcome, Turn, off_loop, send
from hortense import clock
from hortense.account.customers import ContractView, CustomerView
from hortense.account.offers import access
from hortense.db.session import run_in_transaction
from hortense.energy.periods import normalise
from hortense.replies import Reply
from hortense.replies import common as rc
from hortense.security.caller import Caller, resolve_caller

logger = logging.getLogger(__name__)

SLOT_CONTRACT = "selected_contract"
SLOT_PENDING = "pending_question"

UNAVAILABLE = Reply("Je n'arrive pas à consulter votre compte pour le moment, désolée. Pouvez-vous réessayer dans "
                    "quelques minutes ? " + rc.advisor_contact())

_STOPWORDS = {"de", "du", "des", "la", "le", "les", "l", "d", "a", "au", "et", "site", "contrat"}


class CustomerAction(Action, metaclass=ABCMeta):
    """An action whose answer depends on who is talking. Subclasses implement `handle` (runs in a thread)."""

    action_name: ClassVar[str]

    def name(self) -> str:
        return self.action_name

    @abstractmethod
    def handle(self, session: Session, caller: Caller, turn: Turn) -> Outcome:
        """The action's work, inside one database session; runs in a worker thread."""

    def _work(self, turn: Turn) -> Outcome:
        def unit_of_work(session: Session) -> Outcome:
            caller = resolve_caller(session, turn.metadata, turn.channel, turn.sender_id)
            return self.handle(session, caller, turn)

        try:  # retried from the start when SQLite is busy (a booking race): "slot taken", never "unreachable"
            return run_in_transaction(unit_of_work)
        except (OperationalError, SQLAlchemyError):
            logger.exception("database unavailable in %s", self.name())
            return Outcome([UNAVAILABLE])

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        outcome = await off_loop(self._work, Turn.from_tracker(tracker))
        send(dispatcher, outcome.replies)
        return outcome.events


def mentioned_contract(customer: CustomerView, text: str) -> ContractView | None:
    """A site named in the message ("le PDL de la boutique", "Villeurbanne") picks that contract when unambiguous."""
    words = set(re.findall(r"[a-z0-9-]+", normalise(text)))
    hits = []
    for c in customer.contracts:
        keys = set(re.findall(r"[a-z0-9-]+", normalise(f"{c.site_label or ''} {c.supply_city}"))) - _STOPWORDS
        if c.contract_number.lower() in words or keys & words:
            hits.append(c)
    return hits[0] if len(hits) == 1 else None


def pick_contract(customer: CustomerView, turn: Turn) -> ContractView | None:
    if len(customer.contracts) == 1:
        return customer.contracts[0]
    named = mentioned_contract(customer, turn.text)
    if named:
        return named
    chosen = turn.slots.get(SLOT_CONTRACT)
    return customer.contract_by_number(chosen) if chosen else None


class AccountQuestion(CustomerAction):
    """A question about one contract: resolve the customer, pick the contract, check the offer, answer."""

    intent: ClassVar[str]
    feature: ClassVar[str | None] = None
    wanted: ClassVar[str] = "cette information"  # "Pour lequel souhaitez-vous <wanted> ?"
    registry: ClassVar[dict[str, AccountQuestion]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "intent", None) and not getattr(cls, "__abstractmethods__", None):
            cls.action_name = f"action_{cls.intent}"
            AccountQuestion.registry[cls.intent] = cls()

    @abstractmethod
    def answer(self, session: Session, customer: CustomerView, contract: ContractView, turn: Turn) -> list[Reply]:
        """The answer for one contract whose offer allows this question."""

    def handle(self, session: Session, caller: Caller, turn: Turn) -> Outcome:
        customer = caller.customer
        if customer is None:
            return Outcome([rc.login_required(caller.channel)])
        if not customer.contracts:
            return Outcome([rc.no_active_contract()])
        contract = pick_contract(customer, turn)
        if contract is None:
            return Outcome([rc.choose_contract(customer, self.wanted)], [SlotSet(SLOT_PENDING, self.intent)])
        return self.answer_for(session, customer, contract, turn)

    def answer_for(self, session: Session, customer: CustomerView, contract: ContractView, turn: Turn) -> Outcome:
        events = [SlotSet(SLOT_PENDING, None)]
        if len(customer.contracts) > 1:
            events.append(SlotSet(SLOT_CONTRACT, contract.contract_number))
        if self.feature:
            allowed = access(contract.offer, self.feature, contract.monthly_payment)
            if not allowed.allowed:
                return Outcome([rc.unavailable(self.feature, contract, allowed.reason)], events)
        return Outcome(self.answer(session, customer, contract, turn), events)


def today() -> date:
    return clock.today()
