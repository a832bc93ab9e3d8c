"""The conversation layer's pure parts: questions in one message, follow-ups, yes/no, manners cues."""
from __future__ import annotations

from datetime import date

import pytest

from hortense.conversation import cues
from hortense.conversation.questions import call_request_in, questions_in, several_questions
from hortense.energy.periods import parse_period

TODAY = date(2026, 11, 29)


@pytest.mark.parametrize("text,intents", [
    ("mon numéro de contrat et mes heures creuses svp", ["ask_contract_number", "ask_offpeak_hours"]),
    ("c'est quoi mes heures creuses et ma batterie elle en est où", ["ask_offpeak_hours", "ask_battery_level"]),
    ("ma cagnotte et mon surplus d'octobre", ["ask_kitty", "ask_surplus"]),
    ("mon pdl, mon num de contrat, et ma derniere facture", ["ask_pdl", "ask_contract_number", "ask_invoices"]),
    ("le montant de mon prochain prélèvement ainsi que ma facture", ["ask_next_instalment", "ask_invoices"]),
    ("quelles sont les HC ? et ma conso du mois dernier", ["ask_offpeak_hours", "ask_consumption"]),
])
def test_every_question_is_found_in_order(text, intents):
    assert [q.intent for q in several_questions(text)] == intents


@pytest.mark.parametrize("text", ["ma conso en heures pleines et heures creuses", "ma conso de janvier et de février",
                                  "je veux changer mon rib", "mon pdl stp"])
def test_one_question_is_not_several(text):
    assert several_questions(text) == []


def test_each_question_keeps_its_own_clause():
    kitty, surplus = questions_in("ma cagnotte et mon surplus d'octobre")
    assert parse_period(kitty.text, TODAY).explicit is False
    assert parse_period(surplus.text, TODAY).start == date(2026, 10, 1)


def test_a_contract_number_or_a_payload_is_not_a_year():
    assert parse_period('/select_contract{"contract_number": "EVP-2021-000106"}', TODAY).explicit is False
    assert parse_period("EVP-2021-000106", TODAY).explicit is False
    assert parse_period("ma conso en 2025", TODAY).start == date(2025, 1, 1)


@pytest.mark.parametrize("text,expected", [("oui", True), ("ouais", True), ("ok", True), ("yes", True),
                                           ("oui je confirme", True), ("non", False), ("nan", False),
                                           ("non merci", False), ("mon pdl", None), ("le 2e", None)])
def test_yes_no(text, expected):
    assert cues.yes_no(text) is expected


@pytest.mark.parametrize("text,leaving", [("ok ce sera tout, au revoir", True), ("parfait, à plus", True),
                                          ("non merci c'est tout", True), ("salut", False), ("mon pdl", False)])
def test_closing(text, leaving):
    assert cues.is_closing(text) is leaving


@pytest.mark.parametrize("text,declined", [("le PDL de mon voisin", True), ("le compte de ma mère C1004", True),
                                           ("les factures de mon fils", True), ("mon pdl", False),
                                           ("mon contrat C1001", False)])
def test_someone_elses_data(text, declined):
    assert cues.asks_third_party(text, "C1001") is declined


def test_follow_up_cues():
    assert cues.follow_up("et en septembre ?", TODAY).period_named
    assert cues.follow_up("et pour l'autre site ?", TODAY).other_site
    assert cues.follow_up("et en heures creuses ?", TODAY).offpeak
    assert cues.follow_up("et la facture d'avant ?", TODAY).previous
    assert cues.is_elliptical("et en septembre ?") and not cues.is_elliptical("mon pdl")


def test_a_question_is_not_a_reason_but_a_subject_is():
    assert cues.looks_like_question("au fait c'est quoi mon PDL ?")
    assert cues.looks_like_question("envoyez-moi mon attestation")
    assert cues.looks_like_reason("une question sur ma dernière facture")
    assert cues.wants_to_stop("laissez tomber") and cues.wants_restart("on recommence")


@pytest.mark.parametrize(
    ("text", "questions", "call"),
    [
        ("c'est quoi mon pdl et je voudrais un rdv demain matin", ["ask_pdl"], "je voudrais un rdv demain matin"),
        ("je veux prendre rdv, et au fait mon numéro de contrat ?", ["ask_contract_number"], "je veux prendre rdv"),
        ("ma conso d'octobre et un rendez-vous jeudi", ["ask_consumption"], "un rendez-vous jeudi"),
        ("rappelez-moi demain, et mes heures creuses svp", ["ask_offpeak_hours"], "rappelez-moi demain"),
        ("j'ai un rdv ? et mon pdl", ["ask_pdl"], None),  # a question about the booked call, not a new one
        ("mon surplus de septembre et d'octobre", ["ask_surplus"], None),
    ],
)
def test_a_call_request_beside_questions_stays_apart(text, questions, call):
    """The request keeps its own time ("demain matin") and never lends it to the question before it."""
    assert [q.intent for q in questions_in(text)] == questions
    assert call_request_in(text) == call
    assert all("rdv" not in q.text and "rendez" not in q.text for q in questions_in(text))
