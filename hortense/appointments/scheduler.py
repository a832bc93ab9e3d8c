"""The one scheduler process: `python -m hortense.appointments.scheduler`.

Jobs (Europe/Paris time):
- deliver due notifications every 30 s (coalesced, never two rounds at once in this process; the database
  claim keeps two processes from sending the same notification);
- recompute the kitties on the 1st of each month at 03:00, and once at start-up (idempotent);
- mark calls still 'booked' after their day as 'missed', every hour;
- apply the privacy retention (transcripts, notification texts, past calls' details) every day at 03:30.
Nothing is kept in memory between runs: everything to do is in the database, so a restart loses nothing.
Rasa's own `ReminderScheduled` is not used (in-memory, per instance, lost on restart).
"""

from __future__ import annotations

import contextlib
import logging
import signal
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from hortense import clock
from hortense.appointments.notifications import DeliveryReport, RasaTransport, Transport, deliver_due
from hortense.db import all_models  # noqa: F401  (every mapper is complete before jobs run in threads)
from hortense.db.session import session_scope
from hortense.privacy.retention import RetentionReport, apply_retention

logger = logging.getLogger("hortense.scheduler")

DELIVERY_JOB = "deliver_notifications"
KITTY_JOB = "update_kitties"
KITTY_STARTUP_JOB = "update_kitties_at_startup"
PAST_CALLS_JOB = "mark_past_calls"
RETENTION_JOB = "apply_retention"
TIMEZONE = "Europe/Paris"

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return clock.now()


class Jobs:
    """What the scheduler runs, as plain methods: tests call them directly with their own clock/transport."""

    def __init__(self, transport: Transport, url: str | None = None, clock: Clock = _utcnow) -> None:
        self.transport = transport
        self.url = url
        self.clock = clock

    def deliver(self) -> DeliveryReport:
        report = deliver_due(self.transport, self.clock(), self.url)
        if report.sent or report.failed:
            logger.info("notifications: %s sent, %s failed", report.sent, report.failed)
        return report

    def update_kitties(self) -> int:
        from hortense.energy.surplus import update_kitties

        with session_scope(self.url) as session:
            created = update_kitties(session, self.clock())
        logger.info("kitties: %s monthly updates recorded", created)
        return created

    def mark_past_calls(self) -> int:
        from hortense.appointments.booking import mark_past_calls

        with session_scope(self.url) as session:
            marked = mark_past_calls(session, self.clock())
        if marked:
            logger.info("calls: %s past calls marked missed", marked)
        return marked

    def apply_retention(self) -> RetentionReport:
        """Delete or anonymise what is older than HORTENSE_TRANSCRIPT_RETENTION_DAYS (logged with its counts)."""
        from hortense.settings import get_settings

        settings = get_settings()
        with session_scope(self.url) as session:
            return apply_retention(session, settings.tracker_url, self.clock(), settings.transcript_retention_days)


def build_scheduler(jobs: Jobs, scheduler: BaseScheduler | None = None) -> BaseScheduler:
    """Register every job on `scheduler` (a BlockingScheduler in Europe/Paris by default); not started."""
    scheduler = scheduler or BlockingScheduler(timezone=TIMEZONE)
    common = dict(coalesce=True, max_instances=1, replace_existing=True, misfire_grace_time=60)
    scheduler.add_job(jobs.deliver, "interval", seconds=30, id=DELIVERY_JOB, next_run_time=clock.now(), **common)
    scheduler.add_job(
        jobs.update_kitties, "cron", day=1, hour=3, minute=0, id=KITTY_JOB, **{**common, "misfire_grace_time": 6 * 3600}
    )
    scheduler.add_job(jobs.update_kitties, "date", id=KITTY_STARTUP_JOB, run_date=clock.now(), **common)
    scheduler.add_job(jobs.mark_past_calls, "cron", minute=5, id=PAST_CALLS_JOB, **common)
    scheduler.add_job(
        jobs.apply_retention, "cron", hour=3, minute=30, id=RETENTION_JOB, **{**common, "misfire_grace_time": 6 * 3600}
    )
    return scheduler


def main() -> int:
    from hortense.ops.logging_setup import configure_logging

    configure_logging("scheduler")
    # APScheduler logs every run of the 30-second delivery job at INFO: keep its warnings and errors only.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    scheduler = build_scheduler(Jobs(RasaTransport()))

    def stop(signum, _frame):
        if scheduler.running:
            logger.info("signal %s: stopping the scheduler", signum)
            scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    logger.info("scheduler started (timezone %s)", TIMEZONE)
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
