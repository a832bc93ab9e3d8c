"""One-time codes that link a messaging-channel sender to a customer account.

Codes are short, so their safety rests on three rules enforced here: they are
stored only as a peppered HMAC, they expire quickly, and repeated wrong tries
lock the sender. The database layer stores the plain fields this module reads.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

CODE_LENGTH = 6
MIN_CODE_DIGITS = 6
MAX_CODE_DIGITS = 8

# A maximal run of ASCII digit groups joined by one space, NBSP or dash.
_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9]+(?:[ \u00a0\u202f\-][0-9]+)*")
_UNIT_AFTER = re.compile(r"\s*(?:€|\$|£|%|(?:eur|euros?|centimes?|kwh|kw|wh|mwh|kva)\b)", re.IGNORECASE)


class AttemptPolicy:
    """Limits for code attempts, kept together so they are changed together."""

    MAX_ATTEMPTS = 5
    LOCK = timedelta(hours=1)
    CODE_TTL = timedelta(minutes=10)

    @classmethod
    def is_locked(cls, failed_attempts: int, last_failure_at: datetime | None, now: datetime) -> bool:
        """Locked while the last of MAX_ATTEMPTS failures is less than LOCK old."""
        return cls.recent_failures(failed_attempts, last_failure_at, now) >= cls.MAX_ATTEMPTS

    @classmethod
    def is_expired(cls, created_at: datetime, now: datetime) -> bool:
        """A code older than CODE_TTL must no longer be accepted."""
        return now >= created_at + cls.CODE_TTL

    @classmethod
    def recent_failures(cls, failed_attempts: int, last_failure_at: datetime | None, now: datetime) -> int:
        """Failures still counting: the counter is forgotten LOCK after the last failure."""
        if last_failure_at is None or now >= last_failure_at + cls.LOCK:
            return 0
        return max(failed_attempts, 0)


def is_locked(failed_attempts: int, last_failure_at: datetime | None, now: datetime) -> bool:
    """See AttemptPolicy.is_locked."""
    return AttemptPolicy.is_locked(failed_attempts, last_failure_at, now)


def is_expired(created_at: datetime, now: datetime) -> bool:
    """See AttemptPolicy.is_expired."""
    return AttemptPolicy.is_expired(created_at, now)


def generate_code() -> str:
    """Uniformly random 6-digit code from the OS CSPRNG (leading zeros kept)."""
    return f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"


def hash_code(code: str, pepper: bytes) -> str:
    """Peppered HMAC-SHA256: a leaked table alone does not reveal 10^6 guessable codes."""
    if not pepper:
        raise ValueError("a non-empty pepper is required")
    digits = _normalize(code)
    if digits is None:
        raise ValueError("a code is 6 to 8 digits")
    return hmac.new(pepper, digits.encode("ascii"), hashlib.sha256).hexdigest()


def codes_match(code: str, stored_hash: str, pepper: bytes) -> bool:
    """Constant-time comparison of a typed code with the stored hash."""
    if _normalize(code) is None or not stored_hash:
        return False
    return hmac.compare_digest(hash_code(code, pepper), stored_hash.lower())


def iter_code_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, digits) of every code-like number; shared with log redaction.

    A code is 6-8 digits, typed in one block or in groups of 2-4 ("482 913").
    Phone numbers, PDL numbers, postcodes, amounts, dates, times and years
    have other shapes or contexts and are skipped.
    """
    for match in _DIGIT_RUN.finditer(text or ""):
        groups = re.split(r"[ \u00a0\u202f\-]", match.group())
        if _is_code_shaped(groups) and _is_standalone(text, match.start(), match.end()):
            yield match.start(), match.end(), "".join(groups)


def extract_code(text: str) -> str | None:
    """First code-like number in a message, as plain digits ("482 913" -> "482913")."""
    for _, _, digits in iter_code_spans(text):
        return digits
    return None


Outcome = Literal["linked", "wrong_code", "expired", "locked"]


@dataclass(frozen=True)
class AttemptResult:
    """What happened, and the counters the database layer must store for the sender."""

    outcome: Outcome
    failed_attempts: int
    last_failure_at: datetime | None


def check_attempt(
    typed_code: str,
    *,
    stored_hash: str | None,
    created_at: datetime | None,
    failed_attempts: int,
    last_failure_at: datetime | None,
    now: datetime,
    pepper: bytes,
) -> AttemptResult:
    """One step of the linking state machine for a sender.

    `stored_hash`/`created_at` are None when no unused code is pending: a guess
    then counts as a failure, so probing without a code still gets locked.
    Call it only when the message holds a code (see `extract_code`); the
    caller deletes the code on "linked" (single use).
    """
    failures = AttemptPolicy.recent_failures(failed_attempts, last_failure_at, now)
    if failures >= AttemptPolicy.MAX_ATTEMPTS:
        return AttemptResult("locked", failures, last_failure_at)
    if stored_hash is not None and created_at is not None and is_expired(created_at, now):
        return AttemptResult("expired", failures, last_failure_at)
    if stored_hash is not None and codes_match(typed_code, stored_hash, pepper):
        return AttemptResult("linked", 0, None)
    failures += 1
    outcome: Outcome = "locked" if failures >= AttemptPolicy.MAX_ATTEMPTS else "wrong_code"
    return AttemptResult(outcome, failures, now)


def _normalize(code: str) -> str | None:
    digits = re.sub(r"[ \u00a0\u202f\-]", "", code or "")
    if re.fullmatch(rf"[0-9]{{{MIN_CODE_DIGITS},{MAX_CODE_DIGITS}}}", digits):
        return digits
    return None


def _is_code_shaped(groups: list[str]) -> bool:
    digits = "".join(groups)
    if not MIN_CODE_DIGITS <= len(digits) <= MAX_CODE_DIGITS:
        return False
    if len(groups) > 1 and not all(2 <= len(group) <= 4 for group in groups):
        return False
    return not _is_date(groups)


def _is_date(groups: list[str]) -> bool:
    """8 digits forming DDMMYYYY or YYYYMMDD (e.g. 03-12-2026) are a date, not a code."""
    digits = "".join(groups)
    shape = [len(group) for group in groups]
    if len(digits) != 8 or shape not in ([8], [2, 2, 4], [4, 2, 2]):
        return False
    day_first = (digits[4:], digits[2:4], digits[:2])
    year_first = (digits[:4], digits[4:6], digits[6:])
    for year, month, day in (day_first, year_first):
        if 1900 <= int(year) <= 2099:
            try:
                date(int(year), int(month), int(day))
                return True
            except ValueError:
                continue
    return False


def _is_standalone(text: str, start: int, end: int) -> bool:
    """Not glued to letters, not a phone prefix, decimal, date, time or amount."""
    before = text[max(start - 2, 0) : start]
    after = text[end : end + 2]
    if before[-1:] and (before[-1].isalnum() or before[-1] in "+_"):
        return False
    if re.fullmatch(r"[0-9][/:.,]", before):
        return False
    if after[:1] and (after[0].isalnum() or after[0] == "_"):
        return False
    if re.fullmatch(r"[/:.,][0-9]", after):
        return False
    return not _UNIT_AFTER.match(text, end)
