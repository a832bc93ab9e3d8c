"""console: call outcomes with the advisor's note, supervisors' labels of misunderstood messages

Revision ID: 0007_console
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa

revision = "0007_console"
down_revision = "0006"
branch_labels = None
depends_on = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)  # hortense.db.calendar_models.UTCDateTime in the models


def upgrade() -> None:
    op.create_table(
        "call_outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("advisor_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("rescheduled_to_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.CheckConstraint("outcome IN ('done', 'missed', 'rescheduled')", name=op.f("ck_call_outcomes_outcome")),
        sa.ForeignKeyConstraint(
            ["appointment_id"], ["appointments.id"], name=op.f("fk_call_outcomes_appointment_id_appointments")
        ),
        sa.ForeignKeyConstraint(["advisor_id"], ["advisors.id"], name=op.f("fk_call_outcomes_advisor_id_advisors")),
        sa.ForeignKeyConstraint(
            ["rescheduled_to_id"], ["appointments.id"], name=op.f("fk_call_outcomes_rescheduled_to_id_appointments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_outcomes")),
    )
    with op.batch_alter_table("call_outcomes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_outcomes_appointment_id"), ["appointment_id"], unique=False)
    op.create_table(
        "review_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("message_ts", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("predicted_intent", sa.String(length=100), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("intent", sa.String(length=100), nullable=True),
        sa.Column("advisor_id", sa.Integer(), nullable=False),
        sa.Column("labelled_at", _utc(), nullable=False),
        sa.CheckConstraint("kind IN ('intent', 'out_of_scope', 'ignore')", name=op.f("ck_review_labels_kind")),
        sa.ForeignKeyConstraint(["advisor_id"], ["advisors.id"], name=op.f("fk_review_labels_advisor_id_advisors")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_labels")),
        sa.UniqueConstraint("sender_id", "message_ts", name="uq_review_labels_message"),
    )


def downgrade() -> None:
    op.drop_table("review_labels")
    with op.batch_alter_table("call_outcomes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_outcomes_appointment_id"))
    op.drop_table("call_outcomes")
