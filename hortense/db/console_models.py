"""What the console records besides the calls themselves: outcomes of calls (with the advisor's note) and the
supervisors' labels of messages Hortense did not understand.

A review label points at one customer message of Rasa's tracker store by (sender_id, timestamp): the tracker
store may be another database (SQLite file next to ours, or PostgreSQL), so there is no foreign key. The
message's text is kept as the tracker store holds it (already redacted), so that `make import-reviewed` needs
only this table.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Float, ForeignKey, Integer, String, Text, UniqueConstraint

from hortense.db import calendar_models  # noqa: F401  (advisors and appointments our foreign keys point to)
from hortense.db.base import Base, child_keys
from hortense.db.calendar_models import UTCDateTime

OUTCOMES = OUTCOME_DONE, OUTCOME_MISSED, OUTCOME_RESCHEDULED = ("done", "missed", "rescheduled")

LABEL_KINDS = LABEL_INTENT, LABEL_OUT_OF_SCOPE, LABEL_IGNORE = ("intent", "out_of_scope", "ignore")

MAX_NOTE_CHARS = 1000


class CallOutcome(Base):
    """One outcome recorded by an advisor after a call; the call keeps every one (a correction adds a row)."""

    __tablename__ = "call_outcomes"
    __table_args__ = (CheckConstraint(f"outcome IN {OUTCOMES!r}", name="outcome"),)

    id, appointment_id = child_keys("appointments")
    advisor_id = Column(ForeignKey("advisors.id"), nullable=False)
    outcome = Column(String(20), nullable=False)
    note = Column(Text, nullable=False, default="")
    rescheduled_to_id = Column(ForeignKey("appointments.id"))  # the new call, for 'rescheduled'
    created_at = Column(UTCDateTime, nullable=False)


class ReviewLabel(Base):
    """A supervisor's verdict on one customer message: the right intent, out of scope, or ignore."""

    __tablename__ = "review_labels"
    __table_args__ = (
        UniqueConstraint("sender_id", "message_ts", name="uq_review_labels_message"),
        CheckConstraint(f"kind IN {LABEL_KINDS!r}", name="kind"),
    )

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False)
    message_ts = Column(Float, nullable=False)  # the user event's timestamp in the tracker store
    text = Column(Text, nullable=False)  # as stored by the tracker store (redacted)
    predicted_intent = Column(String(100))
    kind = Column(String(20), nullable=False)
    intent = Column(String(100))  # for kind 'intent'
    advisor_id = Column(ForeignKey("advisors.id"), nullable=False)
    labelled_at = Column(UTCDateTime, nullable=False)
