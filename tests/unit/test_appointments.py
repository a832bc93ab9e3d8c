"""Booking rules, ownership and advisor access of hortense.appointments.booking, on the real migrated schema."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from hortense.appointments import booking as ap
from hortense.appointments.advisors import add_absence, create_advisor, hash_password
from hortense.appointments.calendar.phrases import PARIS
from hortense.db.calendar_models import Appointment, Notification
from hortense.db.models import Contract, Customer
from hortense.db.session import session_scope

UTC = timezone.utc
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=PARIS)  # Thursday, the seed's FIXED_TODAY
FRIDAY_10 = datetime(2026, 11, 27, 10, 0, tzinfo=PARIS)
PHONE = "06 12 34 56 78"


@dataclass(frozen=True)
class World:
    url: str
    alice: int  # advisor, Mon-Fri 9-18
    bruno: int  # advisor, Mon-Fri 9-18
    chief: int  # supervisor, takes no calls
    customers: dict[str, int]
    contracts: dict[str, int]  # customer number -> first contract id


def _advisor(s, name, supervisor=False, hours=None):
    kwargs = {} if hours is None else {"working_hours": hours}
    return create_advisor(s, name=name, email=f"{name.split()[0].lower()}@hortense.test", password="unused",
                          password_hash=hash_password("pw", n=16), is_supervisor=supervisor, **kwargs).id


@pytest.fixture
def world(seeded_db) -> World:
    with session_scope(seeded_db) as s:
        alice = _advisor(s, "Alice Martin")
        bruno = _advisor(s, "Bruno Caron")
        chief = _advisor(s, "Chloé Chef", supervisor=True, hours=())
        customers = dict(s.execute(select(Customer.customer_number, Customer.id)).all())
        contracts = {}
        for number, cid in customers.items():
            contracts[number] = s.execute(select(Contract.id).where(Contract.customer_id == cid)
                                          .order_by(Contract.id)).scalars().first()
    return World(seeded_db, alice, bruno, chief, customers, contracts)


def _book(w: World, number: str, start: datetime, now: datetime = NOW, reason="Question sur ma facture",
          phone=PHONE, channel="web", contract=True) -> ap.BookingResult:
    with session_scope(w.url) as s:
        return ap.book(s, customer_id=w.customers[number], contract_id=w.contracts[number] if contract else None,
                       start=start, reason=reason, phone=phone, channel=channel, sender_id=f"conv-{number}", now=now)


def _appointment(w: World, appointment_id: int) -> Appointment:
    with session_scope(w.url) as s:
        return s.get(Appointment, appointment_id)


def _notifications(w: World, appointment_id: int) -> dict[str, Notification]:
    with session_scope(w.url) as s:
        rows = s.execute(select(Notification).where(Notification.appointment_id == appointment_id)).scalars()
        return {n.kind: n for n in rows}


# --------------------------------------------------------------------------- phone numbers

@pytest.mark.parametrize("text, expected", [
    ("06 12 34 56 78", "+33612345678"),
    ("0612345678", "+33612345678"),
    ("06.12.34.56.78", "+33612345678"),
    ("06-12-34-56-78", "+33612345678"),
    ("+33 6 12 34 56 78", "+33612345678"),
    ("+33612345678", "+33612345678"),
    ("+33 (0)6 12 34 56 78", "+33612345678"),
    ("+33 06 12 34 56 78", "+33612345678"),
    ("0033612345678", "+33612345678"),
    ("0033 6 12 34 56 78", "+33612345678"),
    ("07 98 76 54 32", "+33798765432"),
    ("01 23 45 67 89", "+33123456789"),
    ("04 72 00 00 00", "+33472000000"),
    ("05 56 00 00 00", "+33556000000"),
    ("09 72 67 50 69", "+33972675069"),
    ("08 00 00 00 00", None),  # special-rate numbers
    ("00 12 34 56 78", None),
    ("061234567", None),  # 9 digits
    ("06123456789", None),  # 11 digits
    ("+44 20 7946 0958", None),  # foreign
    ("+3361234567", None),
    ("06 12 34 56 7a", None),
    ("", None),
    ("mon numéro habituel", None),
    (None, None),
])
def test_normalise_phone(text, expected):
    assert ap.normalise_phone(text) == expected


def test_display_phone_groups_french_digits():
    assert ap.display_phone("+33612345678") == "06 12 34 56 78"


# --------------------------------------------------------------------------- booking rules

def test_book_stores_utc_returns_paris_and_spreads_notifications(world):
    result = _book(world, "C1001", FRIDAY_10)
    assert result.ok and result.error is None
    view = result.appointment
    assert view.start == FRIDAY_10 and view.start.utcoffset() == timedelta(hours=1)
    assert view.end == FRIDAY_10 + timedelta(minutes=30)
    assert (view.phone, view.status, view.channel, view.sender_id) == ("+33612345678", "booked", "web", "conv-C1001")
    assert view.advisor_id == world.alice and view.advisor_name == "Alice Martin"
    row = _appointment(world, view.id)
    assert row.start_utc == datetime(2026, 11, 27, 9, 0, tzinfo=UTC) and row.start_utc.tzinfo is not None
    notes = _notifications(world, view.id)
    assert set(notes) == {"confirmation", "reminder"}
    assert notes["confirmation"].due_at == NOW.astimezone(UTC)
    assert notes["reminder"].due_at == FRIDAY_10.astimezone(UTC) - timedelta(hours=24)  # booked 26 h ahead
    assert "vendredi 27 novembre à 10h" in notes["confirmation"].text
    assert "06 12 34 56 78" in notes["reminder"].text
    assert notes["reminder"].channel == "web" and notes["reminder"].sender_id == "conv-C1001"


def test_reminder_is_one_hour_before_when_booked_less_than_a_day_ahead(world):
    start = datetime(2026, 11, 26, 14, 0, tzinfo=PARIS)
    result = _book(world, "C1001", start)
    assert result.ok
    assert _notifications(world, result.appointment.id)["reminder"].due_at == start.astimezone(UTC) - timedelta(hours=1)


def test_reminder_due_time_is_never_in_the_past():
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert ap.reminder_due_at(now + timedelta(days=3), now) == now + timedelta(days=2)
    assert ap.reminder_due_at(now + timedelta(hours=24), now) == now
    assert ap.reminder_due_at(now + timedelta(hours=5), now) == now + timedelta(hours=4)
    assert ap.reminder_due_at(now + timedelta(minutes=30), now) == now


@pytest.mark.parametrize("start, now", [
    (datetime(2026, 11, 26, 9, 30, tzinfo=PARIS), NOW),  # only 1 h 30 ahead
    (datetime(2026, 11, 28, 10, 0, tzinfo=PARIS), NOW),  # Saturday
    (datetime(2026, 11, 27, 18, 0, tzinfo=PARIS), NOW),  # closing time
    (datetime(2026, 11, 27, 8, 30, tzinfo=PARIS), NOW),  # before opening
    (datetime(2026, 11, 27, 10, 15, tzinfo=PARIS), NOW),  # off the 30-minute grid
    (datetime(2026, 12, 17, 9, 0, tzinfo=PARIS), NOW),  # beyond 3 weeks
    (datetime(2026, 12, 25, 10, 0, tzinfo=PARIS), datetime(2026, 12, 21, 9, 0, tzinfo=PARIS)),  # Noël
    (datetime(2026, 11, 25, 10, 0, tzinfo=PARIS), NOW),  # yesterday
])
def test_unbookable_starts_are_refused_with_bookable_alternatives(world, start, now):
    result = _book(world, "C1001", start, now=now)
    assert (result.ok, result.error, result.appointment) == (False, "not_bookable", None)
    assert result.alternatives and all(ap.is_bookable(a, now) for a in result.alternatives)
    with session_scope(world.url) as s:
        assert s.execute(select(Appointment)).first() is None


def test_limits_of_the_rules_are_bookable(world):
    assert _book(world, "C1001", datetime(2026, 11, 26, 10, 0, tzinfo=PARIS)).ok  # exactly 2 h ahead
    assert _book(world, "C1002", datetime(2026, 12, 16, 17, 30, tzinfo=PARIS)).ok  # last slot in 3 weeks


def test_daylight_saving_monday_after_the_october_change_stores_the_right_utc(world):
    now = datetime(2026, 10, 22, 10, 0, tzinfo=PARIS)  # Thursday, summer time (UTC+2)
    friday = _book(world, "C1001", datetime(2026, 10, 23, 9, 0, tzinfo=PARIS), now=now)
    monday = _book(world, "C1002", datetime(2026, 10, 26, 9, 0, tzinfo=PARIS), now=now)  # winter time (UTC+1)
    assert friday.ok and monday.ok
    assert _appointment(world, friday.appointment.id).start_utc == datetime(2026, 10, 23, 7, 0, tzinfo=UTC)
    assert _appointment(world, monday.appointment.id).start_utc == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    assert monday.appointment.start.hour == 9 and monday.appointment.start.utcoffset() == timedelta(hours=1)
    with session_scope(world.url) as s:
        after_weekend = ap.next_free_slots(s, now, limit=1, after=datetime(2026, 10, 23, 17, 30, tzinfo=PARIS))
    assert after_weekend == (datetime(2026, 10, 26, 9, 0, tzinfo=PARIS),)


def test_the_same_slot_goes_to_the_next_advisor_then_is_taken(world):
    first = _book(world, "C1001", FRIDAY_10)
    second = _book(world, "C1002", FRIDAY_10)
    third = _book(world, "C1003", FRIDAY_10)
    assert first.appointment.advisor_id == world.alice
    assert second.appointment.advisor_id == world.bruno
    assert (third.ok, third.error) == (False, "slot_taken")
    assert third.alternatives and FRIDAY_10 not in third.alternatives
    assert third.alternatives[0].date() == FRIDAY_10.date()  # nearest first: the same day


def test_load_is_spread_over_advisors_of_the_day(world):
    a = _book(world, "C1001", FRIDAY_10)
    b = _book(world, "C1002", FRIDAY_10 + timedelta(hours=1))
    c = _book(world, "C1003", FRIDAY_10 + timedelta(hours=2))
    assert [r.appointment.advisor_id for r in (a, b, c)] == [world.alice, world.bruno, world.alice]


def test_absent_advisors_and_advisors_off_duty_are_not_booked(world):
    with session_scope(world.url) as s:
        add_absence(s, world.alice, datetime(2026, 11, 27, 0, 0, tzinfo=PARIS),
                    datetime(2026, 11, 28, 0, 0, tzinfo=PARIS), "Congés")
        mondays_only = _advisor(s, "Denis Lundi", hours=((0, time(9), time(12)),))
    assert _book(world, "C1001", FRIDAY_10).appointment.advisor_id == world.bruno
    assert (r := _book(world, "C1002", FRIDAY_10)).error == "slot_taken", r  # Denis does not work on Fridays
    monday = _book(world, "C1003", datetime(2026, 11, 30, 11, 30, tzinfo=PARIS))
    assert monday.ok
    assert _book(world, "C1004", datetime(2026, 11, 30, 11, 30, tzinfo=PARIS)).ok
    third = _book(world, "C1005", datetime(2026, 11, 30, 11, 30, tzinfo=PARIS))
    assert third.ok and third.appointment.advisor_id == mondays_only
    assert _book(world, "C1007", datetime(2026, 11, 30, 12, 0, tzinfo=PARIS)).ok  # Alice and Bruno
    with session_scope(world.url) as s:
        starts = [(a.advisor_id, a.start_utc) for a in s.execute(select(Appointment)).scalars()]
    assert (mondays_only, datetime(2026, 11, 30, 11, 0, tzinfo=UTC)) not in starts  # his hours end at 12:00


def test_a_customer_has_one_upcoming_call_and_is_shown_it(world):
    first = _book(world, "C1001", FRIDAY_10)
    again = _book(world, "C1001", FRIDAY_10 + timedelta(days=3))
    assert (again.ok, again.error) == (False, "already_booked")
    assert again.appointment.id == first.appointment.id


def test_a_past_booked_call_does_not_block_a_new_booking_and_becomes_missed(world):
    old = _book(world, "C1001", FRIDAY_10)
    later = FRIDAY_10 + timedelta(hours=3)
    with session_scope(world.url) as s:
        assert ap.upcoming_for_customer(s, world.customers["C1001"], later) is None
    new = _book(world, "C1001", datetime(2026, 11, 30, 10, 0, tzinfo=PARIS), now=later)
    assert new.ok
    assert _appointment(world, old.appointment.id).status == "missed"


def test_another_customers_contract_is_refused(world):
    with session_scope(world.url) as s:
        result = ap.book(s, customer_id=world.customers["C1001"], contract_id=world.contracts["C1002"],
                         start=FRIDAY_10, reason="x", phone=PHONE, channel="web", sender_id="s", now=NOW)
    assert (result.ok, result.error) == (False, "not_owner")


def test_invalid_phone_and_naive_datetimes_are_programming_errors(world):
    with pytest.raises(ValueError):
        _book(world, "C1001", FRIDAY_10, phone="08 00 00 00 00")
    with pytest.raises(ValueError):
        _book(world, "C1001", FRIDAY_10.replace(tzinfo=None))


def test_reason_is_stored_cleaned_and_bounded(world):
    result = _book(world, "C1001", FRIDAY_10, reason="  Je   déménage\n le mois prochain " + "x" * 600)
    assert result.appointment.reason.startswith("Je déménage le mois prochain x")
    assert len(result.appointment.reason) == 500


# --------------------------------------------------------------------------- proposing

def test_propose_offers_free_slots_matching_the_wish(world):
    with session_scope(world.url) as s:
        proposal = ap.propose(s, "demain matin", NOW)
    assert proposal.matched and len(proposal.slots) == 3
    assert all(p.date() == date(2026, 11, 27) and p.hour < 12 for p in proposal.slots)
    assert all(p.tzinfo is not None for p in proposal.slots)


def test_propose_skips_slots_where_no_advisor_is_free(world):
    _book(world, "C1001", FRIDAY_10.replace(hour=14))
    _book(world, "C1002", FRIDAY_10.replace(hour=14))
    with session_scope(world.url) as s:
        proposal = ap.propose(s, "demain à 14h", NOW)
        first_free = ap.next_free_slots(s, NOW, limit=2)
    assert FRIDAY_10.replace(hour=14) not in proposal.slots and proposal.slots
    assert first_free == (datetime(2026, 11, 26, 10, 0, tzinfo=PARIS), datetime(2026, 11, 26, 10, 30, tzinfo=PARIS))


def test_propose_says_full_when_every_advisor_is_away(world):
    with session_scope(world.url) as s:
        for advisor in (world.alice, world.bruno):
            add_absence(s, advisor, datetime(2026, 11, 27, 0, 0, tzinfo=PARIS),
                        datetime(2026, 11, 28, 0, 0, tzinfo=PARIS))
    with session_scope(world.url) as s:
        proposal = ap.propose(s, "vendredi", NOW)
    assert not proposal.matched and proposal.reason == "full"
    assert proposal.slots and all(p.date() != date(2026, 11, 27) for p in proposal.slots)


# --------------------------------------------------------------------------- reschedule and cancel

def test_reschedule_keeps_reason_phone_and_contract_and_replaces_notifications(world):
    old = _book(world, "C1006", FRIDAY_10, reason="Ouverture d'un troisième site", phone="0472000000")
    new_start = datetime(2026, 12, 1, 15, 30, tzinfo=PARIS)
    with session_scope(world.url) as s:
        moved = ap.reschedule(s, customer_id=world.customers["C1006"], appointment_id=old.appointment.id,
                              new_start=new_start, now=NOW)
    assert moved.ok
    view = moved.appointment
    assert view.start == new_start and view.id != old.appointment.id
    assert (view.reason, view.phone, view.contract_id) == ("Ouverture d'un troisième site", "+33472000000",
                                                           world.contracts["C1006"])
    previous = _appointment(world, old.appointment.id)
    assert previous.status == "cancelled" and "mardi 1er décembre à 15h30" in previous.cancel_reason
    assert all(n.abandoned_at is not None for n in _notifications(world, old.appointment.id).values())
    notes = _notifications(world, view.id)
    assert "déplacé" in notes["confirmation"].text and "mardi 1er décembre à 15h30" in notes["confirmation"].text
    with session_scope(world.url) as s:
        assert ap.upcoming_for_customer(s, world.customers["C1006"], NOW).id == view.id
        assert len(s.execute(select(Appointment).where(Appointment.status == "booked")).all()) == 1


def test_reschedule_prefers_the_same_advisor(world):
    _book(world, "C1001", FRIDAY_10)
    old = _book(world, "C1002", FRIDAY_10)  # Bruno (Alice is taken)
    with session_scope(world.url) as s:
        moved = ap.reschedule(s, customer_id=world.customers["C1002"], appointment_id=old.appointment.id,
                              new_start=FRIDAY_10 + timedelta(hours=4), now=NOW)
    assert moved.appointment.advisor_id == old.appointment.advisor_id == world.bruno


def test_reschedule_to_a_taken_slot_leaves_the_old_call_untouched(world):
    taken = datetime(2026, 12, 1, 11, 0, tzinfo=PARIS)
    _book(world, "C1002", taken)
    _book(world, "C1003", taken)
    old = _book(world, "C1001", FRIDAY_10)
    with session_scope(world.url) as s:
        result = ap.reschedule(s, customer_id=world.customers["C1001"], appointment_id=old.appointment.id,
                               new_start=taken, now=NOW)
    assert (result.ok, result.error) == (False, "slot_taken") and taken not in result.alternatives
    row = _appointment(world, old.appointment.id)
    assert (row.status, row.cancel_reason) == ("booked", None)
    assert all(n.abandoned_at is None for n in _notifications(world, old.appointment.id).values())
    with session_scope(world.url) as s:
        assert ap.upcoming_for_customer(s, world.customers["C1001"], NOW).id == old.appointment.id


def test_reschedule_of_another_customers_call_changes_nothing(world):
    old = _book(world, "C1001", FRIDAY_10)
    with session_scope(world.url) as s:
        result = ap.reschedule(s, customer_id=world.customers["C1002"], appointment_id=old.appointment.id,
                               new_start=FRIDAY_10 + timedelta(hours=2), now=NOW)
    assert (result.ok, result.error) == (False, "not_owner")
    assert _appointment(world, old.appointment.id).start_utc == FRIDAY_10.astimezone(UTC)
    with session_scope(world.url) as s:
        assert s.execute(select(Appointment)).scalars().all() == [s.get(Appointment, old.appointment.id)]


def test_cancel_checks_ownership_in_the_database(world):
    booked = _book(world, "C1001", FRIDAY_10).appointment
    with session_scope(world.url) as s:
        assert not ap.cancel(s, customer_id=world.customers["C1002"], appointment_id=booked.id, now=NOW)
    row = _appointment(world, booked.id)
    assert (row.status, row.cancelled_by, row.updated_at) == ("booked", None, NOW.astimezone(UTC))
    with session_scope(world.url) as s:
        assert ap.cancel(s, customer_id=world.customers["C1001"], appointment_id=booked.id, now=NOW,
                         reason="Plus besoin")
    row = _appointment(world, booked.id)
    assert (row.status, row.cancelled_by, row.cancel_reason) == ("cancelled", "customer", "Plus besoin")
    assert all(n.abandoned_at is not None for n in _notifications(world, booked.id).values())
    with session_scope(world.url) as s:
        assert not ap.cancel(s, customer_id=world.customers["C1001"], appointment_id=booked.id, now=NOW)
        assert ap.upcoming_for_customer(s, world.customers["C1001"], NOW) is None
    assert _book(world, "C1001", FRIDAY_10).ok  # the slot and the customer are free again


def test_a_call_that_has_started_cannot_be_cancelled_by_the_customer(world):
    booked = _book(world, "C1001", FRIDAY_10).appointment
    with session_scope(world.url) as s:
        assert not ap.cancel(s, customer_id=world.customers["C1001"], appointment_id=booked.id,
                             now=FRIDAY_10 + timedelta(minutes=5))


# --------------------------------------------------------------------------- advisors

def test_advisor_cancel_own_call_tells_the_customer_why(world):
    booked = _book(world, "C1001", FRIDAY_10).appointment
    with session_scope(world.url) as s:
        assert not ap.advisor_cancel(s, advisor_id=world.bruno, appointment_id=booked.id, reason="x", now=NOW)
    assert _appointment(world, booked.id).status == "booked"
    with session_scope(world.url) as s:
        with pytest.raises(ValueError):
            ap.advisor_cancel(s, advisor_id=world.alice, appointment_id=booked.id, reason="  ", now=NOW)
    with session_scope(world.url) as s:
        assert ap.advisor_cancel(s, advisor_id=world.alice, appointment_id=booked.id,
                                 reason="Conseillère absente", now=NOW)
    row = _appointment(world, booked.id)
    assert (row.status, row.cancelled_by, row.cancel_reason) == ("cancelled", "advisor", "Conseillère absente")
    notes = _notifications(world, booked.id)
    assert notes["cancellation"].due_at == NOW.astimezone(UTC)
    assert "Conseillère absente" in notes["cancellation"].text
    assert "vendredi 27 novembre à 10h" in notes["cancellation"].text
    assert notes["reminder"].abandoned_at is not None and notes["cancellation"].abandoned_at is None


def test_a_supervisor_may_cancel_any_call(world):
    booked = _book(world, "C1001", FRIDAY_10).appointment
    with session_scope(world.url) as s:
        assert ap.advisor_cancel(s, advisor_id=world.chief, appointment_id=booked.id, reason="Réorganisation",
                                 now=NOW)


def test_set_status_rules(world):
    booked = _book(world, "C1001", FRIDAY_10).appointment
    during = FRIDAY_10 + timedelta(minutes=10)
    with session_scope(world.url) as s:
        assert not ap.set_status(s, scope=ap.Scope(world.alice), appointment_id=booked.id, status="done", now=NOW)
        assert not ap.set_status(s, scope=ap.Scope(world.bruno), appointment_id=booked.id, status="done", now=during)
    assert _appointment(world, booked.id).status == "booked"
    with session_scope(world.url) as s:
        assert ap.set_status(s, scope=ap.Scope(world.alice), appointment_id=booked.id, status="missed", now=during)
    assert _appointment(world, booked.id).status == "missed"
    with session_scope(world.url) as s:  # a correction by the supervisor
        assert ap.set_status(s, scope=ap.Scope.of(world.chief, is_supervisor=True), appointment_id=booked.id,
                             status="done", now=during)
        with pytest.raises(ValueError):
            ap.set_status(s, scope=ap.Scope(world.alice), appointment_id=booked.id, status="cancelled")
    assert _appointment(world, booked.id).status == "done"


def test_a_cancelled_call_cannot_be_marked(world):
    booked = _book(world, "C1001", FRIDAY_10).appointment
    with session_scope(world.url) as s:
        ap.cancel(s, customer_id=world.customers["C1001"], appointment_id=booked.id, now=NOW)
    with session_scope(world.url) as s:
        assert not ap.set_status(s, scope=ap.Scope(world.alice), appointment_id=booked.id, status="done")
    assert _appointment(world, booked.id).status == "cancelled"


def test_calls_for_day_shows_each_advisor_their_calls_with_context(world):
    a = _book(world, "C1006", FRIDAY_10, reason="Deux sites", contract=False).appointment  # Alice
    b = _book(world, "C1003", FRIDAY_10).appointment  # Bruno
    c = _book(world, "C1001", datetime(2026, 11, 30, 9, 0, tzinfo=PARIS)).appointment  # another day
    with session_scope(world.url) as s:
        alice = ap.calls_for_day(s, advisor_id=world.alice, day=date(2026, 11, 27))
        bruno = ap.calls_for_day(s, advisor_id=world.bruno, day=date(2026, 11, 27))
        everyone = ap.calls_for_day(s, advisor_id=None, day=date(2026, 11, 27))
        monday = ap.calls_for_day(s, advisor_id=None, day=date(2026, 11, 30))
        sunday = ap.calls_for_day(s, advisor_id=None, day=date(2026, 11, 29))
    assert [x.id for x in alice] == [a.id] and [x.id for x in bruno] == [b.id]
    assert {x.id for x in everyone} == {a.id, b.id}
    assert [x.id for x in monday] == [c.id] and sunday == []
    boost = bruno[0]
    assert boost.customer_name == "Mme Sophie Laurent" and boost.offer_label == "Boost Mon Surplus"
    assert len(boost.pdl) == 14 and boost.contract_number and boost.phone_display == "06 12 34 56 78"
    assert (boost.reason, boost.channel, boost.sender_id, boost.status) == (
        "Question sur ma facture", "web", "conv-C1003", "booked")
    two_sites = alice[0]
    assert two_sites.customer_name == "Atelier Girard & Fils"
    assert two_sites.contract_number is None and two_sites.pdl is None  # which of the two sites is unknown
    assert two_sites.offer_label == "Électricité verte Pro"  # ... but both have the same offer
    assert monday[0].contract_number is not None  # no contract given, but the customer has only one


def test_mark_past_calls_after_their_day(world):
    booked = _book(world, "C1001", FRIDAY_10).appointment
    with session_scope(world.url) as s:
        assert ap.mark_past_calls(s, datetime(2026, 11, 27, 23, 0, tzinfo=PARIS)) == 0
        assert ap.mark_past_calls(s, datetime(2026, 11, 28, 0, 5, tzinfo=PARIS)) == 1
    assert _appointment(world, booked.id).status == "missed"


# --------------------------------------------------------------------------- the database is the referee

def test_the_database_refuses_a_second_active_call_per_advisor_start_and_per_customer(world):
    from sqlalchemy.exc import IntegrityError

    start = FRIDAY_10.astimezone(UTC)

    def row(customer: str, advisor: int, status: str = "booked", at=start) -> Appointment:
        return Appointment(customer_id=world.customers[customer], advisor_id=advisor, start_utc=at,
                           end_utc=at + timedelta(minutes=30), reason="r", phone="+33612345678", channel="web",
                           sender_id="s", status=status, created_at=start, updated_at=start)

    with session_scope(world.url) as s:
        s.add_all([row("C1001", world.alice, "cancelled"), row("C1002", world.alice, "done"),
                   row("C1003", world.alice)])  # inactive calls do not hold the slot
    for duplicate in (row("C1004", world.alice),  # same advisor and start
                      row("C1003", world.bruno, at=start + timedelta(days=1))):  # same customer
        with pytest.raises(IntegrityError):
            with session_scope(world.url) as s:
                s.add(duplicate)


def test_book_relies_on_the_constraint_not_on_its_own_availability_check(world, monkeypatch):
    """Even with a stale view of who is free (another process booked in between), no double booking."""
    _book(world, "C1001", FRIDAY_10)
    _book(world, "C1002", FRIDAY_10)
    stale = ap._Availability(hours={world.alice: [(4, time(9), time(18))], world.bruno: [(4, time(9), time(18))]},
                             absences={}, taken=set(), load=ap.Counter())
    monkeypatch.setattr(ap, "_load_availability", lambda *args, **kwargs: stale)
    result = _book(world, "C1003", FRIDAY_10)
    assert (result.ok, result.error) == (False, "slot_taken")
    with session_scope(world.url) as s:
        assert len(s.execute(select(Appointment)).all()) == 2
