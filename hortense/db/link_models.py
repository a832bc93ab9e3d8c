"""Account-link models: which messaging sender is which customer, the one-time codes that prove it, and the
failed tries of each sender (so that guessing codes gets a sender locked)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String

from hortense.db.base import Base, child_keys, parent_key
from hortense.db.messaging_models import MessagingSender


class AccountLink(MessagingSender, Base):
    """A (channel, sender) pair speaks for one customer until unlinked; a customer may have several."""

    __tablename__ = "account_links"

    customer_id = parent_key("customers")
    linked_at = Column(DateTime(timezone=True), nullable=False)


class LinkCode(Base):
    """A one-time code issued in the customer space; only its peppered hash is kept."""

    __tablename__ = "link_codes"

    id, customer_id = child_keys("customers")
    code_hash = Column(String(64), nullable=False, index=True)
    created_at = Column(DateTime(timezone=True), nullable=False)
    used_at = Column(DateTime(timezone=True))


class LinkAttempt(MessagingSender, Base):
    """Failed code tries of one sender; the policy (5 tries, locked for an hour) lives in `link_codes`."""

    __tablename__ = "link_attempts"

    failed_attempts = Column(Integer, nullable=False, default=0)
    last_failure_at = Column(DateTime(timezone=True))
    locked_until = Column(DateTime(timezone=True))
