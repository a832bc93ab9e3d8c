"""Slot grid rules: opening hours, lead time, horizon, holidays, daylight saving, matching."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from hortense.appointments.calendar.phrases import Preference
from hortense.appointments.calendar.slots import (
    SlotRules,
    candidate_slots,
    holiday_name,
    is_bookable,
    is_working_day,
    match_preference,
    to_local,
    to_utc,
)

PARIS = ZoneInfo("Europe/Paris")
UTC = timezone.utc


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def local_hm(slots) -> list[str]:
    return [to_local(s).strftime("%Y-%m-%d %H:%M") for s in slots]


NOW = paris(2026, 11, 3, 10, 0)  # Tuesday


# --------------------------------------------------------------------------- grid


def test_a_full_working_day_has_eighteen_half_hour_slots_from_9_to_17_30() -> None:
    monday = [s for s in candidate_slots(paris(2026, 11, 6, 10, 0)) if s.date() == date(2026, 11, 9)]
    assert [s.strftime("%H:%M") for s in monday] == [
        f"{h:02d}:{m:02d}" for h in range(9, 18) for m in (0, 30)
    ]


def test_candidate_slots_are_ordered_aware_paris_times_on_working_days() -> None:
    slots = list(candidate_slots(NOW))
    assert slots == sorted(slots)
    assert len(set(slots)) == len(slots)
    for s in slots:
        assert s.tzinfo is not None and s.utcoffset() == to_local(s).utcoffset()
        assert is_working_day(s.date())
        assert time(9, 0) <= s.time() <= time(17, 30) and s.minute in (0, 30)
        assert is_bookable(s, NOW)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (paris(2026, 11, 4, 9, 0), True),
        (paris(2026, 11, 4, 17, 30), True),  # last slot ends at 18:00
        (paris(2026, 11, 4, 18, 0), False),
        (paris(2026, 11, 4, 8, 30), False),
        (paris(2026, 11, 4, 9, 15), False),  # off the grid
        (paris(2026, 11, 4, 9, 0, 30), False),
        (paris(2026, 11, 7, 10, 0), False),  # Saturday
        (paris(2026, 11, 8, 10, 0), False),  # Sunday
        (paris(2026, 11, 11, 10, 0), False),  # Armistice
    ],
)
def test_is_bookable_grid_hours_and_days(start: datetime, expected: bool) -> None:
    assert is_bookable(start, NOW) is expected


# --------------------------------------------------------------------------- lead time and horizon


def test_lead_time_is_two_hours_inclusive() -> None:
    assert is_bookable(paris(2026, 11, 3, 12, 0), NOW)
    assert not is_bookable(paris(2026, 11, 3, 11, 30), NOW)
    assert not is_bookable(paris(2026, 11, 3, 12, 0), NOW + timedelta(minutes=1))
    assert next(candidate_slots(NOW + timedelta(minutes=1))) == paris(2026, 11, 3, 12, 30)


def test_past_slots_are_never_bookable() -> None:
    assert not is_bookable(paris(2026, 11, 2, 14, 0), NOW)


def test_horizon_is_three_weeks_inclusive() -> None:
    assert is_bookable(paris(2026, 11, 24, 10, 0), NOW)
    assert not is_bookable(paris(2026, 11, 24, 10, 30), NOW)
    assert list(candidate_slots(NOW))[-1] == paris(2026, 11, 24, 10, 0)


def test_horizon_is_wall_clock_across_the_october_change() -> None:
    # 23 Oct 10:00 CEST + 3 weeks = 13 Nov 10:00 CET, which is 21 days and 1 hour of real time.
    now = paris(2026, 10, 23, 10, 0)
    assert is_bookable(paris(2026, 11, 13, 10, 0), now)
    assert not is_bookable(paris(2026, 11, 13, 10, 30), now)


def test_horizon_is_wall_clock_across_the_march_change() -> None:
    # 20 Mar 10:00 CET + 3 weeks = 10 Apr 10:00 CEST, only 20 days 23 hours of real time.
    now = paris(2026, 3, 20, 10, 0)
    assert is_bookable(paris(2026, 4, 10, 10, 0), now)
    assert not is_bookable(paris(2026, 4, 10, 10, 30), now)


# --------------------------------------------------------------------------- daylight saving


def test_october_change_keeps_local_times_and_shifts_utc() -> None:
    slots = list(candidate_slots(paris(2026, 10, 22, 10, 0)))
    friday = [s for s in slots if s.date() == date(2026, 10, 23)]
    monday = [s for s in slots if s.date() == date(2026, 10, 26)]
    assert [s.strftime("%H:%M") for s in friday] == [s.strftime("%H:%M") for s in monday]
    assert to_utc(friday[0]) == datetime(2026, 10, 23, 7, 0, tzinfo=UTC)  # CEST, UTC+2
    assert to_utc(monday[0]) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)  # CET, UTC+1
    assert to_utc(monday[-1]) == datetime(2026, 10, 26, 16, 30, tzinfo=UTC)


def test_march_change_keeps_local_times_and_shifts_utc() -> None:
    slots = list(candidate_slots(paris(2026, 3, 26, 10, 0)))
    friday = [s for s in slots if s.date() == date(2026, 3, 27)]
    monday = [s for s in slots if s.date() == date(2026, 3, 30)]
    assert len(friday) == len(monday) == 18
    assert to_utc(friday[0]) == datetime(2026, 3, 27, 8, 0, tzinfo=UTC)  # CET, UTC+1
    assert to_utc(monday[0]) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # CEST, UTC+2


def test_is_bookable_accepts_utc_and_judges_in_paris_time() -> None:
    now = paris(2026, 10, 22, 10, 0)
    assert is_bookable(datetime(2026, 10, 23, 7, 0, tzinfo=UTC), now)  # 9:00 CEST
    assert is_bookable(datetime(2026, 10, 27, 8, 0, tzinfo=UTC), now)  # 9:00 CET
    assert not is_bookable(datetime(2026, 10, 27, 7, 0, tzinfo=UTC), now)  # 8:00 CET
    assert not is_bookable(datetime(2026, 10, 23, 16, 0, tzinfo=UTC), now)  # 18:00 CEST


def test_to_utc_and_to_local_round_trip() -> None:
    local = paris(2026, 3, 30, 9, 0)
    assert to_utc(local) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert to_utc(local).tzinfo == UTC
    assert to_local(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)).strftime("%H:%M %Z") == "03:00 CEST"
    assert to_local(to_utc(local)) == local


@pytest.mark.parametrize(
    "call",
    [to_utc, to_local, lambda dt: is_bookable(dt, NOW), lambda dt: next(candidate_slots(dt))],
    ids=["to_utc", "to_local", "is_bookable", "candidate_slots"],
)
def test_naive_datetimes_are_refused(call) -> None:
    with pytest.raises(ValueError):
        call(datetime(2026, 11, 4, 9, 0))


# --------------------------------------------------------------------------- holidays


@pytest.mark.parametrize(
    ("day", "working", "name"),
    [
        (date(2026, 11, 10), True, None),
        (date(2026, 11, 11), False, "Armistice"),
        (date(2026, 12, 25), False, "Noël"),
        (date(2026, 4, 6), False, "Lundi de Pâques"),
        (date(2026, 5, 25), False, "Lundi de Pentecôte"),
        (date(2026, 5, 14), False, "Ascension"),
        (date(2026, 4, 3), True, None),  # Good Friday: only in Alsace-Moselle, not metropolitan rules
        (date(2026, 12, 26), False, None),  # Saturday; St Stephen is an Alsace-Moselle holiday only
        (date(2026, 11, 7), False, None),  # Saturday
    ],
)
def test_working_days_follow_french_public_holidays(day: date, working: bool, name) -> None:
    assert is_working_day(day) is working
    assert holiday_name(day) == name


def test_candidate_slots_skip_holidays() -> None:
    slots = list(candidate_slots(paris(2026, 11, 10, 16, 0)))
    assert not [s for s in slots if s.date() == date(2026, 11, 11)]
    assert slots[0] == paris(2026, 11, 12, 9, 0)


# --------------------------------------------------------------------------- custom rules


def test_rules_can_be_passed_by_callers() -> None:
    rules = SlotRules(opening=time(10, 0), closing=time(12, 0), slot_minutes=60,
                      min_lead=timedelta(0), horizon=timedelta(days=1))
    assert local_hm(candidate_slots(paris(2026, 11, 3, 10, 0), rules)) == [
        "2026-11-03 10:00", "2026-11-03 11:00", "2026-11-04 10:00",
    ]
    assert not is_bookable(paris(2026, 11, 3, 10, 30), NOW, rules)


# --------------------------------------------------------------------------- matching


def pref(**kwargs) -> Preference:
    return Preference(understood=True, **kwargs)


def test_is_free_is_asked_only_for_bookable_slots_and_once_each() -> None:
    asked: list[datetime] = []

    def is_free(start: datetime) -> bool:
        asked.append(start)
        return False

    proposal = match_preference(pref(first_available=True), NOW, is_free)
    assert (proposal.slots, proposal.matched, proposal.reason) == ((), False, "full")
    assert len(asked) == len(set(asked)) == len(list(candidate_slots(NOW)))
    assert all(is_bookable(s, NOW) for s in asked)


def test_window_spreads_over_free_slots() -> None:
    taken = {paris(2026, 11, 4, 9, 0), paris(2026, 11, 4, 10, 0)}
    proposal = match_preference(
        pref(days=(date(2026, 11, 4),), earliest=time(9), latest=time(12)), NOW, lambda s: s not in taken
    )
    assert local_hm(proposal.slots) == ["2026-11-04 09:30", "2026-11-04 10:30", "2026-11-04 11:30"]
    assert proposal.matched


def test_limit_is_respected_and_validated() -> None:
    proposal = match_preference(pref(first_available=True), NOW, lambda s: True, limit=5)
    assert local_hm(proposal.slots) == [f"2026-11-03 {t}" for t in ("12:00", "12:30", "13:00", "13:30", "14:00")]
    with pytest.raises(ValueError):
        match_preference(pref(first_available=True), NOW, lambda s: True, limit=0)


def test_unaligned_time_offers_the_two_surrounding_slots() -> None:
    proposal = match_preference(pref(days=(date(2026, 11, 4),), exact_time=time(14, 45)), NOW, lambda s: True)
    assert local_hm(proposal.slots) == ["2026-11-04 14:30", "2026-11-04 15:00", "2026-11-04 14:00"]
    assert proposal.matched


def test_approximate_time_is_matched_by_a_neighbour_when_taken() -> None:
    taken = {paris(2026, 11, 4, 14, 0)}
    exact = match_preference(pref(days=(date(2026, 11, 4),), exact_time=time(14)), NOW, lambda s: s not in taken)
    approx = match_preference(
        pref(days=(date(2026, 11, 4),), exact_time=time(14), approximate=True), NOW, lambda s: s not in taken
    )
    assert (exact.matched, exact.reason) == (False, "full")
    assert (approx.matched, approx.reason) == (True, None)
    assert local_hm(approx.slots) == ["2026-11-04 13:30", "2026-11-04 14:30", "2026-11-04 13:00"]


def test_exact_time_over_several_days_takes_the_first_day_where_it_is_free() -> None:
    days = (date(2026, 11, 9), date(2026, 11, 10))
    taken = {paris(2026, 11, 9, 14, 0)}
    proposal = match_preference(pref(days=days, exact_time=time(14)), NOW, lambda s: s not in taken)
    assert local_hm(proposal.slots)[0] == "2026-11-10 14:00"
    assert proposal.matched


def test_holiday_on_a_weekend_is_reported_as_holiday() -> None:
    # 1 November 2026 (Toussaint) is a Sunday: the name is the more useful explanation.
    proposal = match_preference(pref(days=(date(2026, 11, 1),)), paris(2026, 10, 28, 10, 0), lambda s: True)
    assert (proposal.reason, proposal.holiday_name) == ("holiday", "Toussaint")
    assert local_hm(proposal.slots) == ["2026-11-02 09:00", "2026-11-02 13:00", "2026-11-02 17:00"]


def test_past_day_is_reported_as_past() -> None:
    proposal = match_preference(pref(days=(date(2026, 11, 2),)), NOW, lambda s: True)
    assert (proposal.matched, proposal.reason) == (False, "past")
    assert local_hm(proposal.slots) == ["2026-11-03 12:00", "2026-11-03 14:30", "2026-11-03 17:00"]


def test_empty_window_is_reported_as_closed() -> None:
    proposal = match_preference(pref(earliest=time(13), latest=time(12)), NOW, lambda s: True)
    assert (proposal.matched, proposal.reason) == (False, "closed")
