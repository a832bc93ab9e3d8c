"""Twilio (WhatsApp), the Telegram Bot API and Facebook's Graph API (Messenger), played locally.

Both directions of each platform:
- `FakePlatforms` is an HTTP server standing in for the platforms' APIs: the connectors' outgoing calls
  land here (API base URLs point to it), are checked for the right credentials, and are recorded;
- `whatsapp()`, `telegram()` and `messenger()` call our webhooks the way the platform does, signed with
  the platform's secret (or forged, for attacks).
`messaging_stack()` starts one real Rasa + action server wired to a fake, shared by every test module.

The fake enforces the platforms' published rules, so that a connector breaking one fails a test:
- Telegram: text 1–4096 characters, a photo's caption ≤ 1024, each inline button exactly one of
  `callback_data` (1–64 bytes) or an http(s) `url`;
- Messenger: a current Graph API version (v19.0 expired on 2026-05-21), text ≤ 2000 characters, ≤ 13 quick
  replies with titles ≤ 20 characters, a button template's text 1–640 characters with 1–3 buttons (titles
  ≤ 20 characters, a `web_url` with its url), a generic template's 1–10 elements (title 1–80, subtitle ≤ 80,
  ≤ 3 buttons), a `messaging_type`; `RESPONSE`/`UPDATE` only within 24 hours of the
  user's last message (else error 10 / 2018278), `MESSAGE_TAG` only with an allowed tag;
- Twilio WhatsApp: `Body` ≤ 1600 characters; a free-form message outside the 24-hour window is accepted
  (201 queued) and then fails with error 63016 in the StatusCallback, as on the real Twilio; a template
  (`ContentSid` of a registered template + `ContentVariables`) goes at any time. StatusCallbacks are signed
  like Twilio signs them and posted to the callback URL (its public host replaced by `forward_to`).
"The user's last message" is when a helper below (`whatsapp()`, `messenger()`…) last called our webhook for
that user, on Hortense's clock (`hortense.clock`): a test that moves the clock moves the window.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
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
# The fake's Graph API versions and the day each expires (Meta keeps a version about two years). A version newer
# than every one listed has no published expiry yet: the fake serves it.
GRAPH_VERSION_EXPIRY = {"v19.0": "2026-05-21", "v20.0": "2026-09-24", "v21.0": "2027-01-28",
                        "v22.0": "2027-05-20", "v23.0": "2027-08-26"}
# Approved WhatsApp Content templates (what Twilio's Content API would hold), by notification kind.
WHATSAPP_TEMPLATES = {
    "confirmation": ("HX00000000000000000000000000000c01",
                     "C'est confirmé : un conseiller Hortense vous appellera le {{1}} à {{2}} au {{3}}."),
    "reminder": ("HX00000000000000000000000000000r01",
                 "Rappel : un conseiller Hortense vous appelle le {{1}} à {{2}} au {{3}}. Répondez à ce message "
                 "pour déplacer ou annuler l'appel."),
    "cancellation": ("HX00000000000000000000000000000a01",
                     "Nous sommes désolés : votre appel avec un conseiller Hortense prévu le {{1}} à {{2}} est "
                     "annulé. Répondez à ce message pour reprendre rendez-vous."),
}
WINDOW_SECONDS = 24 * 3600
MESSENGER_TAGS = ("CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE", "HUMAN_AGENT")
MESSAGING_TYPES = ("RESPONSE", "UPDATE", "MESSAGE_TAG")

# (platform, user) → Hortense-clock timestamp of the user's last message to us (the 24-hour window).
_last_inbound: dict[tuple[str, str], float] = {}
_inbound_lock = threading.Lock()


def saw_inbound(platform: str, user: str) -> None:
    """The user wrote to us on `platform` now (Hortense's clock): the platform's 24-hour window opens."""
    from hortense import clock

    with _inbound_lock:
        _last_inbound[(platform, user)] = clock.timestamp()


def in_window(platform: str, user: str) -> bool:
    from hortense import clock

    with _inbound_lock:
        last = _last_inbound.get((platform, user))
    return last is not None and clock.timestamp() - last < WINDOW_SECONDS


def graph_version_current(version: str) -> bool:
    from hortense import clock

    expiry = GRAPH_VERSION_EXPIRY.get(version)
    if expiry is None:
        newest = max(float(v.lstrip("v")) for v in GRAPH_VERSION_EXPIRY)
        return re.fullmatch(r"v\d+\.0", version) is not None and float(version.lstrip("v")) > newest
    return clock.today().isoformat() < expiry

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


@dataclass
class Refused:
    """A message a platform refused (at once, or later in a WhatsApp StatusCallback), with its error code."""

    platform: str
    recipient: str
    code: int
    raw: dict = field(default_factory=dict)


class FakePlatforms:
    """The platforms' APIs on 127.0.0.1; wrong credentials and broken rules are refused like the real ones do."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.refused: list[Refused] = []
        self.calls: list[tuple[str, str, int]] = []  # (platform, path, status) of every request
        self.callbacks: list[tuple[str, dict, int | None]] = []  # (url, fields, our answer) of StatusCallbacks
        self.forward_to: str | None = None  # where the public host of callback URLs really is (the stack)
        # WhatsApp numbers whose messages fail (63024) after queuing; Messenger PSIDs refused at once (551).
        self.unreachable: set[str] = set()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakePlatforms:
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
            "HORTENSE_MESSENGER_API_BASE": f"{self.url}/graph",
            **{f"HORTENSE_WHATSAPP_TEMPLATE_{kind.upper()}": sid for kind, (sid, _) in WHATSAPP_TEMPLATES.items()},
        }

    def to(self, recipient: str, platform: str | None = None) -> list[Sent]:
        with self.lock:
            return [s for s in self.sent if s.recipient == recipient and (platform is None or s.platform == platform)]

    def text_to(self, recipient: str, platform: str | None = None) -> str:
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
        to = form.get("To", "")
        if form.get("From") != WHATSAPP_NUMBER or not to.startswith("whatsapp:"):
            return 400, {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}
        if len(form.get("Body", "")) > 1600:
            return 400, {"code": 21617, "message": "The concatenated message body exceeds the 1600 character limit",
                         "status": 400}
        template = form.get("ContentSid")
        if not (form.get("Body") or form.get("MediaUrl") or template):
            return 400, {"code": 21619, "message": "A text message body or media URL must be specified",
                         "status": 400}
        text = form.get("Body", "")
        if template:
            known = {sid: body for sid, body in WHATSAPP_TEMPLATES.values()}
            if template not in known:
                return 400, {"code": 21655, "message": "The ContentSid is invalid", "status": 400}
            try:
                variables = json.loads(form.get("ContentVariables") or "{}")
            except ValueError:
                return 400, {"code": 21656, "message": "The ContentVariables parameter is invalid", "status": 400}
            text = known[template]
            for key, value in variables.items():
                text = text.replace("{{%s}}" % key, str(value))
            if "{{" in text:
                return 400, {"code": 21656, "message": "The ContentVariables parameter is invalid", "status": 400}
        sid = f"SM{next(_ids):032d}"
        # Outside the window only a template goes; a free-form message is queued, then fails (63016).
        error = 63024 if to in self.unreachable else (
            None if template or in_window("whatsapp", to) else 63016)
        if error is None:
            self._record(Sent("whatsapp", to, text, [], form))
        else:
            with self.lock:
                self.refused.append(Refused("whatsapp", to, error, form))
        if form.get("StatusCallback"):
            statuses = ["queued", "failed"] if error else ["queued", "sent", "delivered"]
            self._status_callbacks(form["StatusCallback"], sid, to, statuses, error)
        return 201, {"sid": sid, "status": "queued"}

    def _status_callbacks(self, url: str, sid: str, to: str, statuses: list[str], error: int | None) -> None:
        """What Twilio posts to a message's StatusCallback, signed, one status after the other."""
        def post_all() -> None:
            for status in statuses:
                time.sleep(0.05)
                fields = {"AccountSid": TWILIO_SID, "ApiVersion": "2010-04-01", "ChannelPrefix": "whatsapp",
                          "From": WHATSAPP_NUMBER, "To": to, "MessageSid": sid, "SmsSid": sid,
                          "MessageStatus": status, "SmsStatus": status}
                if status == "failed" and error:
                    fields["ErrorCode"] = str(error)
                answer = None
                if self.forward_to:
                    target = url.replace(WHATSAPP_PUBLIC_URL.rsplit("/webhooks/", 1)[0], self.forward_to, 1)
                    try:
                        answer = requests.post(target, data=fields, timeout=30, headers={
                            "X-Twilio-Signature": twilio_signature(fields, url=url)}).status_code
                    except requests.RequestException:
                        answer = -1
                with self.lock:
                    self.callbacks.append((url, fields, answer))

        threading.Thread(target=post_all, daemon=True).start()

    def _telegram(self, parts, headers: dict, body: bytes) -> tuple[int, dict]:
        prefix = f"/telegram/bot{TELEGRAM_TOKEN}/"
        if not parts.path.startswith(prefix):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        method = parts.path[len(prefix):]
        payload = json.loads(body or b"{}")
        if method in ("sendMessage", "sendPhoto"):
            keyboard = (payload.get("reply_markup") or {}).get("inline_keyboard") or []
            if method == "sendMessage" and not 1 <= len(payload.get("text") or "") <= 4096:
                return self._telegram_refusal(payload, "Bad Request: message is too long"
                                              if payload.get("text") else "Bad Request: message text is empty")
            if method == "sendPhoto" and len(payload.get("caption") or "") > 1024:
                return self._telegram_refusal(payload, "Bad Request: message caption is too long")
            for row in keyboard:
                for b in row:
                    if not b.get("text"):
                        return self._telegram_refusal(payload, "Bad Request: BUTTON_TEXT_INVALID")
                    if ("url" in b) == ("callback_data" in b):
                        return self._telegram_refusal(payload, "Bad Request: BUTTON_TYPE_INVALID")
                    if "url" in b and not str(b["url"]).startswith(("https://", "http://")):
                        return self._telegram_refusal(payload, "Bad Request: BUTTON_URL_INVALID")
                    if "callback_data" in b and not 1 <= len(str(b.get("callback_data") or "").encode()) <= 64:
                        return self._telegram_refusal(payload, "Bad Request: BUTTON_DATA_INVALID")
            buttons = [{"title": b.get("text"), "url": b["url"]} if "url" in b else
                       {"title": b.get("text"), "payload": b.get("callback_data")} for row in keyboard for b in row]
            # A photo's text is its caption (the photo's URL is in `raw`).
            text = payload.get("text") if method == "sendMessage" else payload.get("caption")
            self._record(Sent("telegram", str(payload.get("chat_id")), text or "", buttons, payload))
            return 200, {"ok": True, "result": {"message_id": next(_ids), "chat": {"id": payload.get("chat_id")}}}
        if method in ("answerCallbackQuery", "setWebhook", "getMe"):
            return 200, {"ok": True, "result": True}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    def _telegram_refusal(self, payload: dict, description: str) -> tuple[int, dict]:
        with self.lock:
            self.refused.append(Refused("telegram", str(payload.get("chat_id")), 400, payload))
        return 400, {"ok": False, "error_code": 400, "description": description}

    def _graph_refusal(self, payload: dict, code: int, message: str, subcode: int | None = None
                       ) -> tuple[int, dict]:
        with self.lock:
            self.refused.append(Refused("messenger", str((payload.get("recipient") or {}).get("id")), code, payload))
        error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Fake"}
        if subcode:
            error["error_subcode"] = subcode
        return 400, {"error": error}

    def _graph(self, parts, headers: dict, body: bytes) -> tuple[int, dict]:
        segments = parts.path.strip("/").split("/")
        if len(segments) != 4 or segments[2:] != ["me", "messages"]:
            return 404, {"error": {"message": "Unknown path"}}
        payload = json.loads(body or b"{}")
        if not graph_version_current(segments[1]):
            return self._graph_refusal(payload, 2635, f"(#2635) You are calling a deprecated version of the Graph "
                                                      f"API ({segments[1]}).")
        token = parse_qs(parts.query).get("access_token", [""])[0]
        if token != MESSENGER_PAGE_TOKEN:
            return self._graph_refusal(payload, 190, "Invalid OAuth access token.")
        message = payload.get("message") or {}
        psid = str((payload.get("recipient") or {}).get("id"))
        kind, tag = payload.get("messaging_type"), payload.get("tag")
        if kind not in MESSAGING_TYPES:
            return self._graph_refusal(payload, 100, "(#100) Param messaging_type must be one of {RESPONSE, "
                                                     "UPDATE, MESSAGE_TAG}")
        if psid in self.unreachable:
            return self._graph_refusal(payload, 551, "(#551) This person isn't available right now.", 1545041)
        if kind == "MESSAGE_TAG" and tag not in MESSENGER_TAGS:
            return self._graph_refusal(payload, 100, "(#100) Param tag must be an allowed message tag")
        if kind != "MESSAGE_TAG" and not in_window("messenger", psid):
            return self._graph_refusal(payload, 10, "(#10) This message is sent outside of allowed window.",
                                       2018278)
        if len(message.get("text") or "") > 2000:
            return self._graph_refusal(payload, 100, "(#100) Param message[text] must be UTF-8 encoded if "
                                                     "it's a string and has a 2000 character limit")
        quick = message.get("quick_replies") or []
        if len(quick) > 13 or any(len(q.get("title") or "") > 20 for q in quick):
            return self._graph_refusal(payload, 100, "(#100) Quick replies: at most 13, titles at most 20 "
                                                     "characters")
        template = ((message.get("attachment") or {}).get("payload") or {}) if (
            (message.get("attachment") or {}).get("type") == "template") else None
        problem = _template_problem(template) if template is not None else None
        if problem:
            return self._graph_refusal(payload, 100, f"(#100) {problem}")
        buttons = [{"title": q.get("title"), "payload": q.get("payload")} for q in message.get("quick_replies") or []]
        if template is not None and template.get("template_type") == "button":
            text = template.get("text") or ""
            buttons = [{"title": b.get("title"), "url": b.get("url")} if b.get("type") == "web_url" else
                       {"title": b.get("title"), "payload": b.get("payload")} for b in template["buttons"]] + buttons
        elif template is not None:  # generic: what the user reads is the elements' titles and subtitles
            text = "\n".join(f"{e.get('title')}" + (f" {e['subtitle']}" if e.get("subtitle") else "")
                             for e in template.get("elements") or [])
        elif message.get("attachment"):  # an image: its URL is in `raw`, not in what the user reads
            text = ""
        else:
            text = message.get("text") or ""
        self._record(Sent("messenger", psid, text, buttons, payload))
        return 200, {"recipient_id": (payload.get("recipient") or {}).get("id"), "message_id": f"m_{next(_ids)}"}


