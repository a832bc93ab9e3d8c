"""WhatsApp, Telegram and Messenger, driven over real HTTP against a real Rasa + action server, with the
platforms' APIs played by a local fake: forged webhooks change nothing, an unlinked sender gets the
linking instructions, a code issued in the customer space links the conversation, a linked customer
gets their own answers, and unlinking (from the chat or the customer space) takes effect at once."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from channels.common import PlatformError
from channels.messenger import MessengerInput
from channels.telegram import TelegramInput
from channels.whatsapp import WhatsAppInput
from hortense.replies import formatting as fr
from hortense.account import linking as links
from hortense.account.customers import load_customer
from hortense.db.session import session_scope
from tests.fakes.platforms import (  # noqa: F401  (mstack, stack_env: fixtures)
    MESSENGER_VERIFY_TOKEN,
    Chat,
    FakePlatforms,
    issue_code,
    linked_customer,
    messenger,
    messenger_body,
    mstack,
    stack_env,
    telegram,
    tracker_events,
    wait_for,
    whatsapp,
)

LINKING_HINT = "lier mon compte"
CHATS = {"whatsapp": Chat.whatsapp, "telegram": Chat.telegram, "messenger": Chat.messenger}


def new_number() -> str:
    return Chat.whatsapp(None).sender


def new_chat() -> int:
    return Chat.telegram(None).platform_id


def new_psid() -> str:
    return Chat.messenger(None).platform_id


def pdl_of(stack, customer: str, index: int = 0) -> str:
    with session_scope(stack.database_url) as s:
        return fr.pdl(load_customer(s, customer).contracts[index].pdl)


def all_pdls() -> dict[str, list[str]]:
    from hortense.db.seed import demo_customers

    return {c.number: [fr.pdl(site.pdl) for site in c.sites] for c in demo_customers()}


def _ok(response):
    assert response.status_code == 200, response.text
    return response


def conversation(ms, kind) -> Chat:
    return CHATS[kind](ms)


pytestmark = pytest.mark.e2e


# --- webhook authenticity ----------------------------------------------------------------------------

def test_whatsapp_forged_signature_is_refused_and_changes_nothing(stack_env):
    ms, number = stack_env, new_number()
    for signature in (None, "forged", "dGhpcyBpcyBub3QgYSBzaWduYXR1cmU="):
        assert whatsapp(ms.stack.rasa_url, number, "bonjour", signature=signature).status_code == 403
    assert tracker_events(ms.stack, number) == 0
    assert ms.platforms.to(number) == []


def test_whatsapp_signature_is_checked_against_the_public_url(stack_env):
    """A signature computed for the URL Rasa sees locally (not the public one Twilio calls) is refused."""
    from tests.fakes.platforms import twilio_signature

    ms, number = stack_env, new_number()
    params = {"From": number, "Body": "bonjour", "MessageSid": "SMlocal"}
    local = twilio_signature(params, url=f"{ms.stack.rasa_url}/webhooks/whatsapp/webhook")
    assert whatsapp(ms.stack.rasa_url, number, "bonjour", signature=local, message_sid="SMlocal").status_code == 403
    assert tracker_events(ms.stack, number) == 0


def test_telegram_wrong_or_missing_secret_is_refused(stack_env):
    ms, chat = stack_env, new_chat()
    for secret in (None, "", "wrong-secret"):
        assert telegram(ms.stack.rasa_url, chat, "bonjour", secret=secret).status_code == 403
    assert tracker_events(ms.stack, f"telegram:{chat}") == 0
    assert ms.platforms.to(str(chat)) == []


def test_messenger_forged_or_missing_signature_is_refused(stack_env):
    ms, psid = stack_env, new_psid()
    body = messenger_body((psid, "bonjour"))
    for signature in (None, "sha256=" + "0" * 64, "sha1=abc", "forged"):
        assert messenger(ms.stack.rasa_url, body, signature=signature).status_code == 403
    assert tracker_events(ms.stack, f"messenger:{psid}") == 0
    assert ms.platforms.to(psid) == []


def test_messenger_verify_token_handshake(stack_env):
    import requests

    url = f"{stack_env.stack.rasa_url}/webhooks/messenger/webhook"
    ok = requests.get(url, params={"hub.mode": "subscribe", "hub.verify_token": MESSENGER_VERIFY_TOKEN,
                                   "hub.challenge": "1158201444"}, timeout=10)
    assert ok.status_code == 200 and ok.text == "1158201444"
    bad = requests.get(url, params={"hub.mode": "subscribe", "hub.verify_token": "guess",
                                    "hub.challenge": "1158201444"}, timeout=10)
    assert bad.status_code == 403 and "1158201444" not in bad.text


# --- unlinked senders --------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(CHATS))
def test_unlinked_sender_gets_the_linking_instructions_never_data(stack_env, kind):
    user = conversation(stack_env, kind)
    answer = user.turn("c'est quoi mon numéro de PDL ?")
    assert LINKING_HINT in answer
    for pdls in all_pdls().values():
        assert not any(p in answer for p in pdls)


# --- linking ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind,customer", [("whatsapp", "C1001"), ("telegram", "C1003"), ("messenger", "C1005")])
def test_a_code_from_the_customer_space_links_the_conversation(stack_env, kind, customer):
    user = conversation(stack_env, kind)
    code = issue_code(stack_env.stack, customer)
    answer = user.turn(f"lier mon compte {code}")
    assert "reliée à votre compte" in answer, answer
    assert linked_customer(stack_env.stack, user.channel, user.sender) == customer
    answer = user.turn("c'est quoi mon numéro de PDL ?")
    assert pdl_of(stack_env.stack, customer) in answer
    for other, pdls in all_pdls().items():
        if other != customer:
            assert not any(p in answer for p in pdls)


def test_code_typed_alone_or_in_groups_links_too(stack_env):
    user = conversation(stack_env, "telegram")
    code = issue_code(stack_env.stack, "C1002")
    answer = user.turn(f"voici le code : {code[:3]} {code[3:]}")
    assert "reliée à votre compte" in answer
    assert linked_customer(stack_env.stack, "telegram", user.sender) == "C1002"


def test_unlink_from_the_chat(stack_env):
    user = conversation(stack_env, "whatsapp")
    user.turn(f"lier mon compte {issue_code(stack_env.stack, 'C1004')}")
    assert linked_customer(stack_env.stack, "whatsapp", user.sender) == "C1004"
    answer = user.turn("délier mon compte")
    assert "n'est plus reliée" in answer
    assert linked_customer(stack_env.stack, "whatsapp", user.sender) is None
    assert LINKING_HINT in user.turn("c'est quoi mon numéro de PDL ?")


def test_unlink_from_the_customer_space_takes_effect_on_the_next_message(stack_env):
    user = conversation(stack_env, "messenger")
    user.turn(f"lier mon compte {issue_code(stack_env.stack, 'C1008')}")
    assert pdl_of(stack_env.stack, "C1008") in user.turn("c'est quoi mon numéro de PDL ?")
    with session_scope(stack_env.stack.database_url) as s:
        assert links.unlink_all_for_customer(s, "C1008") >= 1
    answer = user.turn("c'est quoi mon numéro de PDL ?")
    assert LINKING_HINT in answer and pdl_of(stack_env.stack, "C1008") not in answer


# --- buttons on each platform -----------------------------------------------------------------------

def _link(ms, user, customer):
    assert "reliée à votre compte" in user.turn(f"lier mon compte {issue_code(ms.stack, customer)}")


def test_whatsapp_numbered_choices_answered_by_number(stack_env):
    user = conversation(stack_env, "whatsapp")
    _link(stack_env, user, "C1006")
    answer = user.turn("c'est quoi mon numéro de PDL ?")
    assert "1. " in answer and "2. " in answer and "numéro de votre choix" in answer
    answer = user.turn("2")
    assert pdl_of(stack_env.stack, "C1006", 1) in answer
    assert pdl_of(stack_env.stack, "C1006", 0) not in answer


def test_telegram_inline_keyboard_button_tap(stack_env):
    ms = stack_env
    user = conversation(ms, "telegram")
    _link(ms, user, "C1006")
    user.turn("c'est quoi mon numéro de PDL ?")
    keyboard = user.received()[-1].buttons
    assert len(keyboard) == 2 and all(b["payload"].startswith("/select_contract") for b in keyboard)
    before = len(ms.platforms.to(user.recipient))
    _ok(telegram(ms.stack.rasa_url, int(user.recipient), callback_data=keyboard[0]["payload"]))
    wait_for(lambda: len(ms.platforms.to(user.recipient)) > before)
    assert pdl_of(ms.stack, "C1006", 0) in ms.platforms.text_to(user.recipient)


def test_messenger_quick_reply_tap(stack_env):
    ms = stack_env
    user = conversation(ms, "messenger")
    _link(ms, user, "C1006")
    user.turn("c'est quoi mon numéro de PDL ?")
    replies = user.received()[-1].buttons
    assert len(replies) == 2 and all(len(r["title"]) <= 20 for r in replies)
    before = len(ms.platforms.to(user.recipient))
    _ok(messenger(ms.stack.rasa_url, messenger_body((user.recipient, replies[1]["payload"]), quick_reply=True)))
    wait_for(lambda: len(ms.platforms.to(user.recipient)) > before)
    assert pdl_of(ms.stack, "C1006", 1) in "\n".join(s.text for s in ms.platforms.to(user.recipient)[before:])


def test_messenger_handles_every_event_of_a_batch(stack_env):
    ms = stack_env
    first, second = new_psid(), new_psid()
    _ok(messenger(ms.stack.rasa_url, messenger_body((first, "bonjour"), (second, "bonjour"))))
    assert wait_for(lambda: ms.platforms.to(first) and ms.platforms.to(second))
    assert tracker_events(ms.stack, f"messenger:{first}") > 0 and tracker_events(ms.stack, f"messenger:{second}") > 0


def test_whatsapp_image_only_and_blank_profile_name_are_accepted_and_answered(stack_env):
    """Twilio signs blank fields too: an image without caption and a sender without a profile name."""
    from channels.messaging import TEXT_ONLY_TEXT

    ms, number = stack_env, new_number()
    image = {"NumMedia": "1", "MessageType": "image", "MediaContentType0": "image/jpeg", "ProfileName": "",
             "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM1/Media/ME1"}
    _ok(whatsapp(ms.stack.rasa_url, number, "", extra=image))
    assert wait_for(lambda: ms.platforms.text_to(number)) == TEXT_ONLY_TEXT
    assert tracker_events(ms.stack, number) == 0  # never reached the dialogue
    _ok(whatsapp(ms.stack.rasa_url, number, "bonjour", extra={"ProfileName": ""}))
    assert wait_for(lambda: "Hortense" in ms.platforms.text_to(number))
    assert tracker_events(ms.stack, number) > 0


def test_a_retried_delivery_is_handled_once(stack_env):
    ms, number = stack_env, new_number()
    _ok(whatsapp(ms.stack.rasa_url, number, "bonjour", message_sid="SMretried0001"))
    events = tracker_events(ms.stack, number)
    _ok(whatsapp(ms.stack.rasa_url, number, "bonjour", message_sid="SMretried0001"))
    assert tracker_events(ms.stack, number) == events


def test_telegram_start_command_greets(stack_env):
    user = conversation(stack_env, "telegram")
    assert "Hortense" in user.turn("/start")


def test_telegram_group_chats_are_not_served(stack_env):
    ms, chat = stack_env, -new_chat()
    _ok(telegram(ms.stack.rasa_url, chat, f"lier mon compte {issue_code(ms.stack, 'C1001')}", chat_type="group"))
    assert tracker_events(ms.stack, f"telegram:{chat}") == 0
    assert ms.platforms.to(str(chat)) == []


# --- a channel whose secrets are not configured is disabled, not broken ------------------------------

@pytest.mark.parametrize("channel", [WhatsAppInput, TelegramInput, MessengerInput])
def test_unconfigured_channel_refuses_everything(channel):
    empty = channel.from_credentials({key: "" for key in ("account_sid", "auth_token", "whatsapp_number",
                                                           "webhook_url", "bot_token", "webhook_secret",
                                                           "app_secret", "page_access_token", "verify_token")})
    request = SimpleNamespace(headers={"X-Twilio-Signature": "x", "X-Telegram-Bot-Api-Secret-Token": "",
                                       "X-Hub-Signature-256": "sha256=x"}, form={}, body=b"{}")
    assert empty.enabled is False
    assert empty.authentic(request) is False


def test_notification_sends_raise_when_the_platform_refuses():
    """`get_output_channel()` (used to notify outside a conversation) raises so the sender can retry; the
    conversation's own output only logs (the webhook must still answer 200)."""
    import asyncio

    fake = FakePlatforms().start()
    try:
        env = fake.env()
        good = TelegramInput(env["HORTENSE_TELEGRAM_BOT_TOKEN"], "secret", env["HORTENSE_TELEGRAM_API_BASE"])
        asyncio.run(good.get_output_channel().send_text_message("telegram:42", "Rappel : rendez-vous demain"))
        assert fake.text_to("42") == "Rappel : rendez-vous demain"
        bad = MessengerInput("secret", "wrong-page-token", "verify", env["HORTENSE_MESSENGER_API_BASE"])
        with pytest.raises(PlatformError):
            asyncio.run(bad.get_output_channel().send_text_message("messenger:7", "Rappel"))
        wa = WhatsAppInput(env["HORTENSE_TWILIO_ACCOUNT_SID"], "wrong-token", env["HORTENSE_WHATSAPP_NUMBER"],
                           env["HORTENSE_WHATSAPP_WEBHOOK_URL"], env["HORTENSE_TWILIO_API_BASE"])
        with pytest.raises(PlatformError):
            asyncio.run(wa.get_output_channel().send_text_message("whatsapp:+33600000000", "Rappel"))
        asyncio.run(wa._reply_output().send_text_message("whatsapp:+33600000000", "Rappel"))  # logged only
        assert fake.to("7") == [] and fake.to("whatsapp:+33600000000") == []
    finally:
        fake.stop()


