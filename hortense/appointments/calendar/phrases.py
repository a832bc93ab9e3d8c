"""Parse a customer's French call-back wish ("demain matin", "jeudi vers 14h") into a Preference.

A small regex parser of our own: dateparser 1.2.0 misreads "demain à 14h" and returns None
for several French phrasings. Pure: no I/O, the reference instant `now` is always passed in.

Interpretation rules (documented here because customers are ambiguous):
- A bare weekday ("jeudi") is its next occurrence strictly after today: on a Thursday,
  "jeudi" means next week's Thursday ("aujourd'hui" is how customers ask for today).
- "<weekday> prochain" and "<weekday> de la semaine prochaine" both mean that weekday in the
  next calendar week (Monday-based).
- "le 3" is the 3rd of this month if not yet past, else of the next month that has it.
- A day/month without a year that is already past this year means next year.
- Hours 1 to 6 without "du matin" are afternoon hours ("à 3h" = 15:00): nobody books a call at
  3 a.m. "à 7h" and "à 8h" stay morning hours (and are outside opening hours).
- An hour below 12 with an afternoon/evening word becomes PM ("demain soir à 5h" = 17:00).
"""

from __future__ import annotations

import re
import unicodedata
from calendar import monthrange
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.easter import EASTER_WESTERN, easter

from hortense.energy.periods import MONTHS, NUMBER_WORDS

PARIS = ZoneInfo("Europe/Paris")

# Longer messages are cut: a date wish never needs more, and it bounds parsing time.
MAX_INPUT_CHARS = 2000

Window = tuple[time, time]

MORNING: Window = (time(9, 0), time(12, 0))
EARLY_MORNING: Window = (time(9, 0), time(10, 30))
LATE_MORNING: Window = (time(10, 30), time(12, 0))
LUNCH: Window = (time(12, 0), time(14, 0))
AFTERNOON: Window = (time(14, 0), time(18, 0))
EARLY_AFTERNOON: Window = (time(14, 0), time(15, 30))
MID_AFTERNOON: Window = (time(15, 0), time(16, 30))
END_OF_DAY: Window = (time(16, 30), time(18, 0))


@dataclass(frozen=True)
class Preference:
    """What the customer asked for; a None field means "no constraint on that"."""

    understood: bool = False
    first_available: bool = False
    days: tuple[date, ...] | None = None
    earliest: time | None = None
    latest: time | None = None
    exact_time: time | None = None
    approximate: bool = False


NOT_UNDERSTOOD = Preference()


def parse_preference(text: str, now: datetime) -> Preference:
    """Read day and time wishes from `text`; never raises, returns understood=False if nothing usable."""
    if not isinstance(text, str) or not isinstance(now, datetime):
        return NOT_UNDERSTOOD
    try:
        return _parse(text, now)
    except (ValueError, OverflowError):  # only reachable with a `now` near the datetime limits
        return NOT_UNDERSTOOD


def _parse(text: str, now: datetime) -> Preference:
    now_local = now.astimezone(PARIS).replace(tzinfo=None) if now.tzinfo else now
    today = now_local.date()
    t = _Text(_normalize(text))

    first_available = t.take(_FIRST_AVAILABLE, lambda m: True) is True
    today_hint = _TODAY_HINT.search(t.s) is not None

    days: tuple[date, ...] | None = None
    exact: time | None = None
    approximate = False
    relative = t.take(_RELATIVE_TIME, lambda m: _relative_target(m, now_local))
    if relative is not None:
        days, exact, approximate = (relative.date(),), relative.time(), True
    else:
        for extract in _DAY_EXTRACTORS:
            days = extract(t, today)
            if days:
                break
        else:
            days = (today,) if today_hint else None

    window = _take_window(t)
    earliest, latest = window if window else (None, None)
    bounds = _take_bounds(t)
    if exact is None:
        exact_found = _take_exact(t)
        if exact_found is not None:
            exact, approximate = exact_found
    if window is None and bounds == (None, None) and exact is None:
        window = t.take(_BARE_MIDI, lambda m: LUNCH)
        if window:
            earliest, latest = window

    if relative is None and exact is not None:
        exact = _to_afternoon(exact, window)
    low, high = (_to_afternoon(b, window) if b else None for b in bounds)
    if low is not None:
        earliest = max(earliest, low) if earliest else low
    if high is not None:
        latest = min(latest, high) if latest else high

    understood = first_available or bool(days) or any(v is not None for v in (earliest, latest, exact))
    if not understood:
        return NOT_UNDERSTOOD
    return Preference(
        understood=True,
        first_available=first_available,
        days=days,
        earliest=earliest,
        latest=latest,
        exact_time=exact,
        approximate=approximate,
    )


