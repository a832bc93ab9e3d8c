"""Phone appointments, end to end over the secure channel: book, first free slot, ask, move, cancel,
alternatives for impossible times, interruptions that resume the form, and leaving it."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hortense import clock
from hortense.account.customers import load_customer
from hortense.appointments import booking as appointments
from tests.e2e.servers import buttons, texts

pytestmark = pytest.mark.e2e
PARIS = ZoneInfo("Europe/Paris")


def now() -> datetime:
    return clock.local_now()


def upcoming(db, number):
    db.commit()  # end the read transaction: SQLite (WAL) would keep showing its old snapshot
    return appointments.upcoming_for_customer(db, load_customer(db, number).id, now())


def pick_first_slot(stack, customer, messages):
    offered = buttons(messages)
    assert offered, texts(messages)
    return offered[0]["title"], stack.say(customer, offered[0]["payload"])


def test_book_from_a_french_phrase_then_ask_move_and_cancel(stack, db):
    customer = "C1001"
    proposals = stack.say(customer, "je voudrais être rappelée demain matin svp")
    assert "créneau" in texts(proposals) or "propose" in texts(proposals)
    label, reply = pick_first_slot(stack, customer, proposals)
    assert "motif" in texts(reply)
    reply = stack.say(customer, "une question sur ma dernière facture")
    assert "06 12 34 56 01" in texts(reply)
    reply = stack.say(customer, "oui")
    assert "récapitule" in texts(reply) and label.lower() in texts(reply).lower()
    reply = stack.say(customer, "oui")
    assert "C'est réservé" in texts(reply)
    booked = upcoming(db, customer)
    assert booked is not None and booked.reason == "une question sur ma dernière facture"
    assert booked.phone == "+33612345601" and booked.channel == "web" and booked.sender_id == "web-C1001"

    answer = texts(stack.say(customer, "c'est quand mon rdv ?"))
    assert label.lower() in answer.lower()

    again = texts(stack.say(customer, "je voudrais prendre un rendez-vous"))
    assert "déjà un appel prévu" in again

    question = stack.say(customer, "je voudrais déplacer mon rendez-vous")
    assert "à la place" in texts(question)
    proposals = stack.say(customer, "plutôt la semaine prochaine l'après-midi")
    offered = [b for b in buttons(proposals) if b["title"].lower() != label.lower()]
    assert offered, texts(proposals)
    new_label = offered[-1]["title"]
    reply = stack.say(customer, offered[-1]["payload"])
    assert "déplace" in texts(reply)
    reply = stack.say(customer, "oui je confirme")
    assert "déplacé" in texts(reply)
    moved = upcoming(db, customer)
    assert moved.id != booked.id or moved.start != booked.start
    assert moved.reason == booked.reason and moved.phone == booked.phone
    assert new_label.lower() in texts(stack.say(customer, "mon rendez-vous c'est quand")).lower()

    reply = stack.say(customer, "je veux annuler mon rendez-vous")
    assert "Voulez-vous annuler" in texts(reply)
    reply = stack.say(customer, "oui")
    assert "annulé" in texts(reply)
    assert upcoming(db, customer) is None


def test_first_free_slot_with_another_phone_number(stack, db):
    customer = "C1005"
    proposals = stack.say(customer, "je veux le premier créneau dispo pour être rappelé")
    expected_first = appointments.next_free_slots(db, now(), limit=1)[0]
    label, reply = pick_first_slot(stack, customer, proposals)
    stack.say(customer, "changer la puissance de mon compteur")
    reply = stack.say(customer, "appelez moi plutôt au 06 11 22 33 44")
    assert "06 11 22 33 44" in texts(reply)
    reply = stack.say(customer, "oui")
    assert "C'est réservé" in texts(reply)
    booked = upcoming(db, customer)
    assert booked.phone == "+33611223344"
    assert booked.start == expected_first


def test_an_impossible_time_gets_alternatives_with_the_reason(stack):
    reply = stack.say("C1004", "je voudrais un rendez-vous téléphonique dimanche à 10h")
    answer = texts(reply)
    assert "du lundi au vendredi" in answer
    assert 1 <= len(buttons(reply)) <= 3
    assert "D'accord" in texts(stack.say("C1004", "stop"))


def test_a_question_in_the_middle_of_the_form_is_answered_then_the_form_resumes(stack, db):
    customer = "C1002"
    proposals = stack.say(customer, "pouvez-vous me rappeler jeudi vers 14h")
    assert buttons(proposals)
    reply = stack.say(customer, "au fait c'est quoi mon numéro de pdl ?")
    answer = texts(reply).replace("\u00a0", " ")
    assert "14 295 730 100 102" in answer
    assert buttons(reply), "the form asks for the slot again"
    reply = stack.say(customer, buttons(reply)[0]["payload"])
    assert "motif" in texts(reply)
    reply = stack.say(customer, "stop")
    assert "arrête" in texts(reply)
    assert upcoming(db, customer) is None
    assert "14 295 730 100 102" in texts(stack.say(customer, "mon pdl")).replace("\u00a0", " ")


def test_visitor_cannot_book(stack):
    response = stack.post("je veux un rendez-vous demain", None)
    assert response.status_code == 401
