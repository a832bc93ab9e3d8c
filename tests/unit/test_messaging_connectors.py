"""The messaging connectors in-process: webhooks built exactly as the platforms build them (Twilio's own
`RequestValidator`, Meta's `X-Hub-Signature-256` over the raw, Meta-escaped body, Telegram's secret token
header, the platforms' real field sets) go through each connector's parsing, authentication and the shared
pipeline (`channels.messaging`) into Rasa's `on_new_message`; answers land on the local fake platform APIs.

The same connectors run behind a real Rasa in tests/e2e/test_messaging_channels.py.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from sanic.request import Header, Request
from twilio.request_validator import RequestValidator

from channels.guard import ConnectorGuard
from channels.messaging import TEXT_ONLY_TEXT
from channels.messenger import MessengerInput
from channels.telegram import GREETING_TEXT, TelegramInput
from channels.whatsapp import EMPTY_TWIML, WhatsAppInput
from hortense.settings import GRAPH_API_VERSION
from hortense.security.identity import verify_assertion
from hortense.settings import get_settings
from tests.services import redis_url  # noqa: F401  (fixture)
from tests.fakes.platforms import (
    MESSENGER_APP_SECRET,
    MESSENGER_PAGE_TOKEN,
    MESSENGER_VERIFY_TOKEN,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    TWILIO_SID,
    TWILIO_TOKEN,
    WHATSAPP_NUMBER,
    WHATSAPP_PUBLIC_URL,
    FakePlatforms,
    messenger_senders,
    saw_inbound,
)

PAYLOAD = '/select_contract{"contract_number": "EVP-2021-000106"}'
OTHER = '/select_contract{"contract_number": "EVP-2021-000107"}'


@pytest.fixture(scope="module")
def fake():
    platforms = FakePlatforms().start()
    yield platforms
    platforms.stop()


@pytest.fixture(autouse=True)
def _memory_only(monkeypatch):
    """Replays and rate limits in this process's memory (the Redis case has its own test below)."""
    monkeypatch.delenv("HORTENSE_REDIS_URL", raising=False)
    get_settings.cache_clear()


@pytest.fixture
def whatsapp(fake):
    return WhatsAppInput(TWILIO_SID, TWILIO_TOKEN, WHATSAPP_NUMBER, WHATSAPP_PUBLIC_URL, f"{fake.url}/twilio")


@pytest.fixture
def telegram(fake):
    return TelegramInput(TELEGRAM_TOKEN, TELEGRAM_SECRET, f"{fake.url}/telegram")


@pytest.fixture
def messenger(fake):
    return MessengerInput(MESSENGER_APP_SECRET, MESSENGER_PAGE_TOKEN, MESSENGER_VERIFY_TOKEN,
                          f"{fake.url}/graph")


class Rasa:
    """Stands in for Rasa: the app the guard reads the conversation from, and `on_new_message`."""

    def __init__(self, events: list | None = None) -> None:
        store = SimpleNamespace(retrieve=self._retrieve)
        self.app = SimpleNamespace(ctx=SimpleNamespace(agent=SimpleNamespace(tracker_store=store)))
        self.events = events or []
        self.received: list[UserMessage] = []

    async def _retrieve(self, sender_id):
        return SimpleNamespace(events=self.events)

    async def on_new_message(self, message: UserMessage) -> None:
        self.received.append(message)

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.received]


def call(channel, rasa: Rasa, body: bytes, headers: dict, guard: ConnectorGuard | None = None):
    """POST one webhook call to the connector, as Sanic hands it over once the body is read (no transport)."""
    request = Request(f"/webhooks/{channel.name()}/webhook".encode(), Header(headers), "1.1", "POST", None, rasa.app)
    request.body = body
    guard = guard or ConnectorGuard(channel.name(), per_minute=30)
    return asyncio.run(channel.receive(request, guard, rasa.on_new_message))


def identity_of(message: UserMessage):
    return verify_assertion(message.metadata, message.input_channel, message.sender_id)


# --- WhatsApp (Twilio) -----------------------------------------------------------------------------------

