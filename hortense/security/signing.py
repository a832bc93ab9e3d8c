"""Short-lived, customer-bound links to documents (invoices, contracts).

A link carries its own proof: an HMAC over the path, the customer and the
expiry, so the web app can serve a document without a session lookup and a
forwarded or guessed link stops working after a few minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal
from urllib.parse import urlencode

from hortense import clock

DEFAULT_TTL = timedelta(minutes=15)
MIN_SECRET_BYTES = 16

Reason = Literal["ok", "missing", "tampered", "expired", "wrong_customer"]

_EXP_FORMAT = re.compile(r"[1-9][0-9]{0,11}")  # one spelling per value
_SIG_FORMAT = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class LinkCheck:
    """Verification outcome; customer_number is set only when the signature is authentic."""

    ok: bool
    customer_number: str | None
    reason: Reason

    @property
    def verified_customer(self) -> str:
        """The customer number of a valid link (`ok`): what callers act on after checking `ok`."""
        if not self.ok or self.customer_number is None:
            raise ValueError(f"the link is not valid ({self.reason})")
        return self.customer_number


def sign_path(
    path: str,
    customer_number: str,
    secret: bytes,
    ttl: timedelta = DEFAULT_TTL,
    now: datetime | None = None,
) -> str:
    """Return `path?c=<customer>&exp=<unix>&sig=<hex>`, valid for `ttl`."""
    _check_secret(secret)
    if "?" in path or "#" in path:
        raise ValueError("sign a bare path, without query string or fragment")
    if not customer_number:
        raise ValueError("customer_number is required")
    if ttl <= timedelta(0):
        raise ValueError("ttl must be positive")
    expires = int(_unix(now) + ttl.total_seconds())
    signature = _signature(path, customer_number, expires, secret)
    return f"{path}?{urlencode({'c': customer_number, 'exp': expires, 'sig': signature})}"


def verify(
    path: str,
    query: Mapping[str, str],
    secret: bytes,
    now: datetime | None = None,
    expected_customer: str | None = None,
) -> LinkCheck:
    """Check signature, then expiry, then (if given) that the link is the session customer's."""
    _check_secret(secret)
    customer, expires, signature = (query.get(key) for key in ("c", "exp", "sig"))
    if not customer or not expires or not signature:
        return LinkCheck(False, None, "missing")
    if not all(isinstance(value, str) for value in (customer, expires, signature)):
        return LinkCheck(False, None, "tampered")
    if not _EXP_FORMAT.fullmatch(expires) or not _SIG_FORMAT.fullmatch(signature):
        return LinkCheck(False, None, "tampered")
    expected = _signature(path, customer, int(expires), secret)
    if not hmac.compare_digest(expected, signature):
        return LinkCheck(False, None, "tampered")
    if _unix(now) >= int(expires):
        return LinkCheck(False, customer, "expired")
    if expected_customer is not None and not hmac.compare_digest(
        customer.encode("utf-8"), expected_customer.encode("utf-8")
    ):
        return LinkCheck(False, customer, "wrong_customer")
    return LinkCheck(True, customer, "ok")


def _signature(path: str, customer_number: str, expires: int, secret: bytes) -> str:
    # JSON keeps the three fields unambiguous: no separator trick can move
    # characters from the path into the customer number.
    message = json.dumps(["v1", path, customer_number, expires], separators=(",", ":"))
    return hmac.new(secret, message.encode("utf-8"), hashlib.sha256).hexdigest()


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, (bytes, bytearray)) or len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"secret must be at least {MIN_SECRET_BYTES} bytes")


def _unix(now: datetime | None) -> float:
    """Unix time; a naive `now` is taken as UTC, not as the server's local time."""
    if now is None:
        return clock.timestamp()
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return now.timestamp()
