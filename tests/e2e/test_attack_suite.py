"""Attacks on a running Hortense (real Rasa, action server and, for documents, web app), one per test.

Each attack must fail the same way: no other customer's data in any answer, and nothing changed in the
database (links, codes, appointments) or in the conversations it targeted.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import jwt
import pytest
import requests
from sqlalchemy import func, select

from hortense.replies import formatting as fr
from hortense.db.link_models import AccountLink, LinkAttempt, LinkCode
from hortense.db.seed import demo_customers
from hortense.db.session import session_scope
from hortense.security.identity import ASSERTION_KEY, sign_assertion
from tests.e2e.servers import ROOT, free_port, texts
from tests.fakes.platforms import (  # noqa: F401  (mstack, stack_env: fixtures)
    Chat,
    issue_code,
    linked_customer,
    messenger,
    messenger_body,
    mstack,
    stack_env,
    telegram,
    tracker_events,
    tracker_rows,
    twilio_signature,
    wait_for,
    whatsapp,
)

pytestmark = pytest.mark.e2e

CONTRACTS = {c.number: [s.contract_number for s in c.sites] for c in demo_customers()}
PDLS = {c.number: [s.pdl for s in c.sites] for c in demo_customers()}


def leaked(answer: str, *, except_for: str | None = None) -> list[str]:
    """Every PDL of another customer found in an answer (spaces of any kind ignored)."""
    flat = answer.replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    return [p for number, pdls in PDLS.items() if number != except_for for p in pdls if p in flat]


def counts(ms) -> dict[str, int]:
    with session_scope(ms.stack.database_url) as s:
        return {model.__tablename__: s.execute(select(func.count()).select_from(model)).scalar_one()
                for model in (AccountLink, LinkCode, LinkAttempt)}


def web_post(ms, text: str, token: str | None, **body) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(f"{ms.stack.rasa_url}/webhooks/web/message", json={"message": text, **body},
                         headers=headers, timeout=60)


def web_say(ms, customer: str, text: str, **body) -> str:
    answer = web_post(ms, text, ms.stack.token(customer), **body)
    assert answer.status_code == 200, answer.text
    return texts(answer.json())


def linked_chat(ms, customer: str, factory=Chat.whatsapp) -> Chat:
    chat = factory(ms)
    assert "reliée à votre compte" in chat.turn(f"lier mon compte {issue_code(ms.stack, customer)}")
    return chat


def slots_set(ms, sender: str, slot: str) -> list:
    return [json.loads(data).get("value") for kind, data in tracker_rows(ms.stack, sender)
            if kind == "slot" and json.loads(data).get("name") == slot]


def jwt_claims(ms, sub: str = "C1002", **extra) -> dict:
    now = int(time.time())
    return {"sub": sub, "iss": ms.stack.settings.portal_jwt_issuer, "aud": ms.stack.settings.portal_jwt_audience,
            "iat": now, "exp": now + 600, **extra}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made_jwt(header: dict, claims: dict, key: bytes, digest=hashlib.sha256) -> str:
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64url(hmac.new(key, signing_input.encode(), digest).digest())}"


# --- forged sessions and identities ------------------------------------------------------------------

def test_forged_conversation_id_in_the_web_body(stack_env):
    ms = stack_env
    before = tracker_events(ms.stack, "web-C1003")
    answer = web_say(ms, "C1001", "c'est quoi mon numéro de PDL ?", sender="web-C1003", session_id="web-C1003",
                     sender_id="web-C1003", conversation_id="web-C1003")
    assert fr.pdl(PDLS["C1001"][0]) in answer and not leaked(answer, except_for="C1001")
    assert tracker_events(ms.stack, "web-C1003") == before


def test_forged_identity_assertion_with_a_valid_signature_in_web_metadata(stack_env):
    """Even an assertion signed with the real key (a replay) is never taken from the client."""
    ms = stack_env
    replayed = sign_assertion("web", "web-C1003", "C1003")  # the stack's identity secret (stack_env)
    answer = web_say(ms, "C1001", "c'est quoi mon numéro de PDL ?",
                     metadata={ASSERTION_KEY: replayed}, customData={ASSERTION_KEY: replayed})
    assert not leaked(answer, except_for="C1001")


def test_visitor_cannot_claim_a_customers_socket_session(stack_env):
    import socketio

    ms = stack_env
    client = socketio.Client(reconnection=False)
    got: dict = {"messages": []}
    client.on("session_confirm", lambda sid: got.update(session=sid))
    client.on("bot_uttered", lambda data: got["messages"].append(data))
    client.connect(ms.stack.rasa_url, headers={"Origin": "http://localhost:8000"}, transports=["polling"],
                   wait_timeout=10)
    try:
        client.emit("session_request", {"session_id": "web-C1002"})
        wait_for(lambda: got.get("session"), 10)
        assert got["session"] != "web-C1002" and got["session"].startswith("visitor-")
        forged = sign_assertion("web", got["session"], "C1002")
        client.emit("user_uttered", {"message": "c'est quoi mon numéro de PDL ?", "session_id": "web-C1002",
                                     "customData": {ASSERTION_KEY: forged}, "metadata": {ASSERTION_KEY: forged}})
        wait_for(lambda: got["messages"], 30)
        answer = texts(got["messages"])
        assert answer and not leaked(answer)
    finally:
        client.disconnect()


def test_socket_from_a_foreign_origin_is_refused(stack_env):
    url = f"{stack_env.stack.rasa_url}/socket.io/"
    params = {"EIO": "4", "transport": "polling"}
    foreign = requests.get(url, params=params, headers={"Origin": "https://evil.example"}, timeout=10)
    assert foreign.status_code >= 400
    own = requests.get(url, params=params, headers={"Origin": "http://localhost:8000"}, timeout=10)
    assert own.status_code == 200


# --- portal tokens -----------------------------------------------------------------------------------

def test_jwt_with_alg_none_is_refused(stack_env):
    ms = stack_env
    token = jwt.encode(jwt_claims(ms), None, algorithm="none")
    before = tracker_events(ms.stack, "web-C1002")
    answer = web_post(ms, "c'est quoi mon numéro de PDL ?", token)
    assert answer.status_code == 401 and not leaked(answer.text)
    assert tracker_events(ms.stack, "web-C1002") == before


def test_jwt_algorithm_confusion_is_refused(stack_env):
    """The right secret, but HS512 or an "RS256" header over an HMAC: only HS256 is accepted."""
    ms = stack_env
    secret = ms.stack.settings.portal_jwt_secret.encode()
    for header, digest in (({"alg": "HS512", "typ": "JWT"}, hashlib.sha512),
                           ({"alg": "RS256", "typ": "JWT"}, hashlib.sha256),
                           ({"alg": "hs256", "typ": "JWT"}, hashlib.sha256)):
        token = hand_made_jwt(header, jwt_claims(ms), secret, digest)
        answer = web_post(ms, "c'est quoi mon numéro de PDL ?", token)
        assert answer.status_code == 401, header
        assert not leaked(answer.text)


def test_jwt_signed_with_another_key_for_another_customer_is_refused(stack_env):
    ms = stack_env
    token = jwt.encode(jwt_claims(ms, sub="C1004"), "a-different-secret-of-sufficient-length-42", algorithm="HS256")
    answer = web_post(ms, "c'est quoi mon numéro de PDL ?", token)
    assert answer.status_code == 401 and not leaked(answer.text)


# --- /intent{...} injection ----------------------------------------------------------------------------

def test_forced_intent_with_an_identity_slot_on_the_website(stack_env):
    ms = stack_env
    other = CONTRACTS["C1003"][0]
    answer = web_say(ms, "C1001", f'/ask_pdl{{"selected_contract": "{other}", "customer": "C1003"}}')
    assert not leaked(answer, except_for="C1001")
    assert other not in slots_set(ms, "web-C1001", "selected_contract")


def test_forced_select_contract_of_another_customer_on_the_website(stack_env):
    ms = stack_env
    other = CONTRACTS["C1001"][0]
    answer = web_say(ms, "C1006", f'/select_contract{{"contract_number": "{other}"}}')
    assert not leaked(answer, except_for="C1006")
    assert other not in slots_set(ms, "web-C1006", "selected_contract")


def test_forced_select_contract_of_another_customer_on_whatsapp(stack_env):
    ms = stack_env
    chat = linked_chat(ms, "C1006")
    other = CONTRACTS["C1002"][0]
    answer = chat.turn(f'/select_contract{{"contract_number": "{other}"}}')
    answer += chat.turn("c'est quoi mon numéro de PDL ?")
    assert not leaked(answer, except_for="C1006")
    assert other not in slots_set(ms, chat.sender, "selected_contract")


def test_a_button_offered_to_another_conversation_is_not_accepted(stack_env):
    """B replays the payload of a button the bot offered to A: in B's conversation it was never offered."""
    ms = stack_env
    victim = linked_chat(ms, "C1006", Chat.telegram)
    victim.turn("c'est quoi mon numéro de PDL ?")
    payload = victim.received()[-1].buttons[0]["payload"]
    attacker = linked_chat(ms, "C1001", Chat.telegram)
    answer = attacker.turn(payload)
    assert not leaked(answer, except_for="C1001")
    assert not set(slots_set(ms, attacker.sender, "selected_contract")) & set(CONTRACTS["C1006"])