def _template_problem(template: dict) -> str | None:
    """Why Messenger would refuse this template payload (None: it is accepted)."""
    def buttons_problem(buttons: Any, least: int) -> str | None:
        if not isinstance(buttons, list) or not least <= len(buttons) <= 3:
            return "Template buttons: 1 to 3" if least else "Template buttons: at most 3"
        for b in buttons:
            if not 1 <= len(b.get("title") or "") <= 20:
                return "Button title: 1 to 20 characters"
            if b.get("type") == "web_url" and not str(b.get("url") or "").startswith(("https://", "http://")):
                return "web_url button: url required"
            if b.get("type") not in ("web_url", "postback"):
                return "Button type not supported"
        return None

    kind = template.get("template_type")
    if kind == "button":
        if not 1 <= len(template.get("text") or "") <= 640:
            return "Button template text: 1 to 640 characters"
        return buttons_problem(template.get("buttons"), 1)
    if kind == "generic":
        elements = template.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
            return "Generic template: 1 to 10 elements"
        for e in elements:
            if not 1 <= len(e.get("title") or "") <= 80 or len(e.get("subtitle") or "") > 80:
                return "Generic template element: title 1 to 80 characters, subtitle at most 80"
            if e.get("buttons") is not None and (problem := buttons_problem(e["buttons"], 0)):
                return problem
        return None
    return "Unsupported template_type"


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


