"""How a console page is drawn: its templates, its message pages and its security headers.

One home for every blueprint under /console: the advisors' console (`web.console`) and the supervisors' privacy
page (`web.privacy`) render through the same Jinja environment and send the same headers.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from hortense.appointments import calls as desk
from hortense.appointments.advisors import AdvisorView
from hortense.replies import formatting

TEMPLATES = Path(__file__).resolve().parent / "templates"

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
}


@lru_cache(maxsize=1)
def templates() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["hour"] = lambda dt: formatting.hour(dt.time())
    env.filters["long_date"] = formatting.long_date
    env.filters["short_date"] = formatting.short_date
    env.filters["percent"] = lambda v: "—" if v is None else f"{100 * v:.1f}".replace(".", ",") + " %"
    env.filters["seconds"] = lambda v: "—" if v is None else f"{v:.1f}".replace(".", ",") + " s"
    env.globals["outcome_labels"] = desk.OUTCOME_LABELS
    return env


def page(name: str, status: int = 200, **context) -> HTTPResponse:
    """`templates/console/<name>` rendered with `context`."""
    return response.html(templates().get_template(f"console/{name}").render(**context), status=status)


def advisor_page(request: Request, name: str, status: int = 200, **context) -> HTTPResponse:
    """A page for the signed-in advisor: the top bar shows who they are and its log-out form needs the session's
    CSRF token (`context` may name a fresher `advisor`)."""
    return page(name, status, **{"advisor": request.ctx.advisor, "csrf": request.ctx.csrf, **context})


def message(title: str, text: str, status: int, advisor: AdvisorView | None = None, csrf: str = "") -> HTTPResponse:
    return page("message.html", status=status, title=title, message=text, advisor=advisor, csrf=csrf)


def answer(request: Request, title: str, text: str, status: int) -> HTTPResponse:
    """A message page for the signed-in advisor."""
    return message(title, text, status, request.ctx.advisor, request.ctx.csrf)


async def security_headers(_request: Request, resp: HTTPResponse) -> None:
    """Response middleware of every console blueprint."""
    for name, value in SECURITY_HEADERS.items():
        resp.headers.setdefault(name, value)
