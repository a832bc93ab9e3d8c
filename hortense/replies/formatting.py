"""French formatting of amounts, energy, dates and identifiers, with Babel (no hand-rolled rules)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.dates import format_time as _babel_time
from babel.numbers import format_currency, format_decimal

LOCALE = "fr_FR"
_NARROW_NBSP = "\u202f"


def _plain_spaces(text: str) -> str:
    """Babel uses narrow no-break spaces; messaging apps render them inconsistently, so use a no-break space."""
    return text.replace(_NARROW_NBSP, "\u00a0")


def eur(amount: Decimal | float | int) -> str:
    """1234.5 -> '1 234,50 €'."""
    return _plain_spaces(format_currency(Decimal(str(amount)), "EUR", locale=LOCALE))


def kwh(value: Decimal | float | int) -> str:
    """1234.5 -> '1 234,5 kWh' (at most one decimal: meters do not read finer)."""
    number = format_decimal(Decimal(str(value)).quantize(Decimal("0.1")), format="#,##0.#", locale=LOCALE)
    return _plain_spaces(f"{number}\u00a0kWh")


def price_per_kwh(value: Decimal | float) -> str:
    """0.1269 -> '0,1269 €/kWh' (prices per kWh need four decimals)."""
    number = format_decimal(Decimal(str(value)), format="0.00##", locale=LOCALE)
    return f"{number}\u00a0€/kWh"


def _first(d: date, text: str, day_at: int) -> str:
    """French writes the first day of a month as an ordinal ("1er mars"); Babel's pattern has no such form."""
    if d.day != 1:
        return text
    words = text.split(" ")
    words[day_at] = "1er"
    return " ".join(words)


def long_date(d: date) -> str:
    """'mardi 3 décembre 2024', 'samedi 1er mars 2025'."""
    return _first(d, _babel_date(d, format="EEEE d MMMM y", locale=LOCALE), 1)


def short_date(d: date) -> str:
    """'3 décembre 2024', '1er mars 2025'."""
    return _first(d, _babel_date(d, format="d MMMM y", locale=LOCALE), 0)


def month(d: date) -> str:
    """'décembre 2024'."""
    return _babel_date(d, format="LLLL y", locale=LOCALE)


def hour(t: time) -> str:
    """'14h30', '9h' — the way French customers write times."""
    return f"{t.hour}h{t.minute:02d}" if t.minute else f"{t.hour}h"


def slot_label(start: datetime) -> str:
    """'jeudi 3 décembre à 14h30' (start must already be in local time)."""
    day = _first(start.date(), _babel_datetime(start, format="EEEE d MMMM", locale=LOCALE), 1)
    return f"{day} à {hour(start.time())}"


def clock(t: time) -> str:
    return _babel_time(t, format="HH:mm", locale=LOCALE)


def pdl(number: str) -> str:
    """Group the 14 digits for reading aloud: '12 345 678 901 234'."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) != 14:
        return number
    return " ".join([digits[:2]] + [digits[i : i + 3] for i in range(2, 14, 3)])
