"""Stored notifications, their delivery (claim, retry, restart safety), the scheduler and the internal channel."""
from __future__ import annotations

import asyncio
import json
import threading
import time as systime
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from hortense.appointments import booking as ap
from hortense.appointments import notifications as nt
from hortense.appointments.advisors import create_advisor, hash_password
from hortense.appointments.calendar.phrases import PARIS
from hortense.db.calendar_models import Notification
from hortense.db.models import Customer
from hortense.db.session import session_scope
from hortense.appointments.scheduler import (DELIVERY_JOB, KITTY_JOB, KITTY_STARTUP_JOB, PAST_CALLS_JOB,
                                             RETENTION_JOB, Jobs, build_scheduler)

UTC = timezone.utc
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=PARIS).astimezone(UTC)
FRIDAY_10 = datetime(2026, 11, 27, 10, 0, tzinfo=PARIS)


class Recorder:
    """A transport that remembers what it was asked to send, and can be told to fail."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.notices: list = []
        self.fail = fail
        self._lock = threading.Lock()

    def send(self, channel: str, sender_id: str, text: str, notice=None) -> None:
        self.notices.append(notice)
        if self.fail:
            raise ConnectionError("Rasa unreachable")
        with self._lock:
            self.sent.append((channel, sender_id, text))


def _customer_ids(url: str) -> list[int]:
    with session_scope(url) as s:
        return list(s.execute(select(Customer.id).order_by(Customer.id)).scalars())


@pytest.fixture
def url(seeded_db) -> str:
    with session_scope(seeded_db) as s:
        for name in ("Alice Martin", "Bruno Caron"):
            create_advisor(s, name=name, email=f"{name[:5].lower()}@hortense.test", password="",
                           password_hash=hash_password("pw", n=16))
    return seeded_db


def _book(url: str, customer_id: int, start: datetime = FRIDAY_10, now: datetime = NOW) -> ap.AppointmentView:
    with session_scope(url) as s:
        result = ap.book(s, customer_id=customer_id, contract_id=None, start=start, reason="Facture",
                         phone="0612345678", channel="web", sender_id=f"conv-{customer_id}", now=now)
    assert result.ok, result
    return result.appointment


def _rows(url: str) -> list[Notification]:
    with session_scope(url) as s:
        return s.execute(select(Notification).order_by(Notification.id)).scalars().all()


# --------------------------------------------------------------------------- storage and claims

def test_only_due_notifications_are_listed(url):
    booked = _book(url, _customer_ids(url)[0])
    with session_scope(url) as s:
        now_due = nt.due(s, NOW)
        later = nt.due(s, FRIDAY_10.astimezone(UTC) - timedelta(hours=24))
    assert [(n.kind, n.appointment_id, n.channel, n.sender_id) for n in now_due] == [
        ("confirmation", booked.id, "web", booked.sender_id)]
    assert {n.kind for n in later} == {"confirmation", "reminder"}


def test_a_claim_is_granted_once_until_it_times_out(url):
    _book(url, _customer_ids(url)[0])
    (pending,) = [n for n in _rows(url) if n.kind == "confirmation"]
    with session_scope(url) as s:
        assert nt.claim(s, pending.id, NOW)
    with session_scope(url) as s:
        assert not nt.claim(s, pending.id, NOW + timedelta(minutes=1))
        assert nt.due(s, NOW + timedelta(minutes=1)) == []
    with session_scope(url) as s:
        assert nt.claim(s, pending.id, NOW + nt.CLAIM_TIMEOUT + timedelta(seconds=1))
        nt.mark_sent(s, pending.id, NOW + nt.CLAIM_TIMEOUT + timedelta(seconds=2))
    with session_scope(url) as s:
        assert not nt.claim(s, pending.id, NOW + timedelta(hours=1))


def test_delivery_sends_once_even_across_a_restart(url):
    booked = _book(url, _customer_ids(url)[0])
    first = Recorder()
    report = Jobs(first, url, clock=lambda: NOW).deliver()
    assert (report.sent, report.failed) == (1, 0)
    assert first.sent == [("web", booked.sender_id, _rows(url)[0].text)]
    # "Restart": a new scheduler with new jobs, new sessions, nothing shared in memory.
    second = Recorder()
    jobs = Jobs(second, url, clock=lambda: NOW + timedelta(seconds=30))
    build_scheduler(jobs, scheduler=_background()).get_job(DELIVERY_JOB).func()
    assert second.sent == []
    sent = {n.kind: n.sent_at for n in _rows(url)}
    assert sent == {"confirmation": NOW, "reminder": None}


def test_a_notification_due_while_the_scheduler_was_down_is_sent_once_at_restart(url):
    _book(url, _customer_ids(url)[0])
    reminder_time = FRIDAY_10.astimezone(UTC) - timedelta(hours=24)
    late = reminder_time + timedelta(hours=2)  # the scheduler was down when it fell due
    recorder = Recorder()
    Jobs(recorder, url, clock=lambda: late).deliver()
    Jobs(recorder, url, clock=lambda: late + timedelta(seconds=30)).deliver()
    assert sorted(text.split(" ")[0] for _, _, text in recorder.sent) == ["C'est", "Rappel"]


def test_a_claim_left_by_a_crashed_run_is_retried_after_the_timeout(url):
    _book(url, _customer_ids(url)[0])
    (pending,) = [n for n in _rows(url) if n.kind == "confirmation"]
    with session_scope(url) as s:
        assert nt.claim(s, pending.id, NOW)  # ... and the process dies before sending
    recorder = Recorder()
    Jobs(recorder, url, clock=lambda: NOW + timedelta(minutes=1)).deliver()
    assert recorder.sent == []
    Jobs(recorder, url, clock=lambda: NOW + timedelta(minutes=6)).deliver()
    Jobs(recorder, url, clock=lambda: NOW + timedelta(minutes=12)).deliver()
    assert len(recorder.sent) == 1


def test_two_schedulers_at_once_send_each_notification_once(url):
    for customer_id in _customer_ids(url)[:4]:
        _book(url, customer_id, start=FRIDAY_10 + timedelta(hours=customer_id))
    recorders = [Recorder(), Recorder()]
    barrier = threading.Barrier(2)

    def run(recorder: Recorder) -> None:
        barrier.wait()
        Jobs(recorder, url, clock=lambda: NOW).deliver()

    threads = [threading.Thread(target=run, args=(r,)) for r in recorders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    sent = recorders[0].sent + recorders[1].sent
    assert len(sent) == 4 and len({sender for _, sender, _ in sent}) == 4


def test_failures_are_retried_with_backoff_then_abandoned(url):
    _book(url, _customer_ids(url)[0])
    failing = Recorder(fail=True)
    at = NOW
    for attempt in range(1, nt.MAX_ATTEMPTS + 1):
        report = Jobs(failing, url, clock=lambda: at).deliver()
        assert report.failed == 1
        (row,) = [n for n in _rows(url) if n.kind == "confirmation"]
        assert row.attempts == attempt and "Rasa unreachable" in row.last_error and row.claimed_at is None
        if attempt < nt.MAX_ATTEMPTS:
            assert row.due_at == at + nt.backoff(attempt) and row.abandoned_at is None
            assert Jobs(failing, url, clock=lambda: at + nt.backoff(attempt) / 2).deliver().failed == 0
            at = row.due_at
    assert row.abandoned_at is not None
    working = Recorder()
    Jobs(working, url, clock=lambda: at + timedelta(hours=5)).deliver()
    assert [text[:6] for _, _, text in working.sent] == ["Rappel"]  # the abandoned confirmation is not retried


def test_a_failure_then_a_success_sends_once(url):
    _book(url, _customer_ids(url)[0])
    Jobs(Recorder(fail=True), url, clock=lambda: NOW).deliver()
    recorder = Recorder()
    Jobs(recorder, url, clock=lambda: NOW + nt.backoff(1)).deliver()
    Jobs(recorder, url, clock=lambda: NOW + nt.backoff(1) + timedelta(minutes=1)).deliver()
    assert len(recorder.sent) == 1


def test_reminders_of_cancelled_or_started_calls_are_not_sent(url):
    first, second = _customer_ids(url)[:2]
    cancelled = _book(url, first)
    _book(url, second, start=FRIDAY_10 + timedelta(hours=1))
    with session_scope(url) as s:
        assert ap.cancel(s, customer_id=first, appointment_id=cancelled.id, now=NOW)
    recorder = Recorder()
    Jobs(recorder, url, clock=lambda: FRIDAY_10.astimezone(UTC) + timedelta(hours=2)).deliver()
    assert recorder.sent == []  # one cancelled, the other already started: nothing is worth sending
    assert all(n.abandoned_at is not None for n in _rows(url))


def test_an_advisor_cancellation_reaches_the_customer(url):
    customer = _customer_ids(url)[0]
    booked = _book(url, customer)
    Jobs(Recorder(), url, clock=lambda: NOW).deliver()  # the confirmation
    with session_scope(url) as s:
        assert ap.advisor_cancel(s, advisor_id=booked.advisor_id, appointment_id=booked.id,
                                 reason="Conseillère en formation", now=NOW + timedelta(hours=1))
    recorder = Recorder()
    Jobs(recorder, url, clock=lambda: NOW + timedelta(hours=1, seconds=30)).deliver()
    Jobs(recorder, url, clock=lambda: FRIDAY_10.astimezone(UTC) - timedelta(hours=1)).deliver()
    assert len(recorder.sent) == 1
    channel, sender, text = recorder.sent[0]
    assert (channel, sender) == ("web", booked.sender_id) and "Conseillère en formation" in text


# --------------------------------------------------------------------------- scheduler

def _background():
    from apscheduler.schedulers.background import BackgroundScheduler

    return BackgroundScheduler(timezone="Europe/Paris")


def test_the_scheduler_has_its_jobs_in_paris_time():
    scheduler = build_scheduler(Jobs(Recorder()))
    assert str(scheduler.timezone) == "Europe/Paris"
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {DELIVERY_JOB, KITTY_JOB, KITTY_STARTUP_JOB, PAST_CALLS_JOB, RETENTION_JOB}
    deliver = jobs[DELIVERY_JOB]
    assert deliver.trigger.interval == timedelta(seconds=30)
    assert deliver.coalesce and deliver.max_instances == 1
    kitty = str(jobs[KITTY_JOB].trigger)
    assert "day='1'" in kitty and "hour='3'" in kitty and "minute='0'" in kitty
    assert type(jobs[KITTY_STARTUP_JOB].trigger).__name__ == "DateTrigger"


def test_a_started_scheduler_delivers_and_updates_kitties_at_once(url, monkeypatch):
    _book(url, _customer_ids(url)[0])
    recorder = Recorder()
    kitty_runs = []
    jobs = Jobs(recorder, url, clock=lambda: NOW)
    monkeypatch.setattr(jobs, "update_kitties", lambda: kitty_runs.append(1))
    scheduler = build_scheduler(jobs, scheduler=_background())
    scheduler.start()
    try:
        deadline = systime.monotonic() + 15
        while (not recorder.sent or not kitty_runs) and systime.monotonic() < deadline:
            systime.sleep(0.05)
    finally:
        scheduler.shutdown(wait=True)
    assert len(recorder.sent) == 1 and kitty_runs == [1]


def test_the_kitty_job_is_idempotent(url):
    jobs = Jobs(Recorder(), url, clock=lambda: datetime(2027, 1, 2, 3, 0, tzinfo=UTC))
    jobs.update_kitties()
    assert jobs.update_kitties() == 0


def test_the_past_calls_job_marks_unhandled_calls_missed(url):
    booked = _book(url, _customer_ids(url)[0])
    assert Jobs(Recorder(), url, clock=lambda: FRIDAY_10.astimezone(UTC) + timedelta(hours=2)).mark_past_calls() == 0
    assert Jobs(Recorder(), url, clock=lambda: FRIDAY_10.astimezone(UTC) + timedelta(days=1)).mark_past_calls() == 1
    with session_scope(url) as s:
        assert ap.upcoming_for_customer(s, booked.customer_id, NOW) is None


# --------------------------------------------------------------------------- internal channel and transport

class _FakeOutput:
    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    async def send_text_message(self, recipient_id: str, text: str, **kwargs) -> None:
        self.messages.append((recipient_id, text))


def _internal_app():
    from rasa.core.channels.channel import InputChannel, register
    from sanic import Blueprint, Sanic

    from channels.internal import InternalNotifyInput

    output = _FakeOutput()

    class WebLike(InputChannel):
        @classmethod
        def name(cls) -> str:
            return "web"

        def blueprint(self, on_new_message):
            return Blueprint(f"web_like_{uuid.uuid4().hex[:8]}", __name__)

        def get_output_channel(self):
            return output

    Sanic.test_mode = True  # lets several apps start in one process (what sanic-testing does)
    app = Sanic(f"internal_test_{uuid.uuid4().hex[:8]}")
    register([InternalNotifyInput(), WebLike()], app, route="/webhooks/")
    return app, output


async def _asgi(app, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    """One HTTP request through Sanic's ASGI interface (no test client is installed)."""
    if not getattr(app.ctx, "hortense_started", False):
        app.asgi = True
        await app._startup()
        app.ctx.hortense_started = True
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
             "client": ("127.0.0.1", 40000), "server": ("testserver", 80)}
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    out = {"status": None, "body": b""}

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return out["status"], out["body"]


