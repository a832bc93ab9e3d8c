"""The connectors' guard (rate limit, `/intent` filter, redaction) and the connectors' pure helpers."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

from channels import common, guard as g
from channels.messaging import Incoming
from channels.messenger import signature_of, user_events
from channels.telegram import _is_start, chat_of, sender_for

PAYLOAD = '/select_contract{"contract_number": "EVP-2021-000106"}'
OTHER = '/select_contract{"contract_number": "SV-2023-000101"}'


class FakeStore:
    def __init__(self, events=None, fail=False):
        self.events, self.fail = events, fail

    async def retrieve(self, sender_id):
        if self.fail:
            raise RuntimeError("database down")
        return None if self.events is None else SimpleNamespace(events=self.events)


def app_with(events=None, fail=False):
    return SimpleNamespace(ctx=SimpleNamespace(agent=SimpleNamespace(tracker_store=FakeStore(events, fail))))


def offer(*payloads):
    return BotUttered("Pour lequel ?", {"buttons": [{"title": f"choix {i}", "payload": p}
                                                    for i, p in enumerate(payloads, 1)]})


def admit(guard, text, app, output=None, sender="s1"):
    return asyncio.run(guard.admit(sender, text, output, app))


@pytest.fixture
def guard():
    return g.ConnectorGuard("test", per_minute=30)


# --- offered buttons ---------------------------------------------------------------------------------

def test_offered_buttons_are_those_since_the_last_user_message():
    events = [UserUttered("avant"), offer(OTHER), UserUttered("salut"), ActionExecuted("action_x"),
              offer(PAYLOAD), BotUttered("et aussi", {"quick_replies": [{"title": "Oui", "payload": "/affirm"}]})]
    assert [b.payload for b in g.offered_buttons(events)] == [PAYLOAD, "/affirm"]
    assert [b.payload for b in g.offered_buttons([e.as_dict() for e in events])] == [PAYLOAD, "/affirm"]


def test_no_buttons_after_the_user_spoke():
    assert g.offered_buttons([offer(PAYLOAD), UserUttered("autre chose")]) == []


# --- /intent filter ----------------------------------------------------------------------------------

def test_an_offered_payload_passes_verbatim(guard):
    assert admit(guard, PAYLOAD, app_with([UserUttered("x"), offer(PAYLOAD)])) == PAYLOAD


def test_a_payload_that_was_not_offered_becomes_plain_text(guard):
    app = app_with([UserUttered("x"), offer(PAYLOAD)])
    assert admit(guard, OTHER, app) == OTHER[1:]
    assert admit(guard, '/ask_pdl{"selected_contract": "SV-2023-000101"}', app)[0] != "/"


@pytest.mark.parametrize("text", ["/restart", "  /session_start", "//ask_pdl", "/ /ask_pdl", "\t/ask_pdl@1.0"])
def test_forced_intents_lose_every_leading_slash(guard, text):
    admitted = admit(guard, text, app_with([]))
    assert admitted and not admitted.strip().startswith("/")


def test_a_lone_slash_is_dropped(guard):
    assert admit(guard, " / ", app_with([])) is None


def test_without_a_readable_conversation_nothing_is_offered(guard):
    assert admit(guard, PAYLOAD, app_with(None)) == PAYLOAD[1:]
    assert admit(guard, PAYLOAD, app_with(fail=True)) == PAYLOAD[1:]
    assert admit(guard, PAYLOAD, None) == PAYLOAD[1:]


def test_a_quick_tap_waits_for_the_turn_that_offered_the_button(guard):
    """The tap can beat Rasa's save of the turn that sent the button: the guard re-reads under the lock."""
    from contextlib import asynccontextmanager

    reads = iter([[UserUttered("x")], [UserUttered("x"), offer(PAYLOAD)]])
    locked = []

    class Store:
        async def retrieve(self, sender_id):
            return SimpleNamespace(events=next(reads))

    class Locks:
        @asynccontextmanager
        async def lock(self, sender_id, wait_time_in_seconds=1):
            locked.append(sender_id)
            yield

    app = SimpleNamespace(ctx=SimpleNamespace(agent=SimpleNamespace(tracker_store=Store(), lock_store=Locks())))
    assert admit(guard, PAYLOAD, app) == PAYLOAD
    assert locked == ["s1"]


def test_old_buttons_no_longer_count(guard):
    app = app_with([offer(PAYLOAD), UserUttered("autre chose"), BotUttered("ok")])
    assert admit(guard, PAYLOAD, app) == PAYLOAD[1:]


# --- redaction ---------------------------------------------------------------------------------------

def test_secrets_are_redacted_but_the_link_code_is_kept(guard):
    text = "lier mon compte 482 913, mon IBAN FR76 3000 6000 0112 3456 7890 189 et ma carte 4111 1111 1111 1111"
    admitted = admit(guard, text, app_with([]))
    assert "482 913" in admitted
    assert "[IBAN]" in admitted and "[CARTE]" in admitted
    assert "3000 6000" not in admitted and "4111" not in admitted


