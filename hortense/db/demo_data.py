"""The literal demo tables kept as YAML in hortense/db/data/ (the demo customers of `seed.py`, the scripted turns of
`seed_tracker.py`), and what reads them into dataclasses.

`records()` checks each record against its dataclass before building it: a key the dataclass does not have, a field
without a default that the record leaves out, or a value of the wrong type is a `DemoDataError` naming the file and
the record. Fields that are not plain strings, numbers or booleans in YAML (times, sub-records) go through a converter.
"""

from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Callable, Mapping
from datetime import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

import yaml

DATA = Path(__file__).with_name("data")

T = TypeVar("T")
Convert = Callable[[Any, str], Any]  # (value, where) -> field value


class DemoDataError(ValueError):
    """A demo data file that does not match its dataclasses (the message names the file and the record)."""


def read(name: str) -> dict[str, Any]:
    """The top-level mapping of hortense/db/data/`name`."""
    path = DATA / name
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(content, dict):
        raise DemoDataError(f"{path}: a mapping of tables expected")
    return content


def table(content: Mapping[str, Any], key: str, where: str) -> list[Any]:
    """The list under `key` of a file's top-level mapping."""
    rows = content.get(key)
    if not isinstance(rows, list) or not rows:
        raise DemoDataError(f"{where}: a non-empty list expected under {key!r}")
    return rows


def named(where: str, raw: Any, key: str) -> str:
    """`where` a record is, with its `key` (its number, its intent) when it has one: "customers[2] (C1002)"."""
    return f"{where} ({raw[key]})" if isinstance(raw, dict) and key in raw else where


def record(cls: type[T], raw: Any, where: str, convert: Mapping[str, Convert] | None = None) -> T:
    """One `cls` from the mapping `raw` (keys: the field names); `convert` turns the YAML values of some fields into
    theirs, the other fields must already be of their annotated type (str, int, bool, or None where optional)."""
    if not isinstance(raw, dict):
        raise DemoDataError(f"{where}: a mapping of field names expected, not {type(raw).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(str(key) for key in raw if key not in fields)
    missing = [
        name
        for name, f in fields.items()
        if name not in raw and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if unknown or missing:
        problems = ([f"unknown key(s) {', '.join(unknown)}"] if unknown else []) + (
            [f"missing key(s) {', '.join(missing)}"] if missing else []
        )
        raise DemoDataError(f"{where}: {'; '.join(problems)}")
    hints = get_type_hints(cls)
    convert = convert or {}
    values = {}
    for name, value in raw.items():
        if name in convert:
            values[name] = convert[name](value, f"{where}, {name}")
        elif _fits(value, hints[name]):
            values[name] = value
        else:
            raise DemoDataError(f"{where}, {name}: {value!r} is not {_type_name(hints[name])}")
    return cls(**values)


def _fits(value: Any, hint: Any) -> bool:
    if get_origin(hint) in (Union, types.UnionType):
        return any(_fits(value, arg) for arg in get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint in (int, str):
        return isinstance(value, hint) and not isinstance(value, bool)
    raise TypeError(f"no converter given for a field of type {hint}")


_TYPE_NAMES = {str: "a string", int: "a whole number", bool: "true or false", type(None): "null"}


def _type_name(hint: Any) -> str:
    if get_origin(hint) in (Union, types.UnionType):
        return " or ".join(_type_name(arg) for arg in get_args(hint))
    return _TYPE_NAMES.get(hint, str(hint))


def texts(value: Any, where: str) -> tuple[str, ...]:
    """A non-empty list of strings, as a tuple."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise DemoDataError(f"{where}: a non-empty list of strings expected, not {value!r}")
    return tuple(value)


_RANGE = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")


def time_range(value: Any, where: str) -> tuple[time, time]:
    """'HH:MM-HH:MM' as (start, end)."""
    match = _RANGE.fullmatch(value) if isinstance(value, str) else None
    try:
        if match is None:
            raise ValueError
        h1, m1, h2, m2 = (int(part) for part in match.groups())
        return time(h1, m1), time(h2, m2)
    except ValueError:
        raise DemoDataError(f"{where}: {value!r} is not a time range 'HH:MM-HH:MM'") from None


def decimal_text(value: Any, where: str) -> str | None:
    """A decimal written as a string ('0.1269'), kept as that string; or null."""
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise InvalidOperation
        Decimal(value)
    except InvalidOperation:
        raise DemoDataError(f"{where}: {value!r} is not a decimal written as a string (quoted)") from None
    return value
