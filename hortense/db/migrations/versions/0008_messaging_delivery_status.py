"""messaging: notification delivery status (platform callbacks), last inbound message per conversation (24 h window)

Revision ID: 0008_messaging
Revises: 0007_console
"""

from alembic import op
import sqlalchemy as sa


revision = "0008_messaging"
down_revision = "0007_console"
branch_labels = None
depends_on = None
# Timestamps: hortense.db.calendar_models.UTCDateTime in the models.


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("sent_as", sa.String(20), nullable=True))
        batch.add_column(sa.Column("platform_message_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("delivery_status", sa.String(20), nullable=True))
        batch.add_column(sa.Column("delivery_error", sa.String(100), nullable=True))
        batch.add_column(sa.Column("delivery_updated_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_notifications_platform_message_id"), ["platform_message_id"], unique=False)
    op.create_table(
        "messaging_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("sender_id", sa.String(128), nullable=False),
        sa.Column("last_inbound_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messaging_contacts")),
        sa.UniqueConstraint("channel", "sender_id", name=op.f("uq_messaging_contacts_channel")),
    )


def downgrade() -> None:
    op.drop_table("messaging_contacts")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_index(batch.f("ix_notifications_platform_message_id"))
        for column in ("delivery_updated_at", "delivery_error", "delivery_status", "platform_message_id", "sent_as"):
            batch.drop_column(column)
