"""The privacy audit: who looked at, exported or erased which customer's conversations, and when.

One row per event in `privacy_audit`, written in the same transaction as what it records when there is one
(an erasure), never updated or deleted by Hortense. Supervisors read it in the console (`/console/confidentialite`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from hortense import clock
from hortense.db.security_models import PrivacyAudit

TRANSCRIPT_VIEW = "transcript_view"
REVIEW_VIEW = "review_view"
EXPORT = "export"
ERASE = "erase"
CUSTOMER_DOWNLOAD = "customer_download"
RETENTION = "retention"

MAX_ACTOR = 120
MAX_DETAIL = 2000


def advisor_actor(advisor_id: int, name: str) -> str:
    return f"advisor:{advisor_id} ({name})"[:MAX_ACTOR]


def customer_actor(customer_number: str) -> str:
    return f"customer:{customer_number}"


def cli_actor(user: str) -> str:
    return f"cli:{user}"[:MAX_ACTOR]


SCHEDULER_ACTOR = "scheduler"


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime  # local time (Europe/Paris)
    actor: str
    action: str
    customer_number: str | None
    detail: str


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    customer_number: str | None,
    detail: str = "",
    now: datetime | None = None,
) -> None:
    session.add(
        PrivacyAudit(
            at=(now or clock.now()).astimezone(timezone.utc),
            actor=actor[:MAX_ACTOR],
            action=action,
            customer_number=customer_number,
            detail=detail[:MAX_DETAIL],
        )
    )
    session.flush()


def entries(session: Session, customer_number: str | None = None, limit: int = 200) -> list[AuditEntry]:
    """The latest entries, newest first (one customer's only when `customer_number` is given)."""
    stmt = select(PrivacyAudit).order_by(PrivacyAudit.at.desc(), PrivacyAudit.id.desc()).limit(limit)
    if customer_number:
        stmt = stmt.where(PrivacyAudit.customer_number == customer_number)
    return [
        AuditEntry(r.id, _aware(r.at).astimezone(clock.local_zone()), r.actor, r.action, r.customer_number, r.detail)
        for r in session.execute(stmt).scalars()
    ]


def _aware(at: datetime) -> datetime:
    """SQLite gives naive datetimes back: they were written in UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)
