"""Fifty customers confirm the same slot at the same moment through the booking action (the chat's last step),
on SQLite: one gets the call, the 49 others "slot taken" and fresh slots; nobody gets "can't reach your account"
("database is locked" is retried: hortense.db.session.run_in_transaction)."""
from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime

import pytest
from sqlalchemy import select

from actions.appointments import BOOK, CONFIRMED, MODE, PHONE, REASON, START, SubmitAppointment
from hortense.appointments.calendar.phrases import PARIS
from hortense.db.calendar_models import Appointment
from hortense.db.session import session_scope
from tests.integration.test_double_booking import _setup
from tests.unit.actions_support import run, text_of, tracker

SLOT = datetime(2026, 11, 27, 10, 0, tzinfo=PARIS)
CUSTOMERS = 50


@pytest.fixture
def database(tmp_path, monkeypatch):
    from hortense.db.migrate import upgrade
    from hortense.db.session import reset_engines
    from hortense.settings import get_settings

    url = f"sqlite:///{tmp_path / 'race.db'}"
    upgrade(url)
    monkeypatch.setenv("HORTENSE_DATABASE_URL", url)
    get_settings.cache_clear()
    reset_engines()
    yield url
    reset_engines()


def test_fifty_customers_one_slot_through_the_booking_action(database, clock):
    _setup(database, advisors=1, customers=CUSTOMERS)
    slots = {MODE: BOOK, START: SLOT.isoformat(), REASON: "Question sur ma facture", PHONE: "0612345678",
             CONFIRMED: True}
    barrier = threading.Barrier(CUSTOMERS)
    answers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def confirm(number: str) -> None:
        try:
            t = tracker("oui", "affirm", number, slots=slots)
            barrier.wait(timeout=60)
            messages, _ = run(SubmitAppointment(), t)
            with lock:
                answers.append(text_of(messages))
        except BaseException as exc:  # noqa: BLE001 - asserted empty below
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=confirm, args=(f"T{i:04d}",)) for i in range(CUSTOMERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    kinds = Counter("booked" if "C'est réservé" in a else "taken" if "plus disponible" in a else a for a in answers)
    assert kinds == {"booked": 1, "taken": CUSTOMERS - 1}, kinds
    with session_scope(database) as s:
        assert len(s.execute(select(Appointment).where(Appointment.status == "booked")).scalars().all()) == 1
