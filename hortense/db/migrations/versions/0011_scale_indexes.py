"""scale: indexes that keep the console's searches and lists on an index with 100,000 customers

- appointments (advisor_id, start_utc): an advisor's calls in a time range (iCalendar feed, day and week views);
- customers.phone and appointments.phone: the console's search by phone;
- PostgreSQL only, trigram (pg_trgm) GIN indexes for the searches by part of a name or of a contract number
  (`LIKE '%…%'`, which no B-tree serves): on the lower-case names expression the search uses
  (hortense.appointments.calls.name_expression) and on contracts.contract_number. SQLite has no such index:
  it scans (production runs PostgreSQL). These two are not in the models (a dialect-specific expression index):
  hortense.db.models.POSTGRES_ONLY_INDEXES names them.

Revision ID: 0011_scale_indexes
Revises: 0010_short_links
"""

from alembic import op

revision = "0011_scale_indexes"
down_revision = "0010_short_links"
branch_labels = None
depends_on = None

NAME_EXPRESSION = (
    "lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || coalesce(company_name, ''))"
)


def upgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.create_index("ix_appointments_advisor_id_start_utc", ["advisor_id", "start_utc"], unique=False)
        batch.create_index(batch.f("ix_appointments_phone"), ["phone"], unique=False)
    with op.batch_alter_table("customers") as batch:
        batch.create_index(batch.f("ix_customers_phone"), ["phone"], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # A trusted extension (PostgreSQL 13+): the database owner may create it. Its operator class is named with
        # its schema, which need not be on the search path (the tests migrate into a schema of their own).
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema = bind.exec_driver_sql(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_trgm'"
        ).scalar_one()
        ops = f'"{schema}".gin_trgm_ops'
        op.execute(f"CREATE INDEX ix_customers_search_name ON customers USING gin (({NAME_EXPRESSION}) {ops})")
        op.execute(f"CREATE INDEX ix_contracts_contract_number_trgm ON contracts USING gin (contract_number {ops})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_contracts_contract_number_trgm")
        op.execute("DROP INDEX IF EXISTS ix_customers_search_name")
    with op.batch_alter_table("customers") as batch:
        batch.drop_index(batch.f("ix_customers_phone"))
    with op.batch_alter_table("appointments") as batch:
        batch.drop_index(batch.f("ix_appointments_phone"))
        batch.drop_index("ix_appointments_advisor_id_start_utc")
