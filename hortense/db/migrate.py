"""Create or upgrade the schema with Alembic: the only way the schema changes, in dev and production."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from hortense.settings import get_settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """What autogenerate compares: not the PostgreSQL-only trigram indexes of migration 0011 (made by SQL there,
    not declared on the models: see `hortense.db.models.POSTGRES_ONLY_INDEXES`)."""
    from hortense.db.models import POSTGRES_ONLY_INDEXES

    postgres_only = {n for names in POSTGRES_ONLY_INDEXES.values() for n in names}
    return not (type_ == "index" and reflected and compare_to is None and name in postgres_only)


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # configparser interpolates '%': a URL-encoded password must be escaped.
    cfg.set_main_option("sqlalchemy.url", (url or get_settings().database_url).replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    url = url or get_settings().database_url
    if url.startswith("sqlite:///"):
        from hortense.security.files import private_dir, private_file

        private_dir(Path(url.removeprefix("sqlite:///")).parent)
        command.upgrade(alembic_config(url), revision)
        private_file(url.removeprefix("sqlite:///"))
        return
    command.upgrade(alembic_config(url), revision)


def current_heads(url: str | None = None) -> list[str]:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(url or get_settings().database_url, future=True)
    try:
        with engine.connect() as conn:
            return list(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
