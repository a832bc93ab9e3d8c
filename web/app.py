"""The web app (Sanic): customer-space demo with the chat widget, signed documents, bank-details form, charts,
the public document verification page and, when present, the advisors' console.

`create_app()` builds a fresh app (tests build several); `python -m web.app` serves it on
HORTENSE_WEB_HOST:HORTENSE_WEB_PORT (127.0.0.1:8000 by default).
"""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import BaseHTTPResponse, HTTPResponse

from hortense.security.redaction import RedactingFilter
from hortense.settings import PROJECT_ROOT, get_settings

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
WEBCHAT_BUNDLE = PROJECT_ROOT / "node_modules" / "rasa-webchat" / "lib" / "index.js"

_app_names = itertools.count(1)

# rasa-webchat's styles @import a Google Fonts stylesheet (Inter). The pages make no third-party request (their
# CSP refuses it, which logged an error on every page): the import is cut from the bundle as it is served and
# the widget uses the page's own fonts (static/site.css).
_GOOGLE_FONTS_IMPORT = re.compile(rb"@import url\((?:https?:)?//fonts\.googleapis\.com/[^)]*\);?")


@lru_cache(maxsize=2)
def webchat_bundle_bytes(mtime_ns: int) -> bytes:
    """The installed rasa-webchat bundle without its Google Fonts import (cached per file version)."""
    return _GOOGLE_FONTS_IMPORT.sub(b"", WEBCHAT_BUNDLE.read_bytes())


# French titles of the error pages Sanic itself raises (unknown route, wrong method, oversized body…).
_STATUS_PAGES = {
    400: ("Requête invalide", "Votre demande n'a pas pu être comprise. Revenez à votre espace client et réessayez."),
    404: ("Page introuvable", "Cette page n'existe pas ou n'est plus disponible."),
    405: ("Action impossible", "Cette action n'est pas possible sur cette page."),
    413: ("Envoi trop volumineux", "Les informations envoyées sont trop volumineuses."),
}
_SERVER_ERROR = (
    "Service momentanément indisponible",
    "Une erreur est survenue de notre côté. Réessayez dans quelques minutes ; si le problème persiste, "
    "contactez notre service clients.",
)


@dataclass(frozen=True)
class WebConfig:
    """What only the web app reads (the shared secrets and URLs stay in `hortense.settings`)."""

    demo_login: bool  # the dev-only customer picker: off unless HORTENSE_DEMO_LOGIN=1 (never in production)
    rasa_public_url: str  # where the browser reaches Rasa's socket.io (HORTENSE_RASA_PUBLIC_URL)
    secure_cookies: bool  # cookies get `Secure` when the public URL is https

    @classmethod
    def from_env(cls) -> WebConfig:
        settings = get_settings()
        return cls(
            demo_login=settings.demo_login,
            rasa_public_url=settings.rasa_public_url,
            secure_cookies=settings.web_base_url.startswith("https://"),
        )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


