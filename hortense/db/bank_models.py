"""Bank-details changes requested through the secure web form, waiting for the SEPA mandate signature.

The IBAN itself is never stored in clear: only its masked form (shown to the customer and advisors), a keyed
fingerprint (to recognise the same account again) and an encrypted copy for the billing system.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Date, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import relationship

from hortense.db.base import Base, child_keys

STATUS_PENDING_SIGNATURE = "pending_signature"
STATUS_SIGNED = "signed"
STATUS_SUPERSEDED = "superseded"  # replaced by a newer request before it was signed
STATUS_CANCELLED = "cancelled"
STATUSES = (STATUS_PENDING_SIGNATURE, STATUS_SIGNED, STATUS_SUPERSEDED, STATUS_CANCELLED)


class BankDetailsChange(Base):
    __tablename__ = "bank_details_changes"
    __table_args__ = (
        CheckConstraint("status IN ('pending_signature', 'signed', 'superseded', 'cancelled')", name="status"),
    )

    id, customer_id = child_keys("customers")
    mandate_reference = Column(String(35), nullable=False, unique=True)  # SEPA RUM
    account_holder = Column(String(70), nullable=False)
    iban_masked = Column(String(50), nullable=False)  # 'FR76 •••• … •890'
    iban_country = Column(String(2), nullable=False)
    iban_fingerprint = Column(String(64), nullable=False, index=True)  # HMAC-SHA256, keyed
    iban_encrypted = Column(Text, nullable=False)  # Fernet token, for the billing system only
    bic = Column(String(11))
    status = Column(String(20), nullable=False, default=STATUS_PENDING_SIGNATURE)
    effective_date = Column(Date, nullable=False)  # first day of the month whose debit uses the new account
    requested_at = Column(DateTime(timezone=True), nullable=False)
    signed_at = Column(DateTime(timezone=True))

    contracts = relationship(
        "BankDetailsChangeContract", order_by="BankDetailsChangeContract.contract_id", cascade="all, delete-orphan"
    )


class BankDetailsChangeContract(Base):
    """The contracts whose direct debits move to the new account (one or several sites of a business)."""

    __tablename__ = "bank_details_change_contracts"

    change_id = Column(ForeignKey("bank_details_changes.id", ondelete="CASCADE"), primary_key=True)
    contract_id = Column(ForeignKey("contracts.id"), primary_key=True, index=True)