def whatsapp(rasa_url: str, number: str, text: str, *, signature: str | None = "valid",
             message_sid: str | None = None, extra: dict | None = None) -> requests.Response:
    """A Twilio WhatsApp webhook call from `whatsapp:<number>` (signature: "valid", None or a forgery)."""
    params = {"SmsMessageSid": "x", "NumMedia": "0", "AccountSid": TWILIO_SID, "To": WHATSAPP_NUMBER,
              "From": number if number.startswith("whatsapp:") else f"whatsapp:{number}", "Body": text,
              "MessageSid": message_sid or f"SM{next(_ids):032d}", **(extra or {})}
    headers = {}
    if signature == "valid":
        saw_inbound("whatsapp", params["From"])
        headers["X-Twilio-Signature"] = twilio_signature(params)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    return requests.post(f"{rasa_url}/webhooks/whatsapp/webhook", data=params, headers=headers, timeout=60)


def telegram(rasa_url: str, chat_id: Any, text: str | None = None, *, callback_data: str | None = None,
             secret: str | None = TELEGRAM_SECRET, chat_type: str = "private") -> requests.Response:
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


def messenger_postback_body(psid: str, payload: str, title: str = "Démarrer") -> bytes:
    """A tap on a Messenger button, e.g. the "Get Started" button of a first conversation."""
    event = {"sender": {"id": psid}, "recipient": {"id": "PAGE"}, "timestamp": int(time.time() * 1000),
             "postback": {"mid": f"m_{next(_ids)}", "title": title, "payload": payload}}
    return json.dumps({"object": "page", "entry": [{"id": "PAGE", "time": 0, "messaging": [event]}]}).encode()


