"""An advisor's calls as an iCalendar feed, for their own calendar app (subscribed by secret URL).

Cancelled calls stay in the feed with STATUS:CANCELLED so that calendar apps remove or strike them
instead of keeping a stale event. Times are written in Europe/Paris with its VTIMEZONE.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy.orm import Session

from hortense.appointments.advisors import get_advisor
from hortense.appointments.booking import ConsoleCall, calls_between
from hortense.appointments.calendar.slots import to_utc
from hortense.db.calendar_models import STATUS_CANCELLED

PAST_DAYS = 30
FUTURE_DAYS = 60
UID_DOMAIN = "hortense"


def _description(call: ConsoleCall) -> str:
    lines = [
        f"Client : {call.customer_name} ({call.customer_number})",
        f"Téléphone : {call.phone_display}",
        f"Motif : {call.reason}",
    ]
    if call.offer_label:
        lines.append(f"Offre : {call.offer_label}")
    if call.pdl:
        lines.append(f"PDL : {call.pdl_display}")
    if call.contract_number:
        lines.append(f"Contrat : {call.contract_number}")
    if call.status == STATUS_CANCELLED and call.cancel_reason:
        lines.append(f"Annulé : {call.cancel_reason}")
    return "\n".join(lines)


def _event(call: ConsoleCall, now: datetime) -> Event:
    event = Event()
    event.add("uid", f"appointment-{call.id}@{UID_DOMAIN}")
    event.add("dtstamp", to_utc(now))
    event.add("last-modified", to_utc(call.updated_at))
    event.add("dtstart", call.start)
    event.add("dtend", call.end)
    event.add("summary", f"Appel Hortense – {call.customer_name}")
    event.add("description", _description(call))
    event.add("status", "CANCELLED" if call.status == STATUS_CANCELLED else "CONFIRMED")
    # Calendar apps apply an update only if SEQUENCE grows: cancelling is the one change a call goes through.
    event.add("sequence", 1 if call.status == STATUS_CANCELLED else 0)
    event.add("transp", "OPAQUE")
    return event


def build_feed(session: Session, advisor_id: int, now: datetime) -> bytes | None:
    """The .ics bytes of this advisor's calls from PAST_DAYS ago to FUTURE_DAYS ahead; None if no such advisor."""
    advisor = get_advisor(session, advisor_id)
    if advisor is None:
        return None
    cal = Calendar()
    cal.add("prodid", "-//Hortense//Appels conseillers//FR")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Appels Hortense – {advisor.name}")
    cal.add("x-wr-timezone", "Europe/Paris")
    cal.add("x-published-ttl", "PT15M")
    calls = calls_between(
        session, advisor_id=advisor_id, start=now - timedelta(days=PAST_DAYS), end=now + timedelta(days=FUTURE_DAYS)
    )
    for call in calls:
        cal.add_component(_event(call, now))
    if calls and hasattr(cal, "add_missing_timezones"):
        # Only the years the feed covers: the default (1970-2038) makes every refresh needlessly large.
        cal.add_missing_timezones(
            first_date=(now - timedelta(days=PAST_DAYS + 366)).date(),
            last_date=(now + timedelta(days=FUTURE_DAYS + 366)).date(),
        )
    return cal.to_ical()