def _post(app, body: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers[nt.SIGNATURE_HEADER] = signature
    return asyncio.run(_asgi(app, "POST", "/webhooks/internal/notify", body, headers))


def test_internal_channel_delivers_a_signed_message_to_the_named_channel():
    app, output = _internal_app()
    body = nt.notify_body("web", "conv-42", "Rappel : un conseiller vous appelle demain à 10h.")
    status, _ = _post(app, body, nt.signature(body))
    assert status == 200
    assert output.messages == [("conv-42", "Rappel : un conseiller vous appelle demain à 10h.")]


@pytest.mark.parametrize("signature", [None, "", "0" * 64, "not-hex"])
def test_internal_channel_refuses_unsigned_or_badly_signed_requests(signature):
    app, output = _internal_app()
    body = nt.notify_body("web", "conv-42", "Bonjour")
    assert _post(app, body, signature)[0] == 403
    assert _post(app, body, nt.signature(body, secret="another-secret-0123456789abcdef"))[0] == 403
    tampered = nt.notify_body("web", "conv-43", "Bonjour")
    assert _post(app, tampered, nt.signature(body))[0] == 403
    assert output.messages == []


def test_internal_channel_unknown_channel_and_bad_body():
    app, output = _internal_app()
    for channel in ("telegram", "internal"):
        body = nt.notify_body(channel, "conv-42", "Bonjour")
        assert _post(app, body, nt.signature(body))[0] == 404
    for body in (b"not json", json.dumps({"channel": "web", "sender_id": "x"}).encode(), b"[1]"):
        assert _post(app, body, nt.signature(body))[0] == 400
    assert output.messages == []


def test_rasa_transport_posts_what_the_internal_channel_accepts(monkeypatch):
    import requests

    captured = {}

    class Answer:
        status_code = 200
        text = "{}"

        def json(self):
            return json.loads(self.text)

    def fake_post(target, data, timeout, headers):
        captured.update(url=target, data=data, headers=headers, timeout=timeout)
        return Answer()

    monkeypatch.setattr(requests, "post", fake_post)
    nt.RasaTransport(rasa_url="http://rasa:5005").send("web", "conv-7", "Votre appel est confirmé.")
    assert captured["url"] == "http://rasa:5005/webhooks/internal/notify"
    assert captured["timeout"] < nt.CLAIM_TIMEOUT.total_seconds()
    app, output = _internal_app()
    status, _ = _post(app, captured["data"], captured["headers"][nt.SIGNATURE_HEADER])
    assert status == 200 and output.messages == [("conv-7", "Votre appel est confirmé.")]

    Answer.status_code = 404
    with pytest.raises(RuntimeError):
        nt.RasaTransport(rasa_url="http://rasa:5005").send("nope", "conv-7", "x")


# --------------------------------------------------------------------------- messaging: window, links, status

WA = "whatsapp:+33600000042"


def _book_on_whatsapp(url: str, customer_id: int, linked: bool = True) -> ap.AppointmentView:
    from hortense.db.link_models import AccountLink

    with session_scope(url) as s:
        if linked:
            s.add(AccountLink(channel="whatsapp", sender_id=WA, customer_id=customer_id, linked_at=NOW))
        result = ap.book(s, customer_id=customer_id, contract_id=None, start=FRIDAY_10 + timedelta(days=7),
                         reason="Facture", phone="0612345678", channel="whatsapp", sender_id=WA, now=NOW)
    assert result.ok
    return result.appointment


class Platform(Recorder):
    """A transport answering like a messaging platform; `refuse` makes it refuse for good."""

    def __init__(self, refuse: str | None = None) -> None:
        super().__init__()
        self.refuse = refuse

    def send(self, channel, sender_id, text, notice=None):
        super().send(channel, sender_id, text, notice)
        if self.refuse:
            raise nt.PermanentFailure(self.refuse)
        return nt.SendResult(message_id=f"SM{len(self.sent)}", status="queued",
                             sent_as="template" if notice.outside_window else "text")


def test_the_scheduler_decides_the_24_hour_window_from_the_last_inbound_message(url):
    customer = _customer_ids(url)[0]
    call = _book_on_whatsapp(url, customer)
    with session_scope(url) as s:
        nt.record_inbound(s, "whatsapp", WA, NOW - timedelta(hours=1))
    platform = Platform()
    assert Jobs(platform, url, clock=lambda: NOW).deliver().sent == 1  # the confirmation
    assert platform.notices[-1].outside_window is False and platform.notices[-1].kind == "confirmation"
    (reminder,) = [n for n in _rows(url) if n.kind == "reminder"]
    assert reminder.due_at - NOW > nt.WINDOW
    assert Jobs(platform, url, clock=lambda: reminder.due_at).deliver().sent == 1
    notice = platform.notices[-1]
    assert notice.outside_window is True and notice.kind == "reminder"
    assert notice.variables == {"1": "vendredi 4 décembre", "2": "10h", "3": "06 12 34 56 78"}
    rows = {n.kind: n for n in _rows(url) if n.appointment_id == call.id}
    assert rows["reminder"].sent_as == "template" and rows["reminder"].delivery_status == "queued"
    assert rows["confirmation"].sent_as == "text" and rows["confirmation"].platform_message_id == "SM1"


def test_status_callbacks_move_forward_only_and_a_failure_is_final(url):
    customer = _customer_ids(url)[0]
    _book_on_whatsapp(url, customer)
    Jobs(Platform(), url, clock=lambda: NOW).deliver()
    (row,) = [n for n in _rows(url) if n.kind == "confirmation"]
    with session_scope(url) as s:
        assert nt.record_status(s, row.id, "delivered", NOW, message_id="SM1") is True
        assert nt.record_status(s, row.id, "sent", NOW, message_id="SM1") is False  # late: ignored
        assert nt.record_status(s, row.id, "failed", NOW, message_id="SM-other") is False  # another message
        assert nt.record_status(s, row.id, "failed", NOW, message_id="SM1", error="twilio:63024") is True
        assert nt.record_status(s, row.id, "delivered", NOW, message_id="SM1") is False
        assert nt.undelivered(s, [row.appointment_id]) == {row.appointment_id}
    (row,) = [n for n in _rows(url) if n.kind == "confirmation"]
    assert (row.delivery_status, row.delivery_error) == ("failed", "twilio:63024")


def test_a_final_refusal_is_not_retried(url):
    customer = _customer_ids(url)[0]
    _book_on_whatsapp(url, customer)
    refusing = Platform(refuse="messenger:551")
    assert Jobs(refusing, url, clock=lambda: NOW).deliver().failed == 1
    assert Jobs(refusing, url, clock=lambda: NOW + timedelta(hours=2)).deliver().failed == 0
    (row,) = [n for n in _rows(url) if n.kind == "confirmation"]
    assert len(refusing.sent) == 1 and row.abandoned_at is not None and row.delivery_error == "messenger:551"


def test_nothing_is_sent_to_an_unlinked_chat(url):
    customer = _customer_ids(url)[0]
    call = _book_on_whatsapp(url, customer, linked=False)
    platform = Platform()
    assert Jobs(platform, url, clock=lambda: NOW).deliver().failed == 1
    assert platform.sent == []
    with session_scope(url) as s:
        (notice,) = nt.undelivered_for_customer(s, customer, NOW)
        assert notice.kind == "confirmation" and notice.delivery_error == "unlinked"
        assert nt.undelivered(s, [call.id]) == {call.id}
