"""Portal JWT (website identity) and the HMAC identity assertion handed from connectors to actions."""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from hortense.security.identity import (
    ASSERTION_KEY,
    ASSERTION_MAX_AGE_SECONDS,
    IdentityError,
    PortalClaims,
    VerifiedSender,
    mint_portal_token,
    sign_assertion,
    verify_assertion,
    verify_portal_token,
)
from hortense.settings import get_settings

from tests.conftest import TEST_SECRETS


@pytest.fixture
def settings():
    return get_settings()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, claims: dict, key: bytes | None) -> str:
    """A JWT built by hand, HMAC-SHA256-signed with any bytes (PyJWT refuses PEM keys as HMAC secrets,
    an attacker's script does not), or unsigned when key is None."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = b64url(hmac.new(key, signing_input.encode(), hashlib.sha256).digest()) if key is not None else ""
    return f"{signing_input}.{signature}"


def valid_claims(settings, **overrides) -> dict:
    now = int(time.time())
    claims = {"sub": "C1001", "iss": settings.portal_jwt_issuer, "aud": settings.portal_jwt_audience,
              "iat": now, "exp": now + 600}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def refused(token, settings, match: str | None = None) -> IdentityError:
    with pytest.raises(IdentityError, match=match) as exc:
        verify_portal_token(token, settings)
    assert token[:20] not in str(exc.value) if token else True  # the message never quotes the token
    return exc.value


# --- portal JWT -------------------------------------------------------------------------------------------------

def test_settings_use_the_test_secrets(settings):
    assert settings.portal_jwt_secret == TEST_SECRETS["HORTENSE_PORTAL_JWT_SECRET"]
    assert settings.identity_secret == TEST_SECRETS["HORTENSE_IDENTITY_SECRET"]


def test_mint_and_verify_round_trip(settings):
    now = time.time()
    token = mint_portal_token("C1001", settings=settings, now=now)
    claims = verify_portal_token(token, settings)
    assert claims == PortalClaims(customer_number="C1001", expires_at=int(now) + 60 * settings.portal_token_minutes)


def test_minted_token_is_hs256_with_every_required_claim(settings):
    token = mint_portal_token("C1003", minutes=5, settings=settings, now=1_800_000_000)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims == {"sub": "C1003", "iss": settings.portal_jwt_issuer, "aud": settings.portal_jwt_audience,
                      "iat": 1_800_000_000, "exp": 1_800_000_300}


def test_mint_uses_the_settings_from_the_environment_by_default():
    assert verify_portal_token(mint_portal_token("C1005")).customer_number == "C1005"


def test_expired_token_is_refused(settings):
    token = mint_portal_token("C1001", minutes=30, settings=settings, now=time.time() - 3600)
    refused(token, settings, "expired")


def test_token_signed_with_another_key_is_refused(settings):
    other = dataclasses.replace(settings, portal_jwt_secret="another-portal-secret-0123456789abcdefgh")
    refused(mint_portal_token("C1001", settings=other), settings, "InvalidSignature")


def test_token_for_another_audience_is_refused(settings):
    other = dataclasses.replace(settings, portal_jwt_audience="some-other-app")
    refused(mint_portal_token("C1001", settings=other), settings, "InvalidAudience")


def test_token_from_another_issuer_is_refused(settings):
    other = dataclasses.replace(settings, portal_jwt_issuer="evil-portal")
    refused(mint_portal_token("C1001", settings=other), settings, "InvalidIssuer")


@pytest.mark.parametrize("claim", ["sub", "exp", "aud", "iss"])
def test_token_missing_a_required_claim_is_refused(settings, claim):
    token = jwt.encode(valid_claims(settings, **{claim: None}), settings.portal_jwt_secret, algorithm="HS256")
    refused(token, settings)


@pytest.mark.parametrize("sub", ["", "   ", "C" * 65])
def test_token_with_an_unusable_subject_is_refused(settings, sub):
    token = jwt.encode(valid_claims(settings, sub=sub), settings.portal_jwt_secret, algorithm="HS256")
    refused(token, settings)


def test_token_with_a_non_string_subject_is_refused(settings):
    token = forge({"alg": "HS256", "typ": "JWT"}, valid_claims(settings, sub=1001),
                  settings.portal_jwt_secret.encode())
    refused(token, settings)


def test_tampered_payload_is_refused(settings):
    token = mint_portal_token("C1001", settings=settings)
    header, _, signature = token.split(".")
    payload = b64url(json.dumps(valid_claims(settings, sub="C1003")).encode())
    refused(f"{header}.{payload}.{signature}", settings, "InvalidSignature")


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_unsigned_alg_none_token_is_refused(settings, alg):
    token = forge({"alg": alg, "typ": "JWT"}, valid_claims(settings), key=None)
    refused(token, settings)


def test_unsigned_token_signed_as_none_by_pyjwt_is_refused(settings):
    token = jwt.encode(valid_claims(settings), None, algorithm="none")
    refused(token, settings)


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _public_pem(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_rs256_token_is_refused(settings, rsa_key):
    """Algorithm confusion, first half: only HS256 is accepted, whatever the token's header says."""
    token = jwt.encode(valid_claims(settings), rsa_key, algorithm="RS256")
    refused(token, settings, "InvalidAlgorithm")


