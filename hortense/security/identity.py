"""Who is talking: the portal's JWT for the website, and the assertion a connector hands to the actions.

A customer's identity never comes from what they type. The website connector verifies the portal
JWT and the messaging connectors verify the platform's webhook signature; each then attaches an
HMAC-signed *assertion* (channel, sender, customer) to the message metadata. Actions accept an
identity only from a valid assertion bound to the conversation's own sender and channel, so neither
client metadata nor a `/intent{...}` message can claim one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

import jwt

from hortense import clock
from hortense.settings import Settings, get_settings

ASSERTION_KEY = "hortense_identity"
ASSERTION_MAX_AGE_SECONDS = 15 * 60


class IdentityError(Exception):
    """The token or assertion cannot be trusted; the message says why, for logs (never the token)."""


@dataclass(frozen=True)
class PortalClaims:
    customer_number: str
    expires_at: int


def mint_portal_token(
    customer_number: str, minutes: int | None = None, settings: Settings | None = None, now: float | None = None
) -> str:
    """What the customer portal does after login: a short-lived HS256 token for the chat widget."""
    s = settings or get_settings()
    issued = int(now if now is not None else clock.timestamp())
    claims = {
        "sub": customer_number,
        "iss": s.portal_jwt_issuer,
        "aud": s.portal_jwt_audience,
        "iat": issued,
        "exp": issued + 60 * (minutes if minutes is not None else s.portal_token_minutes),
    }
    return jwt.encode(claims, s.portal_jwt_secret, algorithm="HS256")


def verify_portal_token(token: str, settings: Settings | None = None) -> PortalClaims:
    """Signature (HS256 only: no `none`, no algorithm confusion), `exp`, `aud`, `iss`, `sub` all required."""
    s = settings or get_settings()
    if not token or not isinstance(token, str):
        raise IdentityError("missing token")
    try:
        claims = jwt.decode(
            token,
            s.portal_jwt_secret,
            algorithms=["HS256"],
            audience=s.portal_jwt_audience,
            issuer=s.portal_jwt_issuer,
            # PyJWT reads the system clock: the times are checked against Hortense's one clock instead, below.
            options={
                "require": ["exp", "aud", "iss", "sub"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise IdentityError(f"invalid token: {type(exc).__name__}") from exc
    _check_token_times(claims, clock.timestamp())
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip() or len(sub) > 64:
        raise IdentityError("invalid subject")
    return PortalClaims(customer_number=sub, expires_at=int(claims["exp"]))


TOKEN_LEEWAY_SECONDS = 5


def _check_token_times(claims: dict, current: float) -> None:
    """`exp` (required), `nbf` and `iat` (when present) against the clock, with a few seconds of leeway."""
    times = {name: claims.get(name) for name in ("exp", "nbf", "iat")}
    if any(v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))) for v in times.values()):
        raise IdentityError("invalid token: bad time claim")
    expires = times["exp"]  # required: PyJWT refuses a token without it
    if expires is None or current > expires + TOKEN_LEEWAY_SECONDS:
        raise IdentityError("expired token")
    if any(t is not None and t > current + TOKEN_LEEWAY_SECONDS for t in (times["nbf"], times["iat"])):
        raise IdentityError("invalid token: not yet valid")


def web_sender_id(customer_number: str) -> str:
    """The conversation id of a logged-in website customer, chosen by the server from the verified subject."""
    return f"web-{customer_number}"


def _mac(secret: str, payload: dict) -> str:
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_assertion(
    channel: str,
    sender_id: str,
    customer_number: str | None,
    settings: Settings | None = None,
    now: float | None = None,
) -> dict:
    """Metadata a trusted connector attaches to a message. `customer_number` is None for visitors and for
    messaging senders (whose customer comes from the account-link table)."""
    s = settings or get_settings()
    payload = {
        "channel": channel,
        "sender": sender_id,
        "customer": customer_number,
        "iat": int(now if now is not None else clock.timestamp()),
    }
    return {**payload, "sig": _mac(s.identity_secret, payload)}


@dataclass(frozen=True)
class VerifiedSender:
    channel: str
    sender_id: str
    customer_number: str | None


def verify_assertion(
    metadata: dict | None,
    channel: str | None,
    sender_id: str,
    settings: Settings | None = None,
    now: float | None = None,
) -> VerifiedSender:
    """Check the assertion of the latest message against the conversation's own sender and channel."""
    s = settings or get_settings()
    assertion = (metadata or {}).get(ASSERTION_KEY)
    if not isinstance(assertion, dict):
        raise IdentityError("no identity assertion")
    payload = {k: assertion.get(k) for k in ("channel", "sender", "customer", "iat")}
    sig = assertion.get("sig")
    if not isinstance(sig, str) or not hmac.compare_digest(sig, _mac(s.identity_secret, payload)):
        raise IdentityError("bad assertion signature")
    if payload["sender"] != sender_id or (channel is not None and payload["channel"] != channel):
        raise IdentityError("assertion bound to another conversation")
    asserted_channel, customer = payload["channel"], payload["customer"]
    if not isinstance(asserted_channel, str) or not (customer is None or isinstance(customer, str)):
        raise IdentityError("malformed assertion")
    current = now if now is not None else clock.timestamp()
    if not isinstance(payload["iat"], int) or not -60 <= current - payload["iat"] <= ASSERTION_MAX_AGE_SECONDS:
        raise IdentityError("stale assertion")
    return VerifiedSender(asserted_channel, sender_id, customer)
