"""Verification codes printed on documents, so a third party (landlord, bank) can check one is genuine.

The code is an HMAC over who the document is for and when it was issued: anyone holding the URL can
confirm the document, nobody can forge one for another contract, holder or date without the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import date
from typing import NamedTuple

# Document kinds, as they appear in the (French, customer-visible) verification URL.
PROOF_OF_ADDRESS = "attestation-domicile"
CONTRACT = "contrat"
INVOICE = "facture"
KINDS = frozenset({PROOF_OF_ADDRESS, CONTRACT, INVOICE})

CODE_LENGTH = 16  # base32 characters: 80 bits, far beyond guessing through a rate-limited web page
_DOMAIN = "hortense-document-v1"  # versions the message format and keeps these MACs apart from other uses of a key

_CODE_RE = re.compile(rf"[A-Z2-7]{{{CODE_LENGTH}}}")
_CONTRACT_NUMBER_RE = re.compile(r"[A-Za-z0-9-]{1,40}")
_PATH_RE = re.compile(
    r"/verifier/(?P<kind>[a-z-]+)/(?P<contract>[A-Za-z0-9-]{1,40})/(?P<issued>\d{4}-\d{2}-\d{2})"
    rf"/(?P<code>[A-Za-z2-7]{{{CODE_LENGTH}}})/?"
)


class VerificationRef(NamedTuple):
    """What a verification URL names; the customer number is not in it but is bound by the code."""

    kind: str
    contract_number: str
    issued_on: date
    code: str


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown document kind: {kind!r}")


def _canonical_contract(contract_number: str) -> str:
    """Contract numbers are looked up case-insensitively, so the code must not depend on case either."""
    number = (contract_number or "").strip().upper()
    if not _CONTRACT_NUMBER_RE.fullmatch(number):
        raise ValueError(f"contract number not usable in a URL: {contract_number!r}")
    return number


def _iso_date(issued_on: date) -> str:
    # A datetime would put a time in the MAC that the URL (date only) cannot carry back.
    if type(issued_on) is not date:
        raise TypeError("issued_on must be a datetime.date")
    return issued_on.isoformat()


def document_code(kind: str, customer_number: str, contract_number: str, issued_on: date, secret: bytes) -> str:
    """The code to put in the verification URL of a document issued to this customer for this contract."""
    if not secret:
        raise ValueError("a document secret is required")  # an empty key would make every code forgeable
    _check_kind(kind)
    # JSON keeps the fields unambiguous whatever characters they contain.
    message = json.dumps(
        [_DOMAIN, kind, customer_number, _canonical_contract(contract_number), _iso_date(issued_on)],
        separators=(",", ":"),
    ).encode("utf-8")
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.b32encode(digest[: CODE_LENGTH * 5 // 8]).decode("ascii")


def verify_document_code(
    code: str, kind: str, customer_number: str, contract_number: str, issued_on: date, secret: bytes
) -> bool:
    """True only if `code` was issued for exactly these facts; compares in constant time."""
    if not secret:
        raise ValueError("a document secret is required")  # a misconfiguration, not a forged document
    if not isinstance(code, str):
        return False
    candidate = code.strip().upper()  # people retype codes; base32 is case-insensitive
    if not _CODE_RE.fullmatch(candidate):
        return False
    try:
        expected = document_code(kind, customer_number, contract_number, issued_on, secret)
    except (TypeError, ValueError):
        return False  # unknown kind or unusable contract number: nothing was ever issued for it
    return hmac.compare_digest(expected, candidate)


def verification_path(kind: str, contract_number: str, issued_on: date, code: str) -> str:
    """'/verifier/<kind>/<contract_number>/<issued_on ISO>/<code>', to append to the public base URL."""
    _check_kind(kind)
    number = (contract_number or "").strip()
    if not _CONTRACT_NUMBER_RE.fullmatch(number):
        raise ValueError(f"contract number not usable in a URL: {contract_number!r}")
    if not _CODE_RE.fullmatch(code or ""):
        raise ValueError("not a document code")
    return f"/verifier/{kind}/{number}/{_iso_date(issued_on)}/{code}"


def parse_verification_path(path: str) -> VerificationRef | None:
    """The parts of a verification path, or None for anything malformed (the page then says 'not found')."""
    match = _PATH_RE.fullmatch(path or "")
    if not match or match["kind"] not in KINDS:
        return None
    try:
        issued_on = date.fromisoformat(match["issued"])
    except ValueError:
        return None
    return VerificationRef(match["kind"], match["contract"], issued_on, match["code"].upper())
