"""The redacting tracker store: loaded by Rasa from endpoints.yml, one redacted row per event, the live
tracker untouched, a redacted event stream, and redacted logs."""
from __future__ import annotations

import asyncio
import json
import logging
import sqlite3

import pytest
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.utils.endpoints import EndpointConfig

from hortense.rasa import tracker_store as ts
from hortense.rasa.tracker_store import (
    RedactingEventBroker,
    RedactingSQLTrackerStore,
    check_store,
    install_log_redaction,
    redact_for_storage,
    store_in_use,
    uninstall_log_redaction,
)

IBAN = "FR76 3000 6000 0112 3456 7890 189"
CARD = "4111 1111 1111 1111"
CODE = "482913"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJDMTAwMSJ9.c2lnbmF0dXJlLXZhbHVl"
PASSWORD = "Soleil2024!"
SECRETS = [IBAN, IBAN.replace(" ", ""), CARD, CARD.replace(" ", ""), CODE, JWT, PASSWORD]
PAYLOAD = '/select_contract{"contract_number": "EVP-2021-000106"}'
DOMAIN = Domain.from_dict({"intents": ["link_account", "select_contract"],
                           "slots": {"selected_contract": {"type": "text", "mappings": [{"type": "custom"}]}}})


class RecordingBroker(EventBroker):
    def __init__(self) -> None:
        self.events: list[dict] = []

    def publish(self, event: dict) -> None:
        self.events.append(event)


def endpoint(path) -> EndpointConfig:
    return EndpointConfig(type="hortense.rasa.tracker_store.RedactingSQLTrackerStore", dialect="sqlite", db=str(path))


@pytest.fixture
def store(tmp_path):
    broker = RecordingBroker()
    created = TrackerStore.create(endpoint(tmp_path / "tracker.db"), DOMAIN, broker)
    yield created, broker, tmp_path / "tracker.db"
    uninstall_log_redaction()


def user(text: str) -> UserUttered:
    return UserUttered(text, {"name": "link_account", "confidence": 0.99},
                       parse_data={"text": text, "intent": {"name": "link_account", "confidence": 0.99}},
                       metadata={"hortense_identity": {"channel": "whatsapp", "sender": "whatsapp:+33600000001"}},
                       input_channel="whatsapp")


def conversation(store_obj, sender="whatsapp:+33600000001"):
    tracker = asyncio.run(store_obj.get_or_create_tracker(sender))
    tracker.update(user(f"mon iban {IBAN}, ma carte {CARD}, lier mon compte {CODE}, jeton {JWT}, "
                        f"mot de passe : {PASSWORD}"))
    tracker.update(ActionExecuted("action_link_account"))
    tracker.update(BotUttered("Pour lequel ?", {"buttons": [{"title": "Atelier", "payload": PAYLOAD}]}))
    tracker.update(SlotSet("selected_contract", "EVP-2021-000106"))
    return tracker