def test_credentials_blocks_with_empty_variables_give_disabled_channels(monkeypatch):
    """What `rasa run` does with credentials.yml: unset channel variables (scripts/env.sh sets them empty)
    must give a disabled channel, not a crash; set ones give a working channel."""
    from rasa.shared.utils.io import read_yaml

    from channels.common import CHANNEL_ENV_VARS
    from tests.fakes.platforms import MESSAGING_CREDENTIALS_YAML

    classes = {"channels.whatsapp.WhatsAppInput": WhatsAppInput, "channels.telegram.TelegramInput": TelegramInput,
               "channels.messenger.MessengerInput": MessengerInput}
    for name in CHANNEL_ENV_VARS:
        monkeypatch.setenv(name, "")
    blocks = read_yaml(MESSAGING_CREDENTIALS_YAML)
    assert set(blocks) == set(classes)
    assert all(not classes[k].from_credentials(v).enabled for k, v in blocks.items())
    fake = FakePlatforms()
    for name, value in fake.env().items():
        monkeypatch.setenv(name, value)
    fake.server.server_close()
    blocks = read_yaml(MESSAGING_CREDENTIALS_YAML)
    assert all(classes[k].from_credentials(v).enabled for k, v in blocks.items())
    assert WhatsAppInput.from_credentials(blocks["channels.whatsapp.WhatsAppInput"]).api_base.endswith("/twilio")


