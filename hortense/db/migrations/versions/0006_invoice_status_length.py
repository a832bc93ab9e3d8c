"""invoices.status holds 'to_be_paid_to_customer' (22 characters): widen it from 20 to 30

SQLite ignored the length; PostgreSQL refused the value.

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.alter_column("status", existing_type=sa.String(20), type_=sa.String(30), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.alter_column("status", existing_type=sa.String(30), type_=sa.String(20), existing_nullable=False)
