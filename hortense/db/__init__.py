"""Database: SQLAlchemy models, sessions, Alembic migrations and demo seed."""
