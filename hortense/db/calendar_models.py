"""Phone-appointment models: advisors, their hours and absences, appointments and stored notifications.

Double booking is impossible by construction: two partial unique indexes cover only *active*
(status 'booked') appointments, one per advisor and start, one per customer. A cancelled, done or missed
call no longer holds its slot. Every timestamp is stored in UTC (see `UTCDateTime`).
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator

from hortense import clock
from hortense.db import models  # noqa: F401  (the customers and contracts our foreign keys point to)
from hortense.db.base import Base, child_keys, parent_key

STATUSES = STATUS_BOOKED, STATUS_CANCELLED, STATUS_DONE, STATUS_MISSED = ("booked", "cancelled", "done", "missed")

KINDS = KIND_CONFIRMATION, KIND_REMINDER, KIND_CANCELLATION = ("confirmation", "reminder", "cancellation")

# What the platform said about a sent notification (`Notification.delivery_status`), in the order a message goes
# through them: a status never moves back (callbacks may arrive out of order). 'failed' is final.
DELIVERY_STATUSES = DELIVERY_QUEUED, DELIVERY_SENT, DELIVERY_DELIVERED, DELIVERY_READ, DELIVERY_FAILED = (
    "queued",
    "sent",
    "delivered",
    "read",
    "failed",
)

ADVISOR_SLOT_INDEX = "uq_appointments_advisor_slot_booked"
CUSTOMER_UPCOMING_INDEX = "uq_appointments_customer_booked"

_BOOKED = text("status = 'booked'")


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database.

    PostgreSQL keeps the offset (timestamptz). SQLite has no time zone: values are written as naive UTC
    (so that text comparison and the unique index see one spelling per instant) and read back as UTC.
    A naive datetime is refused: its meaning would depend on the machine.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime refused for a UTC column: {value!r}")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def _utcnow() -> datetime:
    return clock.now()


class Advisor(Base):
    """A member of the Hortense team who takes calls; a supervisor also sees everybody's calls."""

    __tablename__ = "advisors"

    id = Column(Integer, primary_key=True)
    name = Column(String(120), nullable=False)
    email = Column(String(200), nullable=False, unique=True)  # stored lower-case
    is_supervisor = Column(Boolean, nullable=False, default=False)
    password_hash = Column(String(255), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(UTCDateTime)
    sessions_valid_after = Column(UTCDateTime)  # console sessions issued before this are void (logout)
    feed_token_hash = Column(String(64), unique=True)  # sha256 hex of the secret iCalendar token
    feed_token_created_at = Column(UTCDateTime)
    feed_token_revoked_at = Column(UTCDateTime)
    created_at = Column(UTCDateTime, nullable=False, default=_utcnow)


class AdvisorWorkingHours(Base):
    """One weekly range (Paris wall-clock time) during which an advisor takes calls; weekday 0 = Monday."""

    __tablename__ = "advisor_working_hours"
    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday"),
        CheckConstraint("start_time < end_time", name="range"),
    )

    id, advisor_id = child_keys("advisors")
    weekday = Column(Integer, nullable=False)
    start_time = Column(Time, nullable=False)
    end_time = Column(Time, nullable=False)


class AdvisorAbsence(Base):
    __tablename__ = "advisor_absences"
    __table_args__ = (CheckConstraint("start_utc < end_utc", name="range"),)

    id, advisor_id = child_keys("advisors")
    start_utc = Column(UTCDateTime, nullable=False)
    end_utc = Column(UTCDateTime, nullable=False)
    reason = Column(String(200))


class Appointment(Base):
    """A phone call from an advisor to a customer; `sender_id` is the conversation it was booked from."""

    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES!r}", name="status"),
        CheckConstraint("start_utc < end_utc", name="range"),
        Index(
            ADVISOR_SLOT_INDEX, "advisor_id", "start_utc", unique=True, sqlite_where=_BOOKED, postgresql_where=_BOOKED
        ),
        Index(CUSTOMER_UPCOMING_INDEX, "customer_id", unique=True, sqlite_where=_BOOKED, postgresql_where=_BOOKED),
        # An advisor's calls in a time range, every status (iCalendar feed, day and week views): migration 0011.
        Index("ix_appointments_advisor_id_start_utc", "advisor_id", "start_utc"),
        # Everybody's booked calls by start (the supervisor's next calls and those to close): migration 0012.
        Index("ix_appointments_booked_start_utc", "start_utc", sqlite_where=_BOOKED, postgresql_where=_BOOKED),
    )

    id, customer_id = child_keys("customers")
    contract_id = Column(ForeignKey("contracts.id"))
    advisor_id = parent_key("advisors")
    start_utc = Column(UTCDateTime, nullable=False, index=True)
    end_utc = Column(UTCDateTime, nullable=False)
    reason = Column(String(500), nullable=False)
    phone = Column(String(20), nullable=False, index=True)  # E.164 (the console searches by the number called)
    channel = Column(String(40), nullable=False)
    sender_id = Column(String(255), nullable=False)
    status = Column(String(20), nullable=False, default=STATUS_BOOKED)
    cancel_reason = Column(String(500))
    cancelled_by = Column(String(20))  # 'customer', 'advisor'
    created_at = Column(UTCDateTime, nullable=False, default=_utcnow)
    updated_at = Column(UTCDateTime, nullable=False, default=_utcnow)


class Notification(Base):
    """A message to a customer about an appointment, sent once by the scheduler (claimed, then marked sent)."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("appointment_id", "kind"),
        CheckConstraint(f"kind IN {KINDS!r}", name="kind"),
    )

    id, appointment_id = child_keys("appointments")
    kind = Column(String(20), nullable=False)
    channel = Column(String(40), nullable=False)
    sender_id = Column(String(255), nullable=False)
    text = Column(Text, nullable=False)
    due_at = Column(UTCDateTime, nullable=False, index=True)
    claimed_at = Column(UTCDateTime)
    sent_at = Column(UTCDateTime)
    abandoned_at = Column(UTCDateTime)  # given up (too many failures, call cancelled or already started)
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(String(500))
    created_at = Column(UTCDateTime, nullable=False, default=_utcnow)
    # Delivery as the platform reports it (Twilio's StatusCallback, the Send API's answer): None until sent.
    sent_as = Column(String(20))  # 'text', 'template' (WhatsApp outside 24 h), 'tagged' (Messenger outside 24 h)
    platform_message_id = Column(String(64), index=True)
    delivery_status = Column(String(20))  # one of DELIVERY_STATUSES
    delivery_error = Column(String(100))  # the platform's error code, or why it could not be sent at all
    delivery_updated_at = Column(UTCDateTime)
