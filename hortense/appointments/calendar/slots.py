"""Call-back slot rules: which 30-minute starts may be booked, and which to propose.

Slots are defined in Paris wall-clock time (so 9:00 stays 9:00 across daylight-saving
changes) and compared with `now` as real instants. Every datetime returned is tz-aware.
Time rules:
- lead time is real elapsed time (at least 2 hours between now and the slot start);
- the horizon is wall-clock: "3 weeks" ends at the same local time 21 days later, even
  when a daylight-saving change lies in between.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

import holidays

from hortense.appointments.calendar.phrases import PARIS, Preference

UTC = timezone.utc

# Minutes around a "vers 14h" that still count as what the customer asked.
APPROXIMATE_TOLERANCE_MINUTES = 60

REASON_PAST = "past"
REASON_CLOSED = "closed"
REASON_HOLIDAY = "holiday"
REASON_TOO_FAR = "too_far"
REASON_FULL = "full"
REASON_NOT_UNDERSTOOD = "not_understood"
# On a tie, the reason that does not depend on `now` is the more useful one to tell.
_REASON_PRIORITY = (REASON_HOLIDAY, REASON_CLOSED, REASON_PAST, REASON_TOO_FAR, REASON_FULL)


@dataclass(frozen=True)
class SlotRules:
    """Booking rules in one place; tests and callers may pass other values."""

    opening: time = time(9, 0)
    closing: time = time(18, 0)
    slot_minutes: int = 30
    min_lead: timedelta = timedelta(hours=2)
    horizon: timedelta = timedelta(days=21)


DEFAULT_RULES = SlotRules()


@dataclass(frozen=True)
class SlotProposal:
    """Slots to offer; when matched is False, `reason` says why the wish could not be met."""

    slots: tuple[datetime, ...]
    matched: bool
    reason: str | None = None
    holiday_name: str | None = None


# --------------------------------------------------------------------------- conversions


def to_utc(dt: datetime) -> datetime:
    """The same instant in UTC, as stored by the rest of the system."""
    return _require_aware(dt).astimezone(UTC)


def to_local(dt: datetime) -> datetime:
    """The same instant in Paris time, as shown to customers."""
    return _require_aware(dt).astimezone(PARIS)


def _require_aware(dt: datetime) -> datetime:
    if not isinstance(dt, datetime) or dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {dt!r}")
    return dt


# --------------------------------------------------------------------------- days


@lru_cache(maxsize=64)
def _french_holidays(year: int) -> holidays.HolidayBase:
    # language="fr" explicitly: otherwise the lib follows the process locale (English names).
    return holidays.country_holidays("FR", years=year, language="fr")


@lru_cache(maxsize=2048)
def holiday_name(day: date) -> str | None:
    """French name of the metropolitan public holiday on `day` ("Armistice"), else None."""
    return _french_holidays(day.year).get(day)


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a French public holiday."""
    return day.weekday() < 5 and holiday_name(day) is None


# --------------------------------------------------------------------------- grid


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _at(day: date, minutes: int) -> datetime:
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=PARIS)


def _opening_grid(day: date, rules: SlotRules) -> list[datetime]:
    """Every slot start of `day` within opening hours, whatever the weekday."""
    last = _minutes(rules.closing) - rules.slot_minutes
    return [_at(day, m) for m in range(_minutes(rules.opening), last + 1, rules.slot_minutes)]


def _whole_day_grid(day: date, rules: SlotRules) -> list[datetime]:
    """Grid-aligned starts over 24 h: what a customer may ask for, open or not ("à 7h")."""
    first = _minutes(rules.opening) % rules.slot_minutes
    return [_at(day, m) for m in range(first, 24 * 60, rules.slot_minutes)]


def _horizon_end(now: datetime, rules: SlotRules) -> datetime:
    """Last bookable wall-clock instant (naive, Paris)."""
    return to_local(now).replace(tzinfo=None) + rules.horizon


def _bookable_days(now: datetime, rules: SlotRules) -> list[date]:
    day, last = to_local(now).date(), _horizon_end(now, rules).date()
    return [day + timedelta(days=i) for i in range((last - day).days + 1)]


