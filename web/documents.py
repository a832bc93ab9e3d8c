"""Document downloads behind signed links, and the public page that tells a third party a document is genuine.

A download needs a link signed for a customer (`hortense.security.signing`, 15 minutes) *and* a document that
belongs to that customer in the database today: the signature proves who the link was made for, the database
proves the document is theirs. A refused link gets a French page (403, or 410 once expired), never the file.

The public verification page answers anyone, so it is limited per address (VERIFICATIONS_PER_MINUTE, shared by
the instances through Redis when it is configured, `hortense.security.rate_limit`): past it, a French 429 page.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import func, select

from hortense.account.customers import load_customer
from hortense.billing import invoices as billing
from hortense.db.models import Contract, Customer, Invoice
from hortense.db.session import session_scope
from hortense.documents import short_links
from hortense.documents import verification as docver
from hortense.replies import formatting as fr
from hortense.security.rate_limit import RateLimit, client_address
from hortense.security.signing import LinkCheck, verify
from hortense.settings import get_settings
from web.portal import local_now
from web.sessions import logged_in_customer

logger = logging.getLogger(__name__)

bp = Blueprint("documents")

CONTRACT = "contrat"
PROOF_OF_ADDRESS = "attestation"
INVOICE = "facture"
KINDS = (CONTRACT, PROOF_OF_ADDRESS, INVOICE)
_NUMBER = re.compile(r"[A-Za-z0-9-]{1,40}")
LIMIT_WINDOW_SECONDS = 60
VERIFICATIONS_PER_MINUTE = 30  # a bank clerk checks a few documents; a script checking codes gets nowhere
verification_limiter = RateLimit("verification-address", VERIFICATIONS_PER_MINUTE, LIMIT_WINDOW_SECONDS)

KIND_LABELS = {
    docver.PROOF_OF_ADDRESS: "Attestation de domicile",
    docver.CONTRACT: "Conditions particulières du contrat",
    docver.INVOICE: "Facture",
}

# (status, title, text) for each reason a link is refused, in the customer's words.
REFUSALS = {
    "missing": (
        403,
        "Lien invalide",
        "Ce lien de téléchargement n'est pas valide. Demandez un nouveau lien à Hortense, ou retrouvez le "
        "document dans votre espace client.",
    ),
    "tampered": (
        403,
        "Lien invalide",
        "Ce lien de téléchargement n'est pas valide : il a peut-être été modifié ou copié incomplètement. "
        "Demandez un nouveau lien à Hortense, ou retrouvez le document dans votre espace client.",
    ),
    "expired": (
        410,
        "Lien expiré",
        "Pour votre sécurité, les liens de téléchargement ne sont valables que 15 minutes et celui-ci a "
        "expiré. Demandez un nouveau lien à Hortense, ou retrouvez le document dans votre espace client.",
    ),
    "wrong_customer": (
        403,
        "Document non disponible",
        "Ce lien a été créé pour un autre compte client que celui de votre session.",
    ),
    "not_owned": (
        403,
        "Document non disponible",
        "Ce document n'est pas associé à votre compte client. Retrouvez vos propres documents dans votre "
        "espace client.",
    ),
}


def link_secret() -> bytes:
    return get_settings().links_secret.encode("utf-8")


def check_link(request: Request, path: str, params: dict | None = None) -> LinkCheck:
    """Verify the signed link of this request; a logged-in browser must also be the link's customer."""
    source = params if params is not None else request.args
    query = {key: value for key in ("c", "exp", "sig") if (value := source.get(key)) is not None}
    return verify(path, query, link_secret(), expected_customer=logged_in_customer(request))


def too_many(request: Request, text: str) -> HTTPResponse:
    """The French page of a request over its limit (429), with when to come back."""
    page = request.app.ctx.pages.message(429, "Trop de demandes", text)
    page.headers["Retry-After"] = str(LIMIT_WINDOW_SECONDS)
    return page


def refusal(request: Request, reason: str) -> HTTPResponse:
    status, title, text = REFUSALS.get(reason, REFUSALS["tampered"])
    return request.app.ctx.pages.message(status, title, text)


@dataclass(frozen=True)
class Pdf:
    filename: str
    data: bytes


def _proof_verification_url(customer_number: str, contract_number: str, issued_on: date) -> str:
    settings = get_settings()
    code = docver.document_code(
        docver.PROOF_OF_ADDRESS, customer_number, contract_number, issued_on, settings.documents_secret.encode("utf-8")
    )
    return settings.web_base_url + docver.verification_path(docver.PROOF_OF_ADDRESS, contract_number, issued_on, code)


