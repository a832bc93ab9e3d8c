"""French month periods ("en mars", "l'an dernier", "les 3 derniers mois") against a fixed today."""
from __future__ import annotations

from datetime import date

import pytest

from hortense.energy.periods import DEFAULT_MONTHS, Period, add_months, default_period, last_complete_month, parse_period

TODAY = date(2026, 11, 26)  # same day as the seeded demo data
D = date


@pytest.mark.parametrize("text, start, end", [
    ("en mars", D(2026, 3, 1), D(2026, 3, 1)),
    ("ma conso en mars ?", D(2026, 3, 1), D(2026, 3, 1)),
    ("EN MARS", D(2026, 3, 1), D(2026, 3, 1)),
    ("mars 2025", D(2025, 3, 1), D(2025, 3, 1)),
    ("en février", D(2026, 2, 1), D(2026, 2, 1)),
    ("en fevrier", D(2026, 2, 1), D(2026, 2, 1)),
    ("en août", D(2026, 8, 1), D(2026, 8, 1)),
    ("en novembre", D(2026, 11, 1), D(2026, 11, 1)),  # the current month is not in the future
    ("en décembre", D(2025, 12, 1), D(2025, 12, 1)),  # a future month means last year's
    ("décembre 2024", D(2024, 12, 1), D(2024, 12, 1)),
    ("en sept.", D(2026, 9, 1), D(2026, 9, 1)),
    ("depuis janvier", D(2026, 1, 1), D(2026, 11, 1)),
    ("depuis le mois de mars 2025", D(2025, 3, 1), D(2026, 11, 1)),
    ("depuis décembre", D(2025, 12, 1), D(2026, 11, 1)),
    ("les 3 derniers mois", D(2026, 8, 1), D(2026, 10, 1)),
    ("trois derniers mois", D(2026, 8, 1), D(2026, 10, 1)),
    ("mes douze derniers mois", D(2025, 11, 1), D(2026, 10, 1)),
    ("sur les 12 derniers mois", D(2025, 11, 1), D(2026, 10, 1)),
    ("le mois dernier", D(2026, 10, 1), D(2026, 10, 1)),
    ("le mois précédent", D(2026, 10, 1), D(2026, 10, 1)),
    ("ce mois-ci", D(2026, 11, 1), D(2026, 11, 1)),
    ("ce mois ci", D(2026, 11, 1), D(2026, 11, 1)),
    ("le mois en cours", D(2026, 11, 1), D(2026, 11, 1)),
    ("l'an dernier", D(2025, 1, 1), D(2025, 12, 1)),
    ("l’an dernier", D(2025, 1, 1), D(2025, 12, 1)),  # typographic apostrophe
    ("l'année dernière", D(2025, 1, 1), D(2025, 12, 1)),
    ("l'annee derniere", D(2025, 1, 1), D(2025, 12, 1)),
    ("l'année passée", D(2025, 1, 1), D(2025, 12, 1)),
    ("cette année", D(2026, 1, 1), D(2026, 11, 1)),
    ("en 2025", D(2025, 1, 1), D(2025, 12, 1)),
    ("pour 2024", D(2024, 1, 1), D(2024, 12, 1)),
    ("en 2026", D(2026, 1, 1), D(2026, 11, 1)),  # the current year stops at this month
    ("de janvier à mars", D(2026, 1, 1), D(2026, 3, 1)),
    ("entre avril et juin", D(2026, 4, 1), D(2026, 6, 1)),
    ("de novembre 2025 à février 2026", D(2025, 11, 1), D(2026, 2, 1)),
])
def test_parse_period_explicit(text, start, end):
    assert parse_period(text, TODAY) == Period(start, end, explicit=True)


# --- phrasings parse_period once got wrong, kept as regression tests -----------------------------------------

@pytest.mark.parametrize("text", [
    # Typed without the apostrophe (phones, quick typing): the pattern requires "l'an" / "lan", so these
    # fall back to the default 6 months instead of last year.
    "l annee derniere",
    "l année dernière",
    "l an dernier",
    "année dernière",
])
def test_parse_period_last_year_without_apostrophe(text):
    assert parse_period(text, TODAY) == Period(D(2025, 1, 1), D(2025, 12, 1), explicit=True)