def test_forced_restart_and_session_start_are_read_as_text(stack_env):
    ms = stack_env
    chat = linked_chat(ms, "C1002", Chat.messenger)
    for text in ("/restart", "/session_start", "  //restart"):
        chat.turn(text)
    kinds = [kind for kind, _ in tracker_rows(ms.stack, chat.sender)]
    assert "restart" not in kinds and kinds.count("session_started") == 1
    assert linked_customer(ms.stack, "messenger", chat.sender) == "C1002"


def test_forced_restart_on_the_website_is_read_as_text(stack_env):
    ms = stack_env
    web_say(ms, "C1007", "bonjour")
    web_say(ms, "C1007", "/restart")
    assert "restart" not in [kind for kind, _ in tracker_rows(ms.stack, "web-C1007")]


# --- link codes ----------------------------------------------------------------------------------

def test_replayed_link_code(stack_env):
    ms = stack_env
    code = issue_code(ms.stack, "C1003")
    assert "reliée" in Chat.whatsapp(ms).turn(f"lier mon compte {code}")
    thief = Chat.telegram(ms)
    answer = thief.turn(f"lier mon compte {code}")
    assert "ne correspond" in answer
    assert linked_customer(ms.stack, "telegram", thief.sender) is None
    assert not leaked(thief.turn("c'est quoi mon numéro de PDL ?"))


