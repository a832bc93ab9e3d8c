"""Record a customer's new bank details as a change pending the SEPA mandate signature.

The clear IBAN exists only in memory while the form is handled: the database gets its masked form, a keyed
fingerprint (to recognise the same account, without a reversible value) and a Fernet-encrypted copy for the
billing system; logs get the masked form and the mandate reference only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import date, datetime

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from hortense.account.customers import CustomerView
from hortense.billing.bank_details import IbanCheck, effective_date, mask_iban, new_mandate_reference, normalize_iban
from hortense.db.bank_models import (
    STATUS_PENDING_SIGNATURE,
    STATUS_SUPERSEDED,
    BankDetailsChange,
    BankDetailsChangeContract,
)
from hortense.db.models import Contract

logger = logging.getLogger(__name__)

_FINGERPRINT_INFO = b"hortense-iban-fingerprint-v1"
_ENCRYPTION_INFO = b"hortense-iban-encryption-v1"


def _derive(secret: bytes, info: bytes) -> bytes:
    """Separate keys for separate jobs, from one configured secret."""
    if not secret or len(secret) < 16:
        raise ValueError("a bank-details secret of at least 16 bytes is required")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


def iban_fingerprint(iban: str, secret: bytes) -> str:
    """Same account, same fingerprint; without the secret, no dictionary of IBANs can be matched against it."""
    return hmac.new(
        _derive(secret, _FINGERPRINT_INFO), normalize_iban(iban).encode("ascii"), hashlib.sha256
    ).hexdigest()


def encrypt_iban(iban: str, secret: bytes) -> str:
    return (
        Fernet(base64.urlsafe_b64encode(_derive(secret, _ENCRYPTION_INFO)))
        .encrypt(normalize_iban(iban).encode("ascii"))
        .decode("ascii")
    )


def decrypt_iban(token: str, secret: bytes) -> str:
    """For the billing system that sets up the mandate; raises `cryptography.fernet.InvalidToken` on a wrong key."""
    return (
        Fernet(base64.urlsafe_b64encode(_derive(secret, _ENCRYPTION_INFO)))
        .decrypt(token.encode("ascii"))
        .decode("ascii")
    )


@dataclass(frozen=True)
class PendingChange:
    """What the confirmation page and the bot may show: nothing that reveals the account number."""

    mandate_reference: str
    account_holder: str
    iban_masked: str
    bank_name: str | None
    status: str
    effective_date: date
    requested_at: datetime
    contract_numbers: tuple[str, ...]


def record_pending_change(
    session: Session,
    customer: CustomerView,
    contract_ids: list[int] | tuple[int, ...],
    iban: IbanCheck,
    holder: str,
    secret: bytes,
    now: datetime,
) -> PendingChange:
    """Store the change for these contracts (all the customer's own), replacing an unsigned earlier request.

    `iban` must be a successful `hortense.billing.bank_details.validate_iban` result; `now` is local (Paris) time,
    whose date is the request day that decides the effective date and goes into the mandate reference.
    """
    if not iban.ok or not iban.iban:
        raise ValueError("only a validated IBAN can be recorded")
    found = [customer.contract(cid) for cid in dict.fromkeys(contract_ids)]
    contracts = [c for c in found if c is not None]
    if not contracts or len(contracts) != len(found):
        raise ValueError("bank details can only change for the customer's own contracts")
    for previous in session.execute(
        select(BankDetailsChange).where(
            BankDetailsChange.customer_id == customer.id, BankDetailsChange.status == STATUS_PENDING_SIGNATURE
        )
    ).scalars():
        previous.status = STATUS_SUPERSEDED
    masked = mask_iban(iban.iban)
    change = BankDetailsChange(
        customer_id=customer.id,
        mandate_reference=new_mandate_reference(customer.customer_number, now),
        account_holder=holder.strip(),
        iban_masked=masked,
        iban_country=iban.country or iban.iban[:2],
        iban_fingerprint=iban_fingerprint(iban.iban, secret),
        iban_encrypted=encrypt_iban(iban.iban, secret),
        bic=(iban.bic or None) and iban.bic[:11],
        status=STATUS_PENDING_SIGNATURE,
        effective_date=effective_date(now.date()),
        requested_at=now,
        contracts=[BankDetailsChangeContract(contract_id=c.id) for c in contracts],
    )
    session.add(change)
    session.flush()
    logger.info(
        "bank details change %s recorded for customer %s (%s), contracts %s, pending signature",
        change.mandate_reference,
        customer.customer_number,
        masked,
        ", ".join(c.contract_number for c in contracts),
    )
    return PendingChange(
        change.mandate_reference,
        change.account_holder,
        masked,
        iban.bank_name,
        change.status,
        change.effective_date,
        now,
        tuple(c.contract_number for c in contracts),
    )


def load_change(session: Session, customer: CustomerView, mandate_reference: str) -> PendingChange | None:
    """A change only if it is this customer's: the ownership check for the confirmation page."""
    change = session.execute(
        select(BankDetailsChange)
        .where(BankDetailsChange.customer_id == customer.id, BankDetailsChange.mandate_reference == mandate_reference)
        .options(selectinload(BankDetailsChange.contracts))
    ).scalar_one_or_none()
    if change is None:
        return None
    ids = [link.contract_id for link in change.contracts]
    numbers = (
        tuple(
            session.execute(
                select(Contract.contract_number).where(Contract.id.in_(ids)).order_by(Contract.id)
            ).scalars()
        )
        if ids
        else ()
    )
    return PendingChange(
        change.mandate_reference,
        change.account_holder,
        change.iban_masked,
        None,
        change.status,
        change.effective_date,
        change.requested_at,
        numbers,
    )