def test_hs256_token_signed_with_a_public_key_is_refused(settings, rsa_key):
    """Algorithm confusion, second half: an attacker HMAC-signs with a public key they know."""
    token = forge({"alg": "HS256", "typ": "JWT"}, valid_claims(settings), _public_pem(rsa_key))
    refused(token, settings, "InvalidSignature")


def test_public_key_configured_as_secret_cannot_verify_hmac_tokens(settings, rsa_key):
    """Even if a public key were configured as the portal secret, a token HMAC-signed with it is refused."""
    pem = _public_pem(rsa_key)
    misconfigured = dataclasses.replace(settings, portal_jwt_secret=pem.decode())
    token = forge({"alg": "HS256", "typ": "JWT"}, valid_claims(settings), pem)
    refused(token, misconfigured)


@pytest.mark.parametrize("token", ["", None, "not-a-jwt", "a.b.c", 42])
def test_garbage_is_refused(settings, token):
    with pytest.raises(IdentityError):
        verify_portal_token(token, settings)  # type: ignore[arg-type]


# --- identity assertion ------------------------------------------------------------------------------------------

NOW = 1_800_000_000.0


def metadata(assertion: dict) -> dict:
    return {ASSERTION_KEY: assertion, "other": "client stuff"}


def test_assertion_round_trip(settings):
    a = sign_assertion("web", "web-C1001", "C1001", settings=settings, now=NOW)
    assert a["iat"] == int(NOW) and isinstance(a["sig"], str)
    verified = verify_assertion(metadata(a), "web", "web-C1001", settings=settings, now=NOW + 60)
    assert verified == VerifiedSender("web", "web-C1001", "C1001")


def test_assertion_of_a_visitor_has_no_customer(settings):
    a = sign_assertion("whatsapp", "+33612345601", None, settings=settings, now=NOW)
    assert verify_assertion(metadata(a), "whatsapp", "+33612345601", settings=settings,
                            now=NOW).customer_number is None


def test_assertion_uses_the_settings_from_the_environment_by_default():
    a = sign_assertion("web", "web-C1001", "C1001", now=NOW)
    assert verify_assertion(metadata(a), "web", "web-C1001", now=NOW).customer_number == "C1001"


def test_assertion_with_a_tampered_customer_is_refused(settings):
    a = sign_assertion("web", "web-C1001", "C1001", settings=settings, now=NOW)
    with pytest.raises(IdentityError, match="signature"):
        verify_assertion(metadata({**a, "customer": "C1003"}), "web", "web-C1001", settings=settings, now=NOW)


def test_visitor_assertion_upgraded_to_a_customer_is_refused(settings):
    a = sign_assertion("web", "visitor-1", None, settings=settings, now=NOW)
    with pytest.raises(IdentityError, match="signature"):
        verify_assertion(metadata({**a, "customer": "C1001"}), "web", "visitor-1", settings=settings, now=NOW)


def test_assertion_with_a_tampered_sender_is_refused(settings):
    a = sign_assertion("web", "web-C1001", "C1001", settings=settings, now=NOW)
    # re-pointed at the attacker's own conversation: the signature no longer matches
    with pytest.raises(IdentityError, match="signature"):
        verify_assertion(metadata({**a, "sender": "web-attacker"}), "web", "web-attacker", settings=settings,
                         now=NOW)


