"""hortense.rasa.patches: the cached validator of action server responses gives the same verdicts as Rasa's, without
the per-call schema check."""
from __future__ import annotations

import time

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from hortense.rasa import patches

GOOD = {"events": [{"event": "slot", "name": "selected_contract", "value": "X"}, {"event": "action", "name": "a"}],
        "responses": [{"text": "Bonjour", "buttons": [{"title": "A", "payload": "/a"}]}]}
BAD = {"events": [{"event": "slot"}], "responses": []}  # a slot event without its name


@pytest.fixture
def original():
    return RemoteAction._validate_action_result


def test_same_verdicts_as_rasa(original):
    action = RemoteAction("action_x", None)
    assert original(action, GOOD) is True
    assert patches._validate_action_result(action, GOOD) is True
    with pytest.raises(ValidationError) as theirs:
        original(action, BAD)
    with pytest.raises(ValidationError) as ours:
        patches._validate_action_result(action, BAD)
    assert ours.value.message == theirs.value.message


def test_install_patches_once_and_is_faster(original):
    action = RemoteAction("action_x", None)
    try:
        first = patches.install()
        assert RemoteAction._validate_action_result is patches._validate_action_result
        assert patches.install() is False or first is False
        started = time.perf_counter()
        for _ in range(20):
            original(action, GOOD)
        theirs = time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(20):
            action._validate_action_result(GOOD)
        ours = time.perf_counter() - started
        assert ours < theirs / 3, (ours, theirs)
    finally:
        RemoteAction._validate_action_result = original
        patches._state.pop("installed", None)
