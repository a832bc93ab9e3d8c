"""Import every model module so that Base.metadata knows all tables (Alembic, tests)."""

from hortense.db import (
    bank_models,  # noqa: F401
    calendar_models,  # noqa: F401
    console_models,  # noqa: F401
    link_models,  # noqa: F401
    messaging_models,  # noqa: F401
    models,  # noqa: F401
    security_models,  # noqa: F401
    short_link_models,  # noqa: F401
)
