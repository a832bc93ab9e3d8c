"""Month periods asked in French ("en mars", "l'an dernier", "les 3 derniers mois"), for history questions."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta

MONTHS = {
    "janvier": 1,
    "janv": 1,
    "jan": 1,
    "fevrier": 2,
    "fevr": 2,
    "fev": 2,
    "mars": 3,
    "avril": 4,
    "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "juil": 7,
    "aout": 8,
    "septembre": 9,
    "sept": 9,
    "sep": 9,
    "octobre": 10,
    "oct": 10,
    "novembre": 11,
    "nov": 11,
    "decembre": 12,
    "dec": 12,
}
DEFAULT_MONTHS = 6
NUMBER_WORDS = {
    "un": 1,
    "une": 1,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "six": 6,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
    "dix": 10,
    "onze": 11,
    "douze": 12,
    "treize": 13,
    "quatorze": 14,
    "quinze": 15,
    "seize": 16,
    "dix sept": 17,
    "dix huit": 18,
    "dix neuf": 19,
    "vingt": 20,
}


_NOT_A_DATE = re.compile(r"/\w+\{.*\}|\b[a-z]{1,5}-\d{4}-\d+\b|\d{5,}")


@dataclass(frozen=True)
class Period:
    start: date  # first day of the first month
    end: date  # first day of the last month (inclusive)
    explicit: bool  # False when the customer named no period and the default applies


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch)).replace("’", "'")


def add_months(d: date, n: int) -> date:
    """The first day of the month `n` months after (or before) `d`'s."""
    return date(d.year, d.month, 1) + relativedelta(months=n)


def last_complete_month(today: date) -> date:
    return add_months(date(today.year, today.month, 1), -1)


def default_period(today: date, months: int = DEFAULT_MONTHS) -> Period:
    end = last_complete_month(today)
    return Period(add_months(end, -(months - 1)), end, explicit=False)


def _month_in_past(month: int, today: date, year: int | None) -> date:
    if year:
        return date(year, month, 1)
    candidate = date(today.year, month, 1)
    return candidate if candidate <= date(today.year, today.month, 1) else date(today.year - 1, month, 1)


def parse_period(text: str, today: date) -> Period:
    """The period the customer asked about, or the default (last 6 complete months)."""
    # Contract numbers ("EVP-2021-000106"), PDLs and button payloads carry digits that are not dates.
    t = _NOT_A_DATE.sub(" ", normalise(text or ""))
    this_month = date(today.year, today.month, 1)
    m = re.search(r"(\d{1,2}|" + "|".join(NUMBER_WORDS) + r")\s+derniers?\s+mois", t)
    if m:
        n = int(m.group(1)) if m.group(1).isdigit() else NUMBER_WORDS[m.group(1)]
        n = max(1, min(n, 36))
        end = last_complete_month(today)
        return Period(add_months(end, -(n - 1)), end, True)
    if re.search(r"\b(ce mois[- ]ci|ce mois|mois en cours)\b", t):
        return Period(this_month, this_month, True)
    if re.search(r"\b(mois (dernier|precedent|passe)|dernier mois)\b", t):
        last = last_complete_month(today)
        return Period(last, last, True)
    if re.search(r"\ban(nee)? (derniere|dernier|passee|precedente)\b", t):
        return Period(date(today.year - 1, 1, 1), date(today.year - 1, 12, 1), True)
    if re.search(r"\b(cette annee|depuis le debut de l'?annee|l'?annee en cours)\b", t):
        return Period(date(today.year, 1, 1), this_month, True)
    month_words = "|".join(sorted(MONTHS, key=len, reverse=True))
    m = re.search(rf"\bdepuis (?:le mois de |l'?|le )?({month_words})\b\.?(?:\s+(20\d\d))?", t)
    if m:
        start = _month_in_past(MONTHS[m.group(1)], today, int(m.group(2)) if m.group(2) else None)
        return Period(start, max(start, this_month), True)
    found = [(MONTHS[w], int(y) if y else None) for w, y in re.findall(rf"\b({month_words})\b\.?(?:\s+(20\d\d))?", t)]
    if found:
        # Read in the customer's order: the last month named ends the period, the first one starts it.
        last_month, last_year = found[-1]
        end = _month_in_past(last_month, today, last_year)
        first_month, first_year = found[0]
        if first_year:
            start = date(first_year, first_month, 1)
        else:
            start = date(end.year, first_month, 1)
            if start > end:
                start = date(end.year - 1, first_month, 1)
        return Period(min(start, end), end, True)
    m = re.search(r"\b(?:en|pour|de|annee)\s+(20\d\d)\b", t) or re.search(r"\b(20\d\d)\b", t)
    if m:
        year = int(m.group(1))
        if 2000 <= year <= today.year:
            return Period(date(year, 1, 1), min(date(year, 12, 1), this_month), True)
    return default_period(today)
