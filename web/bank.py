"""The secure bank-details form: reached by a signed link (from Hortense or the customer space), never in chat.

The IBAN is checked with `hortense.billing.bank_details` (mod-97, French RIB key, SEPA zone only) and recorded by
`hortense.billing.bank_changes` as a change pending the SEPA mandate signature; pages after that show the masked IBAN
only, and nothing logged here contains the IBAN.
"""

from __future__ import annotations

import asyncio
import logging
import re

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from hortense.account.customers import CustomerView, load_customer
from hortense.billing import bank_changes
from hortense.billing.bank_details import validate_holder, validate_iban
from hortense.db.session import session_scope
from hortense.documents import urls as document_links
from hortense.replies.billing import effective_date_message, holder_error, iban_error
from hortense.settings import get_settings
from web.documents import check_link
from web.portal import local_now
from web.sessions import csrf_ok, csrf_token

logger = logging.getLogger(__name__)

bp = Blueprint("bank")

FORM_PATH = document_links.BANK_FORM_PATH
CONFIRMATION_PATH = document_links.BANK_CONFIRMATION_PATH
_REFERENCE = re.compile(r"[A-Z0-9-]{1,35}")

REFUSALS = {
    "missing": (
        403,
        "Lien invalide",
        "Ce lien vers le formulaire de coordonnées bancaires n'est pas valide. Demandez un nouveau lien à "
        "Hortense, ou passez par votre espace client, rubrique « Mon contrat ».",
    ),
    "tampered": (
        403,
        "Lien invalide",
        "Ce lien vers le formulaire de coordonnées bancaires n'est pas valide : il a peut-être été modifié "
        "ou copié incomplètement. Demandez un nouveau lien à Hortense, ou passez par votre espace client.",
    ),
    "expired": (
        410,
        "Lien expiré",
        "Pour votre sécurité, ce lien n'était valable que 15 minutes et il a expiré. Demandez un nouveau "
        "lien à Hortense, ou passez par votre espace client, rubrique « Mon contrat ».",
    ),
    "wrong_customer": (
        403,
        "Lien non valable pour ce compte",
        "Ce lien a été créé pour un autre compte client que celui de votre session.",
    ),
    "unknown": (
        403,
        "Compte introuvable",
        "Nous ne trouvons pas de compte client actif pour ce lien. Contactez notre service clients.",
    ),
}
MSG_CONTRACTS = "Choisissez au moins un contrat concerné par ce changement."
MSG_FORM_EXPIRED = (
    "Ce formulaire a expiré ou n'est pas valide (il doit être envoyé depuis la page du formulaire, "
    "avec les cookies activés). Rouvrez le lien et saisissez à nouveau vos coordonnées."
)


def bank_secret() -> bytes:
    """Key material for the IBAN's fingerprint and encryption (its own secret: rotating link keys must not
    make stored IBANs unreadable)."""
    return get_settings().bank_details_secret.encode("utf-8")


def _refuse(request: Request, reason: str) -> HTTPResponse:
    status, title, text = REFUSALS.get(reason, REFUSALS["tampered"])
    return request.app.ctx.pages.message(status, title, text)


def _load(customer_number: str) -> CustomerView | None:
    with session_scope() as s:
        return load_customer(s, customer_number)


def _form(
    request: Request,
    customer: CustomerView,
    link: dict,
    status: int = 200,
    errors: dict | None = None,
    values: dict | None = None,
) -> HTTPResponse:
    today = local_now().date()
    values = values or {}
    chosen = set(values.get("contracts") or [c.contract_number for c in customer.contracts])
    return request.app.ctx.pages.render(
        "bank_form.html",
        status=status,
        customer=customer,
        link=link,
        errors=errors or {},
        holder=values.get("holder", ""),
        iban=values.get("iban", ""),
        contracts=[
            {
                "number": c.contract_number,
                "label": c.short_name,
                "offer": c.offer_label,
                "checked": c.contract_number in chosen,
            }
            for c in customer.contracts
        ],
        csrf=csrf_token(request, "rib", link["sig"]),
        effective=effective_date_message(today),
    )


