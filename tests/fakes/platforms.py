"""Twilio (WhatsApp), the Telegram Bot API and Facebook's Graph API (Messenger), played locally.

Both directions of each platform:
- `FakePlatforms` is an HTTP server standing in for the platforms' APIs: the connectors' outgoing calls
  land here (API base URLs point to it), are checked for the right credentials, and are recorded;
- `whatsapp()`, `telegram()` and `messenger()` call our webhooks the way the platform does, signed with
  the platform's secret (or forged, for attacks).
`messaging_stack()` starts one real Rasa + action server wired to a fake, shared by every test module.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import yaml
from twilio.request_validator import RequestValidator

TWILIO_SID = "AC00000000000000000000000000e2e001"
TWILIO_TOKEN = "twilio-auth-token-e2e-0123456789"
WHATSAPP_NUMBER = "whatsapp:+14155238886"
# Twilio signs the public URL it calls; behind the proxy, Rasa only knows it from configuration.
WHATSAPP_PUBLIC_URL = "https://hortense.example.test/webhooks/whatsapp/webhook"
TELEGRAM_TOKEN = "987654321:telegram-bot-token-e2e-0123456789"
TELEGRAM_SECRET = "telegram-webhook-secret-e2e-0123456789"
MESSENGER_APP_SECRET = "messenger-app-secret-e2e-0123456789"
MESSENGER_PAGE_TOKEN = "messenger-page-token-e2e-0123456789"
MESSENGER_VERIFY_TOKEN = "messenger-verify-token-e2e-0123456789"
GRAPH_VERSION = "v19.0"

# The blocks credentials.yml needs for the messaging channels (plain ${VAR}: Rasa expands only unquoted ones).
MESSAGING_CREDENTIALS_YAML = """\
channels.whatsapp.WhatsAppInput:
  account_sid: ${HORTENSE_TWILIO_ACCOUNT_SID}
  auth_token: ${HORTENSE_TWILIO_AUTH_TOKEN}
  whatsapp_number: ${HORTENSE_WHATSAPP_NUMBER}
  webhook_url: ${HORTENSE_WHATSAPP_WEBHOOK_URL}
  api_base: ${HORTENSE_TWILIO_API_BASE}
channels.telegram.TelegramInput:
  bot_token: ${HORTENSE_TELEGRAM_BOT_TOKEN}
  webhook_secret: ${HORTENSE_TELEGRAM_WEBHOOK_SECRET}
  api_base: ${HORTENSE_TELEGRAM_API_BASE}
channels.messenger.MessengerInput:
  app_secret: ${HORTENSE_MESSENGER_APP_SECRET}
  page_access_token: ${HORTENSE_MESSENGER_PAGE_ACCESS_TOKEN}
  verify_token: ${HORTENSE_MESSENGER_VERIFY_TOKEN}
  api_base: ${HORTENSE_MESSENGER_API_BASE}