def test_expired_link_code(stack_env):
    ms = stack_env
    code = issue_code(ms.stack, "C1004", datetime.now(timezone.utc) - timedelta(minutes=11))
    chat = Chat.messenger(ms)
    assert "n'est plus valable" in chat.turn(f"lier mon compte {code}")
    assert linked_customer(ms.stack, "messenger", chat.sender) is None
    with session_scope(ms.stack.database_url) as s:
        assert s.execute(select(func.count()).select_from(AccountLink).where(
            AccountLink.sender_id == chat.sender)).scalar_one() == 0


def test_code_brute_force_locks_after_five_tries(stack_env):
    ms = stack_env
    code = issue_code(ms.stack, "C1005")
    guesses = [f"{(int(code) + i) % 10**6:06d}" for i in range(1, 6)]
    chat = Chat.telegram(ms)
    answers = [chat.turn(f"lier mon compte {guess}") for guess in guesses]
    assert all("ne correspond" in a for a in answers[:4]) and "bloquée" in answers[4]
    assert "bloquée" in chat.turn(f"lier mon compte {code}")  # even the right code, while locked
    assert linked_customer(ms.stack, "telegram", chat.sender) is None
    with session_scope(ms.stack.database_url) as s:
        attempt = s.execute(select(LinkAttempt).where(LinkAttempt.sender_id == chat.sender)).scalar_one()
        assert attempt.failed_attempts == 5 and attempt.locked_until is not None
    assert "reliée" in Chat.whatsapp(ms).turn(f"lier mon compte {code}")  # the owner's code still works elsewhere


def test_another_channels_sender_id_is_another_sender(stack_env):
    ms = stack_env
    owner = linked_chat(ms, "C1001")  # whatsapp:+3361…
    digits = owner.platform_id.split("+")[1]
    for impostor in (Chat.messenger(ms, owner.platform_id), Chat.messenger(ms, digits), Chat.telegram(ms, int(digits))):
        answer = impostor.turn("c'est quoi mon numéro de PDL ?")
        assert "lier mon compte" in answer and not leaked(answer)
        assert linked_customer(ms.stack, impostor.channel, impostor.sender) is None