# --------------------------------------------------------------------------- normalisation

_VOCABULARY = (
    "demain",
    "aujourd",
    "aujourdhui",
    "lundi",
    "mardi",
    "mercredi",
    "jeudi",
    "vendredi",
    "samedi",
    "dimanche",
    "aprem",
    "janvier",
    "fevrier",
    "avril",
    "juillet",
    "septembre",
    "octobre",
    "novembre",
    "decembre",
    "matin",
    "matinee",
    "semaine",
    "prochain",
    "prochaine",
    "possible",
    "apres",
    "heure",
    "heures",
    "journee",
    "creneau",
    "disponible",
    "premier",
)

_NUMBER_WORDS = NUMBER_WORDS  # one list of French number words
_NUMBER_WORD_RE = re.compile(
    r"\b(" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")\s+"
    r"(?=(?:jours?|semaines?|mois|heures?|h|minutes?|min|mn)\b)"
)


def _normalize(text: str) -> str:
    """Lower-case, strip accents and punctuation, fix small typos: one spelling per word."""
    text = unicodedata.normalize("NFKD", text[:MAX_INPUT_CHARS].lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^a-z0-9:/\-]+", " ", text)
    text = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", text)
    text = " ".join(_correct_typo(word) for word in text.split())
    # "la semaine d'après" / "la semaine suivante" say "la semaine prochaine" (the apostrophe is a space here).
    text = re.sub(r"\bsemaine (d apres|suivante)\b", "semaine prochaine", text)
    return _NUMBER_WORD_RE.sub(lambda m: f"{_NUMBER_WORDS[m.group(1)]} ", text)


def _correct_typo(word: str) -> str:
    """Map a word one typo away from a calendar word ("demian", "venderdi") to that word."""
    if len(word) < 5 or not word.isalpha() or word in _VOCABULARY:
        return word
    for known in _VOCABULARY:
        if abs(len(known) - len(word)) <= 1 and _within_one_edit(word, known):
            return known
    return word


def _within_one_edit(a: str, b: str) -> bool:
    """True if a and b differ by at most one insertion, deletion, substitution or swap."""
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        rest_a, rest_b = a[i + 1 :], b[i + 1 :]
        swapped = i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
        return rest_a == rest_b or swapped
    return a[i:] == b[i + 1 :]


class _Text:
    """Normalised text from which recognised phrases are blanked out once used."""

    def __init__(self, s: str) -> None:
        self.s = s

    def take(self, pattern: re.Pattern, convert: Callable[[re.Match], object]):
        """Return convert() of the first match it accepts (not None), and blank that match."""
        for m in pattern.finditer(self.s):
            value = convert(m)
            if value is not None:
                self.s = self.s[: m.start()] + " " * (m.end() - m.start()) + self.s[m.end() :]
                return value
        return None


# --------------------------------------------------------------------------- days

_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_WEEKDAY = r"(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)s?"
_MONTHS = MONTHS  # one list of French month words, abbreviations included
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + ")"
_DAY_NUMBER = r"(1er|1\s*er|premier|\d{1,2})"

