"""Phone appointments with a Hortense advisor (until online booking is available: how to reach one)."""
from __future__ import annotations

from actions.base import CustomerAction
from actions.turn import Outcome
from hortense.replies.common import Reply, advisor_contact


def _advisor_contact() -> Outcome:
    return Outcome([Reply("Un conseiller Hortense peut vous aider. " + advisor_contact())])


class BookAppointment(CustomerAction):
    action_name = "action_book_appointment"

    def handle(self, session, caller, turn):
        return _advisor_contact()


class TalkToHuman(CustomerAction):
    action_name = "action_talk_to_human"

    def handle(self, session, caller, turn):
        return _advisor_contact()


class AskAppointment(CustomerAction):
    action_name = "action_ask_appointment"

    def handle(self, session, caller, turn):
        return _advisor_contact()


class CancelAppointment(CustomerAction):
    action_name = "action_cancel_appointment"

    def handle(self, session, caller, turn):
        return _advisor_contact()


class RescheduleAppointment(CustomerAction):
    action_name = "action_reschedule_appointment"

    def handle(self, session, caller, turn):
        return _advisor_contact()