def test_telegram_webhook_is_set_by_hand_with_our_secret():
    from channels.telegram import main, set_webhook

    fake = FakePlatforms().start()
    try:
        env = fake.env()
        result = set_webhook("https://hortense.example.test/webhooks/telegram/webhook", environ=env)
        assert result["ok"] is True
        assert ("telegram", f"/telegram/bot{env['HORTENSE_TELEGRAM_BOT_TOKEN']}/setWebhook", 200) in fake.calls
        assert main(["set-webhook", "http://not-https.example"]) == 2
    finally:
        fake.stop()


# --- notifications: the 24-hour window, delivery status, unlinking ----------------------------------------

@pytest.fixture
def travel(clock):
    """This process's clock (the scheduler's, the fake platforms') starting at the real instant the stack runs
    on, so the test can then move it forward: the stack's own records (last message) stay comparable."""
    import time as systime
    from datetime import datetime, timezone

    clock.set(datetime.fromtimestamp(systime.time(), timezone.utc))
    return clock


def _deliver(ms, clock_now):
    from hortense.appointments.notifications import RasaTransport
    from hortense.appointments.scheduler import Jobs

    return Jobs(RasaTransport(rasa_url=ms.stack.rasa_url), ms.stack.database_url, clock=clock_now).deliver()