def messenger_senders(body: bytes) -> list[str]:
    """The PSIDs of the users who wrote in a Messenger delivery."""
    try:
        delivery = json.loads(body)
    except ValueError:
        return []
    return [str((event.get("sender") or {}).get("id")) for entry in delivery.get("entry") or []
            for event in entry.get("messaging") or [] if "message" in event or "postback" in event]


def messenger(rasa_url: str, body: bytes, *, signature: str | None = "valid") -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if signature == "valid":
        for psid in messenger_senders(body):
            saw_inbound("messenger", psid)
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

    def __init__(self, ms: MessagingStack, channel: str, platform_id: Any, sender: str) -> None:
        self.ms, self.channel, self.platform_id, self.sender = ms, channel, platform_id, sender
        self.recipient = str(platform_id)

    @classmethod
    def whatsapp(cls, ms: MessagingStack, number: str | None = None) -> Chat:
        number = number or f"whatsapp:+3361{next(_people):07d}"
        return cls(ms, "whatsapp", number, number)

    @classmethod
    def telegram(cls, ms: MessagingStack, chat_id: int | None = None) -> Chat:
        chat_id = chat_id if chat_id is not None else 700_000_000 + next(_people)
        return cls(ms, "telegram", chat_id, f"telegram:{chat_id}")

    @classmethod
    def messenger(cls, ms: MessagingStack, psid: str | None = None) -> Chat:
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


def linked_customer(stack: Any, channel: str, sender: str) -> str | None:
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
        from hortense.appointments.advisors import seed_advisors
        from hortense.db.migrate import upgrade
        from hortense.db.seed import seed_demo
        from hortense.db.session import reset_engines, session_scope
        from tests.e2e.servers import ROOT, start_stack

        url = f"sqlite:///{workdir / 'hortense.db'}"
        upgrade(url)
        with session_scope(url) as session:
            seed_demo(session)
            seed_advisors(session)  # calls booked from a chat, for the notification tests
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
        platforms.forward_to = stack.rasa_url  # Twilio's StatusCallbacks reach this Rasa
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
