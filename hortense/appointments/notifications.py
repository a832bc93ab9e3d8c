"""Stored notifications to customers (confirmation, reminder, cancellation) and their at-most-once-ish delivery.

A notification is a row: it survives restarts and is shared by every scheduler instance. Delivery is
claim -> send -> mark, each step its own transaction:
- the claim is one conditional UPDATE, so two schedulers (or a restart) never both get the same row;
- a claim older than CLAIM_TIMEOUT is considered crashed and may be claimed again, so nothing is lost;
  the only duplicate possible is a process dying between a successful send and `mark_sent`;
- a failed send is retried with backoff, then abandoned after MAX_ATTEMPTS; a refusal the platform will
  repeat (`PermanentFailure`: blocked, unknown user, no template…) is final at once, without blind retries.
Reminders and confirmations of a call that was cancelled or has already started are not sent.

Messaging apps (WhatsApp, Messenger) let a business write freely only within 24 hours of the customer's last
message (`MessagingContact.last_inbound_at`, recorded by the connectors). The scheduler, which reads the clock,
decides and says so in the `Notice` it passes on: outside the window WhatsApp gets an approved template and
Messenger a tagged message (`channels/`). Nothing is sent to a messaging conversation that no longer speaks for
the call's customer (unlinked). A notification that could not be delivered (refused, failed in a platform
callback, unlinked, abandoned) is recorded as `delivery_status = 'failed'`: the customer space shows it and
the advisors' console says "rappel non délivré" on the call.
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
    DELIVERY_DELIVERED,
    DELIVERY_FAILED,
    DELIVERY_QUEUED,
    DELIVERY_READ,
    DELIVERY_SENT,
    KIND_CANCELLATION,
    STATUS_BOOKED,
    Appointment,
    Notification,
)
from hortense.db.messaging_models import MessagingContact
from hortense.db.session import session_scope
from hortense.settings import get_settings

logger = logging.getLogger(__name__)

CLAIM_TIMEOUT = timedelta(minutes=5)
MAX_ATTEMPTS = 5
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
SIGNATURE_HEADER = "X-Hortense-Signature"
NOTIFY_PATH = "/webhooks/internal/notify"
HTTP_TIMEOUT_SECONDS = 10  # far below CLAIM_TIMEOUT: a slow send never outlives its claim
# Platforms where a business may write freely only within 24 h of the customer's last message.
WINDOWED_CHANNELS = ("whatsapp", "messenger")
MESSAGING_CHANNELS = ("whatsapp", "telegram", "messenger")  # conversations that speak for a customer by a link
WINDOW = timedelta(hours=24)
# A status never moves back: a late 'sent' callback does not undo 'delivered'; 'failed' is final.
_RANK = {None: 0, DELIVERY_QUEUED: 1, DELIVERY_SENT: 2, DELIVERY_DELIVERED: 3, DELIVERY_READ: 4, DELIVERY_FAILED: 5}


@dataclass(frozen=True)
class PendingNotification:
    id: int
    appointment_id: int
    kind: str
    channel: str
    sender_id: str
    text: str
    attempts: int
    customer_id: int | None = None
    start_utc: datetime | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Notice:
    """How to send one notification, decided by the scheduler: the channel's output follows it (an approved
    WhatsApp template for `kind`, a tagged Messenger message) when the conversation is `outside_window`."""

    notification_id: int
    kind: str
    outside_window: bool
    variables: dict[str, str]  # the template's variables: {"1": date, "2": time, "3": phone}

    def as_json(self) -> dict:
        return {
            "notification_id": self.notification_id,
            "kind": self.kind,
            "outside_window": self.outside_window,
            "variables": self.variables,
        }

    @classmethod
    def from_json(cls, data: object) -> Notice | None:
        if not isinstance(data, dict):
            return None
        nid, kind, outside, variables = (
            data.get(k) for k in ("notification_id", "kind", "outside_window", "variables")
        )
        if not isinstance(nid, int) or not isinstance(kind, str) or not isinstance(outside, bool):
            return None
        if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
            return None
        return cls(nid, kind, outside, {str(k): v for k, v in variables.items()})


@dataclass(frozen=True)
class SendResult:
    """What the platform answered: its message id, the first delivery status, how it was sent."""

    message_id: str | None = None
    status: str = DELIVERY_SENT
    sent_as: str = "text"  # 'text', 'template' or 'tagged'


class PermanentFailure(RuntimeError):
    """The platform refused for good (blocked, unknown recipient, outside the window, no template): retrying
    the same send would fail the same way, so the notification fails at once with `code`."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