def _book_from(ms, user: Chat, customer: str) -> int:
    """The customer links `user`'s chat, then books a call from that chat at the first free slot 3 days ahead
    or later (so that its reminder, a day before, comes at least 25 h after the customer's last message)."""
    from datetime import timedelta

    from hortense.appointments import booking as ap

    _link(ms, user, customer)
    with session_scope(ms.stack.database_url) as s:
        customer_id = load_customer(s, customer).id
        earlier = ap.upcoming_for_customer(s, customer_id, _now())  # another module may have booked one on this stack
        if earlier is not None:
            assert ap.cancel(s, customer_id=customer_id, appointment_id=earlier.id, now=_now())
        start = ap.next_free_slots(s, _now(), limit=1, after=_now() + timedelta(days=3))[0]
        result = ap.book(s, customer_id=customer_id, contract_id=None, start=start, reason="Question de facture",
                         phone="0612345678", channel=user.channel, sender_id=user.sender, now=_now())
        assert result.ok, result.error
        return result.appointment.id


def _now():
    from hortense import clock

    return clock.now()


def _notifications(ms, appointment_id: int) -> dict:
    from sqlalchemy import select

    from hortense.db.calendar_models import Notification

    with session_scope(ms.stack.database_url) as s:
        rows = s.execute(select(Notification).where(Notification.appointment_id == appointment_id)).scalars()
        return {n.kind: SimpleNamespace(**{c: getattr(n, c) for c in (
            "sent_at", "abandoned_at", "attempts", "sent_as", "platform_message_id", "delivery_status",
            "delivery_error", "due_at", "text")}) for n in rows}


