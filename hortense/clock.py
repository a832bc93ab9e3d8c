"""The one clock: every time comparison in Hortense reads it.

Sessions and their log-out, portal tokens, identity assertions, signed links, link codes, slots,
reminders and the kitty's month all ask this module for the time instead of calling `time.time()`,
`datetime.now()` or `date.today()`. A test that sets the clock (`use(FakeClock(...))`, or the
`clock` fixture) therefore moves all of them together: nothing compares a fixed test time with the
real one. Instants are UTC inside; `local_now()` and `today()` are in the supplier's time zone.

Durations measured for rate limits and timeouts keep `time.monotonic()`: they compare no dates.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

Source = Callable[[], float]  # seconds since the epoch, like time.time

_source: Source = time.time


def timestamp() -> float:
    """Seconds since the epoch (what `time.time()` would say)."""
    return _source()


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.fromtimestamp(_source(), timezone.utc)


def local_now() -> datetime:
    """The current instant in the supplier's time zone (Europe/Paris by default)."""
    return now().astimezone(local_zone())


def today() -> date:
    """Today's date in the supplier's time zone, not the server's."""
    return local_now().date()


@lru_cache(maxsize=4)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_zone() -> ZoneInfo:
    from hortense.settings import get_settings  # late: settings are re-read between tests

    return _zone(get_settings().timezone)


def use(source: Source | None) -> None:
    """Replace the clock's source (None: back to the real clock). Tests go through the `clock` fixture."""
    global _source
    _source = source or time.time


class FakeClock:
    """A clock that stands still until told to move: `FakeClock(datetime(...))`, `.set(...)`, `.advance(...)`."""

    def __init__(self, at: datetime) -> None:
        self.set(at)

    def set(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a FakeClock needs a timezone-aware datetime")
        self._at = at.timestamp()

    def advance(self, delta: timedelta | float) -> None:
        self._at += delta.total_seconds() if isinstance(delta, timedelta) else float(delta)

    def __call__(self) -> float:
        return self._at