class Transport(Protocol):
    def send(self, channel: str, sender_id: str, text: str, notice: Notice | None = None) -> SendResult | None:
        """Deliver `text` to the conversation `sender_id` on `channel` as `notice` says; raise on any failure
        (`PermanentFailure` when retrying cannot help)."""


# --------------------------------------------------------------------------- storage


def schedule(
    session: Session, *, appointment_id: int, kind: str, channel: str, sender_id: str, text: str, due_at: datetime
) -> None:
    """Store (or replace, if not sent yet) the notification of this kind for this appointment."""
    existing = session.execute(
        select(Notification).where(Notification.appointment_id == appointment_id, Notification.kind == kind)
    ).scalar_one_or_none()
    if existing is None:
        session.add(
            Notification(
                appointment_id=appointment_id,
                kind=kind,
                channel=channel,
                sender_id=sender_id,
                text=text,
                due_at=due_at,
                attempts=0,
            )
        )
    elif existing.sent_at is None:
        existing.channel, existing.sender_id, existing.text, existing.due_at = channel, sender_id, text, due_at
        existing.claimed_at = existing.abandoned_at = existing.last_error = None
        existing.attempts = 0
    session.flush()


def abandon_pending(session: Session, appointment_id: int, now: datetime, why: str) -> int:
    """Drop the unsent notifications of an appointment (it was cancelled or moved)."""
    result = session.execute(
        update(Notification)
        .where(
            Notification.appointment_id == appointment_id,
            Notification.sent_at.is_(None),
            Notification.abandoned_at.is_(None),
            Notification.kind != KIND_CANCELLATION,
        )
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
        select(Notification, Appointment)
        .join(Appointment, Appointment.id == Notification.appointment_id)
        .where(_claimable(now), _still_relevant(now))
        .order_by(Notification.due_at, Notification.id)
        .limit(limit)
    ).all()
    return [
        PendingNotification(
            n.id,
            n.appointment_id,
            n.kind,
            n.channel,
            n.sender_id,
            n.text,
            n.attempts,
            a.customer_id,
            a.start_utc,
            a.phone,
        )
        for n, a in rows
    ]