"""

_ids = itertools.count(1)


@dataclass
class Sent:
    """One message a connector sent to a user through a platform API."""

    platform: str
    recipient: str
    text: str
    buttons: list[dict] = field(default_factory=list)
    raw: dict = field(default_factory=dict)


class FakePlatforms:
    """The platforms' APIs on 127.0.0.1; wrong credentials are refused like the real ones do."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.calls: list[tuple[str, str, int]] = []  # (platform, path, status) of every request
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "FakePlatforms":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def env(self) -> dict[str, str]:
        """The channel variables of credentials.yml, pointing the connectors at this fake."""
        return {
            "HORTENSE_TWILIO_ACCOUNT_SID": TWILIO_SID,
            "HORTENSE_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "HORTENSE_WHATSAPP_NUMBER": WHATSAPP_NUMBER,
            "HORTENSE_WHATSAPP_WEBHOOK_URL": WHATSAPP_PUBLIC_URL,
            "HORTENSE_TWILIO_API_BASE": f"{self.url}/twilio",
            "HORTENSE_TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
            "HORTENSE_TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
            "HORTENSE_TELEGRAM_API_BASE": f"{self.url}/telegram",
            "HORTENSE_MESSENGER_APP_SECRET": MESSENGER_APP_SECRET,
            "HORTENSE_MESSENGER_PAGE_ACCESS_TOKEN": MESSENGER_PAGE_TOKEN,
            "HORTENSE_MESSENGER_VERIFY_TOKEN": MESSENGER_VERIFY_TOKEN,
            "HORTENSE_MESSENGER_API_BASE": f"{self.url}/graph/{GRAPH_VERSION}",
        }

    def to(self, recipient: str, platform: Optional[str] = None) -> list[Sent]:
        with self.lock:
            return [s for s in self.sent if s.recipient == recipient and (platform is None or s.platform == platform)]

    def text_to(self, recipient: str, platform: Optional[str] = None) -> str:
        return "\n".join(s.text for s in self.to(recipient, platform))

    # --- the HTTP side ------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 - what was sent so far, to debug a running stack by hand
                with fake.lock:
                    data = json.dumps([s.__dict__ for s in fake.sent], ensure_ascii=False).encode()
                self.send_response(200 if self.path == "/_sent" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                route = {"twilio": fake._twilio, "telegram": fake._telegram, "graph": fake._graph}
                platform = parts.path.strip("/").split("/")[0]
                handle = route.get(platform)
                status, answer = handle(parts, dict(self.headers), body) if handle else (404, {"error": "no route"})
                with fake.lock:
                    fake.calls.append((platform, parts.path, status))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def _record(self, sent: Sent) -> None:
        with self.lock:
            self.sent.append(sent)

    def _twilio(self, parts, headers: dict, body: bytes) -> tuple[int, dict]:
        expected = "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
        if parts.path != f"/twilio/2010-04-01/Accounts/{TWILIO_SID}/Messages.json":
            return 404, {"code": 20404}
        if headers.get("Authorization") != expected:
            return 401, {"code": 20003, "message": "Authenticate"}
        form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        if form.get("From") != WHATSAPP_NUMBER or not form.get("To", "").startswith("whatsapp:"):
            return 400, {"code": 21211}
        self._record(Sent("whatsapp", form["To"], form.get("Body", ""), [], form))
        return 201, {"sid": f"SM{next(_ids):032d}", "status": "queued"}

    def _telegram(self, parts, headers: dict, body: bytes) -> tuple[int, dict]:
        prefix = f"/telegram/bot{TELEGRAM_TOKEN}/"
        if not parts.path.startswith(prefix):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        method = parts.path[len(prefix):]
        payload = json.loads(body or b"{}")
        if method in ("sendMessage", "sendPhoto"):
            keyboard = (payload.get("reply_markup") or {}).get("inline_keyboard") or []
            buttons = [{"title": b.get("text"), "payload": b.get("callback_data")} for row in keyboard for b in row]
            self._record(Sent("telegram", str(payload.get("chat_id")), payload.get("text") or payload.get("photo")
                              or "", buttons, payload))
            return 200, {"ok": True, "result": {"message_id": next(_ids), "chat": {"id": payload.get("chat_id")}}}
        if method in ("answerCallbackQuery", "setWebhook", "getMe"):
            return 200, {"ok": True, "result": True}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    def _graph(self, parts, headers: dict, body: bytes) -> tuple[int, dict]:
        if parts.path != f"/graph/{GRAPH_VERSION}/me/messages":
            return 404, {"error": {"message": "Unknown path"}}
        token = parse_qs(parts.query).get("access_token", [""])[0]
        if token != MESSENGER_PAGE_TOKEN:
            return 400, {"error": {"type": "OAuthException", "code": 190}}
        payload = json.loads(body or b"{}")
        message = payload.get("message") or {}
        buttons = [{"title": q.get("title"), "payload": q.get("payload")} for q in message.get("quick_replies") or []]
        text = message.get("text") or json.dumps(message.get("attachment") or {})
        self._record(Sent("messenger", str((payload.get("recipient") or {}).get("id")), text, buttons, payload))
        return 200, {"recipient_id": (payload.get("recipient") or {}).get("id"), "message_id": f"m_{next(_ids)}"}


def wait_for(condition: Callable[[], Any], seconds: float = 30.0) -> Any:
    """Poll until `condition()` is truthy (the connectors answer before the webhook returns, normally)."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


# --- the platforms calling our webhooks -------------------------------------------------------------

def twilio_signature(params: dict, url: str = WHATSAPP_PUBLIC_URL, token: str = TWILIO_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def whatsapp(rasa_url: str, number: str, text: str, *, signature: Optional[str] = "valid",
             message_sid: Optional[str] = None, extra: Optional[dict] = None) -> requests.Response:
    """A Twilio WhatsApp webhook call from `whatsapp:<number>` (signature: "valid", None or a forgery)."""
    params = {"SmsMessageSid": "x", "NumMedia": "0", "AccountSid": TWILIO_SID, "To": WHATSAPP_NUMBER,
              "From": number if number.startswith("whatsapp:") else f"whatsapp:{number}", "Body": text,
              "MessageSid": message_sid or f"SM{next(_ids):032d}", **(extra or {})}
    headers = {}
    if signature == "valid":
        headers["X-Twilio-Signature"] = twilio_signature(params)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    return requests.post(f"{rasa_url}/webhooks/whatsapp/webhook", data=params, headers=headers, timeout=60)


def telegram(rasa_url: str, chat_id: Any, text: Optional[str] = None, *, callback_data: Optional[str] = None,
             secret: Optional[str] = TELEGRAM_SECRET, chat_type: str = "private") -> requests.Response:
    """A Telegram webhook update: a text message, or a tap on an inline button (`callback_data`)."""
    chat = {"id": chat_id, "type": chat_type}
    user = {"id": chat_id if isinstance(chat_id, int) else 1, "is_bot": False, "first_name": "Test"}
    if callback_data is not None:
        update = {"update_id": next(_ids), "callback_query": {
            "id": str(next(_ids)), "from": user, "data": callback_data,
            "message": {"message_id": next(_ids), "chat": chat, "date": int(time.time()), "text": "…"}}}
    else:
        update = {"update_id": next(_ids), "message": {"message_id": next(_ids), "from": user, "chat": chat,
                                                       "date": int(time.time()), "text": text}}
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return requests.post(f"{rasa_url}/webhooks/telegram/webhook", json=update, headers=headers, timeout=60)


def messenger_body(*events: tuple[str, str], quick_reply: bool = False) -> bytes:
    """A Messenger delivery with one entry holding every (psid, text) event, as Facebook batches them."""
    messaging = []
    for psid, text in events:
        message: dict = {"mid": f"m_{next(_ids)}", "text": text}
        if quick_reply:
            message["quick_reply"] = {"payload": text}
        messaging.append({"sender": {"id": psid}, "recipient": {"id": "PAGE"}, "timestamp": int(time.time() * 1000),
                          "message": message})
    return json.dumps({"object": "page", "entry": [{"id": "PAGE", "time": 0, "messaging": messaging}]}).encode()


def messenger(rasa_url: str, body: bytes, *, signature: Optional[str] = "valid") -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if signature == "valid":
        headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(MESSENGER_APP_SECRET.encode(), body,
                                                              hashlib.sha256).hexdigest()
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return requests.post(f"{rasa_url}/webhooks/messenger/webhook", data=body, headers=headers, timeout=60)


# --- a user of each platform, and what the stack did -------------------------------------------------

_people = itertools.count(1)


class Chat:
    """One person on one platform: `say` sends a message through the platform's webhook, `turn` also
    returns what the bot answered through the platform's API (read on the fake)."""

    def __init__(self, ms: "MessagingStack", channel: str, platform_id: Any, sender: str) -> None:
        self.ms, self.channel, self.platform_id, self.sender = ms, channel, platform_id, sender
        self.recipient = str(platform_id)

    @classmethod
    def whatsapp(cls, ms: "MessagingStack", number: Optional[str] = None) -> "Chat":
        number = number or f"whatsapp:+3361{next(_people):07d}"
        return cls(ms, "whatsapp", number, number)

    @classmethod
    def telegram(cls, ms: "MessagingStack", chat_id: Optional[int] = None) -> "Chat":
        chat_id = chat_id if chat_id is not None else 700_000_000 + next(_people)
        return cls(ms, "telegram", chat_id, f"telegram:{chat_id}")

    @classmethod
    def messenger(cls, ms: "MessagingStack", psid: Optional[str] = None) -> "Chat":
        psid = psid or f"99{next(_people):014d}"
        return cls(ms, "messenger", psid, f"messenger:{psid}")

    def say(self, text: str) -> requests.Response:
        url = self.ms.stack.rasa_url
        if self.channel == "whatsapp":
            answer = whatsapp(url, self.platform_id, text)
        elif self.channel == "telegram":
            answer = telegram(url, self.platform_id, text)
        else:
            answer = messenger(url, messenger_body((self.platform_id, text)))
        assert answer.status_code == 200, answer.text
        return answer

    def received(self) -> list[Sent]:
        return self.ms.platforms.to(self.recipient, self.channel)

    def turn(self, text: str, seconds: float = 20) -> str:
        before = len(self.received())
        self.say(text)
        wait_for(lambda: len(self.received()) > before, seconds)
        return "\n".join(s.text for s in self.received()[before:])


def tracker_rows(stack: Any, sender: str) -> list[tuple[str, str]]:
    """(type, data) of every stored event of a conversation, read straight from the tracker store's file."""
    import sqlite3

    with sqlite3.connect(stack.env["HORTENSE_TRACKER_DB"]) as conn:
        return conn.execute("SELECT type_name, data FROM events WHERE sender_id = ? ORDER BY id", (sender,)).fetchall()


def tracker_events(stack: Any, sender: str) -> int:
    return len(tracker_rows(stack, sender))


def issue_code(stack: Any, customer: str, now: Any = None) -> str:
    """What the customer space does (run with the stack's pepper: see the `stack_env` fixture)."""
    from hortense.account import linking as links
    from hortense.db.session import session_scope

    with session_scope(stack.database_url) as session:
        return links.issue_code(session, customer, now)


def linked_customer(stack: Any, channel: str, sender: str) -> Optional[str]:
    from hortense.account import linking as links
    from hortense.db.session import session_scope

    with session_scope(stack.database_url) as session:
        return links.linked_customer_number(session, channel, sender)


# --- one stack for every messaging test module ------------------------------------------------------

def write_stack_config(workdir: Path, root: Path) -> tuple[Path, Path]:
    """The project's credentials.yml with the messaging channels, and its endpoints.yml with the redacting
    store and a file event broker (so tests can read the event stream)."""
    credentials = workdir / "credentials.yml"
    text = (root / "credentials.yml").read_text(encoding="utf-8")
    if "channels.whatsapp.WhatsAppInput" not in text:  # until the project's file has the messaging blocks
        text = f"{text.rstrip()}\n\n{MESSAGING_CREDENTIALS_YAML}"
    credentials.write_text(text, encoding="utf-8")
    endpoints = yaml.safe_load((root / "endpoints.yml").read_text(encoding="utf-8"))
    endpoints["tracker_store"] = {**endpoints["tracker_store"],
                                  "type": "hortense.rasa.tracker_store.RedactingSQLTrackerStore"}
    endpoints["event_broker"] = {"type": "file", "path": str(workdir / "events.log")}
    endpoints_path = workdir / "endpoints.yml"
    endpoints_path.write_text(yaml.safe_dump(endpoints, allow_unicode=True), encoding="utf-8")
    return credentials, endpoints_path


@dataclass
class MessagingStack:
    stack: Any  # tests.e2e.servers.Stack
    platforms: FakePlatforms

    def stop(self) -> None:
        self.stack.stop()
        self.platforms.stop()


_shared: dict[str, Any] = {"stack": None, "users": 0}

# Low enough for a flood test to be quick, high enough for any test's normal conversation.
STACK_RATE_PER_MINUTE = 20


def acquire_messaging_stack(tmp_path_factory: Any) -> MessagingStack:
    """Start (once per test session) a real Rasa + action server with the messaging channels."""
    if _shared["stack"] is None:
        workdir = tmp_path_factory.mktemp("messaging")
        from hortense.db.migrate import upgrade
        from hortense.db.seed import seed_demo
        from hortense.db.session import reset_engines, session_scope
        from tests.e2e.servers import ROOT, start_stack

        url = f"sqlite:///{workdir / 'hortense.db'}"
        upgrade(url)
        with session_scope(url) as session:
            seed_demo(session)
        reset_engines()
        platforms = FakePlatforms().start()
        credentials, endpoints = write_stack_config(workdir, ROOT)
        # Debug logs, unbuffered: the most a log file can hold, all of it on disk when a test reads it.
        env = {**platforms.env(), "LOG_LEVEL": "DEBUG", "HORTENSE_LOG_LEVEL": "DEBUG", "PYTHONUNBUFFERED": "1",
               "HORTENSE_MESSAGE_RATE_PER_MINUTE": str(STACK_RATE_PER_MINUTE)}
        try:
            stack = start_stack(workdir, url, extra_env=env, credentials=credentials, endpoints=endpoints)
        except BaseException:
            platforms.stop()
            raise
        _shared["stack"] = MessagingStack(stack, platforms)
    _shared["users"] += 1
    return _shared["stack"]


def release_messaging_stack() -> None:
    _shared["users"] -= 1
    if _shared["users"] <= 0 and _shared["stack"] is not None:
        _shared["stack"].stop()
        _shared["stack"] = None


@pytest.fixture(scope="session")
def mstack(tmp_path_factory) -> MessagingStack:
    """The shared messaging stack (import this fixture into a test module to use it)."""
    running = acquire_messaging_stack(tmp_path_factory)
    yield running
    release_messaging_stack()


@pytest.fixture
def stack_env(mstack, monkeypatch):
    """This process speaks with the stack's secrets and database (to issue codes, check assertions)."""
    from hortense.settings import get_settings

    for name, value in mstack.stack.env.items():
        if name.startswith("HORTENSE_"):
            monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield mstack
    get_settings.cache_clear()