def _last_inbound(ms, user: Chat):
    from hortense.appointments.notifications import last_inbound

    with session_scope(ms.stack.database_url) as s:
        return last_inbound(s, user.channel, user.sender)


def _travel_to_reminder(ms, user: Chat, appointment_id: int, travel):
    """Move this process's clock to the reminder's due time: at least 25 h after the customer's last message."""
    from datetime import timedelta

    due = _notifications(ms, appointment_id)["reminder"].due_at
    travel.set(due)
    assert _now() - _last_inbound(ms, user) >= timedelta(hours=25)


def test_whatsapp_reminder_outside_24h_is_a_template_and_its_delivery_is_recorded(stack_env, travel):
    from tests.fakes.platforms import WHATSAPP_TEMPLATES

    ms = stack_env
    user = conversation(ms, "whatsapp")
    call = _book_from(ms, user, "C1007")
    assert _last_inbound(ms, user) is not None
    assert _deliver(ms, _now).sent == 1  # the confirmation, inside the window: free text
    assert wait_for(lambda: _notifications(ms, call)["confirmation"].delivery_status == "delivered", 30)
    confirmation = _notifications(ms, call)["confirmation"]
    assert confirmation.sent_as == "text" and user.received()[-1].raw.get("Body") == confirmation.text

    _travel_to_reminder(ms, user, call, travel)
    before = len(user.received())
    assert _deliver(ms, _now).sent == 1
    sent = user.received()[before:]
    assert len(sent) == 1 and sent[0].raw.get("ContentSid") == WHATSAPP_TEMPLATES["reminder"][0]
    assert "Body" not in sent[0].raw and "Rappel : un conseiller Hortense vous appelle le" in sent[0].text
    assert sent[0].raw["StatusCallback"].startswith("https://hortense.example.test/webhooks/whatsapp/status?n=")
    assert wait_for(lambda: _notifications(ms, call)["reminder"].delivery_status == "delivered", 30)
    reminder = _notifications(ms, call)["reminder"]
    assert reminder.sent_as == "template" and reminder.platform_message_id.startswith("SM")
    def answers():
        return [(f["MessageStatus"], answer) for _, f, answer in ms.platforms.callbacks
                if f["MessageSid"] == reminder.platform_message_id]

    assert wait_for(lambda: len(answers()) == 3, 30), answers()
    assert answers() == [("queued", 200), ("sent", 200), ("delivered", 200)]  # signed, accepted, in order


