"""hortense.rasa.patches: the cached validator of action server responses gives the same verdicts as Rasa's, without
the per-call schema check."""
from __future__ import annotations

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


def test_install_patches_once_and_builds_the_schema_validator_once(original, monkeypatch):
    """Rasa 3.6 rebuilds its JSON-schema validator on every action call; once installed, the schema is read once."""
    action = RemoteAction("action_x", None)
    monkeypatch.setattr(patches, "_state", {})
    built = []
    spec = RemoteAction.action_response_format_spec
    monkeypatch.setattr(RemoteAction, "action_response_format_spec", staticmethod(lambda: built.append(1) or spec()))
    try:
        assert patches.install() is True
        assert patches.install() is False
        assert RemoteAction._validate_action_result is patches._validate_action_result
        for _ in range(20):
            assert action._validate_action_result(GOOD) is True
        with pytest.raises(ValidationError):
            action._validate_action_result(BAD)
        assert len(built) == 1
    finally:
        RemoteAction._validate_action_result = original