_FIRST_AVAILABLE = re.compile(
    r"\b(?:(?:le|la)\s+)?(?:premier|premiere|prochain|prochaine)\s+"
    r"(?:creneau|creneaux|dispo|dispos|disponibilite|disponible|horaire|rdv|rendez\s*vous|moment|place)"
    r"(?:\s+(?:dispo|dispos|disponibles?|libres?|possibles?))?\b"
    r"|\bau\s+plus\s+(?:vite|tot)\b"
    r"|\b(?:le\s+)?plus\s+(?:tot|vite|rapidement)\s+possible\b"
    r"|\bdes\s+que\s+(?:possible|vous\s+pouvez|vous\s+voulez|dispo|disponible)\b"
    r"|\bn\s+importe\s+(?:quand|quel\s+jour|quelle\s+heure)\b|\bpeu\s+importe\b"
    r"|\bquand\s+vous\s+(?:voulez|pouvez)\b|\basap\b|\bmaintenant\b|\btout\s+de\s+suite\b"
    r"|\bimmediatement\b|\brapidement\b|\bvite\b|\burgent\b"
)
_TODAY_HINT = re.compile(
    r"\b(?:ce|cet|cette)\s+(?:matin|matinee|apres\s*midi|aprem|soir|soiree|midi)\b"
    r"|\b(?:dans|en|plus\s+tard\s+dans)\s+la\s+journee\b|\btout\s+a\s+l\s+heure\b"
)
_RELATIVE_TIME = re.compile(
    r"\b(?:dans|d\s+ici)\s+(?:(\d{1,2})\s*(?:h|heures?)(?:\s*([0-5]\d))?|(\d{1,3})\s*(?:minutes?|min|mn)"
    r"|(?:une\s+|1\s+)?(demi)\s+heure)(?![a-z0-9])"
)
_NUMERIC_DATE = re.compile(
    r"(?<![\d:/])(\d{1,2})\s*[/-]\s*(\d{1,2})(?:\s*[/-]\s*(\d{4}|\d{2}))?\b(?!\s*(?:h|:|heures?)\b)(?!\s*[:h]\d)"
)
_MONTH_DATE = re.compile(r"\b" + _DAY_NUMBER + r"\s+" + _MONTH + r"\b(?:\s+(\d{4}))?")
_NOT_A_DAY = r"(?!\s*(?:h\b|h\d|heures?\b|:|/|-\s*\d|jours?\b|semaines?\b|mois\b|min|mn\b|ans?\b|\d))"
_DAY_OF_MONTH = re.compile(r"\b(?:le|du|" + _WEEKDAY + r")\s+(1er|1\s*er|\d{1,2})\b" + _NOT_A_DAY)
_RELATIVE_DAY = re.compile(r"\b(apres\s*demain)\b|\b(demain)\b|\b(aujourd\s*hui|aujourdhui|aujourd|auj|ajd)\b")
_OFFSET = re.compile(r"\b(?:dans|d\s+ici)\s+(\d{1,3})\s*(jours?|semaines?|mois)\b")
_WEEKDAY_RE = re.compile(r"\b" + _WEEKDAY + r"(\s+prochaine?)?\b")
_NEXT_WEEK = re.compile(r"\b(?:de\s+)?(?:la\s+)?semaine\s+(?:prochaine|proch|pro)\b")
_WEEK_RANGE = re.compile(
    r"\b(?:(?:en|au)\s+)?(fin|debut|milieu)\s+de\s+(?:la\s+)?semaine(\s+(?:prochaine|proch|pro))?\b"
    r"|\b(?:(?:la|en)\s+)?semaine\s+(prochaine|proch|pro)\b"
    r"|\b(?:cette|dans\s+la)\s+(semaine)\b"
    r"|\b(?:ce|le|en)?\s*(week\s*end|weekend|we)\b"
)
_NAMED_DAY = re.compile(
    r"\b(lundi\s+de\s+paques|lundi\s+de\s+pentecote|paques|pentecote|ascension|noel"
    r"|jour\s+de\s+l\s+an|nouvel\s+an|toussaint|armistice|assomption|fete\s+nationale"
    r"|fete\s+du\s+travail)\b"
)
_FIXED_NAMED_DAYS = {
    "noel": (12, 25),
    "jour de l an": (1, 1),
    "nouvel an": (1, 1),
    "toussaint": (11, 1),
    "armistice": (11, 11),
    "assomption": (8, 15),
    "fete nationale": (7, 14),
    "fete du travail": (5, 1),
}
_EASTER_OFFSETS = {
    "paques": 0,
    "lundi de paques": 1,
    "ascension": 39,
    "pentecote": 49,
    "lundi de pentecote": 50,
}


def _take_named_day(t: _Text, today: date) -> tuple[date, ...] | None:
    """ "lundi de Pâques", "Noël"...: the next such day, today included."""

    def convert(m: re.Match) -> tuple[date, ...] | None:
        name = " ".join(m.group(1).split())
        for year in (today.year, today.year + 1):
            if name in _FIXED_NAMED_DAYS:
                day = date(year, *_FIXED_NAMED_DAYS[name])
            else:
                day = easter_sunday(year) + timedelta(days=_EASTER_OFFSETS[name])
            if day >= today:
                return (day,)
        return None

    return t.take(_NAMED_DAY, convert)