def raw_rows(path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT type_name, intent_name, action_name, data FROM events ORDER BY id").fetchall()


def test_rasa_loads_the_class_named_in_endpoints(store):
    created, _, _ = store
    assert isinstance(store_in_use(created), RedactingSQLTrackerStore)
    assert isinstance(created.event_broker, RedactingEventBroker)


@pytest.mark.parametrize("name", ["endpoints.yml", "deploy/endpoints.production.yml"])
def test_the_configured_store_is_the_redacting_one(name):
    import yaml

    from hortense.settings import PROJECT_ROOT

    path = PROJECT_ROOT / name
    endpoints = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert endpoints["tracker_store"]["type"] == "hortense.rasa.tracker_store.RedactingSQLTrackerStore"


def test_no_secret_reaches_the_database_and_one_row_per_event(store):
    created, _, path = store
    tracker = conversation(created)
    asyncio.run(created.save(tracker))
    rows = raw_rows(path)
    assert len(rows) == len(tracker.events)
    dump = "\n".join(r[3] for r in rows)
    for secret in SECRETS:
        assert secret not in dump
    assert "[IBAN]" in dump and "[CARTE]" in dump and "[CODE]" in dump and "[JETON]" in dump
    assert ("user", "link_account", None) in [r[:3] for r in rows]


def test_the_live_tracker_keeps_the_text_for_the_current_turn(store):
    created, _, _ = store
    tracker = conversation(created)
    asyncio.run(created.save(tracker))
    assert CODE in tracker.latest_message.text and IBAN in tracker.latest_message.text


def test_later_saves_append_only_the_new_events(store):
    created, _, path = store
    tracker = conversation(created)
    asyncio.run(created.save(tracker))
    asyncio.run(created.save(tracker))
    assert len(raw_rows(path)) == len(tracker.events)
    restored = asyncio.run(created.retrieve(tracker.sender_id))
    restored.update(user(f"autre code {CODE}"))
    asyncio.run(created.save(restored))
    assert len(raw_rows(path)) == len(tracker.events) + 1
    assert CODE not in raw_rows(path)[-1][3]


def test_offered_button_payloads_are_kept_as_sent(store):
    created, _, _ = store
    asyncio.run(created.save(conversation(created)))
    restored = asyncio.run(created.retrieve("whatsapp:+33600000001"))
    bots = [e for e in restored.events if isinstance(e, BotUttered)]
    assert bots[-1].data["buttons"][0]["payload"] == PAYLOAD
    assert restored.get_slot("selected_contract") == "EVP-2021-000106"


def test_the_event_stream_is_redacted(store):
    created, broker, _ = store
    asyncio.run(created.save(conversation(created)))
    assert broker.events, "events are streamed"
    dump = json.dumps(broker.events)
    for secret in SECRETS:
        assert secret not in dump


def test_rasas_fail_safe_fallback_streams_through_the_redacting_broker(store):
    created, broker, _ = store
    fallback = FailSafeTrackerStore(store_in_use(created)).fallback_tracker_store
    tracker = conversation(created)
    asyncio.run(fallback.save(tracker))
    assert broker.events
    assert CODE not in json.dumps(broker.events)


def test_redact_for_storage_does_not_mutate_its_argument():
    event = user(f"code {CODE}").as_dict()
    before = json.dumps(event, sort_keys=True)
    clean = redact_for_storage(event)
    assert json.dumps(event, sort_keys=True) == before
    assert CODE not in json.dumps(clean)


def test_a_payload_shaped_button_is_kept_but_other_fields_are_redacted():
    event = BotUttered(f"votre code {CODE}", {"buttons": [{"title": f"code {CODE}", "payload": PAYLOAD},
                                                          {"title": "x", "payload": f"texte {CODE}"}]}).as_dict()
    clean = redact_for_storage(event)
    assert clean["data"]["buttons"][0]["payload"] == PAYLOAD
    assert CODE not in clean["text"] and CODE not in clean["data"]["buttons"][0]["title"]
    assert CODE not in clean["data"]["buttons"][1]["payload"]


def test_store_check(store, caplog):
    created, _, _ = store
    assert check_store(created) is True
    assert check_store(InMemoryTrackerStore(DOMAIN)) is True  # nothing written anywhere
    with caplog.at_level(logging.CRITICAL):
        assert check_store(InMemoryTrackerStore(DOMAIN, RecordingBroker())) is False
    assert "does not redact" in caplog.text


def test_a_class_that_fails_to_import_falls_back_to_memory_and_is_reported(tmp_path, caplog):
    """Rasa's silent fallback, and our check that makes it loud."""
    config = EndpointConfig(type="hortense.rasa.tracker_store.NoSuchStore", dialect="sqlite", db=str(tmp_path / "x.db"))
    with pytest.warns(UserWarning):
        created = TrackerStore.create(config, DOMAIN)
    assert isinstance(store_in_use(created), InMemoryTrackerStore)
    with caplog.at_level(logging.ERROR):
        check_store(created)
    assert "failed to import" in caplog.text


def test_log_records_are_redacted(monkeypatch):
    monkeypatch.setenv("HORTENSE_TELEGRAM_BOT_TOKEN", "123456789:AAH-telegram-bot-token-value")
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    log = logging.getLogger("test.redaction")
    log.addHandler(Keep())
    log.setLevel(logging.DEBUG)
    try:
        install_log_redaction()
        install_log_redaction()  # idempotent
        log.info("user said %s", f"lier mon compte {CODE} avec {CARD}")
        log.info("calling https://api.telegram.org/bot123456789:AAH-telegram-bot-token-value/sendMessage")
        try:
            raise ValueError(f"bad iban {IBAN}")
        except ValueError:
            log.exception("failed")
    finally:
        uninstall_log_redaction()
    text = "\n".join(logging.Formatter().format(r) for r in records)
    for secret in (CODE, CARD, IBAN, "AAH-telegram-bot-token-value"):
        assert secret not in text
    assert "[SECRET]" in text and "[CODE]" in text


def test_known_secret_values_include_database_passwords():
    values = ts.known_secret_values({"HORTENSE_DATABASE_URL": "postgresql://u:db-password-123@h/db",
                                     "HORTENSE_MESSENGER_APP_SECRET": "messenger-secret-value",
                                     "HORTENSE_WEB_BASE_URL": "http://localhost:8000"})
    assert {"db-password-123", "messenger-secret-value"} <= values
    assert "http://localhost:8000" not in values
