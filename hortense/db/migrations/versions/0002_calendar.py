"""phone appointments: advisors, hours, absences, appointments, notifications

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 17:36:21.961294

The two partial unique indexes on `appointments` (only rows with status 'booked') are what makes a double
booking impossible, on SQLite and PostgreSQL alike.
"""

from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BOOKED = sa.text("status = 'booked'")


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)  # hortense.db.calendar_models.UTCDateTime in the models


def upgrade() -> None:
    op.create_table(
        "advisors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("is_supervisor", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", _utc(), nullable=True),
        sa.Column("sessions_valid_after", _utc(), nullable=True),
        sa.Column("feed_token_hash", sa.String(length=64), nullable=True),
        sa.Column("feed_token_created_at", _utc(), nullable=True),
        sa.Column("feed_token_revoked_at", _utc(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisors")),
        sa.UniqueConstraint("email", name=op.f("uq_advisors_email")),
        sa.UniqueConstraint("feed_token_hash", name=op.f("uq_advisors_feed_token_hash")),
    )
    op.create_table(
        "advisor_absences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advisor_id", sa.Integer(), nullable=False),
        sa.Column("start_utc", _utc(), nullable=False),
        sa.Column("end_utc", _utc(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.CheckConstraint("start_utc < end_utc", name=op.f("ck_advisor_absences_range")),
        sa.ForeignKeyConstraint(["advisor_id"], ["advisors.id"], name=op.f("fk_advisor_absences_advisor_id_advisors")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisor_absences")),
    )
    with op.batch_alter_table("advisor_absences", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_advisor_absences_advisor_id"), ["advisor_id"], unique=False)

    op.create_table(
        "advisor_working_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advisor_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.CheckConstraint("start_time < end_time", name=op.f("ck_advisor_working_hours_range")),
        sa.CheckConstraint("weekday >= 0 AND weekday <= 6", name=op.f("ck_advisor_working_hours_weekday")),
        sa.ForeignKeyConstraint(
            ["advisor_id"], ["advisors.id"], name=op.f("fk_advisor_working_hours_advisor_id_advisors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisor_working_hours")),
    )
    with op.batch_alter_table("advisor_working_hours", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_advisor_working_hours_advisor_id"), ["advisor_id"], unique=False)

    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("advisor_id", sa.Integer(), nullable=False),
        sa.Column("start_utc", _utc(), nullable=False),
        sa.Column("end_utc", _utc(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.Column("cancelled_by", sa.String(length=20), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.CheckConstraint("status IN ('booked', 'cancelled', 'done', 'missed')", name=op.f("ck_appointments_status")),
        sa.CheckConstraint("start_utc < end_utc", name=op.f("ck_appointments_range")),
        sa.ForeignKeyConstraint(["advisor_id"], ["advisors.id"], name=op.f("fk_appointments_advisor_id_advisors")),
        sa.ForeignKeyConstraint(["contract_id"], ["contracts.id"], name=op.f("fk_appointments_contract_id_contracts")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_appointments_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appointments_advisor_id"), ["advisor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointments_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointments_start_utc"), ["start_utc"], unique=False)
        batch_op.create_index(
            "uq_appointments_advisor_slot_booked",
            ["advisor_id", "start_utc"],
            unique=True,
            sqlite_where=BOOKED,
            postgresql_where=BOOKED,
        )
        batch_op.create_index(
            "uq_appointments_customer_booked",
            ["customer_id"],
            unique=True,
            sqlite_where=BOOKED,
            postgresql_where=BOOKED,
        )

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_at", _utc(), nullable=False),
        sa.Column("claimed_at", _utc(), nullable=True),
        sa.Column("sent_at", _utc(), nullable=True),
        sa.Column("abandoned_at", _utc(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.CheckConstraint("kind IN ('confirmation', 'reminder', 'cancellation')", name=op.f("ck_notifications_kind")),
        sa.ForeignKeyConstraint(
            ["appointment_id"], ["appointments.id"], name=op.f("fk_notifications_appointment_id_appointments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("appointment_id", "kind", name=op.f("uq_notifications_appointment_id")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_appointment_id"), ["appointment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notifications_due_at"), ["due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_due_at"))
        batch_op.drop_index(batch_op.f("ix_notifications_appointment_id"))
    op.drop_table("notifications")

    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index("uq_appointments_customer_booked")
        batch_op.drop_index("uq_appointments_advisor_slot_booked")
        batch_op.drop_index(batch_op.f("ix_appointments_start_utc"))
        batch_op.drop_index(batch_op.f("ix_appointments_customer_id"))
        batch_op.drop_index(batch_op.f("ix_appointments_advisor_id"))
    op.drop_table("appointments")

    with op.batch_alter_table("advisor_working_hours", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_advisor_working_hours_advisor_id"))
    op.drop_table("advisor_working_hours")

    with op.batch_alter_table("advisor_absences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_advisor_absences_advisor_id"))
    op.drop_table("advisor_absences")

    op.drop_table("advisors")
