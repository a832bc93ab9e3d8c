"""Account links between a messaging sender and a customer, and the one-time codes that create them.

A messaging sender (a WhatsApp number, a Telegram chat, a Messenger user) is nobody until the customer
proves, with a code issued in the customer space, that this conversation is theirs. The code rules
(6 digits, peppered hash, 10 minutes, single use, 5 tries then an hour's lock) live in `link_codes`;
this module applies them to the tables and is the only writer of those tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal, overload

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from hortense import clock
from hortense.db.link_models import AccountLink, LinkAttempt, LinkCode
from hortense.db.models import Customer
from hortense.security import link_codes
from hortense.settings import get_settings

Status = Literal["ok", "wrong_code", "expired", "locked", "already_linked"]

# A fresh code must not equal another customer's pending code; a clash is rare, so a few draws suffice.
_MAX_DRAWS = 20


@dataclass(frozen=True)
class LinkResult:
    """What a linking attempt did; `customer_number` is set for "ok" and "already_linked" only."""

    status: Status
    customer_number: str | None = None
    attempts_left: int | None = None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class LinkedSender:
    """One messaging conversation linked to a customer, as the customer space lists it."""

    id: int
    channel: str
    linked_at: datetime


def _now(now: datetime | None) -> datetime:
    """UTC always: SQLite keeps no offset, so every stored instant must be written in the same zone."""
    return _aware(now).astimezone(timezone.utc) if now is not None else clock.now()


@overload
def _aware(value: datetime) -> datetime: ...
@overload
def _aware(value: None) -> None: ...
def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything here is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def _pepper() -> bytes:
    return get_settings().link_code_pepper.encode()


def _active_customer(session: Session, customer_number: str) -> Customer | None:
    stmt = select(Customer).where(Customer.customer_number == customer_number, Customer.is_active.is_(True))
    return session.execute(stmt).scalar_one_or_none()


def issue_code(session: Session, customer_number: str, now: datetime | None = None) -> str:
    """A new code for this customer, returned once in clear; only its hash is stored. Older unused codes
    of the customer stop working, so only the code the customer just read on screen is valid."""
    now = _now(now)
    customer = _active_customer(session, customer_number)
    if customer is None:
        raise LookupError("no active customer with this number")
    oldest_valid = now - link_codes.AttemptPolicy.CODE_TTL
    session.execute(delete(LinkCode).where(LinkCode.used_at.is_(None), LinkCode.created_at < oldest_valid))
    session.execute(delete(LinkCode).where(LinkCode.customer_id == customer.id, LinkCode.used_at.is_(None)))
    pepper = _pepper()
    for _ in range(_MAX_DRAWS):
        code = link_codes.generate_code()
        code_hash = link_codes.hash_code(code, pepper)
        clash = session.execute(
            select(LinkCode.id).where(LinkCode.code_hash == code_hash, LinkCode.used_at.is_(None))
        ).first()
        if clash is None:
            session.add(LinkCode(customer_id=customer.id, code_hash=code_hash, created_at=now))
            session.flush()
            return code
    raise RuntimeError("could not draw a unique link code")


def link(session: Session, channel: str, sender_id: str, code: str, now: datetime | None = None) -> LinkResult:
    """Try to link (channel, sender) with a typed code; wrong codes count against the sender."""
    now = _now(now)
    existing = _link_row(session, channel, sender_id)
    if existing is not None:
        customer = session.get(Customer, existing.customer_id)
        return LinkResult("already_linked", customer.customer_number if customer else None)
    attempt = session.execute(
        select(LinkAttempt).where(LinkAttempt.channel == channel, LinkAttempt.sender_id == sender_id)
    ).scalar_one_or_none()
    row = _pending_code(session, code)
    result = link_codes.check_attempt(
        code,
        stored_hash=row.code_hash if row else None,
        created_at=_aware(row.created_at) if row else None,
        failed_attempts=attempt.failed_attempts if attempt else 0,
        last_failure_at=_aware(attempt.last_failure_at) if attempt else None,
        now=now,
        pepper=_pepper(),
    )
    if result.outcome == "expired":
        return LinkResult("expired")
    if result.outcome == "linked" and row is not None:
        customer = session.get(Customer, row.customer_id)
        if not _consume(session, row.id, now) or customer is None or not customer.is_active:
            return LinkResult("expired")
        session.add(AccountLink(channel=channel, sender_id=sender_id, customer_id=customer.id, linked_at=now))
        if attempt is not None:
            session.delete(attempt)
        session.flush()
        return LinkResult("ok", customer.customer_number)
    attempt = _record_failures(session, attempt, channel, sender_id, result)
    if result.outcome == "locked":
        return LinkResult("locked", locked_until=_aware(attempt.locked_until))
    return LinkResult("wrong_code", attempts_left=link_codes.AttemptPolicy.MAX_ATTEMPTS - result.failed_attempts)


def _link_row(session: Session, channel: str, sender_id: str) -> AccountLink | None:
    return session.execute(
        select(AccountLink).where(AccountLink.channel == channel, AccountLink.sender_id == sender_id)
    ).scalar_one_or_none()


def _pending_code(session: Session, code: str) -> LinkCode | None:
    """The unused code row whose hash is the typed code's (codes are looked up by hash, never stored)."""
    try:
        code_hash = link_codes.hash_code(code, _pepper())
    except ValueError:  # not a code at all: still a failed try
        return None
    return (
        session.execute(
            select(LinkCode)
            .where(LinkCode.code_hash == code_hash, LinkCode.used_at.is_(None))
            .order_by(LinkCode.created_at.desc())
        )
        .scalars()
        .first()
    )