def _take_numeric_date(t: _Text, today: date) -> tuple[date, ...] | None:
    """ "3/12", "03/12/2026", "3-12-26"."""

    def convert(m: re.Match) -> tuple[date, ...] | None:
        year = int(m.group(3)) if m.group(3) else None
        if year is not None and year < 100:
            year += 2000
        day = _calendar_date(today, int(m.group(1)), int(m.group(2)), year)
        return (day,) if day else None

    return t.take(_NUMERIC_DATE, convert)


def _take_month_date(t: _Text, today: date) -> tuple[date, ...] | None:
    """ "le 3 décembre", "1er mars 2027", "3 dec"."""

    def convert(m: re.Match) -> tuple[date, ...] | None:
        year = int(m.group(3)) if m.group(3) else None
        day = _calendar_date(today, _day_number(m.group(1)), _MONTHS[m.group(2)], year)
        return (day,) if day else None

    return t.take(_MONTH_DATE, convert)


def _take_day_of_month(t: _Text, today: date) -> tuple[date, ...] | None:
    """ "le 3", "lundi 3": this month if not past, else the next month having that day."""

    def convert(m: re.Match) -> tuple[date, ...] | None:
        number = _day_number(m.group(2))
        year, month = today.year, today.month
        for _ in range(3):
            day = _safe_date(year, month, number)
            if day and day >= today:
                return (day,)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return None

    return t.take(_DAY_OF_MONTH, convert)


def _take_relative_day(t: _Text, today: date) -> tuple[date, ...] | None:
    """ "aujourd'hui", "demain", "après-demain"."""

    def convert(m: re.Match) -> tuple[date, ...]:
        offset = 2 if m.group(1) else 1 if m.group(2) else 0
        return (today + timedelta(days=offset),)

    return t.take(_RELATIVE_DAY, convert)


def _take_offset(t: _Text, today: date) -> tuple[date, ...] | None:
    """ "dans 2 jours", "dans une semaine", "dans un mois"."""

    def convert(m: re.Match) -> tuple[date, ...] | None:
        count, unit = int(m.group(1)), m.group(2)
        if unit.startswith("mois"):
            return _add_months(today, count)
        days = count * 7 if unit.startswith("semaine") else count
        return (today + timedelta(days=days),) if days <= 366 else None

    return t.take(_OFFSET, convert)


def _take_weekday(t: _Text, today: date) -> tuple[date, ...] | None:
    """ "jeudi" (next one strictly after today), "jeudi prochain" / "de la semaine prochaine"."""

    def convert(m: re.Match) -> tuple[date, ...]:
        weekday = _WEEKDAYS.index(m.group(1))
        if m.group(2) or t.take(_NEXT_WEEK, lambda _: True):
            next_monday = today + timedelta(days=7 - today.weekday())
            return (next_monday + timedelta(days=weekday),)
        ahead = (weekday - today.weekday()) % 7 or 7
        return (today + timedelta(days=ahead),)

    return t.take(_WEEKDAY_RE, convert)


def _take_week_range(t: _Text, today: date) -> tuple[date, ...] | None:
    """ "la semaine prochaine" (Mon-Fri), "cette semaine", "en fin de semaine" (Thu-Fri), "ce week-end"."""

    def convert(m: re.Match) -> tuple[date, ...]:
        part, part_next, next_week, this_week, weekend = m.groups()
        monday = today - timedelta(days=today.weekday())
        if next_week or part_next:
            monday += timedelta(days=7)
        first, last = {"debut": (0, 1), "milieu": (2, 3), "fin": (3, 4)}.get(part or "", (0, 4))
        if weekend:
            first, last = 5, 6
        days = [monday + timedelta(days=i) for i in range(first, last + 1)]
        upcoming = tuple(d for d in days if d >= today)
        if upcoming:
            return upcoming
        if this_week:  # "cette semaine" asked on a weekend: the rest of this week.
            return tuple(today + timedelta(days=i) for i in range(7 - today.weekday()))
        return tuple(d + timedelta(days=7) for d in days)

    return t.take(_WEEK_RANGE, convert)