def _blocker(start: datetime, now: datetime, rules: SlotRules) -> str | None:
    """Why `start` cannot be booked (a reason code), or None if it can."""
    local = to_local(start)
    if holiday_name(local.date()):
        return REASON_HOLIDAY
    minutes = _minutes(local.time())
    on_grid = (
        local.second == 0
        and local.microsecond == 0
        and (minutes - _minutes(rules.opening)) % rules.slot_minutes == 0
        and _minutes(rules.opening) <= minutes <= _minutes(rules.closing) - rules.slot_minutes
    )
    if local.weekday() >= 5 or not on_grid:
        return REASON_CLOSED
    if to_utc(start) < to_utc(now) + rules.min_lead:
        return REASON_PAST
    if local.replace(tzinfo=None) > _horizon_end(now, rules):
        return REASON_TOO_FAR
    return None


def is_bookable(start: datetime, now: datetime, rules: SlotRules = DEFAULT_RULES) -> bool:
    """On the grid, in opening hours, on a working day, within lead time and horizon."""
    _require_aware(now)
    return _blocker(start, now, rules) is None


def candidate_slots(now: datetime, rules: SlotRules = DEFAULT_RULES) -> Iterator[datetime]:
    """Every bookable slot start (Paris time), in chronological order."""
    for day in _bookable_days(now, rules):
        if is_working_day(day):
            for start in _opening_grid(day, rules):
                if _blocker(start, now, rules) is None:
                    yield start


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class _Wish:
    """A Preference's time-of-day part, in minutes since local midnight."""

    mode: str  # "exact": around one time; "first": soonest; "spread": across a window
    target: int = 0
    tolerance: int = 0
    start: int = 0
    end: int = 0
    slot: int = DEFAULT_RULES.slot_minutes

    @classmethod
    def of(cls, pref: Preference, rules: SlotRules) -> _Wish:
        slot = rules.slot_minutes
        if pref.exact_time is not None:
            target = _minutes(pref.exact_time)
            aligned = (target - _minutes(rules.opening)) % slot == 0
            tolerance = APPROXIMATE_TOLERANCE_MINUTES if pref.approximate else 0 if aligned else slot - 1
            return cls("exact", target=target, tolerance=tolerance, slot=slot)
        if pref.earliest is not None:
            start = _minutes(pref.earliest)
        elif pref.latest is not None:
            start = min(_minutes(rules.opening), _minutes(pref.latest) - slot)
        else:
            start = _minutes(rules.opening)
        end = _minutes(pref.latest) if pref.latest is not None else max(_minutes(rules.closing), start + slot)
        return cls("first" if pref.first_available else "spread", start=start, end=end, slot=slot)

    def distance(self, start: datetime) -> int:
        """Minutes between this slot and what was asked; 0 means it satisfies the wish."""
        m = _minutes(start.time())
        if self.mode == "exact":
            return abs(m - self.target)
        return max(self.start - m, m + self.slot - self.end, 0)

    def satisfied_by(self, start: datetime) -> bool:
        if self.mode == "exact":
            return self.distance(start) <= self.tolerance
        return self.distance(start) == 0

    def rank(self, free: list[datetime], count: int) -> list[datetime]:
        """Best `count` of one day's free slots: nearest first, or spread over the window."""
        count = max(count, 0)
        by_distance = sorted(free, key=lambda s: (self.distance(s), s))
        if self.mode != "spread":
            return by_distance[:count]
        inside = [s for s in free if self.distance(s) == 0]
        picked = _spread(inside, count)
        return picked + [s for s in by_distance if s not in picked][: count - len(picked)]


def _spread(items: list[datetime], count: int) -> list[datetime]:
    """`count` of one day's sorted slots, as far apart as possible (9:00, 10:00, 11:00, not 9:00, 9:30, 10:00)."""
    if count <= 0:
        return []
    if len(items) <= count:
        return list(items)

    def greedy(gap: timedelta) -> list[datetime]:
        picked = [items[0]]
        for start in items[1:]:
            if len(picked) < count and start - picked[-1] >= gap:
                picked.append(start)
        return picked

    # The widest gap at which `count` slots still fit, earliest slot first.
    for gap in sorted({b - a for a in items for b in items if b > a}, reverse=True):
        picked = greedy(gap)
        if len(picked) == count:
            return picked
    return items[:count]


