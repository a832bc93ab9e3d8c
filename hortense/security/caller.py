"""Resolve who is talking on this turn, from the connector's signed assertion (never from typed text or slots)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from hortense.account.customers import CustomerView, load_customer
from hortense.security.identity import IdentityError, verify_assertion

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Caller:
    channel: str | None
    sender_id: str
    customer: CustomerView | None


def _linked_customer_number(session: Session, channel: str, sender_id: str) -> str | None:
    """Messaging senders are customers only through the account-link table."""
    from hortense.account import linking as links  # imported lazily: the table belongs to the messaging feature

    return links.linked_customer_number(session, channel, sender_id)


def resolve_caller(session: Session, metadata: dict | None, channel: str | None, sender_id: str) -> Caller:
    try:
        verified = verify_assertion(metadata, channel, sender_id)
    except IdentityError as exc:
        logger.info("no trusted identity for this turn: %s", exc)
        return Caller(channel, sender_id, None)
    if verified.channel == "web":
        number = verified.customer_number
    else:
        number = _linked_customer_number(session, verified.channel, verified.sender_id)
    customer = load_customer(session, number) if number else None
    return Caller(verified.channel, sender_id, customer)