_DAY_EXTRACTORS = (
    _take_named_day,
    _take_numeric_date,
    _take_month_date,
    _take_day_of_month,
    _take_relative_day,
    _take_offset,
    _take_weekday,
    _take_week_range,
)


def easter_sunday(year: int) -> date:
    """Western Easter Sunday, for "lundi de Pâques" and "Ascension" (python-dateutil's algorithm)."""
    return easter(year, EASTER_WESTERN)


def _day_number(token: str) -> int:
    return 1 if token.startswith("1") and token.endswith("er") or token == "premier" else int(token)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _calendar_date(today: date, day: int, month: int, year: int | None) -> date | None:
    """Explicit day/month; without a year, a date already past this year means next year."""
    if year is not None:
        return _safe_date(year, month, day) if 1 <= year <= 9999 else None
    this_year = _safe_date(today.year, month, day)
    if this_year and this_year >= today:
        return this_year
    return _safe_date(today.year + 1, month, day)


def _add_months(today: date, count: int) -> tuple[date, ...] | None:
    """ "dans un mois": same day number, clamped to the target month's length."""
    if count > 24:
        return None
    year, month = divmod(today.month - 1 + count, 12)
    year, month = today.year + year, month + 1
    return (date(year, month, min(today.day, monthrange(year, month)[1])),)


def _relative_target(m: re.Match, now_local: datetime) -> datetime | None:
    """ "dans 2 heures", "dans 30 minutes", "dans une demi-heure": that local time, to the minute."""
    hours, minutes, only_minutes, half = m.groups()
    if half:
        delta = timedelta(minutes=30)
    elif only_minutes:
        delta = timedelta(minutes=int(only_minutes))
    else:
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if delta > timedelta(days=2):
        return None
    return (now_local + delta).replace(second=0, microsecond=0)


# --------------------------------------------------------------------------- times

_FRACTION = r"(?:\s*(?:et\s+demie?|et\s+quart|moins\s+(?:le\s+)?quart))"
_NUMERIC_TIME = r"\d{1,2}\s*(?:h|heures?|:)(?:\s*[0-5]\d)?(?![a-z0-9])" + _FRACTION + "?"
_MIDI_TIME = r"midi" + _FRACTION + "?"
_T = f"(?:{_NUMERIC_TIME}|{_MIDI_TIME})"
_TIME_PARTS = re.compile(
    r"(?:(\d{1,2})\s*(?:h|heures?|:)?\s*([0-5]\d)?|(midi))\s*(et\s+demie?|et\s+quart|moins\s+(?:le\s+)?quart)?"
)

_WINDOWS: tuple[tuple[re.Pattern, Window], ...] = tuple(
    (re.compile(pattern), window)
    for pattern, window in (
        (r"\b(?:en\s+)?debut\s+(?:de\s+l\s+|d\s+|de\s+)?(?:apres\s*midi|aprem)\b", EARLY_AFTERNOON),
        (r"\b(?:en\s+)?milieu\s+(?:de\s+l\s+|d\s+)?(?:apres\s*midi|aprem)\b", MID_AFTERNOON),
        (r"\b(?:en\s+)?fin\s+(?:de\s+l\s+|d\s+|de\s+)?(?:apres\s*midi|aprem)\b", END_OF_DAY),
        (r"\b(?:en\s+)?fin\s+de\s+(?:la\s+)?journee\b|\bsoir(?:ee)?s?\b", END_OF_DAY),
        (
            r"\b(?:en\s+)?debut\s+de\s+(?:la\s+)?matinee\b|\b(?:tot|de\s+bonne\s+heure)\s+le\s+matin\b"
            r"|\bde\s+bon\s+matin\b|\ba\s+la\s+premiere\s+heure\b",
            EARLY_MORNING,
        ),
        (r"\b(?:en\s+)?fin\s+de\s+(?:la\s+)?matinee\b", LATE_MORNING),
        (r"\b(?:apres\s*midi|aprem|apm)s?\b", AFTERNOON),
        (r"\bmatin(?:ee|s)?\b", MORNING),
        (
            r"\bentre\s+midi\s+et\s+(?:deux|2)(?:\s*h(?:eures?)?)?\b|\bpause\s+(?:de\s+)?(?:midi|dejeuner)\b"
            r"|\b(?:heure\s+du\s+)?dejeuner\b",
            LUNCH,
        ),
    )
)
_BARE_MIDI = re.compile(r"\bmidi\b")
_RANGE = re.compile(
    rf"\b(?:entre|de)\s+({_T}|\d{{1,2}})\s*(?:et|a|-|jusqu\s+a)\s*({_T})"
    rf"|(?<![\d/])({_NUMERIC_TIME})\s*-\s*({_T})"
)


