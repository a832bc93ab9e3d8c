"""Frozen views of database rows: callers get plain values, never a live session object.

A view's fields are named after the row's columns; `view_of` copies those and takes the rest (values computed
or read elsewhere: a local time, a joined name) as keywords.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

View = TypeVar("View")


def view_of(view: type[View], row: Any, **given: Any) -> View:
    """`view` filled from `row`'s attributes of the same names, except the `given` fields."""
    copied = {f.name: getattr(row, f.name) for f in fields(view) if f.name not in given}  # type: ignore[arg-type]
    return view(**copied, **given)