def test_whatsapp_failed_delivery_is_recorded_and_shown_to_customer_and_advisor(stack_env, travel):
    from datetime import timedelta

    from hortense.appointments import booking as ap
    from web.portal import customer_space

    ms = stack_env
    user = conversation(ms, "whatsapp")
    call = _book_from(ms, user, "C1003")
    _deliver(ms, _now)
    ms.platforms.unreachable.add(user.sender)
    _travel_to_reminder(ms, user, call, travel)
    _deliver(ms, _now)
    assert wait_for(lambda: _notifications(ms, call)["reminder"].delivery_status == "failed", 30)
    reminder = _notifications(ms, call)["reminder"]
    assert reminder.delivery_error == "twilio:63024" and reminder.sent_as == "template"
    page = customer_space("C1003", None, _now())
    assert [n["text"] for n in page["notices"]] == [reminder.text]
    with session_scope(ms.stack.database_url) as s:
        (console_call,) = [c for c in ap.calls_between(s, advisor_id=None, start=_now(), end=_now() + timedelta(days=2))
                           if c.id == call]
    assert console_call.reminder_undelivered is True


def test_whatsapp_free_text_outside_the_window_fails_with_63016_in_the_status_callback(stack_env, travel):
    """The fake holds Twilio's rule: what our scheduler never does (free text after 24 h) fails late, signed."""
    from datetime import timedelta

    from channels.whatsapp import WhatsAppInput

    ms = stack_env
    number = new_number()
    whatsapp(ms.stack.rasa_url, number, "bonjour")
    travel.advance(timedelta(hours=25))
    env = ms.platforms.env()
    output = WhatsAppInput(env["HORTENSE_TWILIO_ACCOUNT_SID"], env["HORTENSE_TWILIO_AUTH_TOKEN"],
                           env["HORTENSE_WHATSAPP_NUMBER"], env["HORTENSE_WHATSAPP_WEBHOOK_URL"],
                           env["HORTENSE_TWILIO_API_BASE"]).get_output_channel()
    import asyncio

    from hortense.appointments.notifications import Notice

    asyncio.run(output.notify(number, "Rappel", Notice(10**9, "reminder", False, {})))  # pretends to be inside
    assert wait_for(lambda: [f for _, f, _ in ms.platforms.callbacks
                             if f["To"] == number and f["MessageStatus"] == "failed"], 10)[0]["ErrorCode"] == "63016"
    assert all(s.text != "Rappel" for s in ms.platforms.to(number))


