"""Import every model module so that Base.metadata knows all tables (Alembic, tests)."""
from hortense.db import models  # noqa: F401
