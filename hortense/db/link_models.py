"""Account-link models: which messaging sender is which customer, the one-time codes that prove it, and the
failed tries of each sender (so that guessing codes gets a sender locked)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, UniqueConstraint

from hortense.db.base import Base


class AccountLink(Base):
    """A (channel, sender) pair speaks for one customer until unlinked; a customer may have several."""

    __tablename__ = "account_links"
    __table_args__ = (UniqueConstraint("channel", "sender_id"),)

    id = Column(Integer, primary_key=True)
    channel = Column(String(20), nullable=False)  # "whatsapp", "telegram", "messenger"
    sender_id = Column(String(128), nullable=False)  # the conversation id the connector chose
    customer_id = Column(ForeignKey("customers.id"), nullable=False, index=True)
    linked_at = Column(DateTime(timezone=True), nullable=False)


class LinkCode(Base):
    """A one-time code issued in the customer space; only its peppered hash is kept."""

    __tablename__ = "link_codes"

    id = Column(Integer, primary_key=True)
    customer_id = Column(ForeignKey("customers.id"), nullable=False, index=True)
    code_hash = Column(String(64), nullable=False, index=True)
    created_at = Column(DateTime(timezone=True), nullable=False)
    used_at = Column(DateTime(timezone=True))


class LinkAttempt(Base):
    """Failed code tries of one sender; the policy (5 tries, locked for an hour) lives in `link_codes`."""

    __tablename__ = "link_attempts"
    __table_args__ = (UniqueConstraint("channel", "sender_id"),)

    id = Column(Integer, primary_key=True)
    channel = Column(String(20), nullable=False)
    sender_id = Column(String(128), nullable=False)
    failed_attempts = Column(Integer, nullable=False, default=0)
    last_failure_at = Column(DateTime(timezone=True))
    locked_until = Column(DateTime(timezone=True))
