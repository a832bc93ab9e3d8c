"""Tests for hortense.security.link_codes: generation, hashing, extraction, attempt policy."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone

import pytest

from hortense.security import link_codes
from hortense.security.link_codes import (
    AttemptPolicy,
    AttemptResult,
    check_attempt,
    codes_match,
    extract_code,
    generate_code,
    hash_code,
    is_expired,
    is_locked,
)

PEPPER = b"pepper-" * 5
NOW = datetime(2026, 11, 26, 16, 0, tzinfo=timezone.utc)


# --- generation and hashing ------------------------------------------------------


def test_policy_constants():
    assert AttemptPolicy.MAX_ATTEMPTS == 5
    assert AttemptPolicy.LOCK == timedelta(hours=1)
    assert AttemptPolicy.CODE_TTL == timedelta(minutes=10)


def test_generated_codes_are_six_digits_and_vary():
    codes = [generate_code() for _ in range(200)]
    assert all(len(code) == 6 and code.isdigit() and code.isascii() for code in codes)
    assert len(set(codes)) > 190


def test_generated_code_keeps_leading_zeros_and_uses_secrets(monkeypatch):
    seen = []

    def fake_randbelow(n):
        seen.append(n)
        return 42

    monkeypatch.setattr(link_codes.secrets, "randbelow", fake_randbelow)
    assert generate_code() == "000042"
    assert seen == [10**6]


def test_hash_is_peppered_hmac_sha256():
    expected = hmac.new(PEPPER, b"482913", hashlib.sha256).hexdigest()
    assert hash_code("482913", PEPPER) == expected
    assert "482913" not in hash_code("482913", PEPPER)
    assert hash_code("482913", PEPPER) != hashlib.sha256(b"482913").hexdigest()


def test_hash_depends_on_code_and_pepper():
    assert hash_code("482913", PEPPER) == hash_code("482913", PEPPER)
    assert hash_code("482913", PEPPER) != hash_code("482914", PEPPER)
    assert hash_code("482913", PEPPER) != hash_code("482913", b"other-pepper-value")


@pytest.mark.parametrize("spelling", ["482 913", "482-913", "48 29 13", "482\u00a0913"])
def test_hash_ignores_how_the_code_was_typed(spelling):
    assert hash_code(spelling, PEPPER) == hash_code("482913", PEPPER)


@pytest.mark.parametrize("bad", ["", "12345", "123456789", "12a456", "١٢٣٤٥٦"])
def test_hash_refuses_non_codes(bad):
    with pytest.raises(ValueError):
        hash_code(bad, PEPPER)


def test_hash_refuses_empty_pepper():
    with pytest.raises(ValueError):
        hash_code("482913", b"")


@pytest.mark.parametrize(
    "typed, expected",
    [("482913", True), ("482 913", True), ("482914", False), ("", False), ("abc", False),
     ("4829130", False)],
)
def test_codes_match(typed, expected):
    stored = hash_code("482913", PEPPER)
    assert codes_match(typed, stored, PEPPER) is expected


def test_codes_match_with_wrong_pepper_or_empty_hash():
    stored = hash_code("482913", PEPPER)
    assert not codes_match("482913", stored, b"another-pepper")
    assert not codes_match("482913", "", PEPPER)
    assert codes_match("482913", stored.upper(), PEPPER)


def test_codes_match_is_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(
        link_codes.hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b)
    )
    assert codes_match("482913", hash_code("482913", PEPPER), PEPPER)
    assert calls


# --- extract_code ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, code",
    [
        ("482913", "482913"),
        ("mon code c'est 482 913", "482913"),
        ("Mon code c'est 482 913.", "482913"),
        ("code : 482-913 merci", "482913"),
        ("48 29 13", "482913"),
        ("voici 1234 5678", "12345678"),
        ("code:0482913", "0482913"),
        ("le code est 000042 !", "000042"),
        ("482\u00a0913", "482913"),
        ("482913 reçu le 03/12/2026 à 14:30", "482913"),
        ("mon numéro 06 12 34 56 78, code 482913", "482913"),
    ],
)
def test_extract_code(text, code):
    assert extract_code(text) == code


@pytest.mark.parametrize(
    "text",
    [
        "",
        "bonjour",
        "12345",
        "06 12 34 56 78",
        "0612345678",
        "+33 6 12 34 56 78",
        "+33612345678",
        "PDL 09123456789012",
        "75011 Paris",
        "le 03/12/2026",
        "le 03-12-2026",
        "le 2026-12-03",
        "né le 03122026",
        "à 14:30:00",
        "en 2026",
        "150000 €",
        "150 000 euros",
        "123456,78",
        "1 234 567",
        "3500 kWh",
        "123456789",
        "AB123456",
        "123456abc",
        "١٢٣٤٥٦",
    ],
)
def test_extract_code_ignores_other_numbers(text):
    assert extract_code(text) is None


# --- lock and expiry -----------------------------------------------------------------


@pytest.mark.parametrize(
    "failed, last_failure, now, locked",
    [
        (0, None, NOW, False),
        (4, NOW, NOW, False),
        (5, NOW, NOW, True),
        (7, NOW, NOW, True),
        (5, NOW, NOW + timedelta(minutes=59, seconds=59), True),
        (5, NOW, NOW + timedelta(hours=1), False),
        (5, None, NOW, False),
    ],
)
def test_is_locked(failed, last_failure, now, locked):
    assert is_locked(failed, last_failure, now) is locked
    assert AttemptPolicy.is_locked(failed, last_failure, now) is locked


@pytest.mark.parametrize(
    "age, expired",
    [(timedelta(0), False), (timedelta(minutes=9, seconds=59), False),
     (timedelta(minutes=10), True), (timedelta(days=1), True)],
)
def test_is_expired(age, expired):
    assert is_expired(NOW, NOW + age) is expired
    assert AttemptPolicy.is_expired(NOW, NOW + age) is expired


# --- check_attempt state machine ------------------------------------------------------


def attempt(typed, *, failed=0, last=None, now=NOW, created=NOW, stored="482913"):
    return check_attempt(
        typed,
        stored_hash=hash_code(stored, PEPPER) if stored else None,
        created_at=created if stored else None,
        failed_attempts=failed,
        last_failure_at=last,
        now=now,
        pepper=PEPPER,
    )


def test_right_code_links_and_resets_counters():
    assert attempt("482913", failed=3, last=NOW) == AttemptResult("linked", 0, None)


def test_wrong_code_counts_a_failure():
    assert attempt("000000", now=NOW) == AttemptResult("wrong_code", 1, NOW)


def test_five_wrong_codes_lock_then_even_the_right_code_is_refused():
    failed, last = 0, None
    outcomes = []
    for minute in range(5):
        result = attempt("000000", failed=failed, last=last, now=NOW + timedelta(minutes=minute))
        failed, last = result.failed_attempts, result.last_failure_at
        outcomes.append(result.outcome)
    assert outcomes == ["wrong_code"] * 4 + ["locked"]
    assert failed == 5
    later = last + timedelta(minutes=30)
    blocked = attempt("482913", failed=failed, last=last, now=later, created=later)
    assert blocked == AttemptResult("locked", 5, last)


def test_lock_is_lifted_after_one_hour():
    last = NOW
    fresh = last + timedelta(hours=1)
    result = attempt("482913", failed=5, last=last, now=fresh, created=fresh)
    assert result.outcome == "linked"


def test_old_failures_are_forgotten():
    result = attempt("000000", failed=4, last=NOW - timedelta(hours=2))
    assert result == AttemptResult("wrong_code", 1, NOW)


def test_expired_code_is_refused_without_counting_a_failure():
    result = attempt("482913", failed=2, last=NOW, now=NOW + timedelta(minutes=10))
    assert result == AttemptResult("expired", 2, NOW)


def test_guess_without_a_pending_code_counts_as_failure():
    assert attempt("482913", stored=None) == AttemptResult("wrong_code", 1, NOW)
