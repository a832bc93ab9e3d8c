"""Account links between a messaging sender and a customer (the table and the linking flow come with the
messaging channels); until then no messaging sender is linked."""
from __future__ import annotations

from sqlalchemy.orm import Session


def linked_customer_number(session: Session, channel: str, sender_id: str) -> str | None:
    return None
