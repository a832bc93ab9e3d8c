"""The conversation suite: multi-turn scripts in tests/e2e/conversations/*.yml, one pytest case per script,
played over the secure website endpoint (portal JWT) against the real stack.

A script:

    - name: several questions in one message
      customer: C1001
      behaviours: [1]              # issue 10 items it covers (documentation only)
      setup: {booked: true}        # optional: a call is booked for this customer before the script
      turns:
        - say: "mon numéro de contrat et mes heures creuses svp"   # or `click: "Titre"` / `click: 1`
          expect: ["SV-2023-000101", "de 22h à 6h"]   # substrings, in this order in the answer
          absent: ["Vouliez-vous dire"]             # substrings that must not appear
          buttons: ["Factures précédentes"]         # button titles that must be offered
      after: {appointment: null}    # optional database check: no upcoming call / {reason: "...", phone: "+33…"}

Values are literal from the seed data (hortense/db/seed.py). What the seed generates relative to today is
written as a placeholder the runner computes from the clock and the database ({month-1}, {invoice0.amount}…,
see `placeholders`), so a script passes on any date. Every conversation starts fresh (its stored events are
deleted first: the `fresh_conversations` fixture of tests/e2e/conftest.py) and every answer is checked for what
must never appear: "(e)", a raw URL outside a labelled link, an empty answer.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml

from hortense import clock
from hortense.appointments import booking as appointments
from hortense.billing import invoices as billing
from hortense.energy import surplus
from hortense.replies import formatting as fr
from hortense.account.customers import load_customer
from hortense.energy.periods import add_months, last_complete_month
from tests.e2e.servers import buttons as buttons_of

pytestmark = pytest.mark.e2e
HERE = Path(__file__).parent / "conversations"
RAW_URL = re.compile(r"(?<!\]\()https?://\S+")
NEVER = ("(e)", "None", "Traceback")


def clock_today() -> date:
    return clock.today()


def clock_now() -> datetime:
    return clock.local_now()


def load_scripts() -> list[tuple[str, dict]]:
    scripts = []
    for path in sorted(HERE.glob("*.yml")):
        for script in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            scripts.append((f"{path.stem}: {script['name']}", script))
    return scripts


SCRIPTS = load_scripts()


def flat(text: str) -> str:
    return (text or "").replace("\u00a0", " ").replace("\u202f", " ")


def placeholders(db, customer_number: str) -> dict[str, str]:
    """Values the seed derives from today's date, for this customer's (first) contract."""
    today = clock_today()
    last = last_complete_month(today)
    values: dict[str, str] = {}
    for n in range(1, 13):
        month = add_months(last, -(n - 1))
        values[f"month-{n}"] = fr.month(month)
        values[f"month_name-{n}"] = fr.month(month).split(" ")[0]
    values["period6"] = f"de {fr.month(add_months(last, -5))} à {fr.month(last)}"
    for n in range(0, 6):
        values[f"year-{n}"] = str(today.year - n)
    customer = load_customer(db, customer_number)
    if customer and customer.contracts:
        contract = customer.contracts[0]
        values["start_date"] = fr.short_date(contract.start_date)
        first = contract.start_date.replace(day=1)
        values["first_reading_month"] = fr.month(first)
        values["first_reading_arrives"] = fr.month(add_months(first, 1))
        for index, invoice in enumerate(billing.recent_invoices(db, contract.id, limit=12)):
            values[f"invoice{index}.number"] = invoice.number
            values[f"invoice{index}.amount"] = flat(fr.eur(invoice.amount_eur))
            values[f"invoice{index}.date"] = fr.short_date(invoice.issued_on)
        upcoming = billing.upcoming_instalments(db, contract.id, today)
        if upcoming:
            values["instalment.amount"] = flat(fr.eur(upcoming[0].amount_eur))
            values["instalment.date"] = fr.long_date(upcoming[0].due_date)
        kitty = surplus.kitty_status(db, contract.id)
        if kitty:
            values["kitty.balance"] = flat(fr.eur(kitty.balance_eur))
    return values


def fill(text: str, values: dict[str, str]) -> str:
    def sub(match: re.Match) -> str:
        key = match.group(1)
        if key not in values:
            raise KeyError(f"unknown placeholder {{{key}}}")
        return values[key]

    return re.sub(r"\{([a-z_0-9.+-]+)\}", sub, text)


def upcoming(db, customer_number: str):
    db.commit()
    customer = load_customer(db, customer_number)
    return appointments.upcoming_for_customer(db, customer.id, clock_now())


def clear_appointments(db, customer_number: str) -> None:
    current = upcoming(db, customer_number)
    if current is not None:
        customer = load_customer(db, customer_number)
        appointments.cancel(db, customer_id=customer.id, appointment_id=current.id, now=clock_now())
        db.commit()


def book_one(db, customer_number: str, reason: str):
    customer = load_customer(db, customer_number)
    start = appointments.next_free_slots(db, clock_now(), limit=1)[0]
    result = appointments.book(db, customer_id=customer.id, contract_id=None, start=start, reason=reason,
                               phone=customer.phone, channel="web", sender_id=f"web-{customer_number}",
                               now=clock_now())
    assert result.ok, result
    db.commit()
    return result.appointment


def check_answer(messages: list[dict], turn: dict, values: dict, where: str) -> None:
    text = flat("\n".join(m.get("text") or "" for m in messages))
    titles = [flat(b.get("title") or "") for b in buttons_of(messages)]
    shown = f"{where}\n--- answer ---\n{text}\n--- buttons --- {titles}"
    assert messages, f"no answer: {where}"
    for bad in NEVER:
        assert bad not in text, f"{bad!r} in {shown}"
    assert not RAW_URL.search(text), f"raw URL in {shown}"
    position = 0
    lowered = text.lower()  # wording is checked without regard to capitals; values are digits and codes
    for expected in turn.get("expect") or []:
        expected = flat(fill(str(expected), values)).lower()
        found = lowered.find(expected, position)
        assert found >= 0, f"expected {expected!r} (in order) in {shown}"
        position = found + len(expected)
    for unwanted in turn.get("absent") or []:
        unwanted = flat(fill(str(unwanted), values))
        assert unwanted.lower() not in lowered, f"{unwanted!r} must not be in {shown}"
    for title in turn.get("buttons") or []:
        title = flat(fill(str(title), values))
        assert title in titles, f"button {title!r} missing in {shown}"
    if turn.get("image"):
        assert any(m.get("image") for m in messages), f"no chart image in {shown}"
    if "max_buttons" in turn:
        assert len(titles) <= turn["max_buttons"], shown


@pytest.mark.parametrize("name,script", SCRIPTS, ids=[name for name, _ in SCRIPTS])
def test_conversation(stack, db, name, script):
    customer = script["customer"]
    clear_appointments(db, customer)
    setup = script.get("setup") or {}
    if setup.get("booked"):
        book_one(db, customer, setup.get("reason", "question sur ma facture"))
    values = placeholders(db, customer)
    previous: list[dict] = []
    try:
        for index, turn in enumerate(script["turns"], 1):
            if "click" in turn:
                offered = buttons_of(previous)
                click = turn["click"]
                if isinstance(click, int):
                    assert 0 < click <= len(offered), f"{name} turn {index}: no button {click} in {offered}"
                    chosen = offered[click - 1]
                else:
                    label = flat(fill(click, values))
                    chosen = next((b for b in offered if flat(b.get("title") or "") == label), None)
                    assert chosen, f"{name} turn {index}: no button {label!r} in {offered}"
                text = chosen["payload"]
            else:
                text = fill(str(turn["say"]), values)
            previous = stack.say(customer, text)
            check_answer(previous, turn, values, f"{name} — turn {index}: {text!r}")
        after = script.get("after") or {}
        if "appointment" in after:
            current = upcoming(db, customer)
            wanted = after["appointment"]
            if wanted is None:
                assert current is None, f"{name}: a call is still booked ({current})"
            else:
                assert current is not None, f"{name}: no call booked"
                for key, value in wanted.items():
                    assert getattr(current, key) == value, f"{name}: {key} = {getattr(current, key)!r}"
    finally:
        clear_appointments(db, customer)