def test_linking_from_the_website_does_nothing(stack_env):
    ms = stack_env
    code = issue_code(ms.stack, "C1003")
    before = counts(ms)
    answer = web_say(ms, "C1001", f"lier mon compte {code}")
    assert "rien à lier" in answer
    after = counts(ms)
    assert after["account_links"] == before["account_links"]
    assert "reliée" in Chat.telegram(ms).turn(f"lier mon compte {code}")  # the code was not consumed


def test_a_linked_conversation_cannot_be_taken_over_with_another_code(stack_env):
    ms = stack_env
    chat = linked_chat(ms, "C1002")
    other = issue_code(ms.stack, "C1008")
    assert "déjà reliée" in chat.turn(f"lier mon compte {other}")
    assert linked_customer(ms.stack, "whatsapp", chat.sender) == "C1002"
    assert "reliée à votre compte" in Chat.messenger(ms).turn(f"lier mon compte {other}")  # still unused


# --- webhooks --------------------------------------------------------------------------------------

def test_whatsapp_signature_of_another_body_is_refused(stack_env):
    """A genuine signature, replayed on a message whose text was changed in transit."""
    ms = stack_env
    owner = linked_chat(ms, "C1001")
    params = {"From": owner.sender, "Body": "bonjour", "MessageSid": "SMtampered000001"}
    signature = twilio_signature(params)
    before = tracker_events(ms.stack, owner.sender)
    forged = requests.post(f"{ms.stack.rasa_url}/webhooks/whatsapp/webhook", timeout=30,
                           data={**params, "Body": "délier mon compte"}, headers={"X-Twilio-Signature": signature})
    assert forged.status_code == 403
    assert tracker_events(ms.stack, owner.sender) == before
    assert linked_customer(ms.stack, "whatsapp", owner.sender) == "C1001"


def test_whatsapp_impersonating_a_linked_number_without_signature(stack_env):
    ms = stack_env
    owner = linked_chat(ms, "C1004")
    sent_before = len(owner.received())
    answer = whatsapp(ms.stack.rasa_url, owner.sender, "c'est quoi mon numéro de PDL ?", signature=None)
    assert answer.status_code == 403 and not leaked(answer.text)
    assert len(owner.received()) == sent_before


def test_replayed_signed_whatsapp_delivery_is_handled_once(stack_env):
    ms = stack_env
    owner = linked_chat(ms, "C1003")
    whatsapp(ms.stack.rasa_url, owner.sender, "délier mon compte", message_sid="SMreplay0000000001")
    assert linked_customer(ms.stack, "whatsapp", owner.sender) is None
    assert "reliée" in owner.turn(f"lier mon compte {issue_code(ms.stack, 'C1003')}")
    events = tracker_events(ms.stack, owner.sender)
    whatsapp(ms.stack.rasa_url, owner.sender, "délier mon compte", message_sid="SMreplay0000000001")
    assert tracker_events(ms.stack, owner.sender) == events
    assert linked_customer(ms.stack, "whatsapp", owner.sender) == "C1003"


def test_telegram_update_for_a_linked_chat_with_a_wrong_secret(stack_env):
    ms = stack_env
    owner = linked_chat(ms, "C1005", Chat.telegram)
    before = tracker_events(ms.stack, owner.sender)
    for secret in (None, "guess", ms.stack.env.get("HORTENSE_TELEGRAM_BOT_TOKEN")):
        answer = telegram(ms.stack.rasa_url, owner.platform_id, "délier mon compte", secret=secret)
        assert answer.status_code == 403
    assert tracker_events(ms.stack, owner.sender) == before
    assert linked_customer(ms.stack, "telegram", owner.sender) == "C1005"


def test_messenger_sha1_signature_of_the_stock_channel_is_not_enough(stack_env):
    from tests.fakes.platforms import MESSENGER_APP_SECRET

    ms = stack_env
    owner = linked_chat(ms, "C1008", Chat.messenger)
    body = messenger_body((owner.platform_id, "délier mon compte"))
    sha1 = "sha1=" + hmac.new(MESSENGER_APP_SECRET.encode(), body, hashlib.sha1).hexdigest()
    answer = requests.post(f"{ms.stack.rasa_url}/webhooks/messenger/webhook", data=body, timeout=30,
                           headers={"X-Hub-Signature": sha1, "Content-Type": "application/json"})
    assert answer.status_code == 403
    assert linked_customer(ms.stack, "messenger", owner.sender) == "C1008"