def test_parse_period_le_dernier_mois_is_the_last_complete_month():
    # "le dernier mois" (no number) matches no pattern and falls back to the default 6 months.
    assert parse_period("le dernier mois", TODAY) == Period(D(2026, 10, 1), D(2026, 10, 1), explicit=True)


@pytest.mark.parametrize("text, start, end", [
    # The year written once after the last month applies to the whole range: today the year is only
    # attached to the month it follows, giving March 2025 .. January 2026.
    ("de janvier à mars 2025", D(2025, 1, 1), D(2025, 3, 1)),
    ("entre octobre et décembre 2025", D(2025, 10, 1), D(2025, 12, 1)),
    ("janvier et février 2025", D(2025, 1, 1), D(2025, 2, 1)),
    # A range read in order across the year boundary: today the months are sorted, giving Feb..Nov 2026.
    ("de novembre à février", D(2025, 11, 1), D(2026, 2, 1)),
    ("de novembre à février 2026", D(2025, 11, 1), D(2026, 2, 1)),
])
def test_parse_period_month_range_with_one_year_or_across_new_year(text, start, end):
    assert parse_period(text, TODAY) == Period(start, end, explicit=True)


@pytest.mark.parametrize("text", ["", None, "ma consommation", "combien j'ai consommé ?", "en 2027", "en 1999"])
def test_parse_period_without_a_usable_period_is_the_default_six_complete_months(text):
    period = parse_period(text, TODAY)
    assert period == Period(D(2026, 5, 1), D(2026, 10, 1), explicit=False)
    assert period == default_period(TODAY)


def test_default_period_counts_complete_months_only():
    period = default_period(TODAY)
    assert DEFAULT_MONTHS == 6
    assert period.end == last_complete_month(TODAY) == D(2026, 10, 1)
    assert add_months(period.start, DEFAULT_MONTHS - 1) == period.end
    assert default_period(D(2026, 2, 10)) == Period(D(2025, 8, 1), D(2026, 1, 1), explicit=False)
    assert default_period(TODAY, months=1) == Period(D(2026, 10, 1), D(2026, 10, 1), explicit=False)


def test_last_months_across_the_year_boundary():
    assert parse_period("les 3 derniers mois", D(2026, 2, 1)) == Period(D(2025, 11, 1), D(2026, 1, 1), True)
    assert parse_period("le mois dernier", D(2026, 1, 31)) == Period(D(2025, 12, 1), D(2025, 12, 1), True)


def test_last_months_count_is_bounded():
    assert parse_period("les 0 derniers mois", TODAY) == Period(D(2026, 10, 1), D(2026, 10, 1), True)
    assert parse_period("les 99 derniers mois", TODAY) == Period(add_months(D(2026, 10, 1), -35), D(2026, 10, 1),
                                                                 True)


def test_a_month_already_past_this_year_stays_this_year_in_january():
    assert parse_period("en janvier", D(2027, 1, 5)) == Period(D(2027, 1, 1), D(2027, 1, 1), True)
    assert parse_period("en février", D(2027, 1, 5)) == Period(D(2026, 2, 1), D(2026, 2, 1), True)


def test_period_start_is_never_after_end():
    for text in ("depuis janvier", "de janvier à mars", "de décembre à janvier", "les 2 derniers mois",
                 "l'an dernier", "en 2026", "ce mois-ci"):
        period = parse_period(text, TODAY)
        assert period.start <= period.end, text
        assert period.start.day == 1 and period.end.day == 1, text


@pytest.mark.parametrize("d, n, expected", [
    (D(2026, 11, 26), 0, D(2026, 11, 1)),
    (D(2026, 11, 1), 1, D(2026, 12, 1)),
    (D(2026, 11, 1), 2, D(2027, 1, 1)),
    (D(2026, 12, 31), 1, D(2027, 1, 1)),
    (D(2026, 1, 31), -1, D(2025, 12, 1)),
    (D(2026, 3, 1), -14, D(2025, 1, 1)),
    (D(2026, 1, 1), -24, D(2024, 1, 1)),
    (D(2026, 1, 1), 36, D(2029, 1, 1)),
    (D(2024, 2, 29), 12, D(2025, 2, 1)),
])
def test_add_months_across_years(d, n, expected):
    assert add_months(d, n) == expected


def test_add_months_round_trip():
    start = D(2026, 11, 1)
    for n in range(-30, 31):
        assert add_months(add_months(start, n), -n) == start