@pytest.mark.parametrize("field, value", [("channel", "telegram"), ("iat", int(NOW) + 3600), ("sig", "0" * 64)])
def test_assertion_with_another_tampered_field_is_refused(settings, field, value):
    a = sign_assertion("web", "web-C1001", "C1001", settings=settings, now=NOW)
    with pytest.raises(IdentityError, match="signature"):
        verify_assertion(metadata({**a, field: value}), None, "web-C1001", settings=settings, now=NOW)


def test_assertion_signed_with_another_secret_is_refused(settings):
    other = dataclasses.replace(settings, identity_secret="another-identity-secret-0123456789abc")
    a = sign_assertion("web", "web-C1001", "C1001", settings=other, now=NOW)
    with pytest.raises(IdentityError, match="signature"):
        verify_assertion(metadata(a), "web", "web-C1001", settings=settings, now=NOW)


def test_assertion_bound_to_another_sender_is_refused(settings):
    """A valid assertion replayed into another conversation (e.g. copied into a `/intent{...}` message)."""
    a = sign_assertion("web", "web-C1001", "C1001", settings=settings, now=NOW)
    with pytest.raises(IdentityError, match="another conversation"):
        verify_assertion(metadata(a), "web", "web-C1003", settings=settings, now=NOW)


def test_assertion_bound_to_another_channel_is_refused(settings):
    a = sign_assertion("web", "+33612345601", "C1001", settings=settings, now=NOW)
    with pytest.raises(IdentityError, match="another conversation"):
        verify_assertion(metadata(a), "whatsapp", "+33612345601", settings=settings, now=NOW)


def test_assertion_channel_is_only_checked_when_known(settings):
    a = sign_assertion("web", "web-C1001", "C1001", settings=settings, now=NOW)
    assert verify_assertion(metadata(a), None, "web-C1001", settings=settings, now=NOW).channel == "web"


def test_stale_assertion_is_refused(settings):
    a = sign_assertion("web", "web-C1001", "C1001", settings=settings, now=NOW)
    assert verify_assertion(metadata(a), "web", "web-C1001", settings=settings,
                            now=NOW + ASSERTION_MAX_AGE_SECONDS).customer_number == "C1001"
    with pytest.raises(IdentityError, match="stale"):
        verify_assertion(metadata(a), "web", "web-C1001", settings=settings, now=NOW + ASSERTION_MAX_AGE_SECONDS + 1)
    with pytest.raises(IdentityError, match="stale"):
        verify_assertion(metadata(a), "web", "web-C1001", settings=settings, now=NOW + 86400)


def test_assertion_with_a_non_integer_iat_is_refused(settings):
    """Even correctly signed, an `iat` that is not an integer cannot be aged, so it is refused."""
    payload = {"channel": "web", "sender": "web-C1001", "customer": "C1001", "iat": str(int(NOW))}
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    sig = hmac.new(settings.identity_secret.encode(), body, hashlib.sha256).hexdigest()
    with pytest.raises(IdentityError, match="stale"):
        verify_assertion(metadata({**payload, "sig": sig}), "web", "web-C1001", settings=settings, now=NOW)


@pytest.mark.parametrize("meta", [None, {}, {"other": 1}, {ASSERTION_KEY: None}, {ASSERTION_KEY: "C1001"},
                                  {ASSERTION_KEY: ["web", "web-C1001", "C1001"]}])
def test_missing_assertion_is_refused(settings, meta):
    with pytest.raises(IdentityError, match="no identity assertion"):
        verify_assertion(meta, "web", "web-C1001", settings=settings, now=NOW)


def test_unsigned_assertion_is_refused(settings):
    claimed = {"channel": "web", "sender": "web-C1001", "customer": "C1001", "iat": int(NOW)}
    with pytest.raises(IdentityError, match="signature"):
        verify_assertion(metadata(claimed), "web", "web-C1001", settings=settings, now=NOW)
    with pytest.raises(IdentityError, match="signature"):
        verify_assertion(metadata({**claimed, "sig": None}), "web", "web-C1001", settings=settings, now=NOW)
