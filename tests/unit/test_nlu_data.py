"""The NLU data keeps the properties its figures depend on."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
TRAINING = sorted((ROOT / "data" / "nlu").glob("*.yml"))
EVALUATION = ROOT / "tests" / "data" / "nlu_eval.yml"


def labelled(*paths: Path) -> list[tuple[str, str]]:
    """(phrasing in lower case with spaces collapsed, intent) for every example of the files."""
    found = []
    for path in paths:
        for block in yaml.safe_load(path.read_text()).get("nlu", []):
            for line in block.get("examples", "").splitlines() if "intent" in block else ():
                if line.strip().startswith("- "):
                    found.append((re.sub(r"\s+", " ", line.strip()[2:].strip().lower()), block["intent"]))
    return found


def test_the_evaluation_set_is_never_trained_on():
    """`make nlu-report` calls it "phrasings never used for training": a shared phrasing would flatter it."""
    trained = {text for text, _ in labelled(*TRAINING)}
    assert sorted(text for text, _ in labelled(EVALUATION) if text in trained) == []


def test_no_phrasing_is_labelled_with_two_intents():
    intents: dict[str, set[str]] = {}
    for text, intent in labelled(*TRAINING):
        intents.setdefault(text, set()).add(intent)
    assert {text: names for text, names in intents.items() if len(names) > 1} == {}
