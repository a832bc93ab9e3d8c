"""Every account question, asked in French over the secure HTTP endpoint, gets *this* customer's values.

Expected values are read from the same database through the domain layer, then written the French way:
the test checks that what the customer reads is the database's truth for them.
"""
from __future__ import annotations

import pytest

from hortense import clock
from hortense.account.customers import load_customer
from hortense.billing import invoices as billing
from hortense.db.models import OFFER_BOOST, OFFER_STOCKAGE
from hortense.energy import consumption, surplus
from hortense.energy.periods import default_period
from hortense.replies import formatting as fr
from tests.e2e.servers import buttons, texts

pytestmark = pytest.mark.e2e

SINGLE_CONTRACT = ["C1001", "C1002", "C1003", "C1004", "C1005", "C1007", "C1008"]


def flat(text: str) -> str:
    """Compare without caring about which kind of space Babel used."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def contract_of(db, number):
    customer = load_customer(db, number)
    assert customer is not None
    return customer, customer.contracts[0]


@pytest.mark.parametrize("customer_number", SINGLE_CONTRACT)
def test_pdl_contract_number_and_offpeak(stack, db, customer_number):
    customer, contract = contract_of(db, customer_number)
    answer = flat(texts(stack.say(customer_number, "c'est quoi mon numéro de PDL ?")))
    assert flat(fr.pdl(contract.pdl)) in answer
    answer = texts(stack.say(customer_number, "quel est mon numero de contrat svp"))
    assert contract.contract_number in answer
    answer = texts(stack.say(customer_number, "c'est quoi mes heures creuses ?"))
    for r in contract.offpeak:
        assert f"de {fr.hour(r.start)} à {fr.hour(r.end)}" in answer


@pytest.mark.parametrize("customer_number", SINGLE_CONTRACT)
def test_contract_details(stack, db, customer_number):
    customer, contract = contract_of(db, customer_number)
    answer = flat(texts(stack.say(customer_number, "quelle est mon offre et ma puissance souscrite ?")))
    assert contract.offer_label in answer
    assert f"{contract.subscribed_power_kva} kVA" in answer
    assert flat(fr.short_date(contract.start_date)) in answer


@pytest.mark.parametrize("customer_number", SINGLE_CONTRACT)
def test_battery_level_or_offer_explanation(stack, db, customer_number):
    customer, contract = contract_of(db, customer_number)
    answer = flat(texts(stack.say(customer_number, "quel est le niveau de ma batterie virtuelle ?")))
    if contract.offer == OFFER_STOCKAGE:
        status = consumption.battery_status(db, contract.id, clock.today())
        if status.last_update:
            assert flat(fr.kwh(status.level_kwh)) in answer
        else:
            assert "vide" in answer
    else:
        assert "Stockage Virtuel" in answer and "n'en comporte pas" in answer


@pytest.mark.parametrize("customer_number", SINGLE_CONTRACT)
def test_consumption_table_or_offer_explanation(stack, db, customer_number):
    customer, contract = contract_of(db, customer_number)
    answer = flat(texts(stack.say(customer_number, "je voudrais voir ma consommation")))
    if contract.offer == OFFER_BOOST:
        assert "pas votre consommation" in answer
        return
    history = consumption.consumption_history(db, contract.id, default_period(clock.today()))
    if not history.has_any_data:
        assert "pas encore de relevé" in answer
        return
    assert len(history.months) == 6
    for month in history.months:
        assert f"{fr.month(month.month)} : {flat(fr.kwh(month.total_kwh))}" in answer
        assert flat(fr.kwh(month.offpeak_kwh)) in answer
    assert f"Total : {flat(fr.kwh(history.total_kwh))}" in answer


def test_consumption_for_a_named_month(stack, db):
    customer, contract = contract_of(db, "C1005")
    answer = flat(texts(stack.say("C1005", "combien j'ai consommé en mars ?")))
    march = [m for m in consumption.consumption_history(db, contract.id, default_period(clock.today())).months]
    assert "mars" in answer and answer.count("•") == 1
    assert all(fr.month(m.month) not in answer for m in march if m.month.month != 3)


@pytest.mark.parametrize("customer_number", SINGLE_CONTRACT)
def test_surplus_and_kitty_or_offer_explanation(stack, db, customer_number):
    customer, contract = contract_of(db, customer_number)
    surplus_answer = flat(texts(stack.say(customer_number, "combien de kWh j'ai injecté sur le réseau ?")))
    kitty_answer = flat(texts(stack.say(customer_number, "combien il y a dans ma cagnotte ?")))
    if contract.offer != OFFER_BOOST:
        assert "Boost Mon Surplus" in surplus_answer and "Boost Mon Surplus" in kitty_answer
        assert "€" not in kitty_answer
        return
    history = surplus.surplus_history(db, contract.id, default_period(clock.today()))
    assert f"Total : {flat(fr.kwh(history.total_kwh))}" in surplus_answer
    for month in history.months:
        assert f"{fr.month(month.month)} : {flat(fr.kwh(month.kwh))}" in surplus_answer
    update = surplus.kitty_status(db, contract.id)
    assert flat(fr.eur(update.balance_eur)) in kitty_answer
    assert flat(fr.price_per_kwh(update.price_eur_per_kwh)) in kitty_answer


@pytest.mark.parametrize("customer_number", SINGLE_CONTRACT)
def test_invoices(stack, db, customer_number):
    customer, contract = contract_of(db, customer_number)
    answer = flat(texts(stack.say(customer_number, "je veux voir mes dernières factures")))
    items = billing.recent_invoices(db, contract.id)
    if not items:
        assert "pas encore de facture" in answer
        return
    assert items[0].number in answer
    assert flat(fr.eur(items[0].amount_eur)) in answer
    if contract.offer == OFFER_BOOST:
        assert "revente" in answer


@pytest.mark.parametrize("customer_number", SINGLE_CONTRACT)
def test_next_instalment(stack, db, customer_number):
    customer, contract = contract_of(db, customer_number)
    answer = flat(texts(stack.say(customer_number, "c'est quand mon prochain prélèvement ?")))
    if contract.offer == OFFER_BOOST:
        assert "pas d'échéancier" in answer
    elif not contract.monthly_payment:
        assert "pas mensualisé" in answer
    else:
        nxt = billing.upcoming_instalments(db, contract.id, clock.today())[0]
        assert flat(fr.eur(nxt.amount_eur)) in answer
        assert flat(fr.long_date(nxt.due_date)) in answer


def test_multi_site_business_chooses_with_buttons(stack, db):
    customer = load_customer(db, "C1006")
    assert len(customer.contracts) == 2
    first = stack.say("C1006", "mon pdl stp")
    offered = buttons(first)
    assert {b["title"] for b in offered} == {c.short_name for c in customer.contracts}
    assert all(fr.pdl(c.pdl) not in flat(texts(first)) for c in customer.contracts)
    shop = next(c for c in customer.contracts if c.site_label == "Boutique de Lyon")
    payload = next(b["payload"] for b in offered if b["title"] == shop.short_name)
    answer = flat(texts(stack.say("C1006", payload)))
    assert flat(fr.pdl(shop.pdl)) in answer and shop.site_label in answer


def test_multi_site_named_in_the_question(stack, db):
    customer = load_customer(db, "C1006")
    workshop = next(c for c in customer.contracts if c.site_label == "Atelier de Villeurbanne")
    answer = flat(texts(stack.say("C1006", "le numero de contrat de l'atelier de villeurbanne")))
    assert workshop.contract_number in answer


def test_greeting_by_name_with_menu_of_the_offer(stack):
    messages = stack.say("C1003", "bonjour")
    assert "Sophie" in texts(messages)
    titles = [b["title"] for b in buttons(messages)]
    assert "Mon surplus" in titles and "Ma conso" not in titles
    titles = [b["title"] for b in buttons(stack.say("C1005", "salut"))]
    assert "Ma conso" in titles and "Mon surplus" not in titles


def test_power_cut_points_to_enedis_with_the_department(stack):
    answer = flat(texts(stack.say("C1005", "j'ai plus de courant depuis ce matin, coupure dans tout le quartier")))
    assert "09 72 67 50 33" in answer


def test_offer_specific_pro_customer_has_no_battery(stack):
    answer = texts(stack.say("C1008", "ma batterie virtuelle est pleine ?"))
    assert "Électricité verte Pro" in answer
    assert "kWh" not in answer
