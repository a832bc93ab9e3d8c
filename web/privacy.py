"""Privacy pages (GDPR/CNIL): the public policy page, the customer's download of their conversations, and the
supervisors' console page (privacy audit, export and erasure of one customer's data).

Routes:
- `GET /confidentialite`: the policy, in French, with the configured retention period;
- `GET /mes-conversations.json`: the logged-in customer's own conversations (their session's customer only:
  no parameter names a customer, so nobody can ask for somebody else's); audited;
- `GET /console/confidentialite[?client=C1001]`: supervisors only (an advisor gets the console's 404), the audit
  log and, for one customer, what an export or erasure covers;
- `POST /console/confidentialite/export` and `/erase`: supervisors only, the session's CSRF token and the
  customer number typed again as confirmation; audited in the same transaction.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from hortense import clock
from hortense.db.session import session_scope
from hortense.privacy import audit, rights, transcripts
from hortense.privacy.notice import retention_days
from hortense.replies.privacy import AUDIT_LABELS, retention_label
from hortense.settings import get_settings
from web import console, console_pages
from web.sessions import logged_in_customer

_NUMBER = re.compile(r"^[A-Za-z0-9-]{1,20}$")

site_bp = Blueprint("privacy_site")
console_bp = Blueprint("privacy_console", url_prefix="/console")
bp = Blueprint.group(site_bp, console_bp)


# --------------------------------------------------------------------------- the customer's side


@site_bp.get("/confidentialite")
async def policy(request: Request) -> HTTPResponse:
    return request.app.ctx.pages.render(
        "privacy_policy.html",
        retention=retention_label(),
        days=retention_days(),
        logged_in=logged_in_customer(request) is not None,
    )


def _download(customer_number: str) -> dict:
    with session_scope() as db:
        return rights.customer_download(db, get_settings().tracker_url, customer_number, clock.now())


@site_bp.get("/mes-conversations.json")
async def customer_download(request: Request) -> HTTPResponse:
    number = logged_in_customer(request)
    if number is None:
        return request.app.ctx.pages.message(
            401, "Connexion requise", "Connectez-vous à votre espace client pour télécharger vos conversations."
        )
    try:
        data = await asyncio.to_thread(_download, number)
    except rights.UnknownCustomer:
        return request.app.ctx.pages.message(404, "Compte introuvable", "Ce compte client n'est plus actif.")
    except transcripts.TrackerUnavailable:
        return request.app.ctx.pages.message(
            503,
            "Service momentanément indisponible",
            "Vos conversations ne peuvent pas être lues pour le moment. Réessayez dans quelques minutes.",
        )
    name = f"hortense-conversations-{number}.json"
    return response.text(
        rights.to_json(data),
        content_type="application/json; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


# --------------------------------------------------------------------------- the console (supervisors)


console_bp.middleware("response")(console_pages.security_headers)


def _wanted(raw: object) -> str:
    value = str(raw or "").strip()
    return value if _NUMBER.match(value) else ""


def _privacy_page(
    request: Request, number: str, status: int = 200, error: str | None = None, done: str | None = None
) -> HTTPResponse:
    with session_scope() as db:
        found = rights.summary(db, number) if number else None
        entries = audit.entries(db, number or None)
    return console_pages.advisor_page(
        request,
        "privacy.html",
        status,
        number=number,
        summary=found,
        entries=entries,
        error=error,
        done=done,
        retention=retention_label(),
        labels=AUDIT_LABELS,
    )


@console_bp.get("/confidentialite")
@console.login_required
@console.supervisor_only
async def console_privacy(request: Request) -> HTTPResponse:
    return _privacy_page(request, _wanted(request.args.get("client") if request.args else ""))


def _confirmed(request: Request) -> tuple[str, str | None]:
    """The form's customer and, if the typed confirmation does not match it, why the action is refused."""
    number = _wanted(request.form.get("customer"))
    typed = (request.form.get("confirm") or "").strip()
    if not number:
        return "", "Indiquez un numéro client."
    if typed != number:
        return number, f"Confirmation incorrecte : tapez exactement le numéro client {number} pour confirmer."
    return number, None


def _exercise(
    request: Request,
    right: Callable[..., Any],
    nothing_done: str,
    done: Callable[[Request, str, Any], HTTPResponse],
) -> HTTPResponse:
    """Export or erasure (`right`) for the confirmed customer, audited as this supervisor; `done` answers with its
    result. Refused without the confirmation; an unknown customer or an unreadable tracker store changes nothing."""
    number, refused = _confirmed(request)
    if refused:
        return _privacy_page(request, number, 400, error=refused)
    try:
        with session_scope() as db:
            result = right(
                db, get_settings().tracker_url, number, actor=console.audit_actor(request), now=console.now()
            )
    except rights.UnknownCustomer:
        return _privacy_page(request, "", 404, error=f"Aucun client {number}.")
    except transcripts.TrackerUnavailable:
        return _privacy_page(
            request, number, 503, error=f"L'historique des conversations est inaccessible : {nothing_done}."
        )
    return done(request, number, result)


def _export_file(_request: Request, number: str, data: dict) -> HTTPResponse:
    return response.text(
        rights.to_json(data),
        content_type="application/json; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="hortense-donnees-{number}.json"'},
    )


def _erased(request: Request, number: str, report: rights.ErasureReport) -> HTTPResponse:
    return _privacy_page(request, number, done=f"Données de {number} effacées : {report.describe()}.")


@console_bp.post("/confidentialite/export")
@console.advisor_form
@console.supervisor_only
async def console_export(request: Request) -> HTTPResponse:
    return _exercise(request, rights.export_customer, "rien n'a été exporté", _export_file)


@console_bp.post("/confidentialite/erase")
@console.advisor_form
@console.supervisor_only
async def console_erase(request: Request) -> HTTPResponse:
    return _exercise(request, rights.erase_customer, "rien n'a été effacé", _erased)
