"""Phone appointments with a Hortense advisor: book (form), reschedule, cancel, ask.

Every slot of the form has a `custom` mapping filled only by `validate_appointment_form`, so a typed
`/intent{"appointment_start": ...}` sets nothing; ownership is re-checked in the database at each change.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecutionRejected, ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.forms import FormValidationAction

from actions.base import CustomerAction
from actions.turn import Outcome, Turn, off_loop, send
from hortense import clock
from hortense.appointments import booking as appointments
from hortense.appointments.calendar.phrases import parse_preference
from hortense.db.session import session_scope
from hortense.ops import metrics
from hortense.replies import appointments as replies
from hortense.replies import common as rc
from hortense.security.caller import resolve_caller

PARIS = ZoneInfo("Europe/Paris")
FORM = "appointment_form"
MODE, PREFERENCE, OFFERS, START = "appointment_mode", "appointment_preference", "appointment_offers", "appointment_start"
REASON, PHONE, CONFIRMED, MOVING = "appointment_reason", "appointment_phone", "appointment_confirmed", "appointment_id"
PENDING_CANCEL = "pending_cancellation"
FORM_SLOTS = (MODE, PREFERENCE, OFFERS, START, REASON, PHONE, CONFIRMED, MOVING)

BOOK, RESCHEDULE = "book", "reschedule"
# Modes in which the form asks nothing and the submit action explains why.
LOGIN, EXISTING, NOTHING_TO_MOVE = "login", "existing", "nothing_to_move"

# Intents that, when they carry no answer to the question asked, are a question of their own: the form
# pauses, the question is answered, the form resumes (rules in data/rules/appointments.yml).
INTERRUPTIONS = {
    "ask_pdl", "ask_contract_number", "ask_offpeak_hours", "ask_contract_details", "ask_consumption",
    "ask_battery_level", "ask_surplus", "ask_kitty", "ask_invoices", "ask_next_instalment",
    "request_contract_document", "request_proof_of_address", "change_bank_details", "bot_challenge", "help",
    "ask_appointment", "out_of_scope", "greet", "thank",
}
EXITS = {"stop", "cancel_appointment"}
ORDINALS = {"1": 0, "premier": 0, "premiere": 0, "1er": 0, "2": 1, "deuxieme": 1, "second": 1, "seconde": 1,
            "2e": 1, "2eme": 1, "3": 2, "troisieme": 2, "3e": 2, "3eme": 2, "dernier": -1, "derniere": -1}


def now() -> datetime:
    return clock.local_now()


def reset_form() -> list[dict]:
    return [SlotSet(name, None) for name in FORM_SLOTS]


def _has_preference(text: str, at: datetime) -> bool:
    pref = parse_preference(text, at)
    return pref.understood


class StartBooking(CustomerAction):
    """Entry of the booking form (book_appointment, talk_to_human, "oui" to an offered call)."""

    action_name = "action_start_booking"

    def handle(self, session, caller, turn):
        events = reset_form()
        if caller.customer is None:
            mode = LOGIN
        elif appointments.upcoming_for_customer(session, caller.customer.id, now()) is not None:
            mode = EXISTING
        else:
            mode = BOOK
            if _has_preference(turn.text, now()):
                events.append(SlotSet(PREFERENCE, turn.text))
        events += [SlotSet(MODE, mode), FollowupAction(FORM)]
        return Outcome([], events)


class StartReschedule(CustomerAction):
    action_name = "action_start_reschedule"

    def handle(self, session, caller, turn):
        events = reset_form()
        if caller.customer is None:
            events.append(SlotSet(MODE, LOGIN))
        else:
            current = appointments.upcoming_for_customer(session, caller.customer.id, now())
            if current is None:
                events.append(SlotSet(MODE, NOTHING_TO_MOVE))
            else:
                events += [SlotSet(MODE, RESCHEDULE), SlotSet(MOVING, str(current.id)),
                           SlotSet(REASON, current.reason), SlotSet(PHONE, current.phone)]
                if _has_preference(turn.text, now()):
                    events.append(SlotSet(PREFERENCE, turn.text))
        events.append(FollowupAction(FORM))
        return Outcome([], events)


def _normalise(text: str) -> str:
    from hortense.energy.periods import normalise

    return normalise(text).strip(" .!?")


def choose_offer(text: str, offers: list[str], at: datetime) -> str | None:
    """The offered slot the customer picked: by its text, its rank ("le 2e"), or its day and time."""
    if not offers:
        return None
    t = _normalise(text)
    for word in re.findall(r"[a-z0-9]+", t):
        if word in ORDINALS and (len(t.split()) <= 3 or word not in ("1", "2", "3")):
            index = ORDINALS[word]
            return offers[index] if -len(offers) <= index < len(offers) else None
    pref = parse_preference(text, at)
    if pref.exact_time is None:
        return None
    for iso in offers:
        start = datetime.fromisoformat(iso).astimezone(PARIS)
        same_day = pref.days is None or start.date() in pref.days
        if same_day and start.time() == pref.exact_time:
            return iso
    return None


_PHONE_CANDIDATE = re.compile(r"(?:\+|00)?\d[\d .\-]{7,16}\d")


def phone_in(text: str) -> str | None:
    """A French phone number written anywhere in the message ("appelez-moi au 06 11 22 33 44")."""
    for candidate in _PHONE_CANDIDATE.findall(text or ""):
        phone = appointments.normalise_phone(candidate)
        if phone:
            return phone
    return None


class ValidateAppointmentForm(FormValidationAction):
    def name(self) -> str:
        return "validate_appointment_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:
        mode = tracker.get_slot(MODE)
        if mode == BOOK:
            return [PREFERENCE, START, REASON, PHONE, CONFIRMED]
        if mode == RESCHEDULE:
            return [PREFERENCE, START, CONFIRMED]
        return []

    async def run(self, dispatcher, tracker, domain) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        requested = tracker.get_slot("requested_slot")
        if tracker.latest_action_name != "action_listen":
            # Resuming after an interruption was answered: the last user message is already dealt with.
            return await super().run(dispatcher, tracker, domain)
        if requested and intent in EXITS:
            return [ActionExecutionRejected(FORM)]
        events = await super().run(dispatcher, tracker, domain)
        filled = {e.get("name") for e in events if e.get("event") == "slot" and e.get("value") is not None}
        answered = requested in filled or (requested == START and PREFERENCE in filled)
        if requested and requested != REASON and not answered and intent in INTERRUPTIONS:
            return [ActionExecutionRejected(FORM)]
        return events

    @staticmethod
    def _text(tracker: Tracker) -> str:
        return (tracker.latest_message.get("text") or "").strip()

    @staticmethod
    def _intent(tracker: Tracker) -> str | None:
        return (tracker.latest_message.get("intent") or {}).get("name")

    async def extract_appointment_preference(self, dispatcher, tracker, domain) -> dict:
        requested = tracker.get_slot("requested_slot")
        if requested not in (PREFERENCE, START):
            return {}
        text = self._text(tracker)
        if requested == START and choose_offer(text, tracker.get_slot(OFFERS) or [], now()):
            return {}
        if _has_preference(text, now()):
            return {PREFERENCE: text, START: None, OFFERS: None}
        return {}

    async def extract_appointment_start(self, dispatcher, tracker, domain) -> dict:
        if tracker.get_slot("requested_slot") != START:
            return {}
        chosen = choose_offer(self._text(tracker), tracker.get_slot(OFFERS) or [], now())
        return {START: chosen} if chosen else {}

    async def extract_appointment_reason(self, dispatcher, tracker, domain) -> dict:
        if tracker.get_slot("requested_slot") != REASON or self._intent(tracker) in EXITS:
            return {}
        text = self._text(tracker)
        return {REASON: text[:300]} if text and not text.startswith("/") else {}

    async def extract_appointment_phone(self, dispatcher, tracker, domain) -> dict:
        if tracker.get_slot("requested_slot") != PHONE:
            return {}
        text = self._text(tracker)
        if self._intent(tracker) == "affirm":
            return {PHONE: "on_file"}
        phone = phone_in(text)
        if phone:
            return {PHONE: phone}
        if re.search(r"\d{4,}", text.replace(" ", "")):
            send(dispatcher, [replies.invalid_phone()])
        return {}

    async def extract_appointment_confirmed(self, dispatcher, tracker, domain) -> dict:
        if tracker.get_slot("requested_slot") != CONFIRMED:
            return {}
        intent = self._intent(tracker)
        if intent == "affirm":
            return {CONFIRMED: True}
        if intent == "deny":
            return {CONFIRMED: False}
        return {}

    async def validate_appointment_phone(self, value, dispatcher, tracker, domain) -> dict:
        if value != "on_file":
            return {PHONE: value}
        turn = Turn.from_tracker(tracker)
        customer = await off_loop(_customer_of, turn)
        return {PHONE: customer.phone if customer and customer.phone else None}


def _customer_of(turn: Turn):
    with session_scope() as session:
        return resolve_caller(session, turn.metadata, turn.channel, turn.sender_id).customer


class AskPreference(CustomerAction):
    action_name = "action_ask_appointment_preference"

    def handle(self, session, caller, turn):
        if turn.slots.get(MODE) == RESCHEDULE:
            return Outcome([rc.Reply("Quand souhaitez-vous être rappelé(e) à la place ?", replies.ASK_PREFERENCE.buttons)])
        return Outcome([replies.ASK_PREFERENCE])


class AskStart(CustomerAction):
    """Proposes up to 3 free slots matching the preference (or the nearest ones, with why)."""

    action_name = "action_ask_appointment_start"

    def handle(self, session, caller, turn):
        proposal = appointments.propose(session, turn.slots.get(PREFERENCE) or "", now())
        offers = [s.isoformat() for s in proposal.slots]
        reply = replies.proposals(proposal.slots, proposal.matched, proposal.reason, proposal.holiday_name)
        return Outcome([reply], [SlotSet(OFFERS, offers)])


class AskReason(CustomerAction):
    action_name = "action_ask_appointment_reason"

    def handle(self, session, caller, turn):
        return Outcome([replies.ask_reason()])


class AskPhone(CustomerAction):
    action_name = "action_ask_appointment_phone"

    def handle(self, session, caller, turn):
        return Outcome([replies.ask_phone(caller.customer.phone if caller.customer else None)])


class AskConfirmed(CustomerAction):
    action_name = "action_ask_appointment_confirmed"

    def handle(self, session, caller, turn):
        start = datetime.fromisoformat(turn.slots[START]).astimezone(PARIS)
        previous = None
        if turn.slots.get(MODE) == RESCHEDULE and caller.customer:
            current = appointments.upcoming_for_customer(session, caller.customer.id, now())
            previous = current.start if current else None
        return Outcome([replies.recap(start, turn.slots.get(PHONE) or "", turn.slots.get(REASON) or "", previous)])


class SubmitAppointment(CustomerAction):
    """Books or moves the call once the form is complete, or explains why nothing was asked."""

    action_name = "action_submit_appointment"

    def handle(self, session, caller, turn):
        mode, customer, at = turn.slots.get(MODE), caller.customer, now()
        if customer is None or mode == LOGIN:
            return Outcome([rc.login_required(caller.channel)], reset_form())
        if mode == EXISTING:
            current = appointments.upcoming_for_customer(session, customer.id, at)
            if current:
                return Outcome([replies.already_booked(current.start)], reset_form())
            mode = BOOK
        if mode == NOTHING_TO_MOVE:
            return Outcome([replies.none_upcoming("déplacer")], reset_form())
        if not turn.slots.get(CONFIRMED):
            return Outcome([replies.not_booked()], reset_form())
        start = datetime.fromisoformat(turn.slots[START])
        if mode == RESCHEDULE:
            result = appointments.reschedule(session, customer_id=customer.id,
                                             appointment_id=int(turn.slots.get(MOVING) or 0), new_start=start, now=at)
        else:
            contract = customer.contracts[0] if len(customer.contracts) == 1 else None
            result = appointments.book(session, customer_id=customer.id, contract_id=contract.id if contract else None,
                                       start=start, reason=turn.slots.get(REASON) or "", phone=turn.slots.get(PHONE),
                                       channel=turn.channel or "web", sender_id=turn.sender_id, now=at)
        metrics.record_booking(f"{mode}:{'ok' if result.ok else result.error}")
        if result.ok:
            view = result.appointment
            assert view is not None  # ok: the new (or moved) call
            reply = replies.moved(view.start) if mode == RESCHEDULE else replies.booked(view.start, view.phone)
            return Outcome([reply], reset_form())
        if result.error == "already_booked":
            current = appointments.upcoming_for_customer(session, customer.id, at)
            return Outcome([replies.already_booked(current.start) if current else replies.not_booked()], reset_form())
        if result.error == "not_owner":
            return Outcome([replies.none_upcoming("déplacer")], reset_form())
        # Taken meanwhile (or no longer bookable): offer fresh slots and resume the form at the slot question.
        return Outcome([rc.Reply("Ce créneau n'est plus disponible, désolée.")],
                       [SlotSet(START, None), SlotSet(CONFIRMED, None), FollowupAction(FORM)])


class StopAppointmentForm(CustomerAction):
    action_name = "action_stop_appointment_form"

    def handle(self, session, caller, turn):
        return Outcome([replies.stopped()], [ActiveLoop(None), SlotSet("requested_slot", None), *reset_form()])


class AskAppointment(CustomerAction):
    action_name = "action_ask_appointment"

    def handle(self, session, caller, turn):
        if caller.customer is None:
            return Outcome([rc.login_required(caller.channel)])
        current = appointments.upcoming_for_customer(session, caller.customer.id, now())
        if current is None:
            return Outcome([replies.none_upcoming()])
        return Outcome([replies.upcoming(current.start, current.phone, current.reason)])


class CancelAppointment(CustomerAction):
    """Asks for confirmation; the cancellation itself happens on "oui" (action_affirm), ownership re-checked."""

    action_name = "action_cancel_appointment"

    def handle(self, session, caller, turn):
        if caller.customer is None:
            return Outcome([rc.login_required(caller.channel)])
        current = appointments.upcoming_for_customer(session, caller.customer.id, now())
        if current is None:
            return Outcome([replies.none_upcoming("annuler")], [SlotSet(PENDING_CANCEL, None)])
        return Outcome([replies.confirm_cancel(current.start)], [SlotSet(PENDING_CANCEL, str(current.id))])


def confirm_cancellation(session, caller, turn) -> Outcome | None:
    """Called by action_affirm when a cancellation is pending."""
    pending = turn.slots.get(PENDING_CANCEL)
    if not pending or caller.customer is None:
        return None
    current = appointments.upcoming_for_customer(session, caller.customer.id, now())
    events = [SlotSet(PENDING_CANCEL, None)]
    if current is None or str(current.id) != pending:
        return Outcome([replies.none_upcoming("annuler")], events)
    if appointments.cancel(session, customer_id=caller.customer.id, appointment_id=current.id, now=now()):
        return Outcome([replies.cancelled(current.start)], events)
    return Outcome([replies.none_upcoming("annuler")], events)


def keep_appointment(turn) -> Outcome | None:
    """Called by action_deny when a cancellation is pending."""
    if not turn.slots.get(PENDING_CANCEL):
        return None
    return Outcome([replies.kept()], [SlotSet(PENDING_CANCEL, None)])