def twilio_fields(sender: str, body: str, **extra: str) -> dict:
    """The fields Twilio posts for an incoming WhatsApp message (blank ones included)."""
    return {"SmsMessageSid": f"SM{uuid.uuid4().hex}", "NumMedia": "0", "ProfileName": "Camille",
            "MessageType": "text", "SmsSid": "", "WaId": sender.split("+")[-1], "SmsStatus": "received",
            "Body": body, "To": WHATSAPP_NUMBER, "NumSegments": "1", "ReferralNumMedia": "0",
            "MessageSid": f"SM{uuid.uuid4().hex}", "AccountSid": TWILIO_SID, "From": sender, "ApiVersion": "2010-04-01",
            **extra}


def twilio_call(channel, rasa, fields: dict, signed: dict | None = None, url: str = WHATSAPP_PUBLIC_URL,
                guard: ConnectorGuard | None = None):
    """Posted form-encoded; signed by Twilio's own validator over `signed` (default: the fields posted)."""
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, signed if signed is not None else fields)
    saw_inbound("whatsapp", fields.get("From", ""))  # the user wrote: the fake's 24-hour window is open
    return call(channel, rasa, urlencode(fields).encode(),
                {"content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature}, guard)


def test_whatsapp_text_reaches_rasa_with_only_the_signed_identity(whatsapp):
    rasa = Rasa()
    answer = twilio_call(whatsapp, rasa, twilio_fields("whatsapp:+33611111111", "bonjour"))
    assert (answer.status, answer.body.decode()) == (200, EMPTY_TWIML)
    assert answer.content_type.startswith("text/xml")
    [message] = rasa.received
    assert (message.text, message.sender_id, message.input_channel) == ("bonjour", "whatsapp:+33611111111", "whatsapp")
    assert set(message.metadata) == {"hortense_identity"}
    assert identity_of(message).customer_number is None


def test_whatsapp_blank_fields_are_signed_too(whatsapp):
    """Twilio signs every field, blanks included (Sanic's `request.form` would drop them)."""
    rasa = Rasa()
    fields = twilio_fields("whatsapp:+33611111112", "bonjour", ProfileName="")
    assert twilio_call(whatsapp, rasa, fields).status == 200
    assert rasa.texts == ["bonjour"]
    without_blanks = {k: v for k, v in fields.items() if v != ""}
    fields = twilio_fields("whatsapp:+33611111112", "encore", ProfileName="")
    assert twilio_call(whatsapp, rasa, fields, signed=without_blanks).status == 403
    assert rasa.texts == ["bonjour"]


@pytest.mark.parametrize("kind,extra", [
    ("image", {"NumMedia": "1", "MessageType": "image", "MediaContentType0": "image/jpeg",
               "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME"}),
    ("voice", {"NumMedia": "1", "MessageType": "audio", "MediaContentType0": "audio/ogg",
               "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME2"}),
    ("location", {"MessageType": "location", "Latitude": "48.8566", "Longitude": "2.3522",
                  "Address": "Paris", "Label": ""}),
])
def test_whatsapp_media_without_text_gets_a_kind_answer(whatsapp, fake, kind, extra):
    rasa, sender = Rasa(), f"whatsapp:+336{uuid.uuid4().int % 10**8:08d}"
    fields = twilio_fields(sender, "", ProfileName="", **extra)
    assert twilio_call(whatsapp, rasa, fields).status == 200
    assert rasa.received == []
    assert fake.text_to(sender) == TEXT_ONLY_TEXT and "messages écrits" in TEXT_ONLY_TEXT


def test_whatsapp_image_with_a_caption_is_read_as_text(whatsapp):
    rasa = Rasa()
    fields = twilio_fields("whatsapp:+33611111113", "ma facture", NumMedia="1", MediaContentType0="image/png",
                           MediaUrl0="https://api.twilio.com/media/1")
    assert twilio_call(whatsapp, rasa, fields).status == 200
    assert rasa.texts == ["ma facture"]


def test_whatsapp_refuses_forgeries(whatsapp):
    rasa = Rasa()
    fields = twilio_fields("whatsapp:+33611111114", "bonjour")
    local_url = "http://127.0.0.1:5005/webhooks/whatsapp/webhook"  # not the public URL Twilio signs
    assert twilio_call(whatsapp, rasa, fields, url=local_url).status == 403
    assert twilio_call(whatsapp, rasa, fields, signed={**fields, "Body": "autre chose"}).status == 403
    body = urlencode(fields).encode()
    assert call(whatsapp, rasa, body, {"content-type": "application/x-www-form-urlencoded"}).status == 403
    other_token = RequestValidator("not-our-token").compute_signature(WHATSAPP_PUBLIC_URL, fields)
    assert call(whatsapp, rasa, body, {"content-type": "application/x-www-form-urlencoded",
                                       "x-twilio-signature": other_token}).status == 403
    assert rasa.received == []


def test_whatsapp_retry_is_handled_once_and_odd_senders_ignored(whatsapp):
    rasa = Rasa()
    fields = twilio_fields("whatsapp:+33611111115", "bonjour")
    assert twilio_call(whatsapp, rasa, fields).status == 200
    assert twilio_call(whatsapp, rasa, fields).status == 200
    assert twilio_call(whatsapp, rasa, twilio_fields("+33611111115", "sms, pas whatsapp")).status == 200
    assert twilio_call(whatsapp, rasa, twilio_fields("whatsapp:+" + "3" * 70, "trop long")).status == 200
    assert rasa.texts == ["bonjour"]


def test_whatsapp_number_picks_the_offered_button(whatsapp):
    rasa = Rasa([UserUttered("mon PDL"), BotUttered("Pour quel contrat ?", {"buttons": [
        {"title": "Maison", "payload": OTHER}, {"title": "Atelier", "payload": PAYLOAD}]})])
    assert twilio_call(whatsapp, rasa, twilio_fields("whatsapp:+33611111116", "2")).status == 200
    assert twilio_call(whatsapp, rasa, twilio_fields("whatsapp:+33611111116", "7")).status == 200
    assert rasa.texts == [PAYLOAD, "7"]


@pytest.mark.redis
def test_whatsapp_replay_on_another_instance_is_ignored(fake, redis_url, monkeypatch):
    monkeypatch.setenv("HORTENSE_REDIS_URL", redis_url)
    get_settings.cache_clear()
    first, second = (WhatsAppInput(TWILIO_SID, TWILIO_TOKEN, WHATSAPP_NUMBER, WHATSAPP_PUBLIC_URL,
                                   f"{fake.url}/twilio") for _ in range(2))
    rasa = Rasa()
    fields = twilio_fields("whatsapp:+33611111117", "bonjour")
    assert twilio_call(first, rasa, fields).status == 200
    assert twilio_call(second, rasa, fields).status == 200
    assert rasa.texts == ["bonjour"]


# --- Telegram --------------------------------------------------------------------------------------------

def telegram_update(chat_id: int, chat_type: str = "private", **message: object) -> dict:
    chat = {"id": chat_id, "type": chat_type, "first_name": "Camille"}
    return {"update_id": uuid.uuid4().int % 10**9, "message": {
        "message_id": 7, "from": {"id": chat_id, "is_bot": False, "first_name": "Camille", "language_code": "fr"},
        "chat": chat, "date": 1764000000, **message}}


def telegram_tap(chat_id: int, data: str) -> dict:
    chat = {"id": chat_id, "type": "private", "first_name": "Camille"}
    return {"update_id": uuid.uuid4().int % 10**9, "callback_query": {
        "id": "4382bfdwdsb323b2d9", "from": {"id": chat_id, "is_bot": False, "first_name": "Camille"},
        "chat_instance": "-1", "data": data,
        "message": {"message_id": 8, "from": {"id": 1, "is_bot": True, "first_name": "Hortense"},
                    "chat": chat, "date": 1764000000, "text": "Pour quel contrat ?"}}}


def telegram_call(channel, rasa, update: dict, secret: str | None = TELEGRAM_SECRET):
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers["x-telegram-bot-api-secret-token"] = secret
    return call(channel, rasa, json.dumps(update).encode(), headers)


def test_telegram_text_and_start(telegram):
    rasa = Rasa()
    answer = telegram_call(telegram, rasa, telegram_update(700001, text="c'est quoi mon PDL ?"))
    assert answer.status == 200 and json.loads(answer.body) == {"ok": True}
    assert telegram_call(telegram, rasa, telegram_update(700001, text="/start")).status == 200
    assert telegram_call(telegram, rasa, telegram_update(700001, text="/start@HortenseBot")).status == 200
    assert rasa.texts == ["c'est quoi mon PDL ?", GREETING_TEXT, GREETING_TEXT]
    assert {m.sender_id for m in rasa.received} == {"telegram:700001"}
    assert identity_of(rasa.received[0]).customer_number is None


def test_telegram_refuses_a_wrong_or_missing_secret(telegram):
    rasa = Rasa()
    for secret in (None, "", "wrong-secret", TELEGRAM_SECRET + "x"):
        assert telegram_call(telegram, rasa, telegram_update(700002, text="bonjour"), secret=secret).status == 403
    assert rasa.received == []


def test_telegram_taps_are_acknowledged_and_long_payloads_found_by_number(telegram, fake):
    rasa = Rasa([UserUttered("mon PDL"), BotUttered("Pour quel contrat ?", {"buttons": [
        {"title": "Maison", "payload": OTHER}, {"title": "Atelier", "payload": PAYLOAD}]})])
    before = len(fake.calls)
    assert telegram_call(telegram, rasa, telegram_tap(700003, "/greet")).status == 200
    assert telegram_call(telegram, rasa, telegram_tap(700003, "#2")).status == 200
    assert telegram_call(telegram, rasa, telegram_tap(700003, "#9")).status == 200  # no such button: dropped
    assert rasa.texts == ["/greet", PAYLOAD]
    answered = [path for _, path, status in fake.calls[before:] if path.endswith("/answerCallbackQuery")]
    assert len(answered) == 3


@pytest.mark.parametrize("media", [
    {"photo": [{"file_id": "AgAD", "file_unique_id": "AQAD", "width": 90, "height": 67}]},
    {"voice": {"file_id": "AwAD", "file_unique_id": "AgAD", "duration": 3, "mime_type": "audio/ogg"}},
    {"location": {"latitude": 48.8566, "longitude": 2.3522}},
])
def test_telegram_media_gets_a_kind_answer(telegram, fake, media):
    rasa, chat = Rasa(), 710000 + uuid.uuid4().int % 10000
    assert telegram_call(telegram, rasa, telegram_update(chat, **media)).status == 200
    assert rasa.received == [] and fake.text_to(str(chat)) == TEXT_ONLY_TEXT


def test_telegram_groups_other_updates_and_replays_are_ignored(telegram, fake):
    rasa = Rasa()
    assert telegram_call(telegram, rasa, telegram_update(-700004, "group", text="lier mon compte 482913")).status == 200
    assert telegram_call(telegram, rasa, telegram_update(-700004, "group", photo=[{"file_id": "x"}])).status == 200
    assert telegram_call(telegram, rasa, {"update_id": 1, "edited_message": {"text": "x"}}).status == 200
    assert fake.to("-700004") == []
    update = telegram_update(700005, text="bonjour")
    assert telegram_call(telegram, rasa, update).status == 200
    assert telegram_call(telegram, rasa, update).status == 200
    assert rasa.texts == ["bonjour"]


# --- Messenger -------------------------------------------------------------------------------------------

def meta_body(*events: dict) -> bytes:
    """A delivery as Meta sends it: one entry, ASCII-only JSON with `\\/` and `\\uXXXX` escapes."""
    delivery = {"object": "page", "entry": [{"id": "PAGE", "time": 1764000000000, "messaging": list(events)}]}
    return json.dumps(delivery, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()


def meta_event(psid: str, **message: object) -> dict:
    return {"sender": {"id": psid}, "recipient": {"id": "PAGE"}, "timestamp": 1764000000000,
            "message": {"mid": f"m_{uuid.uuid4().hex}", **message}}


def messenger_call(channel, rasa, body: bytes, signature: str | None = "valid"):
    headers = {"content-type": "application/json"}
    if signature == "valid":
        signature = "sha256=" + hmac.new(MESSENGER_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    if signature is not None:
        headers["x-hub-signature-256"] = signature
    for psid in messenger_senders(body):  # the user wrote: the fake's 24-hour window is open
        saw_inbound("messenger", psid)
    return call(channel, rasa, body, headers)


def test_messenger_signature_is_over_the_raw_escaped_body(messenger):
    rasa = Rasa()
    text = "Ça marche / merci, j'ai reçu l'échéancier"
    body = meta_body(meta_event("990001", text=text))
    assert b"\\/" in body and b"\\u00c7a" in body
    answer = messenger_call(messenger, rasa, body)
    assert (answer.status, answer.body) == (200, b"EVENT_RECEIVED")
    assert rasa.texts == [text] and rasa.received[0].sender_id == "messenger:990001"
    assert identity_of(rasa.received[0]).customer_number is None
    reserialized = json.dumps(json.loads(body), ensure_ascii=False).encode()  # same JSON, other bytes
    signature = "sha256=" + hmac.new(MESSENGER_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert messenger_call(messenger, rasa, reserialized, signature=signature).status == 403


def test_messenger_refuses_forgeries_and_reads_nothing(messenger):
    rasa = Rasa()
    body = meta_body(meta_event("990002", text="bonjour"))
    sha1 = "sha1=" + hmac.new(MESSENGER_APP_SECRET.encode(), body, hashlib.sha1).hexdigest()
    for signature in (None, "sha256=" + "0" * 64, sha1, "forged"):
        assert messenger_call(messenger, rasa, body, signature=signature).status == 403
    assert messenger_call(messenger, rasa, b"{not json").status == 400
    assert rasa.received == []


def test_messenger_batch_quick_replies_postbacks_echoes_and_replays(messenger):
    rasa = Rasa()
    first = meta_event("990003", text="bonjour")
    body = meta_body(
        first,
        meta_event("990004", text="Atelier", quick_reply={"payload": "/greet"}),
        meta_event("990005", text="écho de la page", is_echo=True),
        {"sender": {"id": "990006"}, "recipient": {"id": "PAGE"}, "timestamp": 1,
         "postback": {"mid": "m_postback", "title": "Démarrer", "payload": "/greet"}},
        {"sender": {"id": "990003"}, "recipient": {"id": "PAGE"}, "timestamp": 1, "delivery": {"mids": ["m_x"]}},
        {"sender": {"id": "990003"}, "recipient": {"id": "PAGE"}, "timestamp": 1, "read": {"watermark": 1}},
    )
    assert messenger_call(messenger, rasa, body).status == 200
    assert [(m.sender_id, m.text) for m in rasa.received] == [
        ("messenger:990003", "bonjour"), ("messenger:990004", "/greet"), ("messenger:990006", "/greet")]
    assert messenger_call(messenger, rasa, meta_body(first)).status == 200  # the same mid again
    assert len(rasa.received) == 3


def test_messenger_attachments_get_a_kind_answer(messenger, fake):
    rasa, psid = Rasa(), f"99{uuid.uuid4().int % 10**12:012d}"
    image = meta_event(psid, attachments=[{"type": "image", "payload": {"url": "https://scontent.xx/1.jpg"}}])
    assert messenger_call(messenger, rasa, meta_body(image)).status == 200
    assert rasa.received == [] and fake.text_to(psid) == TEXT_ONLY_TEXT


# --- every connector -------------------------------------------------------------------------------------

def test_a_flood_of_media_is_rate_limited_like_text(whatsapp, fake):
    rasa, sender = Rasa(), f"whatsapp:+336{uuid.uuid4().int % 10**8:08d}"
    guard = ConnectorGuard("whatsapp", per_minute=2)
    for _ in range(4):
        fields = twilio_fields(sender, "", NumMedia="1", MediaUrl0="https://api.twilio.com/media/2")
        assert twilio_call(whatsapp, rasa, fields, guard=guard).status == 200
    sent = [s.text for s in fake.to(sender)]
    assert sent[:2] == [TEXT_ONLY_TEXT, TEXT_ONLY_TEXT] and len(sent) == 3 and "beaucoup de messages" in sent[2]


# --- long answers, proactive notifications, platform rules (the fake enforces them) ------------------------

LONG_ANSWER = "\n".join(f"Ligne {i:03d} : votre consommation détaillée du mois, relevé après relevé, sans rien "
                        f"omettre." for i in range(50))  # about 4,500 characters
BUTTONS = [{"title": "Mon contrat principal", "payload": PAYLOAD}, {"title": "Atelier", "payload": OTHER}]


class AnsweringRasa(Rasa):
    """Rasa answering every message with a 4,500-character text and two buttons."""

    async def on_new_message(self, message: UserMessage) -> None:
        await super().on_new_message(message)
        await message.output_channel.send_text_with_buttons(message.sender_id, LONG_ANSWER, BUTTONS)


def _whole(parts: list) -> str:
    return "\n".join(p.text for p in parts)


def test_a_long_answer_with_buttons_arrives_whole_on_telegram(telegram, fake):
    assert 4400 < len(LONG_ANSWER) < 4700
    chat = 700_000_000 + uuid.uuid4().int % 10**6
    assert telegram_call(telegram, AnsweringRasa(), telegram_update(chat, text="ma conso")).status == 200
    parts = fake.to(str(chat))
    assert len(parts) == 2 and all(len(p.text) <= 4096 for p in parts)
    assert _whole(parts).replace("\n", "") == LONG_ANSWER.replace("\n", "")
    assert parts[0].buttons == [] and [b["payload"] for b in parts[-1].buttons] == [PAYLOAD, OTHER]


def test_a_long_answer_with_buttons_arrives_whole_on_messenger(messenger, fake):
    psid = f"99{uuid.uuid4().int % 10**12:012d}"
    assert messenger_call(messenger, AnsweringRasa(), meta_body(meta_event(psid, text="ma conso"))).status == 200
    parts = fake.to(psid)
    assert len(parts) == 3 and all(len(p.text) <= 2000 for p in parts)
    assert _whole(parts).replace("\n", "") == LONG_ANSWER.replace("\n", "")
    assert all(p.buttons == [] for p in parts[:-1]) and [b["payload"] for b in parts[-1].buttons] == [PAYLOAD, OTHER]
    assert all(p.raw["messaging_type"] == "RESPONSE" for p in parts)


def test_a_long_answer_with_choices_arrives_whole_on_whatsapp(whatsapp, fake):
    sender = f"whatsapp:+336{uuid.uuid4().int % 10**8:08d}"
    assert twilio_call(whatsapp, AnsweringRasa(), twilio_fields(sender, "ma conso")).status == 200
    parts = fake.to(sender)
    assert len(parts) >= 3 and all(len(p.text) <= 1600 for p in parts)
    assert "1. Mon contrat principal\n2. Atelier" in parts[-1].text and "Atelier" not in _whole(parts[:-1])
    assert _whole(parts).replace("\n", "").startswith(LONG_ANSWER.replace("\n", ""))


def test_the_fake_refuses_what_the_platforms_refuse(fake):
    """Over-long texts, long callback_data, too many or too long quick replies, an expired Graph version."""
    import requests

    telegram_api = f"{fake.url}/telegram/bot{TELEGRAM_TOKEN}/sendMessage"
    assert requests.post(telegram_api, json={"chat_id": 1, "text": "x" * 4097}, timeout=10).status_code == 400
    keyboard = {"inline_keyboard": [[{"text": "A", "callback_data": "é" * 33}]]}  # 66 bytes
    assert requests.post(telegram_api, json={"chat_id": 1, "text": "ok", "reply_markup": keyboard},
                         timeout=10).status_code == 400
    psid = "99000000000777"
    saw_inbound("messenger", psid)
    graph = f"{fake.url}/graph/{GRAPH_API_VERSION}/me/messages"
    params = {"access_token": MESSENGER_PAGE_TOKEN}

    def send(message: dict, url: str = graph, **extra: str) -> int:
        body = {"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": message, **extra}
        return requests.post(url, params=params, json=body, timeout=10).status_code

    assert send({"text": "ok"}) == 200
    assert send({"text": "x" * 2001}) == 400
    assert send({"text": "ok", "quick_replies": [{"content_type": "text", "title": f"{i}", "payload": "p"}
                                                  for i in range(14)]}) == 400
    assert send({"text": "ok", "quick_replies": [{"content_type": "text", "title": "x" * 21, "payload": "p"}]}) == 400
    assert send({"text": "ok"}, url=f"{fake.url}/graph/v19.0/me/messages") == 400
    assert send({"text": "ok"}, messaging_type="MESSAGE_TAG", tag="NOT_A_TAG") == 400
    assert send({"text": "ok"}, messaging_type="") == 400


def test_messenger_notifications_outside_the_window_are_tagged_and_refusals_classified(messenger, fake, clock):
    from datetime import timedelta

    from channels.common import PlatformError
    from hortense.appointments.notifications import Notice, PermanentFailure

    psid = f"99{uuid.uuid4().int % 10**12:012d}"
    saw_inbound("messenger", psid)
    output = messenger.get_output_channel()
    assert output.url.endswith(f"/graph/{GRAPH_API_VERSION}/me/messages")
    assert asyncio.run(output.notify(f"messenger:{psid}", "Confirmé", Notice(1, "confirmation", False, {}))).sent_as \
        == "text"
    assert fake.to(psid)[-1].raw["messaging_type"] == "UPDATE"
    clock.advance(timedelta(hours=25))
    with pytest.raises(PermanentFailure) as refused:  # UPDATE outside the window: refused for good
        asyncio.run(messenger.get_output_channel().notify(f"messenger:{psid}", "Rappel",
                                                          Notice(2, "reminder", False, {})))
    assert refused.value.code == "messenger:10/2018278"
    result = asyncio.run(messenger.get_output_channel().notify(f"messenger:{psid}", "Rappel",
                                                               Notice(3, "reminder", True, {})))
    assert result.sent_as == "tagged" and result.message_id
    assert fake.to(psid)[-1].raw["tag"] == "CONFIRMED_EVENT_UPDATE"
    throttled = PlatformError("messenger: HTTP 400", 400, {"error": {"code": 613, "message": "Calls limit"}})
    assert output.classify(throttled) == ("messenger:613", False)


def test_whatsapp_notification_outside_the_window_needs_a_template(whatsapp, fake, monkeypatch):
    from hortense.appointments.notifications import Notice, PermanentFailure
    from tests.fakes.platforms import WHATSAPP_TEMPLATES

    sender = f"whatsapp:+336{uuid.uuid4().int % 10**8:08d}"
    notice = Notice(7, "cancellation", True, {"1": "jeudi 3 décembre", "2": "14h30"})
    with pytest.raises(PermanentFailure) as missing:  # no template configured: never free text
        asyncio.run(whatsapp.get_output_channel().notify(sender, "Annulé", notice))
    assert missing.value.code == "no_template" and fake.to(sender) == []
    for name, value in fake.env().items():
        if name.startswith("HORTENSE_WHATSAPP_TEMPLATE_"):
            monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    result = asyncio.run(whatsapp.get_output_channel().notify(sender, "Annulé", notice))
    assert (result.sent_as, result.status) == ("template", "queued") and result.message_id.startswith("SM")
    (sent,) = fake.to(sender)
    assert sent.raw["ContentSid"] == WHATSAPP_TEMPLATES["cancellation"][0]
    assert json.loads(sent.raw["ContentVariables"]) == {"1": "jeudi 3 décembre", "2": "14h30"}
    assert sent.raw["StatusCallback"] == "https://hortense.example.test/webhooks/whatsapp/status?n=7"
    assert "jeudi 3 décembre à 14h30 est annulé" in sent.text


def test_whatsapp_status_callbacks_must_be_signed_for_their_url(whatsapp):
    from channels.whatsapp import status_url_for

    url = status_url_for(WHATSAPP_PUBLIC_URL) + "?n=5"
    assert url == "https://hortense.example.test/webhooks/whatsapp/status?n=5"
    fields = {"MessageSid": "SM1", "MessageStatus": "delivered", "AccountSid": TWILIO_SID}
    good = RequestValidator(TWILIO_TOKEN).compute_signature(url, fields)
    request = SimpleNamespace(headers={"X-Twilio-Signature": good}, body=urlencode(fields).encode())
    assert whatsapp.authentic(request, url) is True
    assert whatsapp.authentic(request, url.replace("n=5", "n=6")) is False
    assert whatsapp.authentic(request) is False  # not the webhook's URL


def test_messenger_get_started_postback_greets(messenger):
    rasa = Rasa()
    event = {"sender": {"id": "990099"}, "recipient": {"id": "PAGE"}, "timestamp": 1764000000000,
             "postback": {"title": "Démarrer", "payload": "GET_STARTED", "mid": f"m_{uuid.uuid4().hex}"}}
    assert messenger_call(messenger, rasa, meta_body(event)).status == 200
    assert rasa.texts == ["Bonjour"]
