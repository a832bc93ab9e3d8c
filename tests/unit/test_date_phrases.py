"""French call-back wishes -> Preference -> first proposed slots, on fixed reference instants."""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Callable, Optional
from zoneinfo import ZoneInfo

import holidays
import pytest

from hortense.appointments.calendar.phrases import Preference, easter_sunday, parse_preference
from hortense.appointments.calendar.slots import is_bookable, match_preference, to_local, to_utc

PARIS = ZoneInfo("Europe/Paris")

NOW = datetime(2026, 11, 3, 10, 0, tzinfo=PARIS)  # Tuesday, winter time
FRIDAY_EVENING = datetime(2026, 11, 6, 17, 0, tzinfo=PARIS)
LATE_NOVEMBER = datetime(2026, 11, 20, 10, 0, tzinfo=PARIS)  # Friday
MID_DECEMBER = datetime(2026, 12, 10, 10, 0, tzinfo=PARIS)  # Thursday
MID_JULY = datetime(2026, 7, 20, 10, 0, tzinfo=PARIS)  # Monday, summer time
BEFORE_DST_END = datetime(2026, 10, 22, 10, 0, tzinfo=PARIS)  # Thursday; clocks go back Sun 25 Oct
DST_END_FRIDAY = datetime(2026, 10, 23, 10, 0, tzinfo=PARIS)
EASTER_WEEK_2027 = datetime(2027, 3, 22, 10, 0, tzinfo=PARIS)  # Easter Monday 2027 = 29 March
EASTER_FRIDAY_2027 = datetime(2027, 3, 26, 17, 0, tzinfo=PARIS)


def all_free(start: datetime) -> bool:
    return True


def taken_at(*local_times: str) -> Callable[[datetime], bool]:
    """is_free for a calendar where the given "YYYY-MM-DD HH:MM" local starts are booked."""
    booked = {datetime.fromisoformat(s).replace(tzinfo=PARIS) for s in local_times}
    return lambda start: start not in booked


def taken_on(day: str, start: str, end: str) -> Callable[[datetime], bool]:
    """is_free for a calendar fully booked on `day` from `start` (included) to `end` (excluded)."""
    first, last = time.fromisoformat(start), time.fromisoformat(end)
    the_day = date.fromisoformat(day)
    return lambda s: not (to_local(s).date() == the_day and first <= to_local(s).time() < last)


def wish(
    *days: str,
    earliest: Optional[str] = None,
    latest: Optional[str] = None,
    at: Optional[str] = None,
    approx: bool = False,
    first: bool = False,
) -> Preference:
    return Preference(
        understood=True,
        first_available=first,
        days=tuple(date.fromisoformat(d) for d in days) or None,
        earliest=time.fromisoformat(earliest) if earliest else None,
        latest=time.fromisoformat(latest) if latest else None,
        exact_time=time.fromisoformat(at) if at else None,
        approximate=approx,
    )


@dataclass(frozen=True)
class Case:
    phrase: str
    now: datetime
    preference: Preference
    slots: tuple[str, ...]  # expected proposals, "YYYY-MM-DD HH:MM" Paris time
    reason: Optional[str] = None  # None: the wish is matched
    holiday: Optional[str] = None
    is_free: Callable[[datetime], bool] = field(default=all_free)


MORNING = dict(earliest="09:00", latest="12:00")
AFTERNOON = dict(earliest="14:00", latest="18:00")

