"""bank details changes: pending SEPA mandate, masked / fingerprinted / encrypted IBAN, contracts concerned

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-26 18:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_details_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("mandate_reference", sa.String(length=35), nullable=False),
        sa.Column("account_holder", sa.String(length=70), nullable=False),
        sa.Column("iban_masked", sa.String(length=50), nullable=False),
        sa.Column("iban_country", sa.String(length=2), nullable=False),
        sa.Column("iban_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("iban_encrypted", sa.Text(), nullable=False),
        sa.Column("bic", sa.String(length=11), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending_signature', 'signed', 'superseded', 'cancelled')",
            name=op.f("ck_bank_details_changes_status"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_bank_details_changes_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_details_changes")),
        sa.UniqueConstraint("mandate_reference", name=op.f("uq_bank_details_changes_mandate_reference")),
    )
    with op.batch_alter_table("bank_details_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_details_changes_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_bank_details_changes_iban_fingerprint"), ["iban_fingerprint"], unique=False
        )

    op.create_table(
        "bank_details_change_contracts",
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["bank_details_changes.id"],
            name=op.f("fk_bank_details_change_contracts_change_id_bank_details_changes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_bank_details_change_contracts_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("change_id", "contract_id", name=op.f("pk_bank_details_change_contracts")),
    )
    with op.batch_alter_table("bank_details_change_contracts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_details_change_contracts_contract_id"), ["contract_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bank_details_change_contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_details_change_contracts_contract_id"))

    op.drop_table("bank_details_change_contracts")
    with op.batch_alter_table("bank_details_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_details_changes_iban_fingerprint"))
        batch_op.drop_index(batch_op.f("ix_bank_details_changes_customer_id"))

    op.drop_table("bank_details_changes")
