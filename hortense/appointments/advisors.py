"""Advisors: accounts, password checks with growing delays, working hours, absences and iCalendar feed tokens.

Passwords are hashed with scrypt (stdlib): the parameters are stored with each hash so they can be raised
later without breaking existing accounts. Feed tokens are random, shown once, and stored as a SHA-256
hash: a database leak does not reveal anyone's calendar URL.

Failed log-ins slow down, they never lock (a lock is a denial of service anyone who knows an advisor's e-mail
can trigger). Failures are counted per account *and* address: after LOGIN_FREE_FAILURES, that address waits
1 s, 2 s, 4 s... (at most LOGIN_DELAY_CAP) before it may try that account again, while the advisor at their
desk is not slowed down by a stranger elsewhere. Against many addresses guessing one account, failures from
addresses the account has never logged in from also slow down all such addresses for that account (after
ACCOUNT_FREE_FAILURES); an address the advisor logged in from in the last USUAL_ADDRESS_DAYS is exempt.
Unknown e-mails are counted the same way (no difference tells an attacker which accounts exist). The counts go
through `hortense.security.rate_limit` (Redis when configured, so every web instance agrees); the console
adds a limit on failures per address whatever the account (`web.console`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hortense import clock
from hortense.db.calendar_models import Advisor, AdvisorAbsence, AdvisorWorkingHours
from hortense.security.rate_limit import Backoff, RateLimit

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
LOGIN_FREE_FAILURES = 3  # per account and address, before the delays begin
ACCOUNT_FREE_FAILURES = 10  # per account, from addresses it has never logged in from
LOGIN_DELAY_CAP = 300.0  # seconds: 1, 2, 4... 256, then 300
LOGIN_FAILURES_FORGOTTEN = 3600.0  # an hour after the last failure
USUAL_ADDRESS_DAYS = 90


def _login_backoff(name: str, free: int) -> Backoff:
    """Delays after failed log-ins: doubling up to LOGIN_DELAY_CAP, forgotten an hour after the last failure."""
    return Backoff(
        name, free=free, cap=LOGIN_DELAY_CAP, forget=LOGIN_FAILURES_FORGOTTEN, clock=lambda: clock.timestamp()
    )


login_delays = _login_backoff("console-login", LOGIN_FREE_FAILURES)
account_delays = _login_backoff("console-login-account", ACCOUNT_FREE_FAILURES)
# "Seen at least once in the window": a successful log-in of this account from this address.
usual_addresses = RateLimit("console-usual-address", 1, USUAL_ADDRESS_DAYS * 86400, clock=lambda: clock.timestamp())

# Monday to Friday, 9:00-18:00 (Paris time): the company's opening hours.
DEFAULT_WORKING_HOURS: tuple[tuple[int, time, time], ...] = tuple((d, time(9), time(18)) for d in range(5))


@dataclass(frozen=True)
class AdvisorView:
    id: int
    name: str
    email: str
    is_supervisor: bool
    active: bool
    has_feed: bool
    password_version: str  # changes when the password changes: console sessions bound to it end then
    sessions_valid_after: datetime | None  # console sessions issued earlier are void (set at logout)


def _view(a: Advisor) -> AdvisorView:
    version = hashlib.sha256(a.password_hash.encode()).hexdigest()[:16]
    has_feed = a.feed_token_hash is not None and a.feed_token_revoked_at is None
    return AdvisorView(
        a.id, a.name, a.email, bool(a.is_supervisor), bool(a.active), has_feed, version, a.sessions_valid_after
    )


# --------------------------------------------------------------------------- passwords


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """'scrypt$n$r$p$salt$hash' (tests pass a small n to stay fast; verification reads n from the hash)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, _unb64(digest))


# A hash to check unknown e-mails against, so that a wrong e-mail takes as long as a wrong password.
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
    return _DUMMY_HASH


# --------------------------------------------------------------------------- accounts


def create_advisor(
    session: Session,
    *,
    name: str,
    email: str,
    password: str,
    is_supervisor: bool = False,
    working_hours: tuple[tuple[int, time, time], ...] = DEFAULT_WORKING_HOURS,
    password_hash: str | None = None,
) -> AdvisorView:
    """An advisor with weekly hours (no hours = takes no calls, e.g. a supervisor who only supervises)."""
    advisor = Advisor(
        name=name,
        email=email.strip().lower(),
        is_supervisor=is_supervisor,
        password_hash=password_hash or hash_password(password),
        active=True,
        failed_logins=0,
    )
    session.add(advisor)
    session.flush()
    for weekday, start, end in working_hours:
        session.add(AdvisorWorkingHours(advisor_id=advisor.id, weekday=weekday, start_time=start, end_time=end))
    session.flush()
    return _view(advisor)


def get_advisor(session: Session, advisor_id: int) -> AdvisorView | None:
    """The active advisor with this id (a deactivated account is treated as unknown)."""
    advisor = session.get(Advisor, advisor_id)
    return _view(advisor) if advisor is not None and advisor.active else None


