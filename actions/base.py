"""Base classes: every action that touches customer data resolves the caller first, in one place."""

from __future__ import annotations

import logging
import re
from abc import ABCMeta, abstractmethod
from collections.abc import Callable
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
from hortense.db.session import run_in_transaction
from hortense.energy.periods import normalise, parse_period
from hortense.replies import Reply
from hortense.replies import common as rc
from hortense.replies import formatting as fr
from hortense.security.caller import Caller, resolve_caller

logger = logging.getLogger(__name__)

SLOT_CONTRACT = "selected_contract"
SLOT_PENDING = "pending_question"  # the question(s) waiting for a site choice: "ask_pdl" or "ask_pdl,ask_invoices"
SLOT_PENDING_TEXT = "pending_text"  # the message that asked them (its period and subject survive the choice)
SLOT_LAST_QUESTION = "last_question"  # the last account question answered, for "et en septembre ?"
SLOT_LAST_PERIOD = "last_period"  # its period when one was named, as French text ("mai 2026 à octobre 2026")
SLOT_LAST_INVOICE = "last_invoice"  # the invoice last shown, for "et la facture d'avant ?"
# What a plain "oui"/"non" answers (a categorical slot that rules are conditioned on) and, for an offer, the
# action "oui" runs. Every customer action resets them unless its answer asks something new.
SLOT_AWAITING = "awaiting"
SLOT_OFFERED = "offered_action"
AWAIT_CANCEL, AWAIT_MOVE, AWAIT_OFFER, AWAIT_SUGGESTION = "cancel_call", "move_call", "offer", "suggestion"

# What "oui" runs when the bot's question offered one thing (a button's intent).
OFFER_ACTIONS = {
    "book_appointment": "action_start_booking",
    "talk_to_human": "action_start_booking",
    "reschedule_appointment": "action_start_reschedule",
    "cancel_appointment": "action_cancel_appointment",
    "ask_appointment": "action_ask_appointment",
    "help": "action_help",
}
_OFFER_QUESTION = re.compile(r"(^|[.!:\n] *)(Voulez-vous|Souhaitez-vous|Désirez-vous)\b[^?]*\?\s*$")
_PAYLOAD_INTENT = re.compile(r"^/(\w+)")


# The account questions by intent (`actions.questions.AccountQuestion` fills it as its subclasses are defined).
QUESTIONS: dict[str, Any] = {}


def action_for_intent(intent: str | None) -> str | None:
    if not intent:
        return None
    if intent in OFFER_ACTIONS:
        return OFFER_ACTIONS[intent]
    return f"action_{intent}" if intent in QUESTIONS else None


def offer_events(replies: list[Reply]) -> list[dict]:
    """When the answer ends on "Voulez-vous … ?" with a button, "oui" will run that button's action."""
    for reply in reversed(replies):
        if reply.buttons and _OFFER_QUESTION.search(reply.text.strip()):
            match = _PAYLOAD_INTENT.match(reply.buttons[0].payload or "")
            action = action_for_intent(match.group(1)) if match else None
            if action:
                return [SlotSet(SLOT_AWAITING, AWAIT_OFFER), SlotSet(SLOT_OFFERED, action)]
        break
    return [SlotSet(SLOT_AWAITING, None), SlotSet(SLOT_OFFERED, None)]


def with_context(outcome: Outcome) -> list[dict]:
    """The outcome's events, plus what a following "oui"/"non" will mean (unless the outcome said it)."""
    if any(e.get("event") == "slot" and e.get("name") == SLOT_AWAITING for e in outcome.events):
        return outcome.events
    if any(e.get("event") == "restart" for e in outcome.events):
        return outcome.events
    return [*outcome.events, *offer_events(outcome.replies)]


UNAVAILABLE = Reply(
    "Je n'arrive pas à consulter votre compte pour le moment, désolée. Pouvez-vous réessayer dans "
    "quelques minutes ? " + rc.advisor_contact()
)

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
        return with_context(outcome)


def reply_action(action_name: str, reply: Callable[[CustomerView | None], Reply]) -> type[CustomerAction]:
    """An action whose whole answer is one reply, `reply(caller.customer)` (None when nobody is logged in)."""

    def handle(self: CustomerAction, session: Session, caller: Caller, turn: Turn) -> Outcome:
        return Outcome([reply(caller.customer)])

    name = "".join(word.capitalize() for word in action_name.removeprefix("action_").split("_"))
    return type(name, (CustomerAction,), {"action_name": action_name, "handle": handle})


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


def period_phrase(text: str) -> str | None:
    """The period named in `text`, written back in words parse_period reads again ("mai 2026 à octobre 2026")."""
    period = parse_period(text, today())
    if not period.explicit:
        return None
    if period.start == period.end:
        return fr.month(period.start)
    return f"{fr.month(period.start)} à {fr.month(period.end)}"


def merge_events(events: list[dict]) -> list[dict]:
    """One SlotSet per slot (the last one wins), other events kept in order."""
    last = {e.get("name"): i for i, e in enumerate(events) if e.get("event") == "slot"}
    return [e for i, e in enumerate(events) if e.get("event") != "slot" or last.get(e.get("name")) == i]


def today() -> date:
    return clock.today()