@bp.get(FORM_PATH)
async def bank_form(request: Request) -> HTTPResponse:
    check = check_link(request, FORM_PATH)
    if not check.ok:
        logger.info("bank form link refused (%s)", check.reason)
        return _refuse(request, check.reason)
    customer = await asyncio.to_thread(_load, check.verified_customer)
    if customer is None or not customer.contracts:
        return _refuse(request, "unknown")
    link = {key: request.args.get(key) for key in ("c", "exp", "sig")}
    return _form(request, customer, link)


@bp.post(FORM_PATH)
async def bank_submit(request: Request) -> HTTPResponse:
    form = request.form
    check = check_link(request, FORM_PATH, params=form)
    if not check.ok:
        logger.info("bank form submission refused (%s)", check.reason)
        return _refuse(request, check.reason)
    link = {key: form.get(key) for key in ("c", "exp", "sig")}
    if not csrf_ok(request, "rib", form.get("csrf"), link["sig"]):
        logger.warning("bank form submission without a valid CSRF token for customer %s", check.customer_number)
        return request.app.ctx.pages.message(403, "Formulaire expiré", MSG_FORM_EXPIRED)
    customer = await asyncio.to_thread(_load, check.verified_customer)
    if customer is None or not customer.contracts:
        return _refuse(request, "unknown")

    holder = (form.get("titulaire") or "").strip()
    raw_iban = form.get("iban") or ""
    wanted = form.getlist("contrats") or []
    if len(customer.contracts) == 1:
        wanted = [customer.contracts[0].contract_number]
    chosen = [c for c in customer.contracts if c.contract_number in wanted]
    errors: dict[str, str | None] = {}
    holder_problem = holder_error(validate_holder(holder))
    if holder_problem:
        errors["holder"] = holder_problem
    iban = validate_iban(raw_iban)
    if not iban.ok:
        errors["iban"] = iban_error(iban)
    if not chosen:
        errors["contracts"] = MSG_CONTRACTS
    if errors:
        logger.info(
            "bank form for customer %s returned for correction (%s)",
            customer.customer_number,
            ", ".join(sorted(errors)),
        )
        return _form(
            request,
            customer,
            link,
            status=400,
            errors=errors,
            values={"holder": holder[:70], "iban": raw_iban.strip()[:50], "contracts": wanted},
        )

    now = local_now()

    def record():
        with session_scope() as s:
            return bank_changes.record_pending_change(
                s, customer, [c.id for c in chosen], iban, holder, bank_secret(), now
            )

    change = await asyncio.to_thread(record)
    confirmation = document_links.signed_path(
        CONFIRMATION_PATH.format(reference=change.mandate_reference), customer.customer_number, now
    )
    return response.redirect(confirmation, status=303)


@bp.get("/rib/confirmation/<reference>")
async def bank_confirmation(request: Request, reference: str) -> HTTPResponse:
    if not _REFERENCE.fullmatch(reference):
        return request.app.ctx.pages.message(404, "Page introuvable", "Cette demande n'existe pas.")
    check = check_link(request, request.path)
    if not check.ok:
        return _refuse(request, check.reason)

    def load():
        with session_scope() as s:
            customer = load_customer(s, check.verified_customer)
            return (customer, bank_changes.load_change(s, customer, reference)) if customer else (None, None)

    customer, change = await asyncio.to_thread(load)
    if change is None:
        return request.app.ctx.pages.message(
            404,
            "Demande introuvable",
            "Nous ne trouvons pas cette demande de changement de coordonnées bancaires sur votre compte.",
        )
    return request.app.ctx.pages.render(
        "bank_done.html", customer=customer, change=change, effective=effective_date_message(change.requested_at.date())
    )
