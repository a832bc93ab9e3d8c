"""Declarative base shared by every model module, with naming conventions Alembic can diff."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, MetaData
from sqlalchemy.orm import declarative_base

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base = declarative_base(metadata=MetaData(naming_convention=NAMING))


def parent_key(table: str) -> Column:
    """The foreign key of a row that belongs to one row of `table`: required, and indexed (rows are read by parent)."""
    return Column(ForeignKey(f"{table}.id"), nullable=False, index=True)


def child_keys(parent: str) -> tuple[Column, Column]:
    """Fresh `id` and `<parent>_id` columns, in that order: how a table whose rows each belong to one row of
    `parent` starts (one place for the pair instead of two lines in every such model)."""
    return Column(Integer, primary_key=True), parent_key(parent)
