"""The linear n-gram intent model averaged with DIET's ranking (hortense/rasa/linear_intents.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from hortense.rasa.linear_intents import LinearIntentBlend

ROOT = Path(__file__).resolve().parents[2]

EXAMPLES = {
    "ask_invoices": ["ma dernière facture", "mes factures svp", "la facture de mars", "factures impayées ?"],
    "ask_pdl": ["mon numéro de PDL", "c'est quoi mon pdl", "le numéro PRM", "mon point de livraison"],
    "greet": ["bonjour", "salut", "bonsoir hortense", "coucou"],
}


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


def _trained(tmp_path: Path, **config) -> tuple[LinearIntentBlend, LocalModelStorage, Resource]:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("linear_intents")
    component = LinearIntentBlend.create(config, storage, resource, _context())
    data = TrainingData([Message(data={TEXT: t, INTENT: i}) for i, texts in EXAMPLES.items() for t in texts])
    component.train(data)
    return component, storage, resource


def _ranked(text: str, diet: dict[str, float] | None) -> Message:
    message = Message(data={TEXT: text})
    if diet is not None:
        ranking = [{"name": n, "confidence": c} for n, c in sorted(diet.items(), key=lambda kv: -kv[1])]
        message.set(INTENT, {"name": ranking[0]["name"], "confidence": ranking[0]["confidence"]})
        message.set(INTENT_RANKING_KEY, ranking)
    return message


def _linear_only(component: LinearIntentBlend, text: str) -> dict[str, float]:
    message = component.process([_ranked(text, None)])[0]
    return {r["name"]: r["confidence"] for r in message.get(INTENT_RANKING_KEY)}


def test_without_diet_the_linear_model_reads_typos_and_missing_accents(tmp_path):
    component, _, _ = _trained(tmp_path)
    message = component.process([_ranked("ma derniere factur", None)])[0]
    assert message.get(INTENT)["name"] == "ask_invoices"
    ranking = message.get(INTENT_RANKING_KEY)
    assert [r["name"] for r in ranking][0] == "ask_invoices"
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)


def test_the_blend_is_the_configured_share_of_each_ranking(tmp_path):
    component, _, _ = _trained(tmp_path, diet_share=0.6)
    linear = _linear_only(component, "mon pdl svp")
    diet = {"greet": 0.7, "ask_pdl": 0.3}
    message = component.process([_ranked("mon pdl svp", diet)])[0]
    blended = {r["name"]: r["confidence"] for r in message.get(INTENT_RANKING_KEY)}
    for name in EXAMPLES:
        assert blended[name] == pytest.approx(0.6 * diet.get(name, 0.0) + 0.4 * linear[name])
    top = max(blended, key=lambda name: blended[name])
    assert message.get(INTENT) == {"name": top, "confidence": blended[top]}


def test_a_confident_linear_model_overrules_an_unsure_diet(tmp_path):
    component, _, _ = _trained(tmp_path)
    message = component.process([_ranked("le numero de mon pdl", {"greet": 0.55, "ask_pdl": 0.45})])[0]
    assert message.get(INTENT)["name"] == "ask_pdl"


def test_persisted_and_loaded_it_ranks_the_same(tmp_path):
    component, storage, resource = _trained(tmp_path)
    loaded = LinearIntentBlend.load({}, storage, resource, _context())
    before = component.process([_ranked("salut toi", {"greet": 0.9, "ask_pdl": 0.1})])[0]
    after = loaded.process([_ranked("salut toi", {"greet": 0.9, "ask_pdl": 0.1})])[0]
    assert after.get(INTENT_RANKING_KEY) == before.get(INTENT_RANKING_KEY)


def test_untrained_it_leaves_diet_alone(tmp_path):
    storage = LocalModelStorage(tmp_path)
    component = LinearIntentBlend.create({}, storage, Resource("empty"), _context())
    component.train(TrainingData([Message(data={TEXT: "bonjour", INTENT: "greet"})]))
    loaded = LinearIntentBlend.load({}, storage, Resource("empty"), _context())
    message = loaded.process([_ranked("bonjour", {"greet": 0.8, "ask_pdl": 0.2})])[0]
    assert message.get(INTENT) == {"name": "greet", "confidence": 0.8}


def test_the_pipeline_blends_after_diet_and_before_the_fallback():
    """The fallback threshold must read the blend, and the blend must read DIET's ranking."""
    names = [c["name"] for c in yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]]
    blend = names.index("hortense.rasa.linear_intents.LinearIntentBlend")
    assert names.index("DIETClassifier") < blend < names.index("FallbackClassifier")


def test_with_two_intents_both_are_ranked(tmp_path):
    """scikit-learn gives one decision value for two classes: both intents still get a confidence."""
    storage = LocalModelStorage(tmp_path)
    component = LinearIntentBlend.create({}, storage, Resource("two"), _context())
    data = TrainingData([Message(data={TEXT: t, INTENT: i}) for i in ("ask_pdl", "greet") for t in EXAMPLES[i]])
    component.train(data)
    message = component.process([_ranked("bonjour bonjour", None)])[0]
    ranking = {r["name"]: r["confidence"] for r in message.get(INTENT_RANKING_KEY)}
    assert set(ranking) == {"ask_pdl", "greet"}
    assert message.get(INTENT)["name"] == "greet"
    assert sum(ranking.values()) == pytest.approx(1.0)
