"""Tests for hortense.billing.bank_details: IBAN/RIB checks, holder name, masking, mandates."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from hortense.billing import bank_details
from hortense.billing.bank_details import (
    IbanCheck,
    effective_date,
    has_valid_checksum,
    mask_iban,
    new_mandate_reference,
    rib_key,
    validate_holder,
    validate_iban,
)
from hortense.replies.billing import (
    MSG_IBAN_CHARACTERS,
    MSG_IBAN_CHECKSUM,
    MSG_IBAN_EMPTY,
    MSG_IBAN_NOT_SEPA,
    MSG_IBAN_PREFIX,
    MSG_IBAN_RIB_KEY,
    effective_date_message,
    holder_error,
    iban_error,
)

# --- independent helpers used to BUILD test IBANs (not the code under test) ---

_LETTERS_TO_RIB_DIGITS = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "12345678912345678923456789"))


def rib_key_by_concatenation(bank: str, branch: str, account: str) -> int:
    """The other textbook formula: 97 - (bank·branch·account·00 mod 97)."""
    digits = "".join(_LETTERS_TO_RIB_DIGITS.get(c, c) for c in (bank + branch + account).upper())
    return 97 - int(digits + "00") % 97


def iban_check_digits(country: str, bban: str) -> str:
    numeric = "".join(str(int(c, 36)) for c in (bban + country + "00").upper())
    return f"{98 - int(numeric) % 97:02d}"


def build_iban(country: str, bban: str) -> str:
    return f"{country}{iban_check_digits(country, bban)}{bban}"


def build_french_iban(bank: str, branch: str, account: str, key: int | None = None,
                      country: str = "FR") -> str:
    if key is None:
        key = rib_key_by_concatenation(bank, branch, account)
    return build_iban(country, f"{bank}{branch}{account}{key:02d}")


KNOWN_FR = "FR7630006000011234567890189"  # bank 30006, branch 00001, account 12345678901, key 89
DE = "DE89370400440532013000"
BR = "BR1800360305000010009795493C1"  # valid IBAN, Brazil is outside SEPA


def test_builder_reproduces_known_french_iban():
    assert build_french_iban("30006", "00001", "12345678901") == KNOWN_FR


# --- rib_key -----------------------------------------------------------------


@pytest.mark.parametrize(
    "bank, branch, account",
    [
        ("30006", "00001", "12345678901"),
        ("20041", "01005", "0500013M026"),
        ("10278", "06076", "00020103301"),
        ("17515", "90000", "ABCDEFGHIJK"),
        ("12345", "67890", "LMNOPQRSTUV"),
        ("00000", "00000", "00000000000"),
    ],
)
def test_rib_key_matches_the_concatenation_formula(bank, branch, account):
    assert rib_key(bank, branch, account) == rib_key_by_concatenation(bank, branch, account)


def test_rib_key_known_value_and_letter_conversion():
    assert rib_key("30006", "00001", "12345678901") == 89
    # A=1, J=1, S=2 ... letters weigh like their converted digit, case-insensitively.
    assert rib_key("30006", "00001", "AJS45678901") == rib_key("30006", "00001", "11245678901")
    assert rib_key("30006", "00001", "ajs45678901") == rib_key("30006", "00001", "AJS45678901")


# --- validate_iban: accepted -------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        KNOWN_FR,
        "FR76 3000 6000 0112 3456 7890 189",
        "fr76 3000 6000 0112 3456 7890 189",
        "  FR76-3000-6000-0112-3456-7890-189  ",
        "FR76\u00a03000\u00a06000\u00a00112\u00a03456\u00a07890\u00a0189",
    ],
)
def test_valid_french_iban_is_normalised(raw):
    check = validate_iban(raw)
    assert check == IbanCheck(
        ok=True, iban=KNOWN_FR, problem=None, country="FR",
        bank_name=check.bank_name, bic=check.bic,
    )
    assert check.bic == "AGRIFRPPXXX"
    assert check.bank_name


@pytest.mark.parametrize(
    "bank, branch, account",
    [("20041", "01005", "0500013M026"), ("10278", "06076", "00020103301"),
     ("17515", "90000", "04123456789"), ("12345", "67890", "ABCDEFGHIJK")],
)
def test_generated_french_ibans_are_valid(bank, branch, account):
    iban = build_french_iban(bank, branch, account)
    check = validate_iban(iban)
    assert check.ok, iban_error(check)
    assert check.iban == iban and check.country == "FR" and iban_error(check) is None


def test_valid_german_iban_with_bank_lookup():
    check = validate_iban("DE89 3704 0044 0532 0130 00")
    assert check.ok and check.iban == DE and check.country == "DE"
    assert check.bic == "COBADEFFXXX"
    assert "Commerzbank" in check.bank_name


@pytest.mark.parametrize("iban", ["GB29NWBK60161331926819", "CH9300762011623852957",
                                  "NL91ABNA0417164300"])
def test_other_sepa_countries_are_accepted(iban):
    assert validate_iban(iban).ok


def test_monaco_iban_is_accepted_when_rib_key_is_right():
    iban = build_french_iban("11222", "00001", "01234567890", country="MC")
    assert validate_iban(iban).ok


# --- validate_iban: rejected, one distinct message per cause --------------------


def _with_digit_changed(iban: str, position: int) -> str:
    changed = str((int(iban[position]) + 1) % 10)
    return iban[:position] + changed + iban[position + 1:]


def test_empty_iban():
    for raw in ("", "   ", " - "):
        check = validate_iban(raw)
        assert not check.ok and check.iban is None and iban_error(check) == MSG_IBAN_EMPTY


@pytest.mark.parametrize(
    "raw",
    ["FR76 3000 6000 0112 3456 7890 18!", "FR76_30006000011234567890189",
     "FR76.3000.6000.0112.3456.7890.189", "FR76 3000 6000 0112 3456 7890 18é"],
)
def test_invalid_characters(raw):
    assert iban_error(validate_iban(raw)) == MSG_IBAN_CHARACTERS


@pytest.mark.parametrize("raw", ["7630006000011234567890189", "F776300060000112345678901",
                                 "FRA6300060000112345678901"])
def test_missing_country_prefix(raw):
    assert iban_error(validate_iban(raw)) == MSG_IBAN_PREFIX


def test_unknown_country_mentions_sepa():
    check = validate_iban("US12 3456 7890 1234 5678 90")
    assert not check.ok and check.country == "US"
    assert "« US »" in iban_error(check) and "zone SEPA" in iban_error(check)


def test_valid_iban_outside_sepa_is_refused():
    from schwifty import IBAN

    assert IBAN(BR).country_code == "BR"  # a genuinely valid IBAN...
    check = validate_iban(BR)
    assert not check.ok and iban_error(check) == MSG_IBAN_NOT_SEPA and check.country == "BR"
    assert iban_error(check) == "Seuls les comptes de la zone SEPA sont acceptés."


@pytest.mark.parametrize(
    "raw, actual", [(KNOWN_FR[:-1], 26), (KNOWN_FR + "4", 28), (DE[:-2], 20)]
)
def test_wrong_length_for_country(raw, actual):
    check = validate_iban(raw)
    expected = 27 if raw.startswith("FR") else 22
    assert not check.ok
    assert f"{expected} caractères" in iban_error(check) and f"saisi {actual}" in iban_error(check)
    assert raw[:2] in iban_error(check)


@pytest.mark.parametrize("position", [4, 10, 18, 26])
def test_single_typo_fails_checksum(position):
    check = validate_iban(_with_digit_changed(KNOWN_FR, position))
    assert iban_error(check) == MSG_IBAN_CHECKSUM
    assert iban_error(check) == "La clé de contrôle de l'IBAN est incorrecte : vérifiez chaque caractère."


def test_transposed_digits_fail_checksum():
    swapped = KNOWN_FR[:15] + KNOWN_FR[16] + KNOWN_FR[15] + KNOWN_FR[17:]
    assert swapped != KNOWN_FR
    assert iban_error(validate_iban(swapped)) == MSG_IBAN_CHECKSUM


def test_bad_structure_with_valid_checksum():
    # Letters are not allowed in a French bank code, even if mod-97 is satisfied.
    iban = build_iban("FR", "3000A0000112345678901" + "89")
    assert has_valid_checksum(iban)
    check = validate_iban(iban)
    assert not check.ok and "format" in iban_error(check) and "FR" in iban_error(check)


@pytest.mark.parametrize("country", ["FR", "MC"])
def test_wrong_rib_key_is_caught_even_when_mod97_passes(country):
    good_key = rib_key_by_concatenation("30006", "00001", "12345678901")
    bad_key = good_key % 97 + 1
    iban = build_french_iban("30006", "00001", "12345678901", key=bad_key, country=country)
    assert has_valid_checksum(iban), "check digits were recomputed: only the RIB key is wrong"
    check = validate_iban(iban)
    assert not check.ok and check.iban is None
    assert iban_error(check) == MSG_IBAN_RIB_KEY


def test_every_error_message_is_distinct():
    bad_inputs = [
        "",
        "FR76 3000!",
        "7630006000011234567890189",
        "US12345678901234567890",
        BR,
        KNOWN_FR[:-1],
        _with_digit_changed(KNOWN_FR, 10),
        build_iban("FR", "3000A0000112345678901" + "89"),
        build_french_iban("30006", "00001", "12345678901", key=12),
    ]
    errors = [iban_error(validate_iban(raw)) for raw in bad_inputs]
    assert all(errors) and len(set(errors)) == len(errors)
    assert all(not validate_iban(raw).ok for raw in bad_inputs)


@pytest.mark.parametrize(
    "compact, expected",
    [(KNOWN_FR, True), (DE, True), (BR, True), ("FR0130006000011234567890189", False),
     ("FR76", False), ("FR76 3000", False), ("", False)],
)
def test_has_valid_checksum(compact, expected):
    assert has_valid_checksum(compact) is expected


def test_iban_check_is_frozen():
    check = validate_iban(KNOWN_FR)
    with pytest.raises(AttributeError):
        check.ok = False  # type: ignore[misc]


# --- validate_holder -------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["Jean Dupont", "Zoé L'Hôte-Müller", "M. et Mme Martin", "SCI Les Érables / Gérance",
     "Jo", "Ève Œillet", "Anne\u2019Marie", "A" * 70, "  Jean Dupont  "],
)
def test_acceptable_holder_names(name):
    assert validate_holder(name) is None


@pytest.mark.parametrize(
    "name, fragment",
    [
        ("", "Veuillez indiquer"),
        ("   ", "Veuillez indiquer"),
        (None, "Veuillez indiquer"),
        ("J", "au moins 2 caractères"),
        ("A" * 71, "70 caractères"),
        ("Jean Dupont 2", "que des lettres"),
        ("Jean@Dupont", "que des lettres"),
        ("Jean_Dupont", "que des lettres"),
        ("王小明", "que des lettres"),
        ("--", "deux lettres"),
        ("J.", "deux lettres"),
    ],
)
def test_rejected_holder_names(name, fragment):
    error = holder_error(validate_holder(name))
    assert error is not None and fragment in error


# --- mask_iban --------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, masked",
    [
        (KNOWN_FR, "FR76 •••• •••• •••• •••• •••• 189"),
        ("fr76 3000 6000 0112 3456 7890 189", "FR76 •••• •••• •••• •••• •••• 189"),
        (DE, "DE89 •••• •••• •••• •••0 00"),
        ("NL91ABNA0417164300", "NL91 •••• •••• •••3 00"),
        ("FR7", "••••"),
        ("", "••••"),
    ],
)
def test_mask_iban(raw, masked):
    assert mask_iban(raw) == masked


def test_mask_iban_hides_the_account_number():
    masked = mask_iban(KNOWN_FR)
    assert "12345678" not in masked.replace(" ", "") and "30006" not in masked


# --- new_mandate_reference ---------------------------------------------------------

_SEPA_REFERENCE = re.compile(r"[A-Z0-9+?/\-:().,' ]{1,35}")
NOW = datetime(2026, 11, 26, 14, 30)


def test_mandate_reference_format():
    reference = new_mandate_reference("C001234", NOW)
    assert re.fullmatch(r"HRT-C001234-20261126-[A-Z0-9]{6}", reference)
    assert _SEPA_REFERENCE.fullmatch(reference)


def test_mandate_references_are_unique():
    references = {new_mandate_reference("C001234", NOW) for _ in range(500)}
    assert len(references) == 500


@pytest.mark.parametrize(
    "customer, expected_part",
    [("cli/123 45", "CLI12345"), ("ÉDF-42", "DF42"), ("1" * 40, "1" * 15)],
)
def test_mandate_reference_sanitises_and_fits_35_chars(customer, expected_part):
    reference = new_mandate_reference(customer, NOW)
    assert len(reference) <= 35 and _SEPA_REFERENCE.fullmatch(reference)
    assert reference.split("-")[1] == expected_part


@pytest.mark.parametrize("customer", ["", "   ", "///"])
def test_mandate_reference_needs_a_customer(customer):
    with pytest.raises(ValueError):
        new_mandate_reference(customer, NOW)


# --- effective_date -----------------------------------------------------------------


@pytest.mark.parametrize(
    "signed_on, expected",
    [
        (date(2026, 11, 1), date(2026, 12, 1)),
        (date(2026, 11, 19), date(2026, 12, 1)),
        (date(2026, 11, 20), date(2027, 1, 1)),
        (date(2026, 11, 30), date(2027, 1, 1)),
        (date(2026, 12, 19), date(2027, 1, 1)),
        (date(2026, 12, 20), date(2027, 2, 1)),
        (date(2027, 1, 31), date(2027, 3, 1)),
        (datetime(2026, 11, 19, 23, 59), date(2026, 12, 1)),
    ],
)
def test_effective_date(signed_on, expected):
    assert effective_date(signed_on) == expected


def test_effective_date_message_before_cutoff():
    message = effective_date_message(date(2026, 11, 19))
    assert message == "Votre nouveau compte sera utilisé dès le prélèvement de décembre 2026."


def test_effective_date_message_after_cutoff():
    message = effective_date_message(date(2026, 12, 20))
    assert "le prélèvement de janvier 2027 sera encore effectué sur votre ancien compte" in message
    assert "dès le prélèvement de février 2027" in message
    assert "20 du mois" in message


def test_cutoff_rule_lives_in_one_constant(monkeypatch):
    monkeypatch.setattr(bank_details, "MANDATE_CUTOFF_DAY", 10)
    assert effective_date(date(2026, 11, 12)) == date(2027, 1, 1)
    assert "10 du mois" in effective_date_message(date(2026, 11, 12))