def test_passwords_and_tokens_are_redacted(guard):
    admitted = admit(guard, "mot de passe : Soleil2024! et eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", app_with([]))
    assert "Soleil2024" not in admitted and "eyJ" not in admitted


def test_long_messages_are_cut_and_empty_ones_dropped(guard):
    assert len(admit(guard, "a" * 5000, app_with([]))) == g.MAX_MESSAGE_CHARS
    assert admit(guard, "   ", app_with([])) is None
    assert admit(guard, None, app_with([])) is None


# --- rate limit --------------------------------------------------------------------------------------

def test_rate_limited_sender_gets_one_polite_answer():
    guard = g.ConnectorGuard("test", per_minute=2)
    out = CollectingOutputChannel()
    app = app_with([])
    assert [admit(guard, "bonjour", app, out) for _ in range(4)] == ["bonjour", "bonjour", None, None]
    assert [m["text"] for m in out.messages] == [g.RATE_LIMITED_TEXT]
    assert admit(guard, "bonjour", app, out, sender="someone else") == "bonjour"


def test_unredacted_store_means_no_message_reaches_rasa(guard):
    guard.store_ok = False
    out = CollectingOutputChannel()
    assert admit(guard, "bonjour", app_with([]), out) is None
    assert out.messages[0]["text"] == g.UNAVAILABLE_TEXT


def test_the_guard_learns_the_app_and_checks_the_store_at_start(monkeypatch):
    from sanic import Blueprint

    checked = []
    monkeypatch.setattr("hortense.rasa.tracker_store.check_store", lambda store: checked.append(store) or False)
    monkeypatch.setattr("hortense.rasa.tracker_store.install_log_redaction", lambda: None)
    bp = Blueprint("guard_test")
    guard = g.ConnectorGuard.for_blueprint(bp, "test")
    app = app_with([])
    g._store_verdicts.clear()
    asyncio.run(guard._on_start(app, None))
    assert guard.app is app and guard.store_ok is False and len(checked) == 1


# --- connector helpers -------------------------------------------------------------------------------

def test_numbered_choices_and_answers():
    buttons = [{"title": "Mon contrat", "payload": "/ask_contract_details"}, {"title": "Ma conso", "payload": "/c"}]
    assert common.numbered_choices(buttons) == f"1. Mon contrat\n2. Ma conso\n{common.CHOOSE_BY_NUMBER}"
    offered = [g.OfferedButton(b["title"], b["payload"]) for b in buttons]
    assert common.chosen_payload("2", offered) == "/c"
    assert common.chosen_payload(" 1. ", offered) == "/ask_contract_details"
    assert common.chosen_payload("3", offered) is None
    assert common.chosen_payload("482913", offered) is None
    assert not common.looks_like_choice("lier mon compte 482913")


def test_split_text_respects_the_limit():
    chunks = common.split_text("mot " * 1000, 100)
    assert all(len(c) <= 100 for c in chunks) and " ".join(chunks).split() == ["mot"] * 1000
    assert common.split_text("", 10) == [""]


def test_trusted_metadata_has_no_customer():
    from hortense.security.identity import verify_assertion

    metadata = common.trusted_metadata("telegram", "telegram:42")
    assert set(metadata) == {"hortense_identity"}
    assert verify_assertion(metadata, "telegram", "telegram:42").customer_number is None


def test_messenger_reads_every_event_of_a_batch():
    body = {"object": "page", "entry": [
        {"messaging": [{"sender": {"id": "1"}, "message": {"mid": "m1", "text": "bonjour"}},
                       {"sender": {"id": "2"}, "message": {"mid": "m2", "text": "x", "quick_reply": {"payload": "/y"}}},
                       {"sender": {"id": "9"}, "message": {"mid": "m3", "text": "echo", "is_echo": True}},
                       {"sender": {"id": "1"}, "delivery": {"mids": ["m1"]}}]},
        {"messaging": [{"sender": {"id": "3"}, "postback": {"mid": "m4", "payload": "/greet", "title": "Go"}}]}]}
    assert list(user_events(body)) == [Incoming("messenger:1", "m1", "bonjour"), Incoming("messenger:2", "m2", "/y"),
                                       Incoming("messenger:3", "m4", "/greet")]
    assert list(user_events({"object": "user"})) == []
    assert list(user_events(["not", "a", "dict"])) == []


def test_messenger_signature_format():
    assert signature_of(b"{}", "secret") == (
        "sha256=" + __import__("hmac").new(b"secret", b"{}", "sha256").hexdigest())


def test_telegram_helpers():
    assert _is_start("/start") and _is_start("/start abc") and _is_start("/start@HortenseBot")
    assert not _is_start("/started") and not _is_start("") and not _is_start("bonjour /start")
    assert chat_of(sender_for(42)) == "42"