class Pages:
    """Renders the customer-facing pages (Jinja2, autoescaped) with the headers every such page needs."""

    def __init__(self, config: WebConfig) -> None:
        self.config = config
        self.env = Environment(
            loader=FileSystemLoader(str(TEMPLATES)),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def content_security_policy(self) -> str:
        """Scripts from this origin only; the widget talks to Rasa (http + websocket); charts may come from the
        public base URL when the page is reached under another host name (localhost vs 127.0.0.1)."""
        rasa = _origin(self.config.rasa_public_url)
        rasa_ws = rasa.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        base = _origin(get_settings().web_base_url)
        return (
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data: {base}; connect-src 'self' {rasa} {rasa_ws}; font-src 'self' data:; "
            "object-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )

    def render(self, name: str, status: int = 200, **context) -> HTTPResponse:
        html = self.env.get_template(name).render(**context)
        resp = response.html(html, status=status)
        resp.headers["Content-Security-Policy"] = self.content_security_policy()
        resp.headers["Cache-Control"] = "no-store"
        return resp

    def message(self, status: int, title: str, text: str, **context) -> HTTPResponse:
        """A French page explaining why something was refused or failed; never a stack trace."""
        return self.render("message.html", status=status, title=title, text=text, **context)


HSTS = "max-age=31536000; includeSubDomains"


def _security_headers(_: Request, resp: BaseHTTPResponse) -> None:
    # Signed links travel in URLs: never send them to another site as a Referer.
    for name, value in (
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
    ):
        resp.headers.setdefault(name, value)
    if get_settings().web_base_url.startswith("https://"):  # served over https: browsers must never fall back
        resp.headers.setdefault("Strict-Transport-Security", HSTS)


def _register_console(app: Sanic) -> None:
    """The advisors' console lives in its own module, written separately; mount it when it is there."""
    try:
        from web.console import bp as console_bp
    except ModuleNotFoundError as exc:
        if exc.name != "web.console":
            raise
        logger.info("advisors' console not installed (web/console.py missing)")
        return
    app.blueprint(console_bp)


class UnsafeConfiguration(RuntimeError):
    """The web app will not start with this configuration."""


def refuse_demo_login_in_production(config: WebConfig) -> None:
    """The demo picker logs anybody in as any customer: never next to a production (PostgreSQL) database."""
    if config.demo_login and not get_settings().is_sqlite:
        raise UnsafeConfiguration(
            "HORTENSE_DEMO_LOGIN is on while a production database is configured (HORTENSE_DATABASE_URL is not "
            "SQLite): the demo customer picker would let anybody log in as any customer. Unset it (or set it to 0)."
        )


def create_app() -> Sanic:
    """A new, fully wired app. Reads settings and environment now, touches neither database nor network."""
    from web import bank, charts, documents, portal, sessions

    config = WebConfig.from_env()
    refuse_demo_login_in_production(config)
    app = Sanic(f"hortense_web_{next(_app_names)}", configure_logging=False)
    app.config.REQUEST_MAX_SIZE = 1_000_000  # forms only: no uploads
    app.config.FALLBACK_ERROR_FORMAT = "html"
    app.ctx.config = config
    app.ctx.pages = Pages(config)

    @app.get("/health")
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @app.get("/vendor/rasa-webchat.js")
    async def webchat_bundle(_: Request) -> HTTPResponse:
        """The widget comes from node_modules (installed by `npm ci`), never from a CDN at run time."""
        if not WEBCHAT_BUNDLE.is_file():
            logger.error("rasa-webchat is not installed: run `npm ci` at the project root")
            return response.text(
                'console.error("Widget Hortense indisponible : rasa-webchat n\'est pas installé (npm ci).");',
                status=503,
                content_type="application/javascript",
            )
        return response.raw(
            webchat_bundle_bytes(WEBCHAT_BUNDLE.stat().st_mtime_ns),
            content_type="application/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=3600"},
        )

    app.static("/static", str(STATIC), name="static")
    for module in (portal, documents, bank, charts):
        app.blueprint(module.bp)
    _register_console(app)
    from web.privacy import bp as privacy_bp  # GDPR: policy page, customer download, console page

    app.blueprint(privacy_bp)

    app.register_middleware(sessions.load_session, "request")
    app.register_middleware(sessions.store_session, "response")
    app.register_middleware(_security_headers, "response")

    @app.exception(SanicException)
    async def sanic_error(request: Request, exc: SanicException) -> HTTPResponse:
        status = getattr(exc, "status_code", 500) or 500
        if status >= 500:
            logger.error("server error on %s: %s", request.path, exc)
            return app.ctx.pages.message(status, *_SERVER_ERROR)
        title, text = _STATUS_PAGES.get(status, _STATUS_PAGES[400])
        return app.ctx.pages.message(status, title, text)

    @app.exception(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> HTTPResponse:
        if isinstance(exc, (IsADirectoryError, NotADirectoryError, FileNotFoundError)):  # "/static/": a folder
            return app.ctx.pages.message(404, *_STATUS_PAGES[404])
        logger.exception("unexpected error on %s", request.path)
        return app.ctx.pages.message(500, *_SERVER_ERROR)

    return app


def configure_logging() -> None:
    """The project's log format (text or JSON, `hortense.ops.logging_setup`), every record redacted (IBANs, tokens,
    codes) by `hortense.security.redaction` before the root handlers write it."""
    from hortense.ops.logging_setup import configure_logging as configure_process_logging

    configure_process_logging("web")
    redact = RedactingFilter()
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)


def main() -> None:
    configure_logging()
    settings = get_settings()
    # No access log: signed links (documents, bank form) are bearer credentials for 15 minutes.
    create_app().run(host=settings.web_host, port=settings.web_port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
