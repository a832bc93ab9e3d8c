"""Checks on the bank details a customer gives for SEPA direct debit.

Every check returns a French message the assistant can show as is, so the
customer knows exactly what to correct instead of being told "invalid".
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

from hortense.replies import formatting

MSG_IBAN_EMPTY = "Veuillez saisir votre IBAN."
MSG_IBAN_CHARACTERS = "L'IBAN ne peut contenir que des lettres et des chiffres (les espaces sont acceptés)."
MSG_IBAN_PREFIX = "Un IBAN commence par deux lettres (le code pays, par exemple FR) suivies de deux chiffres."
MSG_IBAN_UNKNOWN_COUNTRY = (
    "Le code pays « {country} » ne correspond à aucun IBAN. Seuls les comptes de la zone SEPA sont acceptés."
)
MSG_IBAN_NOT_SEPA = "Seuls les comptes de la zone SEPA sont acceptés."
MSG_IBAN_LENGTH = "Un IBAN commençant par {country} comporte {expected} caractères ; vous en avez saisi {actual}."
MSG_IBAN_CHECKSUM = "La clé de contrôle de l'IBAN est incorrecte : vérifiez chaque caractère."
MSG_IBAN_STRUCTURE = (
    "Le format de cet IBAN ne correspond pas à celui des comptes {country} : vérifiez chaque caractère."
)
MSG_IBAN_RIB_KEY = (
    "La clé RIB (les deux derniers chiffres de l'IBAN) ne correspond pas au numéro "
    "de compte : vérifiez chaque caractère."
)

MSG_HOLDER_EMPTY = "Veuillez indiquer le nom du titulaire du compte."
MSG_HOLDER_TOO_SHORT = "Le nom du titulaire doit comporter au moins 2 caractères."
MSG_HOLDER_TOO_LONG = "Le nom du titulaire ne doit pas dépasser 70 caractères."
MSG_HOLDER_CHARACTERS = "Le nom du titulaire ne peut contenir que des lettres, des espaces et les caractères ' - . /"
MSG_HOLDER_NO_LETTERS = "Le nom du titulaire doit contenir au moins deux lettres."

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
    """Outcome of `validate_iban`: either a normalised IBAN or one customer-facing error."""

    ok: bool
    iban: str | None = None
    error: str | None = None
    country: str | None = None
    bank_name: str | None = None
    bic: str | None = None


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
        return IbanCheck(ok=False, error=MSG_IBAN_EMPTY)
    if not re.fullmatch(r"[A-Z0-9]+", compact):
        return IbanCheck(ok=False, error=MSG_IBAN_CHARACTERS)
    if not re.match(r"[A-Z]{2}[0-9]{2}", compact):
        return IbanCheck(ok=False, error=MSG_IBAN_PREFIX)

    country = compact[:2]
    expected_length = iban_length(country)
    if expected_length is None:
        return IbanCheck(ok=False, country=country, error=MSG_IBAN_UNKNOWN_COUNTRY.format(country=country))
    spec = iban_registry.get_iban_spec(country)
    if not spec.in_sepa_zone:
        return IbanCheck(ok=False, country=country, error=MSG_IBAN_NOT_SEPA)
    if len(compact) != expected_length:
        message = MSG_IBAN_LENGTH.format(country=country, expected=expected_length, actual=len(compact))
        return IbanCheck(ok=False, country=country, error=message)
    if not has_valid_checksum(compact):
        return IbanCheck(ok=False, country=country, error=MSG_IBAN_CHECKSUM)
    if not spec.regex.match(compact[4:]):
        return IbanCheck(ok=False, country=country, error=MSG_IBAN_STRUCTURE.format(country=country))
    if country in RIB_KEY_COUNTRIES:
        bban = compact[4:]
        if rib_key(bban[0:5], bban[5:10], bban[10:21]) != int(bban[21:23]):
            return IbanCheck(ok=False, country=country, error=MSG_IBAN_RIB_KEY)

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
    """French error message for an account holder name, or None when acceptable."""
    cleaned = (name or "").strip()
    if not cleaned:
        return MSG_HOLDER_EMPTY
    if len(cleaned) < HOLDER_MIN_LENGTH:
        return MSG_HOLDER_TOO_SHORT
    if len(cleaned) > HOLDER_MAX_LENGTH:
        return MSG_HOLDER_TOO_LONG
    if not _HOLDER_ALLOWED.fullmatch(cleaned):
        return MSG_HOLDER_CHARACTERS
    if len(_HOLDER_LETTER.findall(cleaned)) < 2:
        return MSG_HOLDER_NO_LETTERS
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


def effective_date_message(signed_on: date) -> str:
    """Tell the customer which debit will use the new account, and why."""
    first = effective_date(signed_on)
    if signed_on.day < MANDATE_CUTOFF_DAY:
        return f"Votre nouveau compte sera utilisé dès le prélèvement de {_month_name(first)}."
    still_old = _first_of_month(signed_on, 1)
    return (
        f"Votre changement étant enregistré à partir du {MANDATE_CUTOFF_DAY} du mois, "
        f"le prélèvement de {_month_name(still_old)} sera encore effectué sur votre "
        f"ancien compte ; le nouveau compte sera utilisé dès le prélèvement de "
        f"{_month_name(first)}."
    )


def _first_of_month(day: date, months_ahead: int) -> date:
    return date(day.year, day.month, 1) + relativedelta(months=months_ahead)


def _month_name(day: date) -> str:
    return formatting.month(day)