def test_messenger_reminder_outside_24h_is_tagged_and_a_refusal_is_final(stack_env, travel):
    ms = stack_env
    user = conversation(ms, "messenger")
    call = _book_from(ms, user, "C1005")
    assert _deliver(ms, _now).sent == 1
    assert user.received()[-1].raw["messaging_type"] == "UPDATE"  # proactive, inside the window: not RESPONSE
    _travel_to_reminder(ms, user, call, travel)
    before = len(user.received())
    assert _deliver(ms, _now).sent == 1
    (sent,) = user.received()[before:]
    assert sent.raw["messaging_type"] == "MESSAGE_TAG" and sent.raw["tag"] == "CONFIRMED_EVENT_UPDATE"
    assert sent.text.startswith("Rappel : un conseiller Hortense vous appelle")
    reminder = _notifications(ms, call)["reminder"]
    assert reminder.sent_as == "tagged" and reminder.delivery_status == "sent" and reminder.platform_message_id


def test_messenger_refusal_is_a_final_state_not_five_retries(stack_env, travel):
    ms = stack_env
    other = conversation(ms, "messenger")
    call = _book_from(ms, other, "C1001")
    ms.platforms.unreachable.add(other.recipient)
    report = _deliver(ms, _now)
    assert report.failed == 1
    confirmation = _notifications(ms, call)["confirmation"]
    assert confirmation.delivery_status == "failed" and confirmation.delivery_error == "messenger:551/1545041"
    assert confirmation.attempts == 0 and confirmation.abandoned_at is not None  # final at once, no retries


def test_nothing_is_sent_to_a_chat_after_unlinking(stack_env, travel):
    ms = stack_env
    user = conversation(ms, "telegram")
    call = _book_from(ms, user, "C1008")
    assert _deliver(ms, _now).sent == 1
    assert "n'est plus reliée" in user.turn("délier mon compte")
    travel.set(_notifications(ms, call)["reminder"].due_at)
    before = len(ms.platforms.to(user.recipient))
    report = _deliver(ms, _now)
    assert report.sent == 0 and len(ms.platforms.to(user.recipient)) == before
    reminder = _notifications(ms, call)["reminder"]
    assert reminder.sent_at is None and reminder.delivery_status == "failed" and reminder.delivery_error == "unlinked"


def test_messenger_get_started_greets(stack_env):
    from tests.fakes.platforms import messenger_postback_body

    ms, psid = stack_env, new_psid()
    _ok(messenger(ms.stack.rasa_url, messenger_postback_body(psid, "GET_STARTED")))
    assert "Hortense" in wait_for(lambda: ms.platforms.text_to(psid))
    assert "pas bien compris" not in ms.platforms.text_to(psid)


# --- links as links, charts with their caption (issue 10, item 8) -------------------------------------------

DOCUMENT_ASKS = (("mon attestation", "/documents/attestation/"), ("mon contrat en pdf", "/documents/contrat/"),
                 ("ma dernière facture", "/documents/facture/"))
SHORT_LINK = re.compile(r"(https?://[^\s/]+)/l/([A-Za-z0-9_-]{22})(?=\s|$)")


def _new_messages(ms, user, ask: str) -> list:
    before = len(ms.platforms.to(user.recipient))
    user.turn(ask)
    return ms.platforms.to(user.recipient)[before:]


def _no_signed_url_in_text(sent: list) -> None:
    for message in sent:
        assert "sig=" not in message.text and "exp=" not in message.text, message.text


@pytest.fixture(scope="module")
def links_web(mstack) -> str:
    """The web app of the messaging stack (same database and secrets), for the short links' redirects."""
    from tests.e2e.servers import free_port, start_web

    if getattr(mstack, "web_url", None) is None:
        mstack.web_url = start_web(mstack.stack, free_port(), name="web-links")
    return mstack.web_url