@dataclass(frozen=True)
class LoginAttempt:
    advisor: AdvisorView | None
    retry_after: float = 0.0  # > 0: this address must wait before trying this account again (nothing checked)


def _account_key(email: str) -> str:
    """The account as the delays count it: a hash of the e-mail (no e-mail in Redis keys), known or not."""
    return hashlib.sha256((email or "").strip().lower().encode()).hexdigest()[:24]


def reset_login_delays() -> None:
    """Forget every failure and usual address (tests, or an operator after an incident)."""
    for limit in (login_delays, account_delays, usual_addresses):
        limit.reset()


def attempt_login(session: Session, email: str, password: str, address: str = "unknown") -> LoginAttempt:
    """A log-in attempt from `address`: the advisor if the e-mail and password match and the account is active;
    `retry_after` when this address is still waiting out its delay for this account (see the module)."""
    account = _account_key(email)
    pair = f"{account}|{address}"
    usual = usual_addresses.blocked(pair)
    wait = login_delays.wait(pair) if usual else max(login_delays.wait(pair), account_delays.wait(account))
    if wait > 0:
        return LoginAttempt(None, wait)
    advisor = session.execute(
        select(Advisor).where(Advisor.email == (email or "").strip().lower())
    ).scalar_one_or_none()
    if advisor is None or not advisor.active:
        verify_password(password or "", _dummy_hash())  # a wrong e-mail takes as long as a wrong password
        advisor = None
    elif not verify_password(password or "", advisor.password_hash):
        advisor = None
    if advisor is None:
        login_delays.fail(pair)
        if not usual:
            account_delays.fail(account)
        return LoginAttempt(None)
    login_delays.clear(pair)
    if not usual:  # a success from the usual desk leaves a stranger's account-wide delay running
        account_delays.clear(account)
    usual_addresses.record(pair)
    return LoginAttempt(_view(advisor))


def authenticate(
    session: Session, email: str, password: str, now: datetime | None = None, address: str = "unknown"
) -> AdvisorView | None:
    """The advisor if the e-mail and password match, the account is active and `address` is not waiting
    out a delay for this account (`attempt_login` says how long)."""
    return attempt_login(session, email, password, address).advisor


def end_sessions(session: Session, advisor_id: int, now: datetime) -> None:
    """Log the advisor out everywhere: console sessions are signed cookies, so they are voided by date."""
    session.execute(update(Advisor).where(Advisor.id == advisor_id).values(sessions_valid_after=now))


def add_absence(session: Session, advisor_id: int, start: datetime, end: datetime, reason: str | None = None) -> None:
    """A holiday, training, sick leave...: the advisor is offered no call overlapping [start, end)."""
    session.add(AdvisorAbsence(advisor_id=advisor_id, start_utc=start, end_utc=end, reason=reason))
    session.flush()


# --------------------------------------------------------------------------- iCalendar feed tokens


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_feed_token(session: Session, advisor_id: int, now: datetime) -> str:
    """A new secret feed token (replacing any previous one); returned once, only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.execute(
        update(Advisor)
        .where(Advisor.id == advisor_id)
        .values(feed_token_hash=_token_hash(token), feed_token_created_at=now, feed_token_revoked_at=None)
    )
    return token


def revoke_feed_token(session: Session, advisor_id: int, now: datetime) -> bool:
    """The feed URL stops working at once; True if there was a live token."""
    result = session.execute(
        update(Advisor)
        .where(Advisor.id == advisor_id, Advisor.feed_token_hash.is_not(None), Advisor.feed_token_revoked_at.is_(None))
        .values(feed_token_revoked_at=now)
    )
    return result.rowcount == 1


def advisor_for_feed_token(session: Session, token: str) -> AdvisorView | None:
    """The active advisor whose live feed token this is, else None."""
    if not token or len(token) > 200:
        return None
    advisor = session.execute(select(Advisor).where(Advisor.feed_token_hash == _token_hash(token))).scalar_one_or_none()
    if advisor is None or not advisor.active or advisor.feed_token_revoked_at is not None:
        return None
    return _view(advisor)


# --------------------------------------------------------------------------- demo

# Demo accounts only (documented in the README); a production deployment creates its own advisors.
DEMO_PASSWORD = "hortense-demo"
DEMO_ADVISORS = (
    ("Claire Fontaine", "claire.fontaine@hortense.example.fr", False),
    ("Thomas Roux", "thomas.roux@hortense.example.fr", False),
    ("Isabelle Mercier", "isabelle.mercier@hortense.example.fr", True),
)


def seed_advisors(session: Session) -> int:
    """Two advisors (Mon-Fri 9-18) and a supervisor who takes no calls; idempotent, returns how many added."""
    existing = set(session.execute(select(Advisor.email)).scalars())
    added = 0
    for name, email, supervisor in DEMO_ADVISORS:
        if email in existing:
            continue
        create_advisor(
            session,
            name=name,
            email=email,
            password=DEMO_PASSWORD,
            is_supervisor=supervisor,
            working_hours=() if supervisor else DEFAULT_WORKING_HOURS,
        )
        added += 1
    return added