def claim(session: Session, notification_id: int, now: datetime) -> bool:
    """Take a notification for sending; True for exactly one caller even under concurrency."""
    result = session.execute(
        update(Notification)
        .where(Notification.id == notification_id, _claimable(now))
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def mark_sent(session: Session, notification_id: int, now: datetime, result: SendResult | None = None) -> None:
    result = result or SendResult()
    session.execute(
        update(Notification)
        .where(Notification.id == notification_id)
        .values(sent_at=now, attempts=Notification.attempts + 1, last_error=None, sent_as=result.sent_as)
        .execution_options(synchronize_session=False)
    )
    # A platform callback may have come first (Twilio calls back as soon as it queues): it is kept.
    record_status(session, notification_id, result.status, now, message_id=result.message_id)


def record_status(
    session: Session,
    notification_id: int,
    status: str,
    now: datetime,
    *,
    message_id: str | None = None,
    error: str | None = None,
) -> bool:
    """Record what the platform says about a sent notification, never moving a status back; True if changed."""
    row = session.get(Notification, notification_id)
    if row is None or status not in _RANK:
        return False
    if message_id and row.platform_message_id and row.platform_message_id != message_id:
        return False  # a callback about another message (an earlier try): not this one's status
    if message_id and not row.platform_message_id:
        row.platform_message_id = message_id[:64]
    if _RANK[status] <= _RANK.get(row.delivery_status, 0):
        session.flush()
        return False
    row.delivery_status = status
    row.delivery_updated_at = now
    if status == DELIVERY_FAILED:
        row.delivery_error = (error or "failed")[:100]
    session.flush()
    return True


def mark_undeliverable(session: Session, notification_id: int, now: datetime, code: str) -> None:
    """Final: this notification will not reach the customer on its channel (they see it in their space)."""
    row = session.get(Notification, notification_id)
    if row is None:
        return
    row.abandoned_at = row.abandoned_at or now
    row.claimed_at = None
    row.last_error = code[:500]
    row.delivery_status = DELIVERY_FAILED
    row.delivery_error = code[:100]
    row.delivery_updated_at = now
    session.flush()


def undelivered(session: Session, appointment_ids: list[int]) -> set[int]:
    """The appointments (of `appointment_ids`) with a notification that did not reach the customer."""
    if not appointment_ids:
        return set()
    rows = session.execute(
        select(Notification.appointment_id).where(
            Notification.appointment_id.in_(appointment_ids), Notification.delivery_status == DELIVERY_FAILED
        )
    )
    return set(rows.scalars())


def undelivered_for_customer(session: Session, customer_id: int, since: datetime) -> list[Notification]:
    """The customer's notifications that could not be delivered on their channel, newest first (the customer
    space shows them): about calls that have not ended before `since`, and cancellations."""
    return list(
        session.execute(
            select(Notification)
            .join(Appointment, Appointment.id == Notification.appointment_id)
            .where(
                Appointment.customer_id == customer_id,
                Notification.delivery_status == DELIVERY_FAILED,
                or_(Appointment.end_utc > since, Notification.kind == KIND_CANCELLATION),
            )
            .order_by(Notification.created_at.desc(), Notification.id.desc())
        ).scalars()
    )


# --------------------------------------------------------------------------- the 24-hour window


def record_inbound(session: Session, channel: str, sender_id: str, now: datetime) -> None:
    """The customer just wrote on `channel`: the platform's 24-hour window opens again."""
    row = session.execute(
        select(MessagingContact).where(MessagingContact.channel == channel, MessagingContact.sender_id == sender_id)
    ).scalar_one_or_none()
    if row is None:
        session.add(MessagingContact(channel=channel, sender_id=sender_id, last_inbound_at=now))
    elif row.last_inbound_at is None or row.last_inbound_at < now:
        row.last_inbound_at = now
    session.flush()


def last_inbound(session: Session, channel: str, sender_id: str) -> datetime | None:
    return session.execute(
        select(MessagingContact.last_inbound_at).where(
            MessagingContact.channel == channel, MessagingContact.sender_id == sender_id
        )
    ).scalar_one_or_none()


def outside_window(session: Session, channel: str, sender_id: str, now: datetime) -> bool:
    """True when free text would be refused: a windowed platform and no customer message in the last 24 h."""
    if channel not in WINDOWED_CHANNELS:
        return False
    last = last_inbound(session, channel, sender_id)
    return last is None or now - last >= WINDOW


def still_linked(session: Session, item: PendingNotification) -> bool:
    """A messaging conversation gets a customer's notification only while it speaks for that customer."""
    if item.channel not in MESSAGING_CHANNELS:
        return True
    from hortense.db.link_models import AccountLink

    linked = session.execute(
        select(AccountLink.customer_id).where(
            AccountLink.channel == item.channel, AccountLink.sender_id == item.sender_id
        )
    ).scalar_one_or_none()
    return linked is not None and linked == item.customer_id


def template_variables(item: PendingNotification) -> dict[str, str]:
    """The variables of the notification templates: 1 = day ("jeudi 3 décembre"), 2 = time ("14h30"),
    3 = the number we will call (confirmation and reminder)."""
    from hortense.appointments.calendar.phrases import PARIS
    from hortense.replies import formatting

    if item.start_utc is None:
        return {}
    start = item.start_utc.astimezone(PARIS)
    day, _, hour = formatting.slot_label(start).rpartition(" à ")
    variables = {"1": day, "2": hour}
    if item.kind != KIND_CANCELLATION and item.phone:
        from hortense.appointments.booking import display_phone

        variables["3"] = display_phone(item.phone)
    return variables


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
        row.delivery_status, row.delivery_error, row.delivery_updated_at = DELIVERY_FAILED, "gave_up", now
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
        .where(
            Notification.sent_at.is_(None),
            Notification.abandoned_at.is_(None),
            Notification.kind != KIND_CANCELLATION,
            Notification.appointment_id.in_(stale),
        )
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
            linked = still_linked(session, item)
            if not linked:  # "délier mon compte": nothing more goes to that chat
                mark_undeliverable(session, item.id, now, "unlinked")
            notice = Notice(
                item.id, item.kind, outside_window(session, item.channel, item.sender_id, now), template_variables(item)
            )
        if not linked:
            logger.info("notification %s (%s) not sent: the conversation is no longer linked", item.id, item.kind)
            failed += 1
            continue
        try:
            result = transport.send(item.channel, item.sender_id, item.text, notice)
        except PermanentFailure as exc:
            logger.warning("notification %s (%s) refused for good: %s", item.id, item.kind, exc.code)
            with session_scope(url) as session:
                mark_undeliverable(session, item.id, now, exc.code)
            failed += 1
            continue
        except Exception as exc:  # any other transport failure is retried later, never fatal to the round
            logger.warning("notification %s (%s) not delivered: %s", item.id, item.kind, exc)
            with session_scope(url) as session:
                mark_failed(session, item.id, now, f"{type(exc).__name__}: {exc}")
            failed += 1
            continue
        with session_scope(url) as session:
            mark_sent(session, item.id, now, result if isinstance(result, SendResult) else None)
        sent += 1
    return DeliveryReport(sent, failed, skipped)


def signature(body: bytes, secret: str | None = None) -> str:
    """HMAC-SHA256 of the raw request body, hex: what channels/internal.py checks."""
    key = (secret if secret is not None else get_settings().action_server_token).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def notify_body(channel: str, sender_id: str, text: str, notice: Notice | None = None) -> bytes:
    data: dict = {"channel": channel, "sender_id": sender_id, "text": text}
    if notice is not None:
        data["notice"] = notice.as_json()
    return json.dumps(data, ensure_ascii=False).encode()


class RasaTransport:
    """Sends through Rasa's internal channel, which hands the text to the customer's own channel."""

    def __init__(
        self, rasa_url: str | None = None, secret: str | None = None, timeout: float = HTTP_TIMEOUT_SECONDS
    ) -> None:
        settings = get_settings()
        self.url = (rasa_url or settings.rasa_url).rstrip("/") + NOTIFY_PATH
        self.secret = secret if secret is not None else settings.action_server_token
        self.timeout = timeout

    def send(self, channel: str, sender_id: str, text: str, notice: Notice | None = None) -> SendResult:
        import requests

        body = notify_body(channel, sender_id, text, notice)
        response = requests.post(
            self.url,
            data=body,
            timeout=self.timeout,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature(body, self.secret)},
        )
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        answer = answer if isinstance(answer, dict) else {}
        if response.status_code != 200:
            if answer.get("permanent") and answer.get("code"):
                raise PermanentFailure(str(answer["code"]), str(answer.get("error") or ""))
            raise RuntimeError(f"Rasa answered {response.status_code}: {response.text[:200]}")
        status = answer.get("delivery_status")
        return SendResult(
            message_id=str(answer["message_id"]) if answer.get("message_id") else None,
            status=status if status in _RANK and status else DELIVERY_SENT,
            sent_as=str(answer.get("sent_as") or "text"),
        )