@pytest.mark.parametrize("kind,customer", [("telegram", "C1003"), ("messenger", "C1005")])
def test_documents_come_as_url_buttons_never_as_signed_urls_in_text(stack_env, kind, customer):
    ms = stack_env
    user = conversation(ms, kind)
    _link(ms, user, customer)
    for ask, path in DOCUMENT_ASKS:
        sent = _new_messages(ms, user, ask)
        _no_signed_url_in_text(sent)
        links = [b for message in sent for b in message.buttons if b.get("url")]
        assert len(links) == 1 and path in links[0]["url"] and f"c={customer}" in links[0]["url"], (ask, sent)
        if kind == "messenger":
            assert len(links[0]["title"]) <= 20
    assert not [r for r in ms.platforms.refused if r.recipient == user.recipient]


def test_whatsapp_documents_come_as_short_links_to_the_right_customers_document_only(stack_env, links_web):
    import requests
    from sqlalchemy import update

    from hortense import clock
    from hortense.db.short_link_models import ShortLink

    ms = stack_env
    user = conversation(ms, "whatsapp")
    _link(ms, user, "C1001")
    shorts = []
    for ask, path in DOCUMENT_ASKS:
        sent = _new_messages(ms, user, ask)
        _no_signed_url_in_text(sent)
        found = [m for message in sent for m in SHORT_LINK.finditer(message.text)]
        assert len(found) == 1, (ask, [s.text for s in sent])
        shorts.append((found[0].group(2), path))
    for token, path in shorts:
        answer = requests.get(f"{links_web}/l/{token}", allow_redirects=False, timeout=30)
        assert answer.status_code == 302 and answer.headers["Location"].startswith(path), answer.text[:200]
        assert "c=C1001" in answer.headers["Location"]
        document = requests.get(f"{links_web}/l/{token}", timeout=30)
        assert document.status_code == 200 and document.headers["Content-Type"] == "application/pdf"
    # A browser logged in as another customer gets nothing from it.
    other = requests.Session()
    page = other.get(f"{links_web}/", timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    assert other.post(f"{links_web}/connexion", data={"csrf": csrf, "customer": "C1002"}, timeout=30).ok
    refused = other.get(f"{links_web}/l/{shorts[0][0]}", timeout=30)
    assert refused.status_code == 403 and b"%PDF" not in refused.content
    # Expired with its signed link: the "expired" page.
    with session_scope(ms.stack.database_url) as s:
        s.execute(update(ShortLink).values(expires_at=clock.now()))
    expired = requests.get(f"{links_web}/l/{shorts[1][0]}", timeout=30)
    assert expired.status_code == 410 and "Lien expiré" in expired.text


@pytest.mark.parametrize("kind", ["whatsapp", "telegram", "messenger"])
def test_a_chart_comes_with_its_caption_in_one_message(stack_env, kind):
    ms = stack_env
    user = conversation(ms, kind)
    _link(ms, user, "C1001")
    sent = _new_messages(ms, user, "ma conso de l'année")
    _no_signed_url_in_text(sent)
    if kind == "whatsapp":
        charts = [m for m in sent if m.raw.get("MediaUrl")]
        assert len(charts) == 1 and charts[0].raw["Body"].startswith("Graphique : ")
    elif kind == "telegram":
        charts = [m for m in sent if m.raw.get("photo")]
        assert len(charts) == 1 and charts[0].raw["caption"].startswith("Graphique : ")
    else:
        charts = [m for m in sent if (m.raw["message"].get("attachment") or {}).get("type") == "template"]
        [element] = charts[0].raw["message"]["attachment"]["payload"]["elements"]
        assert len(charts) == 1 and element["image_url"] and element["title"].startswith("Graphique : ")