def _time_after(words: str) -> re.Pattern[str]:
    """One of `words` (alternatives), then a time, captured: how a bound ("pas avant 10h") or "à 14h" is said."""
    return re.compile(rf"\b(?:{words})\s+({_T})")


_LOWER_BOUND = _time_after(r"pas\s+avant|apres|a\s+partir\s+de|des|plus\s+tard\s+que")
_UPPER_BOUND = _time_after(r"pas\s+apres|avant|au\s+plus\s+tard\s+a|jusqu\s+a")
_APPROXIMATE = re.compile(
    r"\b(?:vers|aux?\s+alentours?\s+de|autour\s+de|environ|a\s+peu\s+pres|approximativement)\s+"
    rf"(?:a\s+|de\s+)?({_T}|\d{{1,2}}\b(?!\s*[/-]))"
    rf"|({_T})\s+(?:environ|a\s+peu\s+pres|plus\s+ou\s+moins)\b"
)
_AT_TIME = _time_after("a")
_BARE_TIME = re.compile(rf"(?<![\d/])({_NUMERIC_TIME}|midi{_FRACTION})")
# "à 14" without "h" only when nothing but politeness follows ("il y a 2 factures" is no time).
_AT_HOUR = re.compile(
    r"\ba\s+(\d{1,2})(?=\s*(?:$|pile\b|precises?\b|svp\b|stp\b|merci\b|s\s+il\b|ou\b|et\b|si\b|ca\b|c\s+est\b))"
)


def _time_from(expr: str) -> time | None:
    """ "14h30", "9 heures", "14:30", "midi et demi", "10h moins le quart" -> time, None if invalid."""
    m = _TIME_PARTS.fullmatch(" ".join(expr.split()))
    if not m:
        return None
    hours, minutes, midi, fraction = m.groups()
    total = 12 * 60 if midi else int(hours) * 60 + int(minutes or 0)
    if fraction:
        total += 30 if "demi" in fraction else 15 if fraction.startswith("et") else -15
    if (hours and int(hours) > 23) or not 0 <= total < 24 * 60:
        return None
    return time(total // 60, total % 60)


def _take_window(t: _Text) -> Window | None:
    for pattern, window in _WINDOWS:
        if t.take(pattern, lambda m: True):
            return window
    return None


def _take_bounds(t: _Text) -> tuple[time | None, time | None]:
    """ "entre 14h et 16h", "avant 11h", "après 15h", "à partir de 10h" -> (earliest, latest)."""

    def convert_range(m: re.Match) -> tuple[time, time] | None:
        start_expr, end_expr = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        start = _time_from(start_expr)
        end = _time_from(end_expr)
        return (start, end) if start and end and start < end else None

    found = t.take(_RANGE, convert_range)
    if found:
        return found
    low = t.take(_LOWER_BOUND, lambda m: _time_from(m.group(1)))
    high = t.take(_UPPER_BOUND, lambda m: _time_from(m.group(1)))
    return low, high


def _take_exact(t: _Text) -> tuple[time, bool] | None:
    """ "vers 10h30" (approximate), "à 14h", "14h30", "à midi", "midi et demi" -> (time, approximate)."""
    found = t.take(_APPROXIMATE, lambda m: _time_from(m.group(1) or m.group(2)))
    if found:
        return found, True
    for pattern in (_AT_TIME, _BARE_TIME, _AT_HOUR):
        found = t.take(pattern, lambda m: _time_from(m.group(1)))
        if found:
            return found, False
    return None


def _to_afternoon(value: time, window: Window | None) -> time:
    """Read "3h" as 15:00: with an afternoon word, or for hours 1-6 unless said in the morning."""
    afternoon_word = window is not None and window[0] >= time(12)
    morning_word = window is not None and window[1] <= time(12)
    if 1 <= value.hour < 12 and (afternoon_word or (value.hour <= 6 and not morning_word)):
        return value.replace(hour=value.hour + 12)
    return value
