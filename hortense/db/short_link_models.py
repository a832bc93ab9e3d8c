"""Short links: the opaque `/l/<token>` form of a signed document link, for channels without link buttons.

Only a hash of the token is kept; the row holds the signed path it redirects to and expires with it."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Text

from hortense.db.base import Base
from hortense.db.calendar_models import UTCDateTime


class ShortLink(Base):
    __tablename__ = "short_links"

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)  # SHA-256 of the token, hex
    target = Column(Text, nullable=False)  # the signed path and query on the web app ("/documents/…?c=…&sig=…")
    customer_number = Column(String(32), nullable=False)  # whom the signed link was made for
    expires_at = Column(UTCDateTime, nullable=False, index=True)  # the signed link's own expiry
