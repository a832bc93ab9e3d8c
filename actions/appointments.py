"""Phone appointments with a Hortense advisor: book (form), reschedule, cancel, ask.

Every slot of the form has a `custom` mapping filled only by `validate_appointment_form`, so a typed
`/intent{"appointment_start": ...}` sets nothing; ownership is re-checked in the database at each change.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecutionRejected, ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.forms import FormValidationAction
from sqlalchemy.orm import Session

from actions.base import (
    AWAIT_CANCEL,
    AWAIT_MOVE,
    QUESTIONS,
    SLOT_AWAITING,
    SLOT_OFFERED,
    CustomerAction,
    merge_events,
    reply_action,
)
from actions.questions import answer_questions, waits_for_site
from actions.turn import Outcome, Turn, off_loop, send
from hortense import clock
from hortense.appointments import booking as appointments
from hortense.appointments.booking import AppointmentView
from hortense.appointments.calendar.phrases import parse_preference
from hortense.conversation.cues import (
    asks_third_party,
    is_closing,
    is_complaint,
    looks_like_question,
    looks_like_reason,
    wants_to_stop,
    yes_no,
)
from hortense.conversation.questions import call_request_in, questions_in
from hortense.db.session import session_scope
from hortense.ops import metrics
from hortense.replies import appointments as replies
from hortense.replies import common as rc
from hortense.security.caller import resolve_caller

PARIS = ZoneInfo("Europe/Paris")
FORM = "appointment_form"
MODE, PREFERENCE, OFFERS, START = (
    "appointment_mode",
    "appointment_preference",
    "appointment_offers",
    "appointment_start",
)
REASON, PHONE, CONFIRMED, MOVING = "appointment_reason", "appointment_phone", "appointment_confirmed", "appointment_id"
PENDING_CANCEL = "pending_cancellation"
FORM_SLOTS = (MODE, PREFERENCE, OFFERS, START, REASON, PHONE, CONFIRMED, MOVING)

BOOK, RESCHEDULE = "book", "reschedule"
# Modes in which the form asks nothing and the submit action explains why.
LOGIN, EXISTING, NOTHING_TO_MOVE = "login", "existing", "nothing_to_move"
# Modes set when the customer leaves the form by words the NLU did not file under `stop`.
STOPPED, LEFT = "stopped", "left"

# Intents that, when they carry no answer to the question asked, are a question of their own: the form
# pauses, the question is answered, the form resumes (rules in data/rules/appointments.yml).
INTERRUPTIONS = {
    "ask_pdl",
    "ask_contract_number",
    "ask_offpeak_hours",
    "ask_contract_details",
    "ask_consumption",
    "ask_battery_level",
    "ask_surplus",
    "ask_kitty",
    "ask_invoices",
    "ask_next_instalment",
    "request_contract_document",
    "request_proof_of_address",
    "change_bank_details",
    "bot_challenge",
    "help",
    "ask_appointment",
    "out_of_scope",
    "greet",
    "thank",
}
EXITS = {"stop", "cancel_appointment"}  # left through their rules (data/rules/appointments.yml)
ORDINALS = {
    "1": 0,
    "premier": 0,
    "premiere": 0,
    "1er": 0,
    "2": 1,
    "deuxieme": 1,
    "second": 1,
    "seconde": 1,
    "2e": 1,
    "2eme": 1,
    "3": 2,
    "troisieme": 2,
    "3e": 2,
    "3eme": 2,
    "dernier": -1,
    "derniere": -1,
}


NOT_SLOTS = {
    "mois",
    "semaine",
    "annee",
    "an",
    "facture",
    "factures",
    "releve",
    "trimestre",
    "prelevement",
    "echeance",
    "jour",
    "conso",
    "consommation",
}
SLOT_WORDS = {"creneau", "horaire", "choix", "rdv", "rendez", "propose", "proposition", "heure", "celui", "celle"}


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
            wanted = call_request_in(turn.text) or turn.text  # not the dates of a question asked beside it
            if _has_preference(wanted, now()):
                events.append(SlotSet(PREFERENCE, wanted))
        answered = Outcome()
        asked = questions_in(turn.text) if caller.customer is not None and turn.intent not in QUESTIONS else []
        if caller.customer is not None and asked:
            # "je voudrais un rdv, et au fait mon numéro de contrat ?": the question is answered first.
            answered = answer_questions(session, caller.customer, turn, asked)
            if waits_for_site(answered):
                answered = Outcome([replies.question_after_booking()])  # a site to choose would derail the form
        events += [SlotSet(MODE, mode), FollowupAction(FORM)]
        return Outcome(answered.replies, [*merge_events(answered.events), *events])


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
                events += [
                    SlotSet(MODE, RESCHEDULE),
                    SlotSet(MOVING, str(current.id)),
                    SlotSet(REASON, current.reason),
                    SlotSet(PHONE, current.phone),
                ]
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
    words = re.findall(r"[a-z0-9]+", t)
    for position, word in enumerate(words):
        if word not in ORDINALS:
            continue
        following = words[position + 1] if position + 1 < len(words) else ""
        # "le dernier" is a slot; "ma conso du mois dernier", "la dernière facture" are not.
        if following in NOT_SLOTS or (position and words[position - 1] in NOT_SLOTS):
            continue
        if len(words) <= 4 or (word not in ("1", "2", "3") and SLOT_WORDS & set(words)):
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


EXIT_BY_RULE, ANSWER_BY_RULE, ANSWER_HERE = "exit_by_rule", "answer_by_rule", "answer_here"
ASIDE_INTENTS = {"complain", "ask_third_party_data", "follow_up"}
SMALL_TALK = {"greet", "thank", "bot_challenge", "help"}
CONFIDENT = 0.6


def _answers_step(turn: Turn, requested: str, offers: list[str], at: datetime) -> bool:
    """Does the message answer the question of this step?"""
    text = turn.text
    if requested == PREFERENCE:
        return _has_preference(text, at)
    if requested == START:
        return choose_offer(text, offers, at) is not None or _has_preference(text, at)
    if requested == PHONE:
        return phone_in(text) is not None or yes_no(text) is not None or turn.intent in ("affirm", "deny")
    if requested == CONFIRMED:
        return yes_no(text) is not None or turn.intent in ("affirm", "deny")
    return bool(text.strip())


def aside_verdict(turn: Turn, requested: str, offers: list[str], at: datetime) -> str | None:
    """None when the message answers the step; else how the form lets it through: leave (by the `stop`/`cancel`
    rules, or here), or answer it (by the interruption rules, or here) and ask the same step again.

    A confidently-other intent is never taken as a slot choice ("le dernier" in "ma conso du mois dernier"),
    a phone number or the reason of the call; a reason that names a subject ("une question sur ma facture")
    stays a reason."""
    text, intent = turn.text, turn.intent
    confidence = next((r.get("confidence") or 0 for r in turn.intent_ranking if r.get("name") == intent), 1.0)
    if text.startswith("/"):  # a button of ours
        name = text[1:].split("{")[0]
        if name in EXITS:
            return EXIT_BY_RULE
        return ANSWER_BY_RULE if name in INTERRUPTIONS else None
    if intent in EXITS:
        return EXIT_BY_RULE
    if wants_to_stop(text):
        return STOPPED
    if intent == "goodbye" or (is_closing(text) and not _answers_step(turn, requested, offers, at)):
        return LEFT
    topics = questions_in(text)
    asks = looks_like_question(text)
    if requested == REASON:
        if looks_like_reason(text):
            return None
        if intent in ASIDE_INTENTS and confidence >= CONFIDENT:
            return ANSWER_HERE
        # A statement naming a subject ("ma cagnotte n'a pas bougé") is a reason; a question or a request
        # ("au fait c'est quoi mon PDL ?", "envoyez-moi mon attestation") is answered first.
        if intent in INTERRUPTIONS - SMALL_TALK - {"out_of_scope"} and confidence >= 0.7 and asks:
            return ANSWER_BY_RULE
        if intent in SMALL_TALK and confidence >= 0.7 and len(text.split()) <= 5:
            return ANSWER_BY_RULE
        if topics and asks or asks_third_party(text, None) or is_complaint(text):
            return ANSWER_HERE
        if intent == "deny" and len(text.split()) <= 3:
            return STOPPED
        return None
    if topics and intent in INTERRUPTIONS and confidence >= CONFIDENT:
        return ANSWER_BY_RULE
    if topics or intent in ASIDE_INTENTS or asks_third_party(text, None) or is_complaint(text):
        return ANSWER_HERE
    if _answers_step(turn, requested, offers, at):
        return None
    if intent in INTERRUPTIONS and confidence >= CONFIDENT:
        return ANSWER_BY_RULE
    if requested in (PREFERENCE, START) and intent == "deny":
        return STOPPED
    return None


def fresh_message(tracker: Tracker) -> bool:
    """Is the form reading a new user message (not resuming after an interruption was answered)?

    Rasa sends the validation a tracker ending with the form's own ActionExecuted, so `latest_action_name` is
    always the form: the action before it tells. After a user message it is `action_listen`."""
    names = [e.get("name") for e in tracker.events if e.get("event") == "action"]
    return len(names) >= 2 and names[-1] == FORM and names[-2] == "action_listen"


def _aside(turn: Turn) -> Outcome:
    from actions.conversation import aside_outcome

    with session_scope() as session:
        caller = resolve_caller(session, turn.metadata, turn.channel, turn.sender_id)
        return aside_outcome(session, caller, turn, in_form=True) or Outcome()


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
        requested = tracker.get_slot("requested_slot")
        if not requested or not fresh_message(tracker):
            # Activation (the first message was read by the start action), or the form resuming after an
            # interruption was answered: the last user message is already dealt with.
            return await super().run(dispatcher, tracker, domain)
        turn = Turn.from_tracker(tracker)
        verdict = aside_verdict(turn, requested, tracker.get_slot(OFFERS) or [], now())
        if verdict in (EXIT_BY_RULE, ANSWER_BY_RULE):
            return [ActionExecutionRejected(FORM)]
        if verdict in (STOPPED, LEFT):
            return [SlotSet(MODE, verdict), SlotSet("requested_slot", None)]
        if verdict == ANSWER_HERE:
            outcome = await off_loop(_aside, turn)
            send(dispatcher, outcome.replies)
            # Some slot must be set, or Rasa would reject the form: the same step is then asked again.
            return [*outcome.events, SlotSet(SLOT_AWAITING, None)]
        return await super().run(dispatcher, tracker, domain)

    async def get_extraction_events(self, dispatcher, tracker, domain) -> list[dict]:
        # Only a new user message answers a step: when the form resumes after an interruption was answered,
        # that question is not the call's reason, nor a phone number, nor a slot choice.
        if tracker.get_slot("requested_slot") and not fresh_message(tracker):
            return []
        return await super().get_extraction_events(dispatcher, tracker, domain)

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
        phone = phone_in(text)
        if phone is None and (self._intent(tracker) == "affirm" or yes_no(text) is True):
            return {PHONE: "on_file"}
        if phone:
            return {PHONE: phone}
        if re.search(r"\d{4,}", text.replace(" ", "")):
            send(dispatcher, [replies.invalid_phone()])
        return {}

    async def extract_appointment_confirmed(self, dispatcher, tracker, domain) -> dict:
        if tracker.get_slot("requested_slot") != CONFIRMED:
            return {}
        said = yes_no(self._text(tracker))
        if said is None:
            intent = self._intent(tracker)
            said = True if intent == "affirm" else False if intent == "deny" else None
        return {} if said is None else {CONFIRMED: said}

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
            return Outcome(
                [
                    rc.Reply(
                        "Quand souhaitez-vous que le conseiller vous rappelle, à la place ?",
                        replies.ASK_PREFERENCE.buttons,
                    )
                ]
            )
        return Outcome([replies.ASK_PREFERENCE])


class AskStart(CustomerAction):
    """Proposes up to 3 free slots matching the preference (or the nearest ones, with why)."""

    action_name = "action_ask_appointment_start"

    def handle(self, session, caller, turn):
        proposal = appointments.propose(session, turn.slots.get(PREFERENCE) or "", now())
        offers = [s.isoformat() for s in proposal.slots]
        reply = replies.proposals(proposal.slots, proposal.matched, proposal.reason, proposal.holiday_name)
        return Outcome([reply], [SlotSet(OFFERS, offers)])


AskReason = reply_action("action_ask_appointment_reason", lambda customer: replies.ask_reason())
AskPhone = reply_action(
    "action_ask_appointment_phone", lambda customer: replies.ask_phone(customer.phone if customer else None)
)


class AskConfirmed(CustomerAction):
    action_name = "action_ask_appointment_confirmed"

    def handle(self, session, caller, turn):
        start = datetime.fromisoformat(turn.slots[START]).astimezone(PARIS)
        previous = None
        if turn.slots.get(MODE) == RESCHEDULE and caller.customer:
            current = appointments.upcoming_for_customer(session, caller.customer.id, now())
            previous = current.start if current else None
        return Outcome([replies.recap(start, turn.slots.get(PHONE) or "", turn.slots.get(REASON) or "", previous)])


def _already_booked(session, customer_id: int, at: datetime) -> Outcome | None:
    """The customer already has an upcoming call: nothing is booked, and "oui" will move that call."""
    current = appointments.upcoming_for_customer(session, customer_id, at)
    if current is None:
        return None
    return Outcome(
        [replies.already_booked(current.start)],
        [*reset_form(), SlotSet(SLOT_AWAITING, AWAIT_MOVE), SlotSet(SLOT_OFFERED, "action_start_reschedule")],
    )


class SubmitAppointment(CustomerAction):
    """Books or moves the call once the form is complete, or explains why nothing was asked."""

    action_name = "action_submit_appointment"

    def handle(self, session, caller, turn):
        mode, customer, at = turn.slots.get(MODE), caller.customer, now()
        if customer is None or mode == LOGIN:
            return Outcome([rc.login_required(caller.channel)], reset_form())
        if mode == EXISTING:
            already = _already_booked(session, customer.id, at)
            if already:
                return already
            mode = BOOK
        if mode == NOTHING_TO_MOVE:
            return Outcome([replies.none_upcoming("déplacer")], reset_form())
        if mode == STOPPED:
            return Outcome([replies.stopped()], reset_form())
        if mode == LEFT:
            return Outcome([replies.left()], reset_form())
        if not turn.slots.get(CONFIRMED):
            return Outcome([replies.not_booked()], reset_form())
        start = datetime.fromisoformat(turn.slots[START])
        if mode == RESCHEDULE:
            result = appointments.reschedule(
                session,
                customer_id=customer.id,
                appointment_id=int(turn.slots.get(MOVING) or 0),
                new_start=start,
                now=at,
                confirmed_in_chat=True,
            )
        else:
            contract = customer.contracts[0] if len(customer.contracts) == 1 else None
            result = appointments.book(
                session,
                customer_id=customer.id,
                contract_id=contract.id if contract else None,
                start=start,
                reason=turn.slots.get(REASON) or "",
                phone=turn.slots.get(PHONE),
                channel=turn.channel or "web",
                sender_id=turn.sender_id,
                now=at,
                confirmed_in_chat=True,
            )
        metrics.record_booking(f"{mode}:{'ok' if result.ok else result.error}")
        if result.ok:
            view = result.appointment
            assert view is not None  # ok: the new (or moved) call
            reply = replies.moved(view.start) if mode == RESCHEDULE else replies.booked(view.start, view.phone)
            return Outcome([reply], reset_form())
        if result.error == "already_booked":
            return _already_booked(session, customer.id, at) or Outcome([replies.not_booked()], reset_form())
        if result.error == "not_owner":
            return Outcome([replies.none_upcoming("déplacer")], reset_form())
        # Taken meanwhile (or no longer bookable): offer fresh slots and resume the form at the slot question.
        return Outcome(
            [rc.Reply("Ce créneau n'est plus disponible, désolée.")],
            [SlotSet(START, None), SlotSet(CONFIRMED, None), FollowupAction(FORM)],
        )


class StopAppointmentForm(CustomerAction):
    """Leaves the booking form (`stop`, `cancel_appointment`, a goodbye). "Annulez mon rendez-vous" while a
    call is already booked (moving it) also asks whether to cancel that call."""

    action_name = "action_stop_appointment_form"

    def handle(self, session, caller, turn):
        events = [ActiveLoop(None), SlotSet("requested_slot", None), *reset_form()]
        if turn.intent == "cancel_appointment" and caller.customer is not None:
            current = appointments.upcoming_for_customer(session, caller.customer.id, now())
            if current is not None:
                return Outcome(
                    [replies.confirm_cancel(current.start)],
                    [*events, SlotSet(PENDING_CANCEL, str(current.id)), SlotSet(SLOT_AWAITING, AWAIT_CANCEL)],
                )
        if turn.intent == "goodbye":
            return Outcome([replies.left()], events)
        return Outcome([replies.stopped()], events)


class UpcomingCallAction(CustomerAction):
    """About the logged-in customer's own upcoming call (a visitor is asked to log in first)."""

    def handle(self, session, caller, turn):
        if caller.customer is None:
            return Outcome([rc.login_required(caller.channel)])
        return self.about(session, turn, appointments.upcoming_for_customer(session, caller.customer.id, now()))

    @abstractmethod
    def about(self, session: Session, turn: Turn, current: AppointmentView | None) -> Outcome:
        """The answer, given the customer's upcoming call (None when there is none)."""


