"""The demo tables in hortense/db/data/ (demo customers, scripted tracker turns) and their loader: the files load into
the seed's dataclasses, and a record that does not fit is an error naming the file and the record."""
from __future__ import annotations

import shutil
from datetime import time

import pytest
import yaml

from hortense.db import demo_data, seed, seed_tracker
from hortense.db.models import OFFER_BOOST, OFFER_STOCKAGE


def test_the_demo_customers_load_with_their_sites():
    customers = seed.demo_customers()
    assert [c.number for c in customers] == [f"C100{k}" for k in range(1, 9)]
    moreau = customers[1].sites[0]
    assert moreau.offer == OFFER_STOCKAGE and moreau.postcode == "44000" and moreau.base_kwh == 260
    assert moreau.offpeak[0] == (time(2, 0), time(7, 0), "hiver", 11, 3)
    assert moreau.offpeak[3] == (time(11, 0), time(14, 0), "été", 4, 10)
    petit = customers[3].sites[0]
    assert petit.offer == OFFER_BOOST and petit.resale_price == "0.0761" and petit.site_label is None
    assert petit.offpeak == [(time(0, 30), time(6, 30)), (time(14, 0), time(16, 0))]
    assert customers[4].company == "Boulangerie Bernard SARL" and customers[0].company is None
    assert seed.demo_customers() is customers  # read once


def test_the_scripted_turns_load_with_their_defaults():
    script = seed_tracker.scripted_turns()
    greet, pdl = script.turns[0], script.turns[1]
    assert greet.intent == "greet" and greet.slot is None and greet.action_name == "action_greet"
    assert pdl.slot == "last_question" and "c koi mon pdl" in pdl.said
    assert script.fallback.action_name == "action_hortense_fallback"
    assert script.intents[-5:] == ("out_of_scope", "affirm", "deny", "help", "goodbye")


def test_a_record_with_an_unknown_or_missing_key_is_named():
    raw = {"intent": "greet", "said": ["bonjour"], "anwser": "Bonjour !"}
    with pytest.raises(demo_data.DemoDataError) as error:
        demo_data.record(seed_tracker.Scripted, raw, "turns.yml, turns[1] (greet)", {"said": demo_data.texts})
    assert str(error.value) == "turns.yml, turns[1] (greet): unknown key(s) anwser; missing key(s) answer"


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("postcode", 69001, "69001 is not a string"),
        ("monthly", "yes", "'yes' is not true or false"),
        ("instalment_day", True, "True is not a whole number or null"),
        ("resale_price", 0.1269, "0.1269 is not a decimal written as a string"),
        ("offpeak", ["22h-6h"], "offpeak[1]: '22h-6h' is not a time range 'HH:MM-HH:MM'"),
        ("offpeak", [{"hours": "02:00-07:00", "season": "printemps"}], "unknown season 'printemps'"),
        ("offer", "stockage", "'stockage' is not an offer"),
    ],
)
def test_a_value_of_the_wrong_kind_is_named_with_its_file_and_record(tmp_path, monkeypatch, field, value, message):
    shutil.copy(demo_data.DATA / "demo_customers.yml", tmp_path)
    monkeypatch.setattr(demo_data, "DATA", tmp_path)
    text = (tmp_path / "demo_customers.yml").read_text(encoding="utf-8")
    content = yaml.safe_load(text)
    content["customers"][2]["sites"][0][field] = value
    (tmp_path / "demo_customers.yml").write_text(yaml.safe_dump(content, allow_unicode=True), "utf-8")
    with pytest.raises(demo_data.DemoDataError) as error:
        seed.demo_customers.__wrapped__()
    assert str(error.value).startswith(
        f"demo_customers.yml, customers[3] (C1003), sites[1] (BMS-2023-000103), {field}"
    ), error.value
    assert message in str(error.value)
