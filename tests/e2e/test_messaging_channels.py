"""WhatsApp, Telegram and Messenger, driven over real HTTP against a real Rasa + action server, with the
platforms' APIs played by a local fake: forged webhooks change nothing, an unlinked sender gets the
linking instructions, a code issued in the customer space links the conversation, a linked customer
gets their own answers, and unlinking (from the chat or the customer space) takes effect at once."""
from __future__ import annotations

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
    from hortense.db.seed import DEMO_CUSTOMERS

    return {c.number: [fr.pdl(site.pdl) for site in c.sites] for c in DEMO_CUSTOMERS}


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
