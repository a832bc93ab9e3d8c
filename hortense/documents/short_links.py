"""Short labelled links for channels that show links only as text (WhatsApp): `https://…/l/<token>`.

A signed document link (`hortense.documents.urls`) carries its customer, expiry and signature in the query
string: fine behind a button, too long and too revealing as chat text. Its short form is an opaque random token
(128 bits, `secrets.token_urlsafe`) kept server-side — only its SHA-256 is stored — with the signed path it
stands for, the customer it was signed for and the signed link's own expiry. The web app's `/l/<token>`
redirects to the signed link, which is checked again there (signature, expiry, session customer, ownership):
a short link never allows more than the signed link it stands for, and dies with it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hortense import clock
from hortense.db.short_link_models import ShortLink
from hortense.settings import Settings, get_settings

SHORT_PREFIX = "/l/"
TOKEN_BYTES = 16  # 128 bits of randomness: 22 URL-safe characters
TOKEN_FORMAT = re.compile(r"[A-Za-z0-9_-]{22}")
PURGE_AFTER = timedelta(days=1)  # expired rows are kept a day (an expired link gets the "expired" page), then go

Outcome = Literal["ok", "unknown", "expired"]


@dataclass(frozen=True)
class Resolved:
    outcome: Outcome
    target: str | None = None  # the signed path and query, for "ok"
    customer_number: str | None = None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def shorten(session: Session, signed_url: str, now: datetime | None = None, settings: Settings | None = None) -> str:
    """The short URL of a signed link of this web app (ValueError for anything else, or an expired link)."""
    s = settings or get_settings()
    at = now or clock.now()
    base = s.web_base_url
    if not signed_url.startswith(base + "/"):
        raise ValueError("only links of this web app are shortened")
    target = signed_url[len(base) :]
    query = parse_qs(urlsplit(target).query)
    customer, expires = (query.get(key, [""])[0] for key in ("c", "exp"))
    if not customer or not expires.isdigit() or not query.get("sig"):
        raise ValueError("not a signed link")
    expires_at = datetime.fromtimestamp(int(expires), timezone.utc)
    if expires_at <= at:
        raise ValueError("the signed link has expired")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.execute(delete(ShortLink).where(ShortLink.expires_at < at - PURGE_AFTER))
    session.add(ShortLink(token_hash=_hash(token), target=target, customer_number=customer, expires_at=expires_at))
    return f"{base}{SHORT_PREFIX}{token}"


def resolve(session: Session, token: str, now: datetime | None = None) -> Resolved:
    """What `/l/<token>` stands for: the signed target while it is valid, "expired" after, else "unknown"."""
    if not TOKEN_FORMAT.fullmatch(token or ""):
        return Resolved("unknown")
    row = session.execute(select(ShortLink).where(ShortLink.token_hash == _hash(token))).scalar_one_or_none()
    if row is None:
        return Resolved("unknown")
    if (now or clock.now()) >= row.expires_at:
        return Resolved("expired", customer_number=row.customer_number)
    return Resolved("ok", row.target, row.customer_number)
