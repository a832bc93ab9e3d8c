"""Messaging conversations as the platforms' rules need them: when the customer last wrote.

WhatsApp and Messenger let a business answer freely only within 24 hours of the customer's last message;
after that, WhatsApp needs an approved template and Messenger a tagged message. The connectors record every
authentic incoming message here; the scheduler reads it to choose how to send a notification.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, UniqueConstraint
from sqlalchemy.orm import declared_attr

from hortense.db.base import Base
from hortense.db.calendar_models import UTCDateTime


class MessagingSender:
    """Columns of a table with one row per messaging sender: the channel and the conversation id there, unique
    together (its own columns follow)."""

    id = Column(Integer, primary_key=True)
    channel = Column(String(20), nullable=False)  # "whatsapp", "telegram", "messenger"
    sender_id = Column(String(128), nullable=False)  # the conversation id the connector chose

    @declared_attr
    def __table_args__(cls):
        return (UniqueConstraint("channel", "sender_id"),)


class MessagingContact(MessagingSender, Base):
    __tablename__ = "messaging_contacts"

    last_inbound_at = Column(UTCDateTime, nullable=False)