CASES = [
    # relative days and windows
    Case("demain", NOW, wish("2026-11-04"), ("2026-11-04 09:00", "2026-11-04 13:00", "2026-11-04 17:00")),
    Case("demain matin", NOW, wish("2026-11-04", **MORNING),
         ("2026-11-04 09:00", "2026-11-04 10:00", "2026-11-04 11:00")),
    Case("demain matin stp", NOW, wish("2026-11-04", **MORNING),
         ("2026-11-04 09:00", "2026-11-04 10:00", "2026-11-04 11:00")),
    Case("Je voudrais être rappelé demain matin svp", NOW, wish("2026-11-04", **MORNING),
         ("2026-11-04 09:00", "2026-11-04 10:00", "2026-11-04 11:00")),
    Case("Demain à 14h", NOW, wish("2026-11-04", at="14:00"),
         ("2026-11-04 14:00", "2026-11-04 13:30", "2026-11-04 14:30")),
    Case("DEMAIN APRES MIDI", NOW, wish("2026-11-04", **AFTERNOON),
         ("2026-11-04 14:00", "2026-11-04 15:30", "2026-11-04 17:00")),
    Case("apres-demain aprem", NOW, wish("2026-11-05", **AFTERNOON),
         ("2026-11-05 14:00", "2026-11-05 15:30", "2026-11-05 17:00")),
    Case("Après-demain en début d'après-midi", NOW, wish("2026-11-05", earliest="14:00", latest="15:30"),
         ("2026-11-05 14:00", "2026-11-05 14:30", "2026-11-05 15:00")),
    Case("aujourd'hui", NOW, wish("2026-11-03"), ("2026-11-03 12:00", "2026-11-03 14:30", "2026-11-03 17:00")),
    Case("cet après-midi", NOW, wish("2026-11-03", **AFTERNOON),
         ("2026-11-03 14:00", "2026-11-03 15:30", "2026-11-03 17:00")),
    Case("demain midi", NOW, wish("2026-11-04", earliest="12:00", latest="14:00"),
         ("2026-11-04 12:00", "2026-11-04 12:30", "2026-11-04 13:00")),
    Case("en fin de journée", NOW, wish(earliest="16:30", latest="18:00"),
         ("2026-11-03 16:30", "2026-11-03 17:00", "2026-11-03 17:30")),
    Case("entre 14h et 16h", NOW, wish(earliest="14:00", latest="16:00"),
         ("2026-11-03 14:00", "2026-11-03 14:30", "2026-11-03 15:00")),
    Case("demain avant 11h", NOW, wish("2026-11-04", latest="11:00"),
         ("2026-11-04 09:00", "2026-11-04 09:30", "2026-11-04 10:00")),
    # times
    Case("14h30", NOW, wish(at="14:30"), ("2026-11-03 14:30", "2026-11-03 14:00", "2026-11-03 15:00")),
    Case("demain 14:30", NOW, wish("2026-11-04", at="14:30"),
         ("2026-11-04 14:30", "2026-11-04 14:00", "2026-11-04 15:00")),
    Case("vers 10h30", NOW, wish(at="10:30", approx=True),  # 10:30 today is < 2 h away: tomorrow
         ("2026-11-04 10:30", "2026-11-04 10:00", "2026-11-04 11:00")),
    Case("à 9 heures", NOW, wish(at="09:00"), ("2026-11-04 09:00", "2026-11-04 09:30", "2026-11-04 10:00")),
    Case("midi et demi", NOW, wish(at="12:30"), ("2026-11-03 12:30", "2026-11-03 12:00", "2026-11-03 13:00")),
    # weekdays
    Case("jeudi", NOW, wish("2026-11-05"), ("2026-11-05 09:00", "2026-11-05 13:00", "2026-11-05 17:00")),
    Case("jeudi vers 14h", NOW, wish("2026-11-05", at="14:00", approx=True),
         ("2026-11-05 14:00", "2026-11-05 13:30", "2026-11-05 14:30")),
    Case("Jeudi à 14h30", NOW, wish("2026-11-05", at="14:30"),
         ("2026-11-05 14:30", "2026-11-05 14:00", "2026-11-05 15:00")),
    Case("mardi", NOW, wish("2026-11-10"),  # today is Tuesday: a bare weekday is strictly after today
         ("2026-11-10 09:00", "2026-11-10 13:00", "2026-11-10 17:00")),
    Case("lundi prochain", NOW, wish("2026-11-09"), ("2026-11-09 09:00", "2026-11-09 13:00", "2026-11-09 17:00")),
    Case("jeudi prochain", NOW, wish("2026-11-12"), ("2026-11-12 09:00", "2026-11-12 13:00", "2026-11-12 17:00")),
    Case("vendredi de la semaine prochaine", NOW, wish("2026-11-13"),
         ("2026-11-13 09:00", "2026-11-13 13:00", "2026-11-13 17:00")),
    Case("demian matin", NOW, wish("2026-11-04", **MORNING),  # typo
         ("2026-11-04 09:00", "2026-11-04 10:00", "2026-11-04 11:00")),
    Case("venderdi aprem", NOW, wish("2026-11-06", **AFTERNOON),  # typo
         ("2026-11-06 14:00", "2026-11-06 15:30", "2026-11-06 17:00")),
    # ranges and offsets
    Case("la semaine prochaine", NOW,
         wish("2026-11-09", "2026-11-10", "2026-11-11", "2026-11-12", "2026-11-13"),
         ("2026-11-09 09:00", "2026-11-09 13:00", "2026-11-09 17:00")),
    Case("cette semaine", NOW, wish("2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06"),
         ("2026-11-03 12:00", "2026-11-03 14:30", "2026-11-03 17:00")),
    Case("en fin de semaine", NOW, wish("2026-11-05", "2026-11-06"),
         ("2026-11-05 09:00", "2026-11-05 13:00", "2026-11-05 17:00")),
    Case("dans 2 jours", NOW, wish("2026-11-05"), ("2026-11-05 09:00", "2026-11-05 13:00", "2026-11-05 17:00")),
    Case("dans une semaine", NOW, wish("2026-11-10"), ("2026-11-10 09:00", "2026-11-10 13:00", "2026-11-10 17:00")),
    Case("dans 3 semaines", NOW, wish("2026-11-24"),  # horizon ends 24 Nov 10:00
         ("2026-11-24 09:00", "2026-11-24 09:30", "2026-11-24 10:00")),
    # explicit dates
    Case("le 5", NOW, wish("2026-11-05"), ("2026-11-05 09:00", "2026-11-05 13:00", "2026-11-05 17:00")),
    Case("le 2", LATE_NOVEMBER, wish("2026-12-02"),  # 2 Nov is past: next month
         ("2026-12-02 09:00", "2026-12-02 13:00", "2026-12-02 17:00")),
    Case("3/12", LATE_NOVEMBER, wish("2026-12-03"), ("2026-12-03 09:00", "2026-12-03 13:00", "2026-12-03 17:00")),
    Case("03/12/2026 à 10h30", LATE_NOVEMBER, wish("2026-12-03", at="10:30"),
         ("2026-12-03 10:30", "2026-12-03 10:00", "2026-12-03 11:00")),
    Case("le 3 décembre", LATE_NOVEMBER, wish("2026-12-03"),
         ("2026-12-03 09:00", "2026-12-03 13:00", "2026-12-03 17:00")),
    Case("le 1er decembre le matin", LATE_NOVEMBER, wish("2026-12-01", **MORNING),
         ("2026-12-01 09:00", "2026-12-01 10:00", "2026-12-01 11:00")),
    Case("le 3 aout", MID_JULY, wish("2026-08-03"), ("2026-08-03 09:00", "2026-08-03 13:00", "2026-08-03 17:00")),
    # first available
    Case("le premier créneau dispo", FRIDAY_EVENING, wish(first=True),
         ("2026-11-09 09:00", "2026-11-09 09:30", "2026-11-09 10:00")),
    Case("au plus vite", NOW, wish(first=True), ("2026-11-03 12:00", "2026-11-03 12:30", "2026-11-03 13:00")),
    Case("n'importe quand", NOW, wish(first=True), ("2026-11-03 12:00", "2026-11-03 12:30", "2026-11-03 13:00")),
    Case("Dès que possible", EASTER_FRIDAY_2027, wish(first=True),  # Monday 29 March 2027 is Easter Monday
         ("2027-03-30 09:00", "2027-03-30 09:30", "2027-03-30 10:00")),
    Case("le plus tôt possible demain après-midi", NOW, wish("2026-11-04", first=True, **AFTERNOON),
         ("2026-11-04 14:00", "2026-11-04 14:30", "2026-11-04 15:00")),
    # daylight saving: clocks go back on Sunday 25 October 2026
    Case("demain à 9h", BEFORE_DST_END, wish("2026-10-23", at="09:00"),
         ("2026-10-23 09:00", "2026-10-23 09:30", "2026-10-23 10:00")),
    Case("mardi à 9h", DST_END_FRIDAY, wish("2026-10-27", at="09:00"),
         ("2026-10-27 09:00", "2026-10-27 09:30", "2026-10-27 10:00")),
    # cannot be met: reason + nearest alternatives
    Case("aujourd'hui à 9h", NOW, wish("2026-11-03", at="09:00"),
         ("2026-11-03 12:00", "2026-11-03 12:30", "2026-11-03 13:00"), reason="past"),
    Case("aujourd'hui à 11h", NOW, wish("2026-11-03", at="11:00"),  # only 1 h ahead
         ("2026-11-03 12:00", "2026-11-03 12:30", "2026-11-03 13:00"), reason="past"),
    Case("à 7h", NOW, wish(at="07:00"), ("2026-11-04 09:00", "2026-11-04 09:30", "2026-11-04 10:00"), reason="closed"),
    Case("demain à 7h", NOW, wish("2026-11-04", at="07:00"),
         ("2026-11-04 09:00", "2026-11-04 09:30", "2026-11-04 10:00"), reason="closed"),
    Case("demain soir à 20h", NOW, wish("2026-11-04", at="20:00", earliest="16:30", latest="18:00"),
         ("2026-11-04 17:30", "2026-11-04 17:00", "2026-11-04 16:30"), reason="closed"),
    Case("samedi", NOW, wish("2026-11-07"), ("2026-11-06 09:00", "2026-11-06 13:00", "2026-11-06 17:00"),
         reason="closed"),
    Case("ce week-end", NOW, wish("2026-11-07", "2026-11-08"),
         ("2026-11-06 09:00", "2026-11-06 13:00", "2026-11-06 17:00"), reason="closed"),
    Case("le 11 novembre", NOW, wish("2026-11-11"), ("2026-11-10 09:00", "2026-11-10 13:00", "2026-11-10 17:00"),
         reason="holiday", holiday="Armistice"),
    Case("le 25 décembre", MID_DECEMBER, wish("2026-12-25"),
         ("2026-12-24 09:00", "2026-12-24 13:00", "2026-12-24 17:00"), reason="holiday", holiday="Noël"),
    Case("lundi de Pâques", EASTER_WEEK_2027, wish("2027-03-29"),
         ("2027-03-30 09:00", "2027-03-30 13:00", "2027-03-30 17:00"), reason="holiday", holiday="Lundi de Pâques"),
    Case("le 15 mars", NOW, wish("2027-03-15"),  # last bookable day is 24 Nov (until 10:00)
         ("2026-11-24 09:00", "2026-11-24 09:30", "2026-11-24 10:00"), reason="too_far"),
    Case("le 3 fevrier", NOW, wish("2027-02-03"),
         ("2026-11-24 09:00", "2026-11-24 09:30", "2026-11-24 10:00"), reason="too_far"),
    # busy calendar
    Case("demain à 14h", NOW, wish("2026-11-04", at="14:00"),
         ("2026-11-04 13:30", "2026-11-04 14:30", "2026-11-04 13:00"), reason="full",
         is_free=taken_at("2026-11-04 14:00")),
    Case("demain matin", NOW, wish("2026-11-04", **MORNING),
         ("2026-11-04 12:00", "2026-11-04 12:30", "2026-11-04 13:00"), reason="full",
         is_free=taken_on("2026-11-04", "09:00", "12:00")),
    Case("la semaine prochaine", NOW,
         wish("2026-11-09", "2026-11-10", "2026-11-11", "2026-11-12", "2026-11-13"),
         ("2026-11-09 09:00", "2026-11-10 13:00", "2026-11-12 17:00"),
         is_free=taken_at(*[f"2026-11-{d} {h:02d}:{m:02d}" for d in ("09", "10", "12", "13")
                            for h in range(9, 18) for m in (0, 30)
                            if (d, h, m) not in {("09", 9, 0), ("10", 13, 0), ("12", 17, 0)}])),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=f"{c.phrase}@{c.now:%Y-%m-%d}") for c in CASES])
