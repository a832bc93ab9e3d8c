"""Each action, run for real against the seeded database: right customer, right contract, right refusals."""
from __future__ import annotations

from datetime import date

import pytest

from actions import account, base, billing, energy, general
from hortense.security.identity import sign_assertion
from tests.conftest import FIXED_TODAY
from tests.unit.actions_support import bot_event, run, text_of, tracker, user_event

PDL_C1001 = "14 295 730 100 101"


@pytest.fixture(autouse=True)
def _fixed_day(seeded_db, clock):
    """The seeded day, on Hortense's one clock: actions, assertions and the data agree on the date."""
    assert base.today() == FIXED_TODAY


def test_pdl_for_the_verified_customer():
    messages, events = run(account.AskPdl(), tracker("mon pdl", "ask_pdl", "C1001"))
    assert PDL_C1001 in text_of(messages)


@pytest.mark.parametrize("case", ["no_assertion", "forged_signature", "other_sender", "other_channel"])
def test_no_trusted_identity_gets_no_data(case):
    kwargs = {
        "no_assertion": {"signed": False},
        "forged_signature": {"assertion": {**sign_assertion("web", "web-C1001", "C1001"), "customer": "C1003"}},
        "other_sender": {"assertion": sign_assertion("web", "web-C1003", "C1003")},
        "other_channel": {"assertion": sign_assertion("telegram", "web-C1001", "C1001")},
    }[case]
    messages, _ = run(account.AskPdl(), tracker("mon pdl", "ask_pdl", "C1001", **kwargs))
    text = text_of(messages)
    assert "connect" in text and "14 295" not in text


def test_multi_site_asks_which_contract_then_answers_the_pending_question():
    messages, events = run(account.AskContractNumber(), tracker("numero de contrat", "ask_contract_number", "C1006"))
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert titles == ["Atelier de Villeurbanne", "Boutique de Lyon"]
    assert {"event": "slot", "timestamp": None, "name": "pending_question", "value": "ask_contract_number"} in events
    entity = [{"entity": "contract_number", "value": "EVP-2023-000107"}]
    messages, events = run(account.SelectContract(), tracker(
        "/select_contract", "select_contract", "C1006", entities=entity,
        slots={"pending_question": "ask_contract_number"}))
    assert "EVP-2023-000107" in text_of(messages) and "Boutique de Lyon" in text_of(messages)
    assert any(e.get("name") == "selected_contract" and e.get("value") == "EVP-2023-000107" for e in events)


def test_selecting_another_customers_contract_is_refused():
    entity = [{"entity": "contract_number", "value": "SV-2023-000101"}]
    messages, events = run(account.SelectContract(), tracker(
        "/select_contract", "select_contract", "C1006", entities=entity, slots={"pending_question": "ask_pdl"}))
    assert "ne figure pas" in text_of(messages)
    assert PDL_C1001 not in text_of(messages)
    assert not any(e.get("name") == "selected_contract" for e in events)


def test_a_slot_naming_another_customers_contract_is_ignored():
    messages, _ = run(account.AskPdl(), tracker("mon pdl", "ask_pdl", "C1003",
                                                slots={"selected_contract": "SV-2023-000101"}))
    assert "14 295 730 100 103" in text_of(messages) and PDL_C1001 not in text_of(messages)


def test_site_named_in_the_message_picks_the_contract():
    messages, _ = run(account.AskPdl(), tracker("le pdl de villeurbanne", "ask_pdl", "C1006"))
    assert "14 295 730 100 106" in text_of(messages)


@pytest.mark.parametrize("customer,action,expected", [
    ("C1003", energy.AskBatteryLevel(), "Stockage Virtuel"),
    ("C1005", energy.AskKitty(), "Boost Mon Surplus"),
    ("C1003", energy.AskConsumption(), "pas votre consommation"),
    ("C1002", billing.AskNextInstalment(), "pas mensualisé"),
    ("C1004", billing.AskNextInstalment(), "pas d'échéancier"),
])
def test_offer_mismatch_is_explained(customer, action, expected):
    messages, _ = run(action, tracker("question", action.intent, customer))
    assert expected in text_of(messages)
    assert messages[0]["buttons"], "an alternative is offered"


def test_consumption_default_period_is_the_last_six_complete_months():
    messages, _ = run(energy.AskConsumption(), tracker("ma conso", "ask_consumption", "C1001"))
    text = text_of(messages)
    assert "de mai 2026 à octobre 2026" in text
    assert text.count("•") == 6


def test_empty_history_customer():
    messages, _ = run(energy.AskConsumption(), tracker("ma conso", "ask_consumption", "C1007"))
    assert "pas encore de relevé" in text_of(messages)
    messages, _ = run(billing.AskInvoices(), tracker("mes factures", "ask_invoices", "C1007"))
    assert "pas encore de facture" in text_of(messages)


def test_kitty_shows_balance_and_computation():
    messages, _ = run(energy.AskKitty(), tracker("ma cagnotte", "ask_kitty", "C1003"))
    text = text_of(messages)
    assert "€" in text and "0,1269 €/kWh" in text and "×" in text


def test_fallback_first_suggests_then_offers_an_advisor():
    ranking = ({"name": "nlu_fallback"}, {"name": "ask_invoices"}, {"name": "ask_next_instalment"})
    first = tracker("euh le truc", "nlu_fallback", "C1001", ranking=ranking)
    messages, _ = run(general.Fallback(), first)
    assert "Vouliez-vous dire" in text_of(messages)
    assert [b["payload"] for b in messages[0]["buttons"]][:2] == ["/ask_invoices", "/ask_next_instalment"]
    earlier = user_event("bla", "nlu_fallback", "C1001")
    second = tracker("toujours pas", "nlu_fallback", "C1001", before=(earlier, bot_event("Vouliez-vous dire… ?")))
    messages, _ = run(general.Fallback(), second)
    assert "conseiller" in text_of(messages)


def test_power_cut_gives_enedis_number_of_the_department():
    messages, _ = run(general.OutOfScope(), tracker("coupure de courant chez moi", "out_of_scope", "C1003"))
    assert "09 72 67 50 34" in text_of(messages)
    messages, _ = run(general.OutOfScope(), tracker("coupure de courant", "out_of_scope", None))
    assert "numéro de votre département" in text_of(messages)


def test_moving_and_cancelling_offer_an_advisor_call():
    for text in ("je déménage le mois prochain", "je veux résilier mon contrat"):
        messages, _ = run(general.OutOfScope(), tracker(text, "out_of_scope", "C1001"))
        assert "conseiller" in text_of(messages)
        assert messages[0]["buttons"][0]["payload"] == "/book_appointment"


def test_yes_accepts_the_offer_of_the_previous_message():
    offer = bot_event("Voulez-vous prendre rendez-vous ?", [{"title": "Rendez-vous", "payload": "/book_appointment"}])
    _, events = run(general.Affirm(), tracker("oui", "affirm", "C1001", before=(offer,)))
    assert {"event": "followup", "timestamp": None, "name": "action_start_booking"} in events


def test_greeting_uses_the_name_and_the_offer_menu():
    messages, _ = run(general.Greet(), tracker("bonjour", "greet", "C1004"))
    assert "Marc" in text_of(messages)
    assert [b["title"] for b in messages[0]["buttons"]] == ["Mon contrat", "Mon surplus", "Mes factures", "Rendez-vous"]
