"""Keep what customers type (IBAN, card number, link code, token, password) out of everything Rasa writes.

Three exits, three guards:
- the tracker store: `RedactingSQLTrackerStore` writes a redacted copy of each event, one row per event
  (Rasa finds the events it has not stored yet by counting rows), and never touches the live tracker,
  whose unredacted latest message the current turn's actions still need (the link code);
- the event broker: whatever broker the store is given is wrapped so that every published event is
  redacted, whichever code path publishes it (Rasa's fail-safe in-memory fallback reuses the broker);
- the logs: `install_log_redaction` redacts every log record of the process when it is created, and
  blanks the values of the configured secrets (tokens can end up in URLs and tracebacks).

endpoints.yml: `tracker_store: type: hortense.rasa.tracker_store.RedactingSQLTrackerStore` (same keys as SQL).
Rasa silently falls back to an in-memory store when that class fails to import: the connectors' guard
checks the store in use at start-up (`store_in_use`) and logs loudly.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from hortense.security.redaction import RedactingFilter, redact_event
from hortense.settings import SECRET_NAMES, environment

logger = logging.getLogger(__name__)

SECRET_MARK = "[SECRET]"
# Button payloads the bot itself offered ("/select_contract{...}") are kept as sent: the connectors' guard
# compares what a user sends with them. They are built by actions from database values, never from input.
_PAYLOAD = re.compile(r"^/\w+(\{.*\})?$", re.DOTALL)
# Environment variables whose values are secrets, besides the settings' own (channel tokens, app secrets).
_SECRET_ENV = re.compile(r"^HORTENSE_\w*(TOKEN|SECRET|PEPPER|PASSWORD|KEY)$")
_MIN_SECRET_CHARS = 8


def redact_for_storage(event: dict) -> dict:
    """A redacted deep copy of a serialised event (the argument is left untouched)."""
    clean = redact_event(event)
    if event.get("event") == "bot":
        _restore_offered_payloads(event, clean)
    return clean


def _restore_offered_payloads(original: dict, clean: dict) -> None:
    for key in ("buttons", "quick_replies"):
        sent = (original.get("data") or {}).get(key) or []
        kept = (clean.get("data") or {}).get(key) or []
        for before, after in zip(sent, kept, strict=False):
            payload = before.get("payload") if isinstance(before, dict) else None
            if isinstance(payload, str) and isinstance(after, dict) and _PAYLOAD.match(payload):
                after["payload"] = payload


class RedactingEventBroker(EventBroker):
    """Wraps the configured broker: every event is redacted before it leaves the process."""

    def __init__(self, inner: EventBroker) -> None:
        self.inner = inner

    @classmethod
    def wrap(cls, broker: EventBroker | None) -> EventBroker | None:
        if broker is None or isinstance(broker, cls):
            return broker
        return cls(broker)

    def publish(self, event: dict, *args: Any, **kwargs: Any) -> None:
        self.inner.publish(redact_for_storage(event), *args, **kwargs)

    def is_ready(self) -> bool:
        return self.inner.is_ready()

    async def close(self) -> None:
        await self.inner.close()

    def __getattr__(self, name: str) -> Any:  # broker-specific attributes (queues, paths) stay reachable
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)


class RedactingSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` that stores and streams redacted copies of the events."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        install_log_redaction()
        super().__init__(*args, **kwargs)
        if self.engine.url.get_backend_name() == "sqlite":  # every conversation: 0600, whatever the umask
            from hortense.security.files import private_file

            private_file(self.engine.url.database)
        logger.info("redacting tracker store in use: typed secrets are not stored")

    @property
    def event_broker(self) -> EventBroker | None:
        return self._event_broker

    @event_broker.setter
    def event_broker(self, broker: EventBroker | None) -> None:
        self._event_broker = RedactingEventBroker.wrap(broker)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """SQLTrackerStore.save, with each row written from a redacted copy of its event."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = redact_for_storage(event.as_dict())
                intent = ((data.get("parse_data") or {}).get("intent") or {}).get(INTENT_NAME_KEY)
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=intent,
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()


def store_in_use(store: TrackerStore) -> TrackerStore:
    """The store behind Rasa's wrappers (FailSafeTrackerStore, AwaitableTrackerStore)."""
    seen = 0
    while hasattr(store, "_tracker_store") and seen < 5:
        store = store._tracker_store  # noqa: SLF001 (Rasa's wrappers expose no public accessor)
        seen += 1
    return store


def check_store(store: TrackerStore) -> bool:
    """Log what the store in use means for secrets; False when typed secrets would be written in clear."""
    inner = store_in_use(store)
    if isinstance(inner, RedactingSQLTrackerStore):
        logger.info("tracker store check: %s (redacting)", type(inner).__name__)
        return True
    if isinstance(inner, InMemoryTrackerStore) and inner.event_broker is None:
        logger.error(
            "tracker store check: conversations are kept in memory only (lost on restart). If "
            "endpoints.yml names hortense.rasa.tracker_store.RedactingSQLTrackerStore, it failed to import."
        )
        return True
    logger.critical(
        "tracker store check: %s does not redact: typed secrets would be stored in clear; "
        "the connectors refuse messages until endpoints.yml uses "
        "hortense.rasa.tracker_store.RedactingSQLTrackerStore",
        type(inner).__name__,
    )
    return False


# --- logs ---------------------------------------------------------------------------------------------


class _SecretValuesFilter(logging.Filter):
    """Blanks known secret values (after `RedactingFilter` has formatted the record)."""

    def __init__(self, values: Iterable[str]) -> None:
        super().__init__()
        self.values = sorted({v for v in values if v and len(v) >= _MIN_SECRET_CHARS}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for value in self.values:
            if value in text:
                text = text.replace(value, SECRET_MARK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = self.scrub(record.msg)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        return True


def known_secret_values(environ: dict | None = None) -> set[str]:
    """Values of every secret this process may hold: settings secrets, channel tokens, database passwords."""
    env = environment() if environ is None else environ
    values = {env.get(name, "") for name in SECRET_NAMES}
    for name, value in env.items():
        if _SECRET_ENV.match(name):
            values.add(value)
        elif name.startswith("HORTENSE_") and name.endswith("_URL") and "@" in value:
            try:
                password = urlsplit(value).password
            except ValueError:
                password = None
            if password:
                values.add(password)
    return {v for v in values if v}


_state: dict[str, Any] = {}


def install_log_redaction(extra_secrets: Iterable[str] = ()) -> None:
    """Redact every log record of this process from now on (idempotent; later calls add secrets).

    Installed as a record factory rather than a handler filter, so records reach every handler (Rasa's,
    Sanic's, structlog's, a file handler added later) already redacted.
    """
    secrets = known_secret_values() | set(extra_secrets)
    if "scrubber" in _state:
        scrubber = _state["scrubber"]
        scrubber.values = _SecretValuesFilter(set(scrubber.values) | secrets).values
        return
    redactor, scrubber = RedactingFilter(), _SecretValuesFilter(secrets)
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redactor.filter(record)
        scrubber.filter(record)
        return record

    logging.setLogRecordFactory(factory)
    _state.update(scrubber=scrubber, previous=previous)


def uninstall_log_redaction() -> None:
    """For tests: put the previous record factory back."""
    if "previous" in _state:
        logging.setLogRecordFactory(_state["previous"])
    _state.clear()
