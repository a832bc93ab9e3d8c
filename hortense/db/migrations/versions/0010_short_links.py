"""links: short opaque links (/l/<token>) to signed document links, for WhatsApp

Revision ID: 0010_short_links
Revises: 0009_security
"""

from alembic import op
import sqlalchemy as sa


revision = "0010_short_links"
down_revision = "0009_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "short_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("customer_number", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_short_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_short_links_token_hash")),
    )
    with op.batch_alter_table("short_links") as batch:
        batch.create_index(batch.f("ix_short_links_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("short_links") as batch:
        batch.drop_index(batch.f("ix_short_links_expires_at"))
    op.drop_table("short_links")