def build_document(kind: str, number: str, customer_number: str, now: datetime) -> Pdf | None:
    """The PDF if the document is this customer's (checked in the database now), else None."""
    from hortense.documents import pdf  # reportlab is loaded on the first download, not at start-up

    today = now.date()
    with session_scope() as s:
        customer = load_customer(s, customer_number)
        if customer is None:
            return None
        if kind == INVOICE:
            contract_id = s.execute(select(Invoice.contract_id).where(Invoice.number == number)).scalar_one_or_none()
            contract = customer.contract(contract_id) if contract_id is not None else None
            invoice = billing.invoice_for_contract(s, contract.id, number) if contract else None
            if contract is None or invoice is None:
                return None
            return Pdf(f"facture-{invoice.number}.pdf", pdf.render_invoice(customer, contract, invoice))
        contract = customer.contract_by_number(number)
        if contract is None:
            return None
        if kind == CONTRACT:
            return Pdf(f"contrat-{contract.contract_number}.pdf", pdf.render_contract(customer, contract, today))
        url = _proof_verification_url(customer.customer_number, contract.contract_number, today)
        return Pdf(
            f"attestation-domicile-{contract.contract_number}.pdf",
            pdf.render_proof_of_address(customer, contract, today, url),
        )


@bp.get("/documents/<kind>/<filename>")
async def download(request: Request, kind: str, filename: str) -> HTTPResponse:
    pages = request.app.ctx.pages
    number = filename[:-4] if filename.endswith(".pdf") else ""
    if kind not in KINDS or not _NUMBER.fullmatch(number):
        return pages.message(404, "Document introuvable", "Ce document n'existe pas.")
    check = check_link(request, request.path)
    if not check.ok:
        logger.info("document link refused (%s) for %s %s", check.reason, kind, number)
        return refusal(request, check.reason)
    document = await asyncio.to_thread(build_document, kind, number, check.verified_customer, local_now())
    if document is None:
        logger.warning("document %s %s refused: not a document of customer %s", kind, number, check.customer_number)
        return refusal(request, "not_owned")
    logger.info("document %s %s served to customer %s", kind, number, check.customer_number)
    return response.raw(
        document.data,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{document.filename}"',
            "Cache-Control": "no-store",
        },
    )


# --- short links (WhatsApp) --------------------------------------------------------------------------


def _resolve_short(token: str) -> short_links.Resolved:
    with session_scope() as s:
        return short_links.resolve(s, token)


@bp.get("/l/<token>")
async def short_link(request: Request, token: str) -> HTTPResponse:
    """A short link sent in a chat: a redirect to the signed link it stands for (checked again there), the
    "expired" page once that link has expired, a refusal for a browser logged in as another customer."""
    found = await asyncio.to_thread(_resolve_short, token)
    if found.outcome == "unknown":
        logger.info("short link refused: unknown token")
        return request.app.ctx.pages.message(404, "Lien introuvable", REFUSALS["missing"][2])
    if found.outcome == "expired":
        return refusal(request, "expired")
    session_customer = logged_in_customer(request)
    if session_customer is not None and session_customer != found.customer_number:
        logger.info("short link refused: made for another customer than the logged-in one")
        return refusal(request, "wrong_customer")
    return response.redirect(found.target or "/", status=302, headers={"Cache-Control": "no-store"})


# --- public verification page -------------------------------------------------------------------------


@dataclass(frozen=True)
class Verified:
    kind: str
    holder: str
    contract_number: str
    issued_on: str
    supply_address: str


def verify_document(path: str) -> Verified | None:
    """The facts of the document a verification URL names, if its code was really issued for them."""
    ref = docver.parse_verification_path(path)
    if ref is None:
        return None
    with session_scope() as s:
        row = s.execute(
            select(Contract, Customer)
            .join(Customer, Contract.customer_id == Customer.id)
            .where(func.upper(Contract.contract_number) == ref.contract_number.upper())
        ).first()
        if row is None:
            return None
        contract, customer = row
        genuine = docver.verify_document_code(
            ref.code,
            ref.kind,
            customer.customer_number,
            contract.contract_number,
            ref.issued_on,
            get_settings().documents_secret.encode("utf-8"),
        )
        if not genuine:
            return None
        holder = customer.company_name or f"{customer.civility} {customer.first_name} {customer.last_name}".strip()
        return Verified(
            KIND_LABELS[ref.kind],
            holder,
            contract.contract_number,
            fr.long_date(ref.issued_on),
            f"{contract.supply_address}, {contract.supply_postcode} {contract.supply_city}",
        )


@bp.get("/verifier/<rest:path>")
async def verification_page(request: Request, rest: str) -> HTTPResponse:
    if not verification_limiter.hit(client_address(request)).allowed:
        logger.info("document verification refused: too many requests from one address")
        return too_many(
            request,
            "Vous avez vérifié beaucoup de documents en peu de temps. Réessayez dans une minute, s'il vous plaît.",
        )
    verified = await asyncio.to_thread(verify_document, request.path)
    if verified is None:
        logger.info("document verification failed for %s", request.path)
        return request.app.ctx.pages.render("verification.html", status=404, verified=None)
    return request.app.ctx.pages.render("verification.html", verified=verified)