def test_phrase_is_parsed_and_proposed(case: Case) -> None:
    preference = parse_preference(case.phrase, case.now)
    assert preference == case.preference

    proposal = match_preference(preference, case.now, case.is_free)
    assert [to_local(s).strftime("%Y-%m-%d %H:%M") for s in proposal.slots] == list(case.slots)
    assert proposal.matched is (case.reason is None)
    assert proposal.reason == case.reason
    assert proposal.holiday_name == case.holiday
    for start in proposal.slots:
        assert start.tzinfo is not None
        assert is_bookable(start, case.now) and case.is_free(start)


def test_table_is_large_enough() -> None:
    assert len({c.phrase for c in CASES}) >= 35


@pytest.mark.parametrize(
    ("phrase", "now", "utc"),
    [
        ("demain à 9h", BEFORE_DST_END, "2026-10-23 07:00"),  # summer time, UTC+2
        ("mardi à 9h", DST_END_FRIDAY, "2026-10-27 08:00"),  # winter time, UTC+1
    ],
)
def test_same_wall_clock_time_maps_to_different_utc_across_dst(phrase: str, now: datetime, utc: str) -> None:
    first = match_preference(parse_preference(phrase, now), now, all_free).slots[0]
    assert to_utc(first).strftime("%Y-%m-%d %H:%M") == utc
    assert to_local(first).strftime("%H:%M") == "09:00"


