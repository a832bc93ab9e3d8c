"""console: the booked calls by start, whoever the advisor (a partial index)

The supervisor's "À venir" with every advisor reads booked calls by start time: the next ones (a page at a
time) and those of the last 14 days still waiting for an outcome. On `ix_appointments_start_utc` the second
read every call of those 14 days, booked or not (3,900 rows with 200 advisors for none shown); this index
holds the booked calls only, few in the past whatever the size of the team.

Revision ID: 0012_booked_calls_index
Revises: 0011_scale_indexes
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_booked_calls_index"
down_revision = "0011_scale_indexes"
branch_labels = None
depends_on = None

BOOKED = sa.text("status = 'booked'")


def upgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.create_index(
            "ix_appointments_booked_start_utc",
            ["start_utc"],
            unique=False,
            sqlite_where=BOOKED,
            postgresql_where=BOOKED,
        )


def downgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.drop_index("ix_appointments_booked_start_utc")
