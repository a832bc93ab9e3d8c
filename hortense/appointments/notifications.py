"""Stored notifications to customers (confirmation, reminder, cancellation) and their at-most-once-ish delivery.

A notification is a row: it survives restarts and is shared by every scheduler instance. Delivery is
claim -> send -> mark, each step its own transaction:
- the claim is one conditional UPDATE, so two schedulers (or a restart) never both get the same row;
- a claim older than CLAIM_TIMEOUT is considered crashed and may be claimed again, so nothing is lost;
  the only duplicate possible is a process dying between a successful send and `mark_sent`;
- a failed send is retried with backoff, then abandoned after MAX_ATTEMPTS.
Reminders and confirmations of a call that was cancelled or has already started are not sent.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from hortense.db.calendar_models import (
    KIND_CANCELLATION,
    STATUS_BOOKED,
    Appointment,
    Notification,
)
from hortense.db.session import session_scope
from hortense.settings import get_settings

logger = logging.getLogger(__name__)

CLAIM_TIMEOUT = timedelta(minutes=5)
MAX_ATTEMPTS = 5
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
SIGNATURE_HEADER = "X-Hortense-Signature"
NOTIFY_PATH = "/webhooks/internal/notify"
HTTP_TIMEOUT_SECONDS = 10  # far below CLAIM_TIMEOUT: a slow send never outlives its claim


@dataclass(frozen=True)
class PendingNotification:
    id: int
    appointment_id: int
    kind: str
    channel: str
    sender_id: str
    text: str
    attempts: int


class Transport(Protocol):
    def send(self, channel: str, sender_id: str, text: str) -> None:
        """Deliver `text` to the conversation `sender_id` on `channel`; raise on any failure."""


# --------------------------------------------------------------------------- storage

def schedule(session: Session, *, appointment_id: int, kind: str, channel: str, sender_id: str, text: str,
             due_at: datetime) -> None:
    """Store (or replace, if not sent yet) the notification of this kind for this appointment."""
    existing = session.execute(
        select(Notification).where(Notification.appointment_id == appointment_id, Notification.kind == kind)
    ).scalar_one_or_none()
    if existing is None:
        session.add(Notification(appointment_id=appointment_id, kind=kind, channel=channel, sender_id=sender_id,
                                 text=text, due_at=due_at, attempts=0))
    elif existing.sent_at is None:
        existing.channel, existing.sender_id, existing.text, existing.due_at = channel, sender_id, text, due_at
        existing.claimed_at = existing.abandoned_at = existing.last_error = None
        existing.attempts = 0
    session.flush()


def abandon_pending(session: Session, appointment_id: int, now: datetime, why: str) -> int:
    """Drop the unsent notifications of an appointment (it was cancelled or moved)."""
    result = session.execute(
        update(Notification)
        .where(Notification.appointment_id == appointment_id, Notification.sent_at.is_(None),
               Notification.abandoned_at.is_(None), Notification.kind != KIND_CANCELLATION)
        .values(abandoned_at=now, last_error=why[:500])
    )
    return result.rowcount


def _claimable(now: datetime):
    return and_(
        Notification.sent_at.is_(None),
        Notification.abandoned_at.is_(None),
        Notification.due_at <= now,
        or_(Notification.claimed_at.is_(None), Notification.claimed_at < now - CLAIM_TIMEOUT),
    )


def _still_relevant(now: datetime):
    """A cancellation is always worth sending; a confirmation or reminder only before the call starts."""
    return or_(
        Notification.kind == KIND_CANCELLATION,
        and_(Appointment.status == STATUS_BOOKED, Appointment.start_utc > now),
    )


def due(session: Session, now: datetime, limit: int = 50) -> list[PendingNotification]:
    """Notifications to send now, oldest first (claimed ones are skipped until their claim times out)."""
    rows = session.execute(
        select(Notification).join(Appointment, Appointment.id == Notification.appointment_id)
        .where(_claimable(now), _still_relevant(now))
        .order_by(Notification.due_at, Notification.id).limit(limit)
    ).scalars().all()
    return [PendingNotification(n.id, n.appointment_id, n.kind, n.channel, n.sender_id, n.text, n.attempts)
            for n in rows]


def claim(session: Session, notification_id: int, now: datetime) -> bool:
    """Take a notification for sending; True for exactly one caller even under concurrency."""
    result = session.execute(
        update(Notification).where(Notification.id == notification_id, _claimable(now))
        .values(claimed_at=now).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def mark_sent(session: Session, notification_id: int, now: datetime) -> None:
    session.execute(
        update(Notification).where(Notification.id == notification_id)
        .values(sent_at=now, attempts=Notification.attempts + 1, last_error=None)
        .execution_options(synchronize_session=False)
    )


def backoff(attempts: int) -> timedelta:
    """Wait before retry number `attempts` (1-based)."""
    return BACKOFF[min(attempts, len(BACKOFF)) - 1]


def mark_failed(session: Session, notification_id: int, now: datetime, error: str) -> bool:
    """Release the claim and retry later; returns False when the notification is abandoned (too many tries)."""
    row = session.get(Notification, notification_id)
    if row is None or row.sent_at is not None:
        return False
    row.attempts = (row.attempts or 0) + 1
    row.last_error = (error or "error")[:500]
    row.claimed_at = None
    if row.attempts >= MAX_ATTEMPTS:
        row.abandoned_at = now
        session.flush()
        return False
    row.due_at = now + backoff(row.attempts)
    session.flush()
    return True


def abandon_expired(session: Session, now: datetime) -> int:
    """Confirmations and reminders of calls cancelled or already started will never be sent: say so."""
    stale = select(Appointment.id).where(or_(Appointment.status != STATUS_BOOKED, Appointment.start_utc <= now))
    result = session.execute(
        update(Notification)
        .where(Notification.sent_at.is_(None), Notification.abandoned_at.is_(None),
               Notification.kind != KIND_CANCELLATION, Notification.appointment_id.in_(stale))
        .values(abandoned_at=now, last_error="call cancelled or already started")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


# --------------------------------------------------------------------------- delivery

@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int
    skipped: int  # claimed by someone else first


def deliver_due(transport: Transport, now: datetime, url: str | None = None, limit: int = 50) -> DeliveryReport:
    """One delivery round: each due notification is claimed, sent and marked, each step committed."""
    with session_scope(url) as session:
        abandon_expired(session, now)
    with session_scope(url) as session:
        pending = due(session, now, limit)
    sent = failed = skipped = 0
    for item in pending:
        with session_scope(url) as session:
            if not claim(session, item.id, now):
                skipped += 1
                continue
        try:
            transport.send(item.channel, item.sender_id, item.text)
        except Exception as exc:  # any transport failure is retried later, never fatal to the round
            logger.warning("notification %s (%s) not delivered: %s", item.id, item.kind, exc)
            with session_scope(url) as session:
                mark_failed(session, item.id, now, f"{type(exc).__name__}: {exc}")
            failed += 1
            continue
        with session_scope(url) as session:
            mark_sent(session, item.id, now)
        sent += 1
    return DeliveryReport(sent, failed, skipped)


def signature(body: bytes, secret: str | None = None) -> str:
    """HMAC-SHA256 of the raw request body, hex: what channels/internal.py checks."""
    key = (secret if secret is not None else get_settings().action_server_token).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def notify_body(channel: str, sender_id: str, text: str) -> bytes:
    return json.dumps({"channel": channel, "sender_id": sender_id, "text": text}, ensure_ascii=False).encode()


class RasaTransport:
    """Sends through Rasa's internal channel, which hands the text to the customer's own channel."""

    def __init__(self, rasa_url: str | None = None, secret: str | None = None,
                 timeout: float = HTTP_TIMEOUT_SECONDS) -> None:
        settings = get_settings()
        self.url = (rasa_url or settings.rasa_url).rstrip("/") + NOTIFY_PATH
        self.secret = secret if secret is not None else settings.action_server_token
        self.timeout = timeout

    def send(self, channel: str, sender_id: str, text: str) -> None:
        import requests

        body = notify_body(channel, sender_id, text)
        response = requests.post(self.url, data=body, timeout=self.timeout, headers={
            "Content-Type": "application/json", SIGNATURE_HEADER: signature(body, self.secret)})
        if response.status_code != 200:
            raise RuntimeError(f"Rasa answered {response.status_code}: {response.text[:200]}")
