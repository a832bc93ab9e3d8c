"""Settings from environment variables, with safe defaults for a laptop.

Every process (Rasa, action server, web app, scheduler, CLI) reads its configuration here so that
one rule has one place. A `.env` file at the project root is read too (the environment wins), so
`make run` can generate secrets once and every process agrees on them.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The one place the Graph API version is written (HORTENSE_MESSENGER_GRAPH_VERSION overrides it); v19.0 expired
# on 2026-05-21, v24.0 (October 2025) is served until about the end of 2027: update it before then.
GRAPH_API_VERSION = "v24.0"
# Notification kinds (hortense.db.calendar_models.KINDS) → the variable naming their WhatsApp template.
WHATSAPP_TEMPLATE_VARS = {
    "confirmation": "HORTENSE_WHATSAPP_TEMPLATE_CONFIRMATION",
    "reminder": "HORTENSE_WHATSAPP_TEMPLATE_REMINDER",
    "cancellation": "HORTENSE_WHATSAPP_TEMPLATE_CANCELLATION",
}
ENV_FILE = PROJECT_ROOT / ".env"

logger = logging.getLogger(__name__)


def read_env_file(path: Path = ENV_FILE) -> dict[str, str]:
    """Parse KEY=VALUE lines (no shell expansion): the format of `.env.example`."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def environment() -> dict[str, str]:
    """The process environment as settings see it: `.env` under the real environment (which wins). For code that
    must scan variables by name (secret values to scrub from logs, a channel's one-off set-up command)."""
    return {**read_env_file(), **os.environ}


def _get(name: str, default: str | None = None, file_values: dict[str, str] | None = None) -> str | None:
    if name in os.environ:
        return os.environ[name]
    if file_values and name in file_values:
        return file_values[name]
    return default


@dataclass(frozen=True)
class Settings:
    database_url: str
    portal_jwt_secret: str
    portal_jwt_issuer: str
    portal_jwt_audience: str
    portal_token_minutes: int
    identity_secret: str
    links_secret: str
    link_code_pepper: str
    action_server_token: str
    documents_secret: str
    console_secret: str
    bank_details_secret: str
    web_base_url: str
    web_host: str  # where `python -m web.app` listens
    web_port: int
    demo_login: bool  # the web app's dev-only customer picker: off unless HORTENSE_DEMO_LOGIN=1 (`make run` sets it)
    rasa_url: str
    rasa_public_url: str  # where the browser reaches Rasa's socket.io
    rasa_host: str  # where `make run` starts the Rasa server
    rasa_port: int
    action_host: str  # where `python -m actions.server` listens
    action_port: int
    tracker_url: str | None  # Rasa's SQL tracker store, read by the advisors' console (transcripts)
    lock_lifetime_seconds: float | None  # the Redis lock store's ticket lifetime, when configured
    lock_poll_seconds: float | None  # and how often it polls for a busy lock
    log_format: str  # "text" or "json"
    log_level: str
    metrics_port: int  # 0: no metrics server
    metrics_host: str
    allowed_origins: tuple[str, ...]
    timezone: str
    message_rate_per_minute: int
    # Shared state of several instances (rate limits, webhook de-duplication); "" = this process's memory.
    redis_url: str = ""
    # The conversation review inbox: a customer message whose intent confidence is below this is listed.
    review_confidence: float = 0.7
    # Messenger: the Graph API version of every call (versions expire about two years after release).
    messenger_graph_version: str = GRAPH_API_VERSION
    # WhatsApp: the approved Content template (ContentSid "HX…") of each notification kind, sent outside the
    # 24-hour window; a kind without one cannot be sent there (the customer space shows it instead).
    whatsapp_templates: tuple[tuple[str, str], ...] = ()
    # GDPR/CNIL: conversation transcripts, notification texts and past calls' personal details are deleted or
    # anonymised after this many days (HORTENSE_TRANSCRIPT_RETENTION_DAYS; README "Privacy" says why 180).
    transcript_retention_days: int = 180

    def whatsapp_template(self, kind: str) -> str:
        return dict(self.whatsapp_templates).get(kind, "")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _dev_secret(name: str, file_values: dict[str, str]) -> str:
    """A missing secret is never a fixed string: a random one is used (and then nothing verifies across
    processes, which fails closed). `make run` writes shared random secrets to `.env` once."""
    value = _get(name, None, file_values)
    return value if value else secrets.token_urlsafe(32)


