"""Server-side sessions of the customer space: a signed cookie alone would stay valid until it expires.

At log-in a random session id goes into the (signed) cookie and its SHA-256 into `portal_sessions`. A cookie
counts only while that row is live: log-out revokes it, a password change (or an erasure of the customer's
data) revokes every session of the customer, so a copied or replayed cookie stops minting chat tokens at once.
The table is in the shared database, so every web instance sees the same revocations.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select, update

from hortense import clock
from hortense.db.security_models import PortalSession
from hortense.db.session import session_scope


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _as_aware(value: datetime) -> datetime:  # SQLite returns naive datetimes (stored in UTC)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def open_session(customer_number: str, seconds: int) -> str:
    """A new live session for this customer; returns the id to put in the cookie."""
    session_id = secrets.token_urlsafe(32)
    now = clock.now()
    with session_scope() as db:
        db.add(
            PortalSession(
                session_hash=_hash(session_id),
                customer_number=customer_number,
                created_at=now,
                expires_at=now + timedelta(seconds=seconds),
            )
        )
    return session_id


def session_active(session_id: str | None, customer_number: str | None) -> bool:
    """True only for a known, unrevoked, unexpired session of this very customer."""
    if not session_id or not customer_number or len(session_id) > 100:
        return False
    with session_scope() as db:
        row = db.execute(select(PortalSession).where(PortalSession.session_hash == _hash(session_id))).scalar()
        return (
            row is not None
            and row.revoked_at is None
            and row.customer_number == customer_number
            and _as_aware(row.expires_at) > clock.now()
        )


def revoke_session(session_id: str | None) -> None:
    if not session_id:
        return
    with session_scope() as db:
        db.execute(
            update(PortalSession)
            .where(PortalSession.session_hash == _hash(session_id), PortalSession.revoked_at.is_(None))
            .values(revoked_at=clock.now())
        )


def revoke_customer_sessions(customer_number: str) -> int:
    """Every live session of the customer ends (password change, erasure); returns how many."""
    with session_scope() as db:
        result = db.execute(
            update(PortalSession)
            .where(PortalSession.customer_number == customer_number, PortalSession.revoked_at.is_(None))
            .values(revoked_at=clock.now())
        )
        return int(result.rowcount or 0)


def password_changed(customer_number: str) -> int:
    """What the portal calls after a customer changes their password: every other browser is logged out."""
    return revoke_customer_sessions(customer_number)


def purge_sessions(older_than: timedelta = timedelta(days=1)) -> int:
    """Delete rows expired or revoked for more than `older_than` (the retention job calls it)."""
    limit = clock.now() - older_than
    with session_scope() as db:
        result = db.execute(
            delete(PortalSession).where((PortalSession.expires_at < limit) | (PortalSession.revoked_at < limit))
        )
        return int(result.rowcount or 0)