def match_preference(
    pref: Preference,
    now: datetime,
    is_free: Callable[[datetime], bool],
    limit: int = 3,
    rules: SlotRules = DEFAULT_RULES,
) -> SlotProposal:
    """Up to `limit` free slots fitting `pref`; else the nearest free ones and a reason code.

    `is_free(start)` is only called for bookable starts (Paris time), at most once each.
    Reasons: "past", "closed", "holiday" (with holiday_name), "too_far", "full", and
    "not_understood" when `pref.understood` is False (then the next free slots are offered).
    The reason is the one blocking most asked starts; a start's own reason prefers facts that
    do not depend on `now` (holiday, closed) over past/too_far: "Noël" is férié whenever asked.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    _require_aware(now)
    known: dict[datetime, bool] = {}

    def free(start: datetime) -> bool:
        if start not in known:
            known[start] = _blocker(start, now, rules) is None and bool(is_free(start))
        return known[start]

    if not pref.understood:
        return SlotProposal(_next_free(now, rules, free, limit), matched=False, reason=REASON_NOT_UNDERSTOOD)

    wish = _Wish.of(pref, rules)
    days = sorted(set(pref.days)) if pref.days else _bookable_days(now, rules)
    found = _find_matching(wish, days, rules, free, limit)
    if found:
        return SlotProposal(tuple(found), matched=True)

    reason, holiday = _explain(wish, days, now, rules)
    return SlotProposal(
        _nearest_alternatives(wish, days, now, rules, free, limit),
        matched=False,
        reason=reason,
        holiday_name=holiday,
    )


def _find_matching(
    wish: _Wish, days: list[date], rules: SlotRules, free: Callable[[datetime], bool], limit: int
) -> list[datetime]:
    """Free slots satisfying the wish, earliest requested days first."""
    picked: list[datetime] = []
    for day in days:
        grid = _opening_grid(day, rules)
        hits = [s for s in grid if wish.satisfied_by(s) and free(s)]
        if not hits:
            continue
        if wish.mode == "exact":  # the asked slot, then the nearest free ones that day
            ranked = wish.rank(hits, limit)
            others = [s for s in grid if s not in hits and free(s)]
            return ranked + wish.rank(others, limit - len(ranked))
        picked += hits[: limit - len(picked)] if wish.mode == "first" else _spread(hits, limit - len(picked))
        if len(picked) >= limit:
            break
    return picked


def _explain(wish: _Wish, days: list[date], now: datetime, rules: SlotRules) -> tuple[str, str | None]:
    """The reason blocking most of the asked starts (bookable-but-unmatched ones are taken)."""
    counts: Counter[str] = Counter()
    for day in days:
        for start in _whole_day_grid(day, rules):
            if wish.satisfied_by(start):
                counts[_blocker(start, now, rules) or REASON_FULL] += 1
    if not counts:  # an empty window, e.g. "le matin après 13h"
        return REASON_CLOSED, None
    reason = max(_REASON_PRIORITY, key=lambda r: (counts[r], -_REASON_PRIORITY.index(r)))
    if reason != REASON_HOLIDAY:
        return reason, None
    return reason, next(name for name in map(holiday_name, days) if name)


def _nearest_alternatives(
    wish: _Wish,
    days: list[date],
    now: datetime,
    rules: SlotRules,
    free: Callable[[datetime], bool],
    limit: int,
) -> tuple[datetime, ...]:
    """Free slots on the bookable days nearest to the asked ones, closest time of day first."""
    free_by_day = {day: [s for s in _opening_grid(day, rules) if free(s)] for day in _bookable_days(now, rules)}

    def closeness(day: date) -> tuple[int, int, date]:
        """Nearest asked day first; among equally near days, the best time of day ("à 7h")."""
        day_gap = min(abs((day - asked).days) for asked in days)
        time_gap = min((wish.distance(s) for s in free_by_day[day]), default=24 * 60)
        return day_gap, time_gap, day

    picked: list[datetime] = []
    for day in sorted(free_by_day, key=closeness):
        picked += wish.rank(free_by_day[day], limit - len(picked))
        if len(picked) >= limit:
            break
    return tuple(picked)


def _next_free(now: datetime, rules: SlotRules, free: Callable[[datetime], bool], limit: int) -> tuple[datetime, ...]:
    picked: list[datetime] = []
    for start in candidate_slots(now, rules):
        if free(start):
            picked.append(start)
            if len(picked) == limit:
                break
    return tuple(picked)
