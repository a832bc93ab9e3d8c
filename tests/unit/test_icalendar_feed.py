"""The advisors' iCalendar feed, parsed back with the icalendar library, and its secret tokens."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from icalendar import Calendar
from sqlalchemy import select

from hortense.appointments import booking as ap
from hortense.appointments.advisors import (
    advisor_for_feed_token,
    create_advisor,
    hash_password,
    issue_feed_token,
    revoke_feed_token,
)
from hortense.appointments.calendar.phrases import PARIS
from hortense.db.calendar_models import Advisor
from hortense.db.models import Customer
from hortense.db.session import session_scope
from hortense.appointments.icalendar_feed import build_feed

UTC = timezone.utc
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=PARIS)
FRIDAY_10 = datetime(2026, 11, 27, 10, 0, tzinfo=PARIS)


@pytest.fixture
def booked(seeded_db):
    """Alice has two calls (one later cancelled by the customer), Bruno one."""
    with session_scope(seeded_db) as s:
        alice = create_advisor(s, name="Alice Martin", email="alice@hortense.test", password="",
                               password_hash=hash_password("pw", n=16)).id
        bruno = create_advisor(s, name="Bruno Caron", email="bruno@hortense.test", password="",
                               password_hash=hash_password("pw", n=16)).id
        ids = dict(s.execute(select(Customer.customer_number, Customer.id)).all())

    def book(number: str, start: datetime, reason: str) -> ap.AppointmentView:
        with session_scope(seeded_db) as s:
            return ap.book(s, customer_id=ids[number], contract_id=None, start=start, reason=reason,
                           phone="0612345601", channel="web", sender_id=f"conv-{number}", now=NOW).appointment

    first = book("C1001", FRIDAY_10, "Question sur ma batterie virtuelle")
    second = book("C1002", FRIDAY_10, "Changement de puissance")  # Bruno: Alice is taken
    third = book("C1005", datetime(2026, 11, 30, 14, 30, tzinfo=PARIS), "Déménagement")
    with session_scope(seeded_db) as s:
        ap.cancel(s, customer_id=ids["C1005"], appointment_id=third.id, now=NOW)
    return seeded_db, alice, bruno, first, second, third


def _events(body: bytes) -> dict[str, object]:
    cal = Calendar.from_ical(body)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_feed_lists_the_advisors_calls_with_times_and_context(booked):
    url, alice, _, first, second, third = booked
    with session_scope(url) as s:
        body = build_feed(s, alice, NOW)
    cal = Calendar.from_ical(body)
    assert str(cal["VERSION"]) == "2.0"
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Paris"]
    events = _events(body)
    assert set(events) == {f"appointment-{first.id}@hortense", f"appointment-{third.id}@hortense"}
    event = events[f"appointment-{first.id}@hortense"]
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == FRIDAY_10 and end == FRIDAY_10 + timedelta(minutes=30)
    assert start.astimezone(UTC) == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert str(event["SUMMARY"]) == "Appel Hortense – Mme Camille Dubois"
    description = str(event["DESCRIPTION"])
    for expected in ("06 12 34 56 01", "Question sur ma batterie virtuelle", "14 295 730 100 101", "SV-2023-000101",
                     "Stockage Virtuel"):
        assert expected in description
    assert str(event["STATUS"]) == "CONFIRMED"


def test_cancelled_calls_stay_in_the_feed_as_cancelled(booked):
    url, alice, _, _, _, third = booked
    with session_scope(url) as s:
        event = _events(build_feed(s, alice, NOW))[f"appointment-{third.id}@hortense"]
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART") == datetime(2026, 11, 30, 14, 30, tzinfo=PARIS)


def test_each_feed_holds_only_its_advisors_calls(booked):
    url, _, bruno, _, second, _ = booked
    with session_scope(url) as s:
        events = _events(build_feed(s, bruno, NOW))
        assert build_feed(s, 9999, NOW) is None
    assert list(events) == [f"appointment-{second.id}@hortense"]
    assert "Julien Moreau" in str(events[f"appointment-{second.id}@hortense"]["SUMMARY"])


def test_an_empty_feed_is_still_a_valid_calendar(booked):
    url, alice, *_ = booked
    with session_scope(url) as s:
        body = build_feed(s, alice, NOW + timedelta(days=200))
    assert Calendar.from_ical(body).walk("VEVENT") == []


def test_feed_tokens_are_stored_hashed_revocable_and_replaceable(booked):
    url, alice, bruno, *_ = booked
    with session_scope(url) as s:
        token = issue_feed_token(s, alice, NOW)
    with session_scope(url) as s:
        stored = s.get(Advisor, alice).feed_token_hash
        assert token not in stored and len(stored) == 64
        assert advisor_for_feed_token(s, token).id == alice
        assert advisor_for_feed_token(s, token + "x") is None and advisor_for_feed_token(s, "") is None
        assert revoke_feed_token(s, alice, NOW)
    with session_scope(url) as s:
        assert advisor_for_feed_token(s, token) is None
        assert not revoke_feed_token(s, alice, NOW)
        renewed = issue_feed_token(s, alice, NOW)
        replaced = issue_feed_token(s, alice, NOW)
    with session_scope(url) as s:
        assert advisor_for_feed_token(s, renewed) is None  # a new token replaces the previous one
        assert advisor_for_feed_token(s, replaced).id == alice
        assert not s.get(Advisor, bruno).feed_token_hash
