"""Checks on the bank details a customer gives for SEPA direct debit.

Every check returns a precise reason (a code below, with the figures it needs), so the customer can be told
exactly what to correct instead of "invalid"; the French wording is in hortense/replies/billing.py.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from dateutil.relativedelta import relativedelta
from schwifty import IBAN
from schwifty import registry as iban_registry
from schwifty.exceptions import InvalidCountryCode, SchwiftyException

# Why an IBAN is refused (IbanCheck.problem), from the coarsest check to the finest.
IBAN_EMPTY = "iban_empty"
IBAN_CHARACTERS = "iban_characters"
IBAN_PREFIX = "iban_prefix"
IBAN_UNKNOWN_COUNTRY = "iban_unknown_country"
IBAN_NOT_SEPA = "iban_not_sepa"
IBAN_LENGTH = "iban_length"
IBAN_CHECKSUM = "iban_checksum"
IBAN_STRUCTURE = "iban_structure"
IBAN_RIB_KEY = "iban_rib_key"

# Why an account holder's name is refused (validate_holder).
HOLDER_EMPTY = "holder_empty"
HOLDER_TOO_SHORT = "holder_too_short"
HOLDER_TOO_LONG = "holder_too_long"
HOLDER_CHARACTERS = "holder_characters"
HOLDER_NO_LETTERS = "holder_no_letters"

# Countries whose BBAN is a French RIB (bank, branch, account, 2-digit RIB key).
RIB_KEY_COUNTRIES = frozenset({"FR", "MC", "BL", "GF", "GP", "MF", "MQ", "NC", "PF", "PM", "RE", "TF", "WF", "YT"})

# Changes signed before this day of the month apply to next month's debit;
# from this day on, the debit file is already prepared and they apply a month later.
MANDATE_CUTOFF_DAY = 20

HOLDER_MIN_LENGTH = 2
HOLDER_MAX_LENGTH = 70
MANDATE_REFERENCE_MAX_LENGTH = 35
MANDATE_REFERENCE_PREFIX = "HRT"
# No 0/O or 1/I: references are sometimes read aloud over the phone.
_MANDATE_RANDOM_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_MANDATE_RANDOM_LENGTH = 6

_SEPARATORS = re.compile(r"[\s\-]+")
_IBAN_LETTERS = str.maketrans({chr(65 + i): str(10 + i) for i in range(26)})  # A=10 .. Z=35
_RIB_LETTERS = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "12345678912345678923456789")
_HOLDER_ALLOWED = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿĀ-ž'’ \-./]+")
_HOLDER_LETTER = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿĀ-ž]")


@dataclass(frozen=True)
class IbanCheck:
    """Outcome of `validate_iban`: either a normalised IBAN or one reason (`problem`, one of IBAN_*).

    `expected_length`/`actual_length` are set with IBAN_LENGTH."""

    ok: bool
    iban: str | None = None
    problem: str | None = None
    country: str | None = None
    bank_name: str | None = None
    bic: str | None = None
    expected_length: int | None = None
    actual_length: int | None = None


def normalize_iban(raw: str) -> str:
    """Remove spaces/dashes and upper-case, the form banks and schwifty expect."""
    return _SEPARATORS.sub("", raw or "").upper()


@cache
def iban_length(country: str) -> int | None:
    """Length of an IBAN for this country code, or None if the country has no IBAN."""
    try:
        return iban_registry.get_iban_spec(country.upper()).iban_length
    except InvalidCountryCode:
        return None


def has_valid_checksum(compact: str) -> bool:
    """ISO 13616 mod-97 check of a compact IBAN (check digits must be 02..98)."""
    if not re.fullmatch(r"[A-Za-z]{2}[0-9]{2}[A-Za-z0-9]+", compact):
        return False
    if not 2 <= int(compact[2:4]) <= 98:
        return False
    rearranged = (compact[4:] + compact[:4]).upper()
    return int(rearranged.translate(_IBAN_LETTERS)) % 97 == 1


def rib_key(bank_code: str, branch_code: str, account_number: str) -> int:
    """French RIB key; a wrong one reveals a typo that the IBAN checksum can miss."""
    bank, branch, account = (
        int(part.upper().translate(_RIB_LETTERS)) for part in (bank_code, branch_code, account_number)
    )
    return 97 - ((89 * bank + 15 * branch + 3 * account) % 97)


def validate_iban(raw: str) -> IbanCheck:
    """Check an IBAN typed by a customer, from the coarsest error to the finest."""
    compact = normalize_iban(raw)
    if not compact:
        return IbanCheck(ok=False, problem=IBAN_EMPTY)
    if not re.fullmatch(r"[A-Z0-9]+", compact):
        return IbanCheck(ok=False, problem=IBAN_CHARACTERS)
    if not re.match(r"[A-Z]{2}[0-9]{2}", compact):
        return IbanCheck(ok=False, problem=IBAN_PREFIX)

    country = compact[:2]
    expected_length = iban_length(country)
    if expected_length is None:
        return IbanCheck(ok=False, country=country, problem=IBAN_UNKNOWN_COUNTRY)
    spec = iban_registry.get_iban_spec(country)
    if not spec.in_sepa_zone:
        return IbanCheck(ok=False, country=country, problem=IBAN_NOT_SEPA)
    if len(compact) != expected_length:
        return IbanCheck(
            ok=False,
            country=country,
            problem=IBAN_LENGTH,
            expected_length=expected_length,
            actual_length=len(compact),
        )
    if not has_valid_checksum(compact):
        return IbanCheck(ok=False, country=country, problem=IBAN_CHECKSUM)
    if not spec.regex.match(compact[4:]):
        return IbanCheck(ok=False, country=country, problem=IBAN_STRUCTURE)
    if country in RIB_KEY_COUNTRIES:
        bban = compact[4:]
        if rib_key(bban[0:5], bban[5:10], bban[10:21]) != int(bban[21:23]):
            return IbanCheck(ok=False, country=country, problem=IBAN_RIB_KEY)

    bank_name, bic = _bank_lookup(compact)
    return IbanCheck(ok=True, iban=compact, country=country, bank_name=bank_name, bic=bic)


def _bank_lookup(compact: str) -> tuple[str | None, str | None]:
    """Bank name and BIC when schwifty knows the bank; never blocks a valid IBAN."""
    try:
        iban = IBAN(compact)
        bic = iban.bic
        return iban.bank_name, (str(bic) if bic else None)
    except (SchwiftyException, ValueError, KeyError):
        return None, None


def validate_holder(name: str | None) -> str | None:
    """Why an account holder name is refused (one of HOLDER_*), or None when acceptable."""
    cleaned = (name or "").strip()
    if not cleaned:
        return HOLDER_EMPTY
    if len(cleaned) < HOLDER_MIN_LENGTH:
        return HOLDER_TOO_SHORT
    if len(cleaned) > HOLDER_MAX_LENGTH:
        return HOLDER_TOO_LONG
    if not _HOLDER_ALLOWED.fullmatch(cleaned):
        return HOLDER_CHARACTERS
    if len(_HOLDER_LETTER.findall(cleaned)) < 2:
        return HOLDER_NO_LETTERS
    return None


def mask_iban(iban: str) -> str:
    """Show only country, check digits and last 3 characters, grouped by 4 like a RIB."""
    compact = normalize_iban(iban)
    if len(compact) < 8:
        return "••••"
    masked = compact[:4] + "•" * (len(compact) - 7) + compact[-3:]
    return " ".join(masked[i : i + 4] for i in range(0, len(masked), 4))


def new_mandate_reference(customer_number: str, now: datetime) -> str:
    """Unique SEPA mandate reference (RUM): prefix, customer, date, random part.

    `now` should be the local (Paris) time: the date is the signature day.
    """
    customer = re.sub(r"[^A-Z0-9]", "", (customer_number or "").upper())
    if not customer:
        raise ValueError("customer_number must contain letters or digits")
    suffix = "".join(secrets.choice(_MANDATE_RANDOM_ALPHABET) for _ in range(_MANDATE_RANDOM_LENGTH))
    fixed = f"{MANDATE_REFERENCE_PREFIX}--{now:%Y%m%d}-{suffix}"
    customer = customer[: MANDATE_REFERENCE_MAX_LENGTH - len(fixed)]
    return f"{MANDATE_REFERENCE_PREFIX}-{customer}-{now:%Y%m%d}-{suffix}"


def effective_date(signed_on: date) -> date:
    """First day of the month whose debit uses the new account (see MANDATE_CUTOFF_DAY)."""
    months_ahead = 1 if signed_on.day < MANDATE_CUTOFF_DAY else 2
    return _first_of_month(signed_on, months_ahead)


def debit_still_on_old_account(signed_on: date) -> date | None:
    """The month (its first day) still debited from the old account, when the change comes after the cut-off."""
    return None if signed_on.day < MANDATE_CUTOFF_DAY else _first_of_month(signed_on, 1)


def _first_of_month(day: date, months_ahead: int) -> date:
    return date(day.year, day.month, 1) + relativedelta(months=months_ahead)