@pytest.mark.parametrize(
    "phrase",
    [
        "",
        "   ",
        "😀🙏🔥",
        "asdfghjkl",
        "Bonjour",
        "je ne sais pas",
        "il y a 2 factures",
        "31/02",
        "le 45",
        "à 25h",
        "\x00\n\t",
        "".join(chr(c) for c in range(32, 1032)),
    ],
)
def test_unusable_input_is_not_understood(phrase: str) -> None:
    preference = parse_preference(phrase, NOW)
    assert preference == Preference(understood=False)
    proposal = match_preference(preference, NOW, all_free)
    assert (proposal.matched, proposal.reason) == (False, "not_understood")
    assert [to_local(s).strftime("%H:%M") for s in proposal.slots] == ["12:00", "12:30", "13:00"]


def test_random_input_never_raises_and_proposals_stay_bookable() -> None:
    rng = random.Random(20261103)
    alphabet = "abcdehijlmnoprstuvàéèêç0123456789 /:-'hH😀"
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 1000)))
        preference = parse_preference(text, NOW)
        for start in match_preference(preference, NOW, all_free).slots:
            assert is_bookable(start, NOW)


def test_non_string_input_is_not_understood() -> None:
    assert parse_preference(None, NOW).understood is False  # type: ignore[arg-type]


def test_preference_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse_preference("demain", NOW).days = None  # type: ignore[misc]


def test_now_in_another_timezone_uses_the_paris_date() -> None:
    # 23:30 UTC on Tuesday is already Wednesday 00:30 in Paris: "demain" is Thursday.
    late_utc = datetime(2026, 11, 3, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert parse_preference("demain", late_utc).days == (date(2026, 11, 5),)


def test_afternoon_reading_of_small_hours() -> None:
    assert parse_preference("à 3h", NOW).exact_time == time(15, 0)
    assert parse_preference("demain soir à 5h", NOW).exact_time == time(17, 0)
    assert parse_preference("à 7h du matin", NOW).exact_time == time(7, 0)


def test_easter_matches_the_holidays_library() -> None:
    for year in range(2000, 2041):
        fr = holidays.country_holidays("FR", years=year, language="fr")
        assert fr.get(easter_sunday(year) + timedelta(days=1)) == "Lundi de Pâques"