def _tracker_url(file_values: dict[str, str]) -> str | None:
    """HORTENSE_TRACKER_URL (PostgreSQL), else the SQLite file HORTENSE_TRACKER_DB (relative to the project)."""
    url = _get("HORTENSE_TRACKER_URL", None, file_values)
    if url:
        return url
    path = _get("HORTENSE_TRACKER_DB", None, file_values)
    if not path:
        return None
    file = Path(path) if Path(path).is_absolute() else PROJECT_ROOT / path
    return f"sqlite:///{file}"


def _positive_float(name: str, file_values: dict[str, str]) -> float | None:
    value = (_get(name, "", file_values) or "").strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        logger.warning("%s=%r is not a number: ignored", name, value)
        return None
    return number if number > 0 else None


DEFAULT_RETENTION_DAYS = 180


def _retention_days(file_values: dict[str, str]) -> int:
    """HORTENSE_TRANSCRIPT_RETENTION_DAYS: a whole number of days, at least 1 (a bad value keeps the default)."""
    raw = (_get("HORTENSE_TRANSCRIPT_RETENTION_DAYS", "", file_values) or "").strip()
    if not raw:
        return DEFAULT_RETENTION_DAYS
    try:
        days = int(raw)
    except ValueError:
        logger.warning(
            "HORTENSE_TRANSCRIPT_RETENTION_DAYS=%r is not a whole number of days: %s kept", raw, DEFAULT_RETENTION_DAYS
        )
        return DEFAULT_RETENTION_DAYS
    if days < 1:
        logger.warning("HORTENSE_TRANSCRIPT_RETENTION_DAYS=%r must be at least 1: %s kept", raw, DEFAULT_RETENTION_DAYS)
        return DEFAULT_RETENTION_DAYS
    return days


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read once per process; tests call `get_settings.cache_clear()` after changing the environment."""
    f = read_env_file()
    default_db = f"sqlite:///{PROJECT_ROOT / 'var' / 'hortense.db'}"
    origins = _get("HORTENSE_ALLOWED_ORIGINS", "http://localhost:8000,http://127.0.0.1:8000", f) or ""
    return Settings(
        database_url=_get("HORTENSE_DATABASE_URL", default_db, f) or default_db,
        portal_jwt_secret=_dev_secret("HORTENSE_PORTAL_JWT_SECRET", f),
        portal_jwt_issuer=_get("HORTENSE_PORTAL_JWT_ISSUER", "hortense-portal", f) or "hortense-portal",
        portal_jwt_audience=_get("HORTENSE_PORTAL_JWT_AUDIENCE", "hortense-chat", f) or "hortense-chat",
        portal_token_minutes=int(_get("HORTENSE_PORTAL_TOKEN_MINUTES", "30", f) or 30),
        identity_secret=_dev_secret("HORTENSE_IDENTITY_SECRET", f),
        links_secret=_dev_secret("HORTENSE_LINKS_SECRET", f),
        link_code_pepper=_dev_secret("HORTENSE_LINK_CODE_PEPPER", f),
        action_server_token=_dev_secret("HORTENSE_ACTION_SERVER_TOKEN", f),
        documents_secret=_dev_secret("HORTENSE_DOCUMENTS_SECRET", f),
        console_secret=_dev_secret("HORTENSE_CONSOLE_SECRET", f),
        bank_details_secret=_dev_secret("HORTENSE_BANK_DETAILS_SECRET", f),
        web_base_url=(_get("HORTENSE_WEB_BASE_URL", "http://localhost:8000", f) or "").rstrip("/"),
        web_host=_get("HORTENSE_WEB_HOST", "127.0.0.1", f) or "127.0.0.1",
        web_port=int(_get("HORTENSE_WEB_PORT", "8000", f) or 8000),
        demo_login=(_get("HORTENSE_DEMO_LOGIN", "0", f) or "").strip().lower() in ("1", "true", "yes", "on"),
        rasa_url=(_get("HORTENSE_RASA_URL", "http://localhost:5005", f) or "").rstrip("/"),
        rasa_public_url=(_get("HORTENSE_RASA_PUBLIC_URL", "http://localhost:5005", f) or "").rstrip("/"),
        rasa_host=_get("HORTENSE_RASA_HOST", "127.0.0.1", f) or "127.0.0.1",
        rasa_port=int(_get("HORTENSE_RASA_PORT", "5005", f) or 5005),
        action_host=_get("HORTENSE_ACTION_HOST", "127.0.0.1", f) or "127.0.0.1",
        action_port=int(_get("HORTENSE_ACTION_PORT", "5055", f) or 5055),
        tracker_url=_tracker_url(f),
        lock_lifetime_seconds=_positive_float("HORTENSE_LOCK_LIFETIME", f)
        or _positive_float("TICKET_LOCK_LIFETIME", f),
        lock_poll_seconds=_positive_float("HORTENSE_LOCK_POLL_SECONDS", f),
        log_format="json" if (_get("HORTENSE_LOG_FORMAT", "text", f) or "").strip().lower() == "json" else "text",
        log_level=(_get("HORTENSE_LOG_LEVEL", "INFO", f) or "INFO").upper(),
        metrics_port=int(_get("HORTENSE_METRICS_PORT", "0", f) or 0),
        metrics_host=_get("HORTENSE_METRICS_HOST", "127.0.0.1", f) or "127.0.0.1",
        allowed_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
        timezone=_get("HORTENSE_TIMEZONE", "Europe/Paris", f) or "Europe/Paris",
        message_rate_per_minute=int(_get("HORTENSE_MESSAGE_RATE_PER_MINUTE", "30", f) or 30),
        redis_url=(_get("HORTENSE_REDIS_URL", "", f) or "").strip(),
        review_confidence=min(_positive_float("HORTENSE_REVIEW_CONFIDENCE", f) or 0.7, 1.0),
        messenger_graph_version=(_get("HORTENSE_MESSENGER_GRAPH_VERSION", "", f) or "").strip() or GRAPH_API_VERSION,
        whatsapp_templates=tuple(
            (kind, (_get(name, "", f) or "").strip())
            for kind, name in WHATSAPP_TEMPLATE_VARS.items()
            if (_get(name, "", f) or "").strip()
        ),
        transcript_retention_days=_retention_days(f),
    )


SECRET_NAMES = (
    "HORTENSE_PORTAL_JWT_SECRET",
    "HORTENSE_IDENTITY_SECRET",
    "HORTENSE_LINKS_SECRET",
    "HORTENSE_LINK_CODE_PEPPER",
    "HORTENSE_ACTION_SERVER_TOKEN",
    "HORTENSE_DOCUMENTS_SECRET",
    "HORTENSE_CONSOLE_SECRET",
    "HORTENSE_BANK_DETAILS_SECRET",
)


def ensure_env_file(path: Path = ENV_FILE) -> list[str]:
    """Create `.env` (or fill its empty secret lines) with random secrets; returns the names it set."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    present = read_env_file(path)
    added = [name for name in SECRET_NAMES if not present.get(name)]
    if not added:
        return []
    values = {name: secrets.token_urlsafe(32) for name in added}
    kept = [line for line in lines if line.partition("=")[0].strip() not in values]
    kept += [f"{name}={value}" for name, value in values.items()]
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return added
