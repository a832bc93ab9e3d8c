"""Messaging conversations as the platforms' rules need them: when the customer last wrote.

WhatsApp and Messenger let a business answer freely only within 24 hours of the customer's last message;
after that, WhatsApp needs an approved template and Messenger a tagged message. The connectors record every
authentic incoming message here; the scheduler reads it to choose how to send a notification.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, UniqueConstraint

from hortense.db.base import Base
from hortense.db.calendar_models import UTCDateTime


class MessagingContact(Base):
    __tablename__ = "messaging_contacts"
    __table_args__ = (UniqueConstraint("channel", "sender_id"),)

    id = Column(Integer, primary_key=True)
    channel = Column(String(20), nullable=False)
    sender_id = Column(String(128), nullable=False)
    last_inbound_at = Column(UTCDateTime, nullable=False)
