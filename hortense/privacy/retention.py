"""The retention job: what is older than HORTENSE_TRANSCRIPT_RETENTION_DAYS is deleted or anonymised.

Run daily by the scheduler (`Jobs.apply_retention`), logged with its counts and recorded in the privacy audit:
- conversation transcripts: tracker-store events older than the cut-off (see `transcripts.delete_older_than`);
- notification texts (and the address they went to) of notifications due before the cut-off;
- past calls that ended before the cut-off keep their date, advisor, customer, contract, channel and outcome
  (what planning, quality and disputes need) but lose the reason, the phone number, the conversation id, the
  cancellation reason and the advisor's note;
- review labels older than the cut-off keep the (redacted) message and its label, the NLU's training data,
  but no longer say which conversation it came from.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from hortense.db.calendar_models import STATUS_BOOKED, Appointment, Notification
from hortense.db.console_models import CallOutcome, ReviewLabel
from hortense.privacy import audit, transcripts
from hortense.replies import privacy as wording

logger = logging.getLogger("hortense.privacy.retention")

ANONYMOUS_REVIEW_PREFIX = "anonyme-"


@dataclass(frozen=True)
class RetentionReport:
    cutoff: datetime
    events: int
    conversations: int
    notifications: int
    appointments: int
    call_notes: int
    review_labels: int
    tracker_unavailable: bool = False

    @property
    def changed(self) -> int:
        return self.events + self.notifications + self.appointments + self.call_notes + self.review_labels

    def as_dict(self) -> dict:
        return {**asdict(self), "cutoff": self.cutoff.isoformat()}

    def describe(self) -> str:
        """In French, for the log and the privacy audit (hortense/replies/privacy.py)."""
        return wording.retention_report(self)


def cutoff_for(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def apply_retention(session: Session, tracker_url: str | None, now: datetime, days: int) -> RetentionReport:
    """Delete or anonymise what is older than `days` days before `now`; the counts are logged and audited."""
    cutoff = cutoff_for(now, days)
    events = conversations = 0
    unavailable = False
    if tracker_url:
        try:
            events, conversations = transcripts.delete_older_than(tracker_url, cutoff)
        except transcripts.TrackerUnavailable as exc:
            unavailable = True
            logger.error("retention: tracker store unavailable, transcripts not purged: %s", exc)

    def changed(stmt) -> int:
        return int(session.execute(stmt.execution_options(synchronize_session=False)).rowcount or 0)

    notifications = changed(
        update(Notification)
        .where(Notification.due_at < cutoff, or_(Notification.text != "", Notification.sender_id != ""))
        .values(text="", sender_id="")
    )
    past = select(Appointment.id).where(Appointment.end_utc < cutoff, Appointment.status != STATUS_BOOKED)
    appointments = changed(
        update(Appointment)
        .where(
            Appointment.id.in_(past.scalar_subquery()),
            or_(
                Appointment.reason != "",
                Appointment.phone != "",
                Appointment.sender_id != "",
                Appointment.cancel_reason.is_not(None),
            ),
        )
        .values(reason="", phone="", sender_id="", cancel_reason=None)
    )
    call_notes = changed(
        update(CallOutcome)
        .where(CallOutcome.appointment_id.in_(past.scalar_subquery()), CallOutcome.note != "")
        .values(note="")
    )
    labels = (
        session.execute(
            select(ReviewLabel).where(
                ReviewLabel.message_ts < cutoff.timestamp(),
                ReviewLabel.sender_id.not_like(f"{ANONYMOUS_REVIEW_PREFIX}%"),
            )
        )
        .scalars()
        .all()
    )
    for label in labels:
        label.sender_id = f"{ANONYMOUS_REVIEW_PREFIX}{label.id}"
    report = RetentionReport(
        cutoff, events, conversations, notifications, appointments, call_notes, len(labels), unavailable
    )
    logger.info(
        "retention (%s days, before %s): %s events deleted in %s conversations%s, %s notification texts, "
        "%s past calls and %s call notes anonymised, %s review labels detached",
        days,
        cutoff.isoformat(),
        events,
        conversations,
        " (tracker store UNAVAILABLE)" if unavailable else "",
        notifications,
        appointments,
        call_notes,
        len(labels),
    )
    if report.changed or unavailable:
        audit.record(
            session,
            actor=audit.SCHEDULER_ACTOR,
            action=audit.RETENTION,
            customer_number=None,
            detail=report.describe(),
            now=now,
        )
    return report
