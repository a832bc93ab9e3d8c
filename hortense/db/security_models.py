"""Security and privacy records: the customer's server-side browser sessions (ended on log-out and password
change) and the privacy audit (who looked at or exported or erased which conversation, and when)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String, Text

from hortense.db.base import Base


class PortalSession(Base):
    """One logged-in browser: the cookie carries a random id, only its SHA-256 is kept here. A session counts
    only while this row exists, is not revoked and has not expired (a replayed cookie is then refused)."""

    __tablename__ = "portal_sessions"

    id = Column(Integer, primary_key=True)
    session_hash = Column(String(64), nullable=False, unique=True)
    customer_number = Column(String(20), nullable=False, index=True)
    created_at = Column(DateTime(timezone=True), nullable=False)
    expires_at = Column(DateTime(timezone=True), nullable=False)
    revoked_at = Column(DateTime(timezone=True))


class PrivacyAudit(Base):
    """Every advisor view of a transcript and every export or erasure of a customer's data: who, when, what."""

    __tablename__ = "privacy_audit"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime(timezone=True), nullable=False, index=True)
    actor = Column(String(120), nullable=False)  # "advisor:12 (Camille Martin)", "cli:alice", "customer:C1001"
    action = Column(String(30), nullable=False)  # transcript_view, export, erase, customer_download, retention
    customer_number = Column(String(20), index=True)
    detail = Column(Text, nullable=False, default="")
