"""Tests for hortense.security.signing: HMAC-signed, expiring, customer-bound links."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

import pytest

from hortense.security import signing
from hortense.security.signing import DEFAULT_TTL, LinkCheck, sign_path, verify

SECRET = b"s" * 32
OTHER_SECRET = b"t" * 32
NOW = datetime(2026, 11, 26, 16, 0, tzinfo=timezone.utc)
PATH = "/documents/factures/F2026-0042.pdf"
CUSTOMER = "C001234"


def split(link: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(link)
    return parts.path, dict(parse_qsl(parts.query, keep_blank_values=True))


def signed(customer: str = CUSTOMER, path: str = PATH, **kwargs) -> tuple[str, dict[str, str]]:
    return split(sign_path(path, customer, SECRET, now=NOW, **kwargs))


def test_link_format():
    link = sign_path(PATH, CUSTOMER, SECRET, now=NOW)
    path, query = split(link)
    assert link.startswith(PATH + "?c=C001234&exp=")
    assert path == PATH and set(query) == {"c", "exp", "sig"}
    assert query["exp"] == str(int((NOW + DEFAULT_TTL).timestamp()))
    assert len(query["sig"]) == 64 and int(query["sig"], 16) >= 0


def test_default_ttl_is_15_minutes():
    assert DEFAULT_TTL == timedelta(minutes=15)


def test_valid_link_is_accepted():
    path, query = signed()
    assert verify(path, query, SECRET, now=NOW) == LinkCheck(True, CUSTOMER, "ok")
    assert verify(path, query, SECRET, now=NOW, expected_customer=CUSTOMER).ok


def test_special_characters_in_customer_number_survive_the_url():
    path, query = signed(customer="A&B=C/é 1")
    assert query["c"] == "A&B=C/é 1"
    assert verify(path, query, SECRET, now=NOW).customer_number == "A&B=C/é 1"


@pytest.mark.parametrize(
    "field, new_value",
    [
        ("sig", "0" * 64),
        ("c", "C001235"),
        ("exp", None),  # replaced below by a later expiry
    ],
)
def test_tampered_query_is_rejected(field, new_value):
    path, query = signed()
    if new_value is None:
        new_value = str(int(query["exp"]) + 3600)
    query[field] = new_value
    assert verify(path, query, SECRET, now=NOW) == LinkCheck(False, None, "tampered")


def test_signature_with_one_flipped_character_is_rejected():
    path, query = signed()
    last = query["sig"][-1]
    query["sig"] = query["sig"][:-1] + ("0" if last != "0" else "1")
    assert verify(path, query, SECRET, now=NOW).reason == "tampered"


@pytest.mark.parametrize(
    "other_path",
    ["/documents/factures/F2026-0043.pdf", "/documents/factures/F2026-0042.pdf/",
     "/documents/contrats/F2026-0042.pdf", "/documents/factures/f2026-0042.pdf"],
)
def test_tampered_path_is_rejected(other_path):
    _, query = signed()
    assert verify(other_path, query, SECRET, now=NOW).reason == "tampered"


@pytest.mark.parametrize(
    "exp_transform",
    [lambda e: "+" + e, lambda e: " " + e, lambda e: e + ".0", lambda e: "0" + e,
     lambda e: "1_" + e, lambda e: "-1", lambda e: "abc"],
)
def test_exp_must_be_plain_digits_exactly_as_signed(exp_transform):
    path, query = signed()
    query["exp"] = exp_transform(query["exp"])
    assert verify(path, query, SECRET, now=NOW).reason == "tampered"


@pytest.mark.parametrize("bad_sig", ["XYZ", "A" * 64, "0" * 63, "0" * 65])
def test_malformed_signature_is_tampered(bad_sig):
    path, query = signed()
    query["sig"] = bad_sig
    assert verify(path, query, SECRET, now=NOW).reason == "tampered"


def test_non_string_query_values_are_tampered():
    path, query = signed()
    query_with_list = {**query, "c": [CUSTOMER]}
    assert verify(path, query_with_list, SECRET, now=NOW).reason == "tampered"


def test_customers_cannot_be_shifted_into_the_path():
    # An ambiguous concatenation would let ("/a", "b/c") sign the same as ("/ab/", "c").
    _, query = split(sign_path("/a", "b/c", SECRET, now=NOW))
    query["c"] = "c"
    assert verify("/ab/", query, SECRET, now=NOW).reason == "tampered"


@pytest.mark.parametrize(
    "delay, reason",
    [
        (timedelta(0), "ok"),
        (timedelta(minutes=14, seconds=59), "ok"),
        (timedelta(minutes=15), "expired"),
        (timedelta(hours=3), "expired"),
    ],
)
def test_expiry(delay, reason):
    path, query = signed()
    check = verify(path, query, SECRET, now=NOW + delay)
    assert check.reason == reason and check.ok is (reason == "ok")
    assert check.customer_number == CUSTOMER  # authentic, even when expired


def test_custom_ttl():
    path, query = signed(ttl=timedelta(hours=1))
    assert verify(path, query, SECRET, now=NOW + timedelta(minutes=59)).ok
    assert verify(path, query, SECRET, now=NOW + timedelta(hours=1)).reason == "expired"


def test_naive_now_is_taken_as_utc():
    naive_now = NOW.replace(tzinfo=None)
    path, query = split(sign_path(PATH, CUSTOMER, SECRET, now=naive_now))
    assert query["exp"] == str(int((NOW + DEFAULT_TTL).timestamp()))
    assert verify(path, query, SECRET, now=naive_now + timedelta(minutes=16)).reason == "expired"


def test_wrong_secret_is_rejected():
    path, query = signed()
    assert verify(path, query, OTHER_SECRET, now=NOW) == LinkCheck(False, None, "tampered")


def test_wrong_customer():
    path, query = signed(customer="C-A")
    check = verify(path, query, SECRET, now=NOW, expected_customer="C-B")
    assert check == LinkCheck(False, "C-A", "wrong_customer")


def test_expired_takes_precedence_over_wrong_customer():
    path, query = signed(customer="C-A")
    later = NOW + timedelta(hours=1)
    assert verify(path, query, SECRET, now=later, expected_customer="C-B").reason == "expired"


@pytest.mark.parametrize("missing", [("c",), ("exp",), ("sig",), ("c", "exp", "sig")])
def test_missing_params(missing):
    path, query = signed()
    for key in missing:
        del query[key]
    assert verify(path, query, SECRET, now=NOW) == LinkCheck(False, None, "missing")


@pytest.mark.parametrize("key", ["c", "exp", "sig"])
def test_empty_params_count_as_missing(key):
    path, query = signed()
    query[key] = ""
    assert verify(path, query, SECRET, now=NOW).reason == "missing"


def test_signature_comparison_is_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(signing.hmac, "compare_digest", spy)
    path, query = signed()
    verify(path, query, SECRET, now=NOW)
    assert any(query["sig"] in pair for pair in calls)


@pytest.mark.parametrize("secret", [b"", b"short", "a-str-secret-of-32-characters!!!"])
def test_weak_or_wrongly_typed_secret_is_refused(secret):
    with pytest.raises(ValueError):
        sign_path(PATH, CUSTOMER, secret, now=NOW)
    with pytest.raises(ValueError):
        verify(PATH, {"c": "x", "exp": "1", "sig": "0" * 64}, secret, now=NOW)


@pytest.mark.parametrize(
    "path, customer, ttl",
    [("/doc?x=1", CUSTOMER, DEFAULT_TTL), ("/doc#frag", CUSTOMER, DEFAULT_TTL),
     (PATH, "", DEFAULT_TTL), (PATH, CUSTOMER, timedelta(0)),
     (PATH, CUSTOMER, timedelta(minutes=-1))],
)
def test_sign_path_refuses_bad_input(path, customer, ttl):
    with pytest.raises(ValueError):
        sign_path(path, customer, SECRET, ttl=ttl, now=NOW)


def test_default_now_uses_the_clock():
    path, query = split(sign_path(PATH, CUSTOMER, SECRET))
    assert verify(path, query, SECRET).ok