def test_messenger_signature_of_another_delivery_is_refused(stack_env):
    ms = stack_env
    owner = linked_chat(ms, "C1007", Chat.messenger)
    from tests.fakes.platforms import MESSENGER_APP_SECRET

    genuine = messenger_body((owner.platform_id, "bonjour"))
    signature = "sha256=" + hmac.new(MESSENGER_APP_SECRET.encode(), genuine, hashlib.sha256).hexdigest()
    tampered = messenger_body((owner.platform_id, "délier mon compte"))
    assert messenger(ms.stack.rasa_url, tampered, signature=signature).status_code == 403
    assert linked_customer(ms.stack, "messenger", owner.sender) == "C1007"


def test_message_flood_is_rate_limited(stack_env):
    from tests.fakes.platforms import STACK_RATE_PER_MINUTE

    ms = stack_env
    chat = Chat.whatsapp(ms)
    for i in range(STACK_RATE_PER_MINUTE + 5):
        chat.say(f"bonjour {i}")
    user_turns = [kind for kind, _ in tracker_rows(ms.stack, chat.sender)].count("user")
    assert user_turns == STACK_RATE_PER_MINUTE
    assert [s.text for s in chat.received()].count(
        "Vous m'envoyez beaucoup de messages en peu de temps : je marque une petite pause. "
        "Réessayez dans une minute, s'il vous plaît.") == 1


# --- the HTTP API and the action server ------------------------------------------------------------

def test_http_api_does_not_serve_trackers(stack_env):
    ms = stack_env
    owner = linked_chat(ms, "C1001", Chat.telegram)
    base = ms.stack.rasa_url
    for method, path in (("GET", f"/conversations/{owner.sender}/tracker"), ("GET", "/conversations/web-C1001/tracker"),
                         ("POST", f"/conversations/{owner.sender}/tracker/events"),
                         ("POST", f"/conversations/{owner.sender}/trigger_intent"), ("GET", "/status")):
        answer = requests.request(method, base + path, json={"event": "restart"}, timeout=10)
        assert answer.status_code in (404, 405), path
        assert not leaked(answer.text)
    assert linked_customer(ms.stack, "telegram", owner.sender) == "C1001"


def test_http_api_does_not_parse_or_predict(stack_env):
    base = stack_env.stack.rasa_url
    for path in ("/model/parse", "/model/predict", "/webhooks/rest/webhook", "/webhooks/callback/webhook"):
        answer = requests.post(base + path, json={"text": "/ask_pdl", "sender": "web-C1001", "message": "pdl"},
                               timeout=10)
        assert answer.status_code in (404, 405), path
        assert not leaked(answer.text)


def _action_call(ms, customer: str) -> dict:
    sender = f"web-{customer}"
    metadata = {ASSERTION_KEY: sign_assertion("web", sender, customer)}  # even a valid assertion
    user = {"event": "user", "text": "c'est quoi mon numéro de PDL ?", "input_channel": "web", "metadata": metadata,
            "parse_data": {"intent": {"name": "ask_pdl", "confidence": 1.0}, "entities": []}}
    return {"next_action": "action_ask_pdl", "sender_id": sender, "version": "3.6.21", "domain": {},
            "tracker": {"sender_id": sender, "slots": {}, "latest_message": user, "events": [user],
                        "latest_input_channel": "web", "active_loop": {}, "latest_action": {}}}


def test_action_server_without_token(stack_env):
    ms = stack_env
    answer = requests.post(f"{ms.stack.action_url}/webhook", json=_action_call(ms, "C1002"), timeout=10)
    assert answer.status_code == 403 and not leaked(answer.text)


def test_action_server_with_a_wrong_token(stack_env):
    ms = stack_env
    for params, headers in (({"hortense_token": "guess"}, {}), ({}, {"X-Hortense-Token": "guess"}),
                            ({"hortense_token": ms.stack.env["HORTENSE_IDENTITY_SECRET"]}, {})):
        answer = requests.post(f"{ms.stack.action_url}/webhook", params=params, headers=headers,
                               json=_action_call(ms, "C1002"), timeout=10)
        assert answer.status_code == 403 and not leaked(answer.text)


def test_action_server_listens_on_loopback_only(stack_env):
    import socket

    port = int(stack_env.stack.action_url.rsplit(":", 1)[1])
    addresses = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    for address in addresses - {"127.0.0.1"}:
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex((address, port)) != 0, address


# --- appointments and documents of another customer --------------------------------------------------