class AskAppointment(UpcomingCallAction):
    action_name = "action_ask_appointment"

    def about(self, session, turn, current):
        if current is None:
            return Outcome([replies.none_upcoming()])
        return Outcome([replies.upcoming(current.start, current.phone, current.reason)])


class CancelAppointment(UpcomingCallAction):
    """Asks for confirmation ("annulez mon appel de jeudi", "supprimez-le"); the cancellation itself happens on
    "oui" (rule conditioned on `awaiting: cancel_call`), ownership re-checked."""

    action_name = "action_cancel_appointment"

    def about(self, session, turn, current):
        if current is None:
            return Outcome([replies.none_upcoming("annuler")], [SlotSet(PENDING_CANCEL, None)])
        named = parse_preference(turn.text, now())
        days = named.days or ()
        other_day = bool(days) and current.start.astimezone(PARIS).date() not in days
        return Outcome(
            [replies.confirm_cancel(current.start, other_day)],
            [
                SlotSet(PENDING_CANCEL, str(current.id)),
                SlotSet(SLOT_AWAITING, AWAIT_CANCEL),
                SlotSet(SLOT_OFFERED, None),
            ],
        )


def confirm_cancellation(session, caller, turn) -> Outcome | None:
    """ "Oui" to "Voulez-vous annuler votre appel du … ?"."""
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
    """ "Non" to a cancellation (or a move) just proposed."""
    if not turn.slots.get(PENDING_CANCEL) and turn.slots.get(SLOT_AWAITING) not in (AWAIT_CANCEL, AWAIT_MOVE):
        return None
    return Outcome([replies.kept()], [SlotSet(PENDING_CANCEL, None)])


class ConfirmCancellation(CustomerAction):
    action_name = "action_confirm_cancellation"

    def handle(self, session, caller, turn):
        if caller.customer is None:
            return Outcome([rc.login_required(caller.channel)])
        return confirm_cancellation(session, caller, turn) or Outcome([replies.none_upcoming("annuler")])


class KeepAppointment(CustomerAction):
    action_name = "action_keep_appointment"

    def handle(self, session, caller, turn):
        return Outcome([replies.kept()], [SlotSet(PENDING_CANCEL, None)])
