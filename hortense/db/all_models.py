"""Import every model module so that Base.metadata knows all tables (Alembic, tests)."""
from hortense.db import models  # noqa: F401
from hortense.db import calendar_models  # noqa: F401
from hortense.db import link_models  # noqa: F401
from hortense.db import bank_models  # noqa: F401
