"""French formatting of amounts, energy, dates, times and meter numbers."""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pytest

from hortense.replies import formatting as fmt

NBSP = "\u00a0"
NARROW_NBSP = "\u202f"


def plain(text: str) -> str:
    """Assertions compare with ordinary spaces; the no-break spaces are checked separately."""
    return text.replace(NBSP, " ").replace(NARROW_NBSP, " ")


def assert_unbreakable(text: str) -> None:
    """Amounts never wrap in a chat bubble: no ordinary space, and no narrow no-break space (rendered
    inconsistently by messaging apps), only U+00A0."""
    assert " " not in text and NARROW_NBSP not in text, repr(text)


# --- euros -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("amount, expected", [
    (Decimal("1234.56"), "1 234,56 €"),
    (1234.56, "1 234,56 €"),
    (1234.5, "1 234,50 €"),
    (1234, "1 234,00 €"),
    (0, "0,00 €"),
    (Decimal("25.09"), "25,09 €"),
    (Decimal("999.99"), "999,99 €"),
    (1000000, "1 000 000,00 €"),
    (Decimal("-12.5"), "-12,50 €"),
])
def test_eur(amount, expected):
    text = fmt.eur(amount)
    assert plain(text) == expected
    assert_unbreakable(text)


def test_eur_uses_the_string_value_of_floats():
    # Decimal(str(x)): 0.1 + 0.2 is shown as 0,30 € and not from its binary expansion
    assert plain(fmt.eur(0.1 + 0.2)) == "0,30 €"
    assert plain(fmt.eur(2.675)) == "2,68 €"  # Decimal(2.675) would be 2.67499999...


# --- kWh ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (Decimal("1234.5"), "1 234,5 kWh"),
    (1234, "1 234 kWh"),
    (Decimal("1234.0"), "1 234 kWh"),  # no useless ",0"
    (Decimal("1234.56"), "1 234,6 kWh"),  # at most one decimal
    (Decimal("94.000"), "94 kWh"),  # as read from a Numeric(12, 3) column
    (Decimal("217.600"), "217,6 kWh"),
    (0, "0 kWh"),
    (1000000, "1 000 000 kWh"),
])
def test_kwh(value, expected):
    text = fmt.kwh(value)
    assert plain(text) == expected
    assert_unbreakable(text)


# --- price per kWh ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (Decimal("0.1269"), "0,1269 €/kWh"),
    (Decimal("0.0761"), "0,0761 €/kWh"),
    (Decimal("0.12690"), "0,1269 €/kWh"),  # as read from a Numeric(8, 5) column
    (Decimal("0.2516"), "0,2516 €/kWh"),
    (0.2, "0,20 €/kWh"),  # at least two decimals
    (Decimal("0.125"), "0,125 €/kWh"),
])
def test_price_per_kwh(value, expected):
    text = fmt.price_per_kwh(value)
    assert plain(text) == expected
    assert_unbreakable(text)


# --- dates and times ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("d, expected", [
    (date(2024, 12, 3), "mardi 3 décembre 2024"),
    (date(2026, 11, 26), "jeudi 26 novembre 2026"),
    (date(2026, 8, 15), "samedi 15 août 2026"),
    (date(2027, 2, 28), "dimanche 28 février 2027"),
])
def test_long_date(d, expected):
    assert fmt.long_date(d) == expected


def test_short_date():
    assert fmt.short_date(date(2024, 12, 3)) == "3 décembre 2024"
    assert fmt.short_date(date(2026, 2, 14)) == "14 février 2026"


def test_first_of_the_month_is_written_1er():
    """French writes "le 1er juin", never "le 1 juin"; contract start dates are always the 1st."""
    assert fmt.long_date(date(2026, 6, 1)) == "lundi 1er juin 2026"
    assert fmt.short_date(date(2026, 6, 1)) == "1er juin 2026"
    assert fmt.slot_label(datetime(2026, 12, 1, 9, 30)) == "mardi 1er décembre à 9h30"


@pytest.mark.parametrize("day", [10, 11, 21, 31])
def test_only_the_first_gets_an_ordinal(day):
    d = date(2026, 12, day)
    assert "er" not in fmt.short_date(d).split(" ")[0]
    assert fmt.short_date(d) == f"{day} décembre 2026"
    assert fmt.long_date(d).split(" ")[1] == str(day)


@pytest.mark.parametrize("d, expected", [
    (date(2024, 12, 1), "décembre 2024"),
    (date(2024, 12, 31), "décembre 2024"),
    (date(2026, 8, 1), "août 2026"),
    (date(2026, 2, 1), "février 2026"),
    (date(2025, 1, 1), "janvier 2025"),  # lower case, as in running French text
])
def test_month(d, expected):
    assert fmt.month(d) == expected


@pytest.mark.parametrize("t, expected", [
    (time(14, 30), "14h30"),
    (time(9, 0), "9h"),
    (time(9, 5), "9h05"),
    (time(22, 0), "22h"),
    (time(0, 30), "0h30"),
    (time(6, 30, 59), "6h30"),  # seconds are not read out
])
def test_hour(t, expected):
    assert fmt.hour(t) == expected


def test_slot_label():
    assert fmt.slot_label(datetime(2026, 12, 3, 14, 30)) == "jeudi 3 décembre à 14h30"
    assert fmt.slot_label(datetime(2026, 12, 4, 9, 0)) == "vendredi 4 décembre à 9h"


def test_clock():
    assert fmt.clock(time(9, 5)) == "09:05"
    assert fmt.clock(time(22, 30)) == "22:30"


# --- PDL ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("number, expected", [
    ("14295730100101", "14 295 730 100 101"),
    ("12345678901234", "12 345 678 901 234"),
    ("142 957 301 001 01", "14 295 730 100 101"),  # regrouped whatever the input spacing
    ("14295-73010-0101", "14 295 730 100 101"),
])
def test_pdl_grouping(number, expected):
    assert fmt.pdl(number) == expected


@pytest.mark.parametrize("number", ["123", "142957301001011", "", "PDL inconnu"])
def test_pdl_not_14_digits_is_left_as_is(number):
    assert fmt.pdl(number) == number
