"""The website channel gives customer data only to a verified portal token, whatever else a client sends."""
from __future__ import annotations

import threading
import time

import jwt
import pytest
import socketio

from hortense.replies import formatting as fr
from hortense.account.customers import load_customer
from hortense.security.identity import sign_assertion
from tests.e2e.servers import texts

pytestmark = pytest.mark.e2e

ALL_PDLS = [f"142957301001{n:02d}" for n in range(1, 10)]


def leaks_any_pdl(answer: str) -> bool:
    flat = answer.replace("\u00a0", " ").replace(" ", "")
    return any(p in flat for p in ALL_PDLS)


def claims(stack, **overrides):
    now = int(time.time())
    base = {"sub": "C1001", "iss": stack.settings.portal_jwt_issuer, "aud": stack.settings.portal_jwt_audience,
            "iat": now, "exp": now + 600}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize("case", ["none", "garbage", "expired", "other_key", "alg_none", "wrong_audience",
                                  "wrong_issuer", "no_sub", "no_exp"])
def test_http_endpoint_refuses_untrusted_tokens(stack, case):
    secret = stack.settings.portal_jwt_secret
    tokens = {
        "none": None,
        "garbage": "not-a-jwt",
        "expired": jwt.encode(claims(stack, exp=int(time.time()) - 60, iat=int(time.time()) - 700), secret),
        "other_key": jwt.encode(claims(stack), "another-secret-of-the-same-length-000000"),
        "alg_none": jwt.encode(claims(stack), None, algorithm="none"),
        "wrong_audience": jwt.encode(claims(stack, aud="someone-else"), secret),
        "wrong_issuer": jwt.encode(claims(stack, iss="evil"), secret),
        "no_sub": jwt.encode(claims(stack, sub=None), secret),
        "no_exp": jwt.encode(claims(stack, exp=None), secret),
    }
    response = stack.post("c'est quoi mon pdl ?", tokens[case])
    assert response.status_code == 401
    assert not leaks_any_pdl(response.text)


def test_forged_sender_and_metadata_in_the_body_are_ignored(stack, db):
    own = load_customer(db, "C1001").contracts[0]
    forged = sign_assertion("web", "web-C1003", "C1003")  # signed with a key the server does not use
    response = stack.post("c'est quoi mon pdl ?", stack.token("C1001"), sender="web-C1003",
                          session_id="web-C1003", metadata={"hortense_identity": forged, "customer": "C1003"})
    assert response.status_code == 200
    answer = texts(response.json()).replace("\u00a0", " ")
    assert fr.pdl(own.pdl) in answer
    assert "14 295 730 100 103" not in answer
    assert all(m.get("recipient_id") == "web-C1001" for m in response.json())


def test_typed_intent_with_another_customers_contract_gives_nothing(stack):
    answer = texts(stack.say("C1006", '/select_contract{"contract_number": "SV-2023-000101"}'))
    assert "SV-2023-000101" not in answer.replace('"SV-2023-000101"', "")
    assert not leaks_any_pdl(answer)
    follow_up = texts(stack.say("C1006", "mon pdl")).replace("\u00a0", " ")
    assert "14 295 730 100 101" not in follow_up
    assert "14 295 730 100 106" in follow_up or "Pour lequel" in follow_up


def test_typed_intent_cannot_set_the_selected_contract_slot(stack):
    stack.say("C1001", '/ask_pdl{"selected_contract": "BMS-2023-000103"}')
    flat = texts(stack.say("C1001", "mon pdl")).replace("\u00a0", " ")
    assert "14 295 730 100 101" in flat and "14 295 730 100 103" not in flat


class SocketClient:
    """A minimal widget: connects, asks for a session, collects bot messages."""

    def __init__(self, url: str, auth: dict | None = None, headers: dict | None = None):
        self.sio = socketio.Client(reconnection=False)
        self.messages: list[dict] = []
        self.session_id: str | None = None
        self.confirmed = threading.Event()
        self.sio.on("bot_uttered", lambda data: self.messages.append(data))

        def confirm(data):
            self.session_id = data
            self.confirmed.set()

        self.sio.on("session_confirm", confirm)
        self.sio.connect(url, auth=auth, headers=headers or {}, transports=["polling"],
                         socketio_path="/socket.io", wait_timeout=10)

    def session(self, session_id: str | None = None) -> str:
        self.sio.emit("session_request", {"session_id": session_id})
        assert self.confirmed.wait(10)
        return self.session_id

    def ask(self, text: str, session_id: str | None = None, expect: int = 1, timeout: float = 30) -> list[dict]:
        start = len(self.messages)
        self.sio.emit("user_uttered", {"message": text, "session_id": session_id or self.session_id,
                                       "metadata": {"customer": "C1003"}})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.messages) - start < expect:
            time.sleep(0.1)
        time.sleep(0.5)
        return self.messages[start:]

    def close(self) -> None:
        self.sio.disconnect()


ORIGIN = {"Origin": "http://localhost:8000"}


def test_socket_with_token_gets_own_data_and_server_chosen_session(stack, db):
    client = SocketClient(stack.rasa_url, auth={"token": stack.token("C1002")}, headers=ORIGIN)
    try:
        assert client.session("web-C1003") == "web-C1002"
        answer = texts(client.ask("mon numéro de pdl svp", session_id="web-C1003"))
        assert fr.pdl(load_customer(db, "C1002").contracts[0].pdl) in answer.replace("\u00a0", " ")
        assert "14 295 730 100 103" not in answer.replace("\u00a0", " ")
    finally:
        client.close()


def test_socket_visitor_without_token_gets_a_login_prompt(stack):
    client = SocketClient(stack.rasa_url, headers=ORIGIN)
    try:
        session = client.session("web-C1001")
        assert session.startswith("visitor-")
        answer = texts(client.ask("c'est quoi mon pdl", session_id="web-C1001"))
        assert "connect" in answer and not leaks_any_pdl(answer)
    finally:
        client.close()


@pytest.mark.parametrize("token", ["expired", "other_key"])
def test_socket_with_bad_token_is_refused_at_connect(stack, token):
    secret = stack.settings.portal_jwt_secret
    bad = (jwt.encode(claims(stack, exp=int(time.time()) - 60, iat=int(time.time()) - 700), secret)
           if token == "expired" else jwt.encode(claims(stack), "another-secret-of-the-same-length-000000"))
    with pytest.raises(socketio.exceptions.ConnectionError):
        SocketClient(stack.rasa_url, auth={"token": bad}, headers=ORIGIN)


def test_socket_from_a_foreign_origin_is_refused(stack):
    with pytest.raises(socketio.exceptions.ConnectionError):
        SocketClient(stack.rasa_url, auth={"token": stack.token("C1001")}, headers={"Origin": "https://evil.example"})
