"""Every run-time patch of a Rasa class in this project, each forced by a Rasa 3.6.21 defect.

`install()` applies them all (idempotent). It must run in the Rasa server process: the website connector calls
it once when Rasa builds the channels (channels/web.py), not at import time. Nothing else patches Rasa: where a
stock channel is defective (socket.io's un-awaited `enter_room`, Telegram's closed event loop, Twilio's unchecked
signature), the project's own connector subclasses or replaces it instead.

Defects and their patches:

1. Every custom action call validates the whole schema, not just the response.
   `RemoteAction._validate_action_result` (rasa/core/actions/action.py) calls `jsonschema.validate(result,
   schema)`, which first checks the (large) events schema against the JSON Schema meta-schema, on every custom
   action call. Profiled under `make bench`, that was the largest single cost of a Hortense turn (more than NLU
   and the policies together); without the patch the throughput targets of the product spec are out of reach
   (bench/results/2026-11-26.md: saturated throughput 0.65x the stock bot's without it, 1.19x with it).
   The replacement validates against the same schema with a validator built once: same schema, same
   `ValidationError`, same message.
2. `GET /` discloses Rasa's exact version ("Hello from Rasa: 3.6.21"): a gift to anyone matching known
   vulnerabilities. `rasa.server.add_root_route` adds it before any channel exists, so `hide_version` (a
   `before_server_start` listener of the website connector) swaps that route's handler for a version-less one.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)
_state: dict = {}


# --- 1. RemoteAction: the action response schema is checked once, not on every call -------------------------


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


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    from jsonschema import ValidationError, exceptions
    from rasa.shared.constants import DOCS_BASE_URL

    validator = _cached_validator()
    error = exceptions.best_match(validator.iter_errors(result))
    if error is None:
        return True
    error.message += (
        f". Failed to validate Action server response from API, make sure your response from the Action "
        f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    assert isinstance(error, ValidationError)
    raise error


def _patch_remote_action() -> None:
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = _validate_action_result


# --- 2. GET /: no version -----------------------------------------------------------------------------------------

ROOT_TEXT = "Hello from Rasa"


async def _hello(_request: Any) -> Any:
    from sanic import response

    return response.text(ROOT_TEXT)


def hide_version(app: Any, _loop: Any = None) -> None:
    """Replace the handler of Rasa's root route (if any) by one that does not name the version."""
    for route in list(getattr(app.router, "routes", ())):
        if route.path in ("", "/") and getattr(route.handler, "__name__", "") == "hello":
            route.handler = _hello
    cached = getattr(app.router.get, "cache_clear", None)
    if cached:
        cached()


# --- all of them -------------------------------------------------------------------------------------------------


def install() -> bool:
    """Apply every patch above in this process; returns True the first time."""
    if _state.get("installed"):
        return False
    _patch_remote_action()
    _state["installed"] = True
    logger.debug("rasa patches installed: cached action response validator")
    return True
