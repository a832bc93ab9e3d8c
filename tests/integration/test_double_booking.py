"""No double booking under concurrency: many threads, each with its own session, book at the same moment.

Runs on SQLite (a temporary file) and on PostgreSQL when HORTENSE_TEST_POSTGRES_URL is set. The
PostgreSQL variant works in a temporary schema of that database (created and dropped here, selected with
PGOPTIONS), so it never touches existing tables. Under CI=true a missing HORTENSE_TEST_POSTGRES_URL is a failure, not a skip.
"""
from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine, select, text

from hortense.appointments import booking as ap
from hortense.appointments.advisors import create_advisor, hash_password
from hortense.appointments.calendar.phrases import PARIS
from hortense.db.calendar_models import Appointment
from hortense.db.migrate import upgrade
from hortense.db.models import Customer
from hortense.db.session import reset_engines, session_scope
from tests.services import service_url

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=PARIS)
SLOT = datetime(2026, 11, 27, 10, 0, tzinfo=PARIS)
ATTEMPTS = 50


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request, tmp_path, monkeypatch):
    """A migrated, empty database of each kind; yields its URL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'concurrency.db'}"
        upgrade(url)
        yield url
        reset_engines()
        return
    base = service_url("HORTENSE_TEST_POSTGRES_URL")
    schema = f"hortense_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, future=True)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    # libpq reads PGOPTIONS for every new connection of this process: our tables land in the schema.
    monkeypatch.setenv("PGOPTIONS", f"-csearch_path={schema}")
    url = base
    reset_engines()
    try:
        upgrade(url)
        yield url
    finally:
        reset_engines()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _setup(url: str, advisors: int, customers: int) -> list[int]:
    cheap = hash_password("pw", n=16)
    with session_scope(url) as s:
        for i in range(advisors):
            create_advisor(s, name=f"Conseiller {i}", email=f"advisor{i}@hortense.test", password="",
                           password_hash=cheap)
        rows = [Customer(customer_number=f"T{i:04d}", first_name="Client", last_name=f"N{i}",
                         email=f"c{i}@example.test", billing_address="1 rue du Test", billing_postcode="75001",
                         billing_city="Paris") for i in range(customers)]
        s.add_all(rows)
        s.flush()
        return [c.id for c in rows]


def _race(url: str, bookings: list[tuple[int, datetime]]) -> tuple[list[ap.BookingResult], list[BaseException]]:
    """Run every booking in its own thread and session, all released at once."""
    barrier = threading.Barrier(len(bookings))
    results: list[ap.BookingResult] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def attempt(customer_id: int, start: datetime) -> None:
        try:
            barrier.wait(timeout=30)
            with session_scope(url) as s:
                result = ap.book(s, customer_id=customer_id, contract_id=None, start=start, reason="Test",
                                 phone="0612345678", channel="web", sender_id=f"conv-{customer_id}", now=NOW)
            with lock:
                results.append(result)
        except BaseException as exc:  # noqa: BLE001 - the test asserts that there are none
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=attempt, args=b) for b in bookings]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a booking thread hung"
    return results, errors


def _booked(url: str) -> list[Appointment]:
    with session_scope(url) as s:
        return s.execute(select(Appointment).where(Appointment.status == "booked")).scalars().all()


def test_one_advisor_one_slot_fifty_customers(database):
    customers = _setup(database, advisors=1, customers=ATTEMPTS)
    results, errors = _race(database, [(c, SLOT) for c in customers])
    assert errors == []
    assert Counter(r.error for r in results) == {None: 1, "slot_taken": ATTEMPTS - 1}
    assert all(r.alternatives and SLOT not in r.alternatives for r in results if not r.ok)
    booked = _booked(database)
    assert len(booked) == 1 and booked[0].start_utc == SLOT.astimezone(booked[0].start_utc.tzinfo)


def test_three_advisors_one_slot_fifty_customers(database):
    customers = _setup(database, advisors=3, customers=ATTEMPTS)
    results, errors = _race(database, [(c, SLOT) for c in customers])
    assert errors == []
    assert Counter(r.error for r in results) == {None: 3, "slot_taken": ATTEMPTS - 3}
    booked = _booked(database)
    assert len(booked) == 3 and len({a.advisor_id for a in booked}) == 3


def test_one_customer_ten_slots_at_once(database):
    (customer,) = _setup(database, advisors=1, customers=1)
    starts = [SLOT + timedelta(minutes=30 * i) for i in range(10)]
    results, errors = _race(database, [(customer, start) for start in starts])
    assert errors == []
    assert Counter(r.error for r in results) == {None: 1, "already_booked": 9}
    assert len(_booked(database)) == 1