def _consume(session: Session, code_id: int, now: datetime) -> bool:
    """Mark the code used only if nobody else did in between: a code links one conversation, once."""
    done = session.execute(
        update(LinkCode).where(LinkCode.id == code_id, LinkCode.used_at.is_(None)).values(used_at=now)
    )
    return done.rowcount == 1


def _record_failures(
    session: Session, attempt: LinkAttempt | None, channel: str, sender_id: str, result: link_codes.AttemptResult
) -> LinkAttempt:
    if attempt is None:
        attempt = LinkAttempt(channel=channel, sender_id=sender_id, failed_attempts=0)
        session.add(attempt)
    attempt.failed_attempts = result.failed_attempts
    attempt.last_failure_at = result.last_failure_at
    last_failure = result.last_failure_at
    locked = result.failed_attempts >= link_codes.AttemptPolicy.MAX_ATTEMPTS and last_failure is not None
    attempt.locked_until = last_failure + link_codes.AttemptPolicy.LOCK if locked and last_failure else None
    session.flush()
    return attempt


def unlink(session: Session, channel: str, sender_id: str) -> bool:
    """Forget the link of this conversation (from the chat: "délier mon compte"); True if there was one."""
    done = session.execute(
        delete(AccountLink).where(AccountLink.channel == channel, AccountLink.sender_id == sender_id)
    )
    return done.rowcount > 0


def unlink_all_for_customer(session: Session, customer_number: str) -> int:
    """Forget every messaging conversation of a customer (from the customer space); how many were linked."""
    customer_id = _customer_id(session, customer_number)
    if customer_id is None:
        return 0
    return session.execute(delete(AccountLink).where(AccountLink.customer_id == customer_id)).rowcount


def unlink_one_for_customer(session: Session, customer_number: str, link_id: int) -> bool:
    """Forget one of the customer's own links (the customer space lists them with `links_of_customer`)."""
    customer_id = _customer_id(session, customer_number)
    if customer_id is None:
        return False
    done = session.execute(delete(AccountLink).where(AccountLink.id == link_id, AccountLink.customer_id == customer_id))
    return done.rowcount > 0


def _customer_id(session: Session, customer_number: str) -> int | None:
    return session.execute(select(Customer.id).where(Customer.customer_number == customer_number)).scalar()


def links_of_customer(session: Session, customer_number: str) -> list[LinkedSender]:
    """The customer's linked conversations, without sender ids (the customer space shows the channel only)."""
    stmt = (
        select(AccountLink)
        .join(Customer, Customer.id == AccountLink.customer_id)
        .where(Customer.customer_number == customer_number)
        .order_by(AccountLink.linked_at)
    )
    return [LinkedSender(r.id, r.channel, _aware(r.linked_at)) for r in session.execute(stmt).scalars()]


def linked_customer_number(session: Session, channel: str, sender_id: str) -> str | None:
    """The active customer this messaging conversation speaks for, or None: read on every turn."""
    stmt = (
        select(Customer.customer_number)
        .join(AccountLink, AccountLink.customer_id == Customer.id)
        .where(AccountLink.channel == channel, AccountLink.sender_id == sender_id, Customer.is_active.is_(True))
    )
    return session.execute(stmt).scalar_one_or_none()
