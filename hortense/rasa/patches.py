"""Speed-ups for Rasa 3.6 found by profiling `make bench`; behaviour unchanged.

`install()` (idempotent) must run in the Rasa server process: call it at import time of a module Rasa
loads at start-up (the website connector, channels/web.py).

1. Action server responses. `RemoteAction._validate_action_result` calls `jsonschema.validate(result,
   schema)`, which first checks the (large) events schema against the JSON Schema meta-schema, on every
   custom action call. Profiled, that was the largest single cost of a Hortense turn (more than NLU and
   the policies together). The replacement validates against the same schema with a validator built once:
   same schema, same `ValidationError`, same message.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Text

logger = logging.getLogger(__name__)
_state: dict = {}


def _cached_validator():
    validator = _state.get("validator")
    if validator is None:
        from jsonschema.validators import validator_for
        from rasa.core.actions.action import RemoteAction

        schema = RemoteAction.action_response_format_spec()
        cls = validator_for(schema)
        cls.check_schema(schema)  # once, instead of once per call
        validator = _state["validator"] = cls(schema)
    return validator


def _validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
    from jsonschema import ValidationError, exceptions
    from rasa.shared.constants import DOCS_BASE_URL

    validator = _cached_validator()
    error = exceptions.best_match(validator.iter_errors(result))
    if error is None:
        return True
    error.message += (
        f". Failed to validate Action server response from API, make sure your response from the Action "
        f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions")
    assert isinstance(error, ValidationError)
    raise error


def install() -> bool:
    """Patch Rasa in this process; returns True the first time."""
    if _state.get("installed"):
        return False
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = _validate_action_result
    _state["installed"] = True
    logger.debug("rasa speed-ups installed (cached action response validator)")
    return True
