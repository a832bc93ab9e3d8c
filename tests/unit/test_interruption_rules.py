"""The booking form's interruptions have one list, `actions.appointments.INTERRUPTIONS`: the form's validation
reads it to let a question through, and data/rules/*.yml must hold exactly one rule per intent of it that
answers the question and resumes the form. Likewise `EXITS` (and "goodbye"): the intents whose rule leaves it."""
from __future__ import annotations

from pathlib import Path

import yaml

from actions.appointments import EXITS, FORM, INTERRUPTIONS

RULES = Path(__file__).resolve().parents[2] / "data" / "rules"


def in_form_rules() -> list[dict]:
    rules = []
    for path in sorted(RULES.glob("*.yml")):
        for rule in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("rules") or []:
            if {"active_loop": FORM} in (rule.get("condition") or []):
                rules.append(rule)
    return rules


def test_every_interruption_has_one_rule_that_answers_and_resumes_the_form():
    resumed = []
    for rule in in_form_rules():
        steps = rule["steps"]
        if len(steps) == 4 and "intent" in steps[0] and steps[2:] == [{"action": FORM}, {"active_loop": FORM}]:
            assert "action" in steps[1] and steps[1]["action"] != FORM, rule["rule"]
            resumed.append(steps[0]["intent"])
    assert len(resumed) == len(set(resumed)), sorted(resumed)
    assert set(resumed) == INTERRUPTIONS


def test_every_exit_has_a_rule_that_leaves_the_form():
    left = [
        rule["steps"][0]["intent"]
        for rule in in_form_rules()
        if rule["steps"][-1] == {"active_loop": None} and "intent" in rule["steps"][0]
    ]
    # "goodbye" leaves too; the form reads it apart from EXITS (a closing phrase may also answer the step).
    assert sorted(left) == sorted(EXITS | {"goodbye"})