def _booked_appointment_of(ms, customer_number: str) -> int:
    calendar = pytest.importorskip("hortense.db.calendar_models")
    from hortense.db.models import Customer

    start = (datetime.now(timezone.utc) + timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    with session_scope(ms.stack.database_url) as s:
        customer = s.execute(select(Customer).where(Customer.customer_number == customer_number)).scalar_one()
        advisor = calendar.Advisor(name="Conseillère test", email=f"attack-{time.time_ns()}@example.fr",
                                   password_hash="x")
        s.add(advisor)
        s.flush()
        row = calendar.Appointment(customer_id=customer.id, contract_id=None, advisor_id=advisor.id, start_utc=start,
                                   end_utc=start + timedelta(minutes=30), reason="Question sur ma facture",
                                   phone="+33612345602", channel="web", sender_id=f"web-{customer_number}",
                                   status=calendar.STATUS_BOOKED)
        s.add(row)
        s.flush()
        return row.id


def _status_of(ms, appointment_id: int) -> str:
    from hortense.db.calendar_models import Appointment

    with session_scope(ms.stack.database_url) as s:
        return s.get(Appointment, appointment_id).status


def test_cancel_another_customers_appointment_with_a_forced_intent(stack_env):
    ms = stack_env
    victim = _booked_appointment_of(ms, "C1002")
    for text in (f'/cancel_appointment{{"appointment_id": "{victim}"}}', "oui",
                 f'/affirm{{"pending_cancel": "{victim}", "appointment_id": "{victim}"}}'):
        answer = web_say(ms, "C1001", text)
        assert not leaked(answer, except_for="C1001")
    assert _status_of(ms, victim) == "booked"


def test_cancel_another_customers_appointment_from_a_linked_messaging_chat(stack_env):
    ms = stack_env
    victim = _booked_appointment_of(ms, "C1005")
    chat = linked_chat(ms, "C1003", Chat.telegram)
    chat.turn(f'/cancel_appointment{{"appointment_id": "{victim}"}}')
    chat.turn("annuler mon rendez-vous")
    chat.turn("oui")
    assert _status_of(ms, victim) == "booked"


@pytest.fixture(scope="module")
def web_app(mstack):
    """The customer-space web app as a real process on the stack's database (documents are served there)."""
    port = free_port()
    env = {**mstack.stack.env, "HORTENSE_WEB_PORT": str(port), "HORTENSE_WEB_HOST": "127.0.0.1"}
    log = (mstack.stack.workdir / "web.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "web.app"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: _up(url), 60), "web app did not start"
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def _up(url: str) -> bool:
    try:
        return requests.get(f"{url}/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _document_link(ms, customer: str, contract: str) -> str:
    from hortense.security.signing import sign_path

    return sign_path(f"/documents/contrat/{contract}.pdf", customer, ms.stack.env["HORTENSE_LINKS_SECRET"].encode())


def test_document_link_of_customer_a_rewritten_for_customer_b(stack_env, web_app):
    ms = stack_env
    link = _document_link(ms, "C1001", CONTRACTS["C1001"][0])
    rewritten = link.replace("c=C1001", "c=C1002").replace(CONTRACTS["C1001"][0], CONTRACTS["C1002"][0])
    answer = requests.get(web_app + rewritten, timeout=10)
    assert answer.status_code == 403 and not answer.content.startswith(b"%PDF")


def test_document_link_signed_for_a_pointing_at_bs_document(stack_env, web_app):
    ms = stack_env
    genuine = requests.get(web_app + _document_link(ms, "C1001", CONTRACTS["C1001"][0]), timeout=10)
    assert genuine.status_code == 200 and genuine.content.startswith(b"%PDF")  # the control case
    answer = requests.get(web_app + _document_link(ms, "C1001", CONTRACTS["C1002"][0]), timeout=10)
    assert answer.status_code == 403 and not answer.content.startswith(b"%PDF")


def test_document_request_for_another_customers_contract_in_chat(stack_env):
    ms = stack_env
    chat = linked_chat(ms, "C1006", Chat.messenger)
    other = CONTRACTS["C1001"][0]
    answer = chat.turn(f'/request_contract_document{{"contract_number": "{other}"}}')
    answer += chat.turn(f"je veux le contrat {other} en pdf")
    assert other not in answer and "c=C1001" not in answer and not leaked(answer, except_for="C1006")
