"""The customer space (demo): who is using this browser, the dev-only customer picker, the customer's pages and
the chat widget's token.

The browser session is a signed cookie (HttpOnly, SameSite=Lax, `web.sessions`): a random nonce that CSRF
tokens are bound to, and the customer number once logged in. Everything shown comes from the same domain layer
as the bot's answers, so the page and Hortense never disagree.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from hortense import clock
from hortense.account.customers import ContractView, CustomerView, load_customer
from hortense.account.offers import (
    BATTERY,
    CONSUMPTION,
    INSTALMENTS,
    KITTY,
    OFFER_LABELS,
    SPACE_SECTIONS,
    SURPLUS,
    access,
)
from hortense.appointments.notifications import undelivered_for_customer
from hortense.billing import invoices as billing
from hortense.db.models import Customer
from hortense.db.session import session_scope
from hortense.documents import urls as document_links
from hortense.energy import consumption, surplus
from hortense.energy.consumption import ConsumptionHistory
from hortense.energy.periods import default_period
from hortense.energy.surplus import SurplusHistory
from hortense.privacy import notice as privacy_notice
from hortense.replies import formatting as fr
from hortense.replies import privacy as privacy_wording
from hortense.replies.billing import invoice_status
from hortense.replies.energy import period_label
from hortense.security.identity import mint_portal_token, verify_portal_token, web_sender_id
from web.sessions import csrf_ok, csrf_token, log_in_customer, log_out_customer, logged_in_customer

bp = Blueprint("portal")

INVOICES_SHOWN = 6
INSTALMENTS_SHOWN = 6
WIDGET_TITLE = "Hortense"
WIDGET_SUBTITLE = "Votre assistante Hortense Énergie"


# --- dates --------------------------------------------------------------------------------------------


def local_now() -> datetime:
    return clock.local_now()


# --- the demo customer picker -------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoCustomer:
    number: str
    name: str
    offers: str
    contracts: int


def demo_customers() -> list[DemoCustomer]:
    with session_scope() as s:
        rows = (
            s.execute(
                select(Customer)
                .where(Customer.is_active.is_(True))
                .order_by(Customer.customer_number)
                .options(selectinload(Customer.contracts))
            )
            .scalars()
            .all()
        )
        return [
            DemoCustomer(
                c.customer_number,
                c.company_name or f"{c.first_name} {c.last_name}",
                ", ".join(sorted({OFFER_LABELS[k.offer] for k in c.contracts if k.status == "active"})),
                sum(1 for k in c.contracts if k.status == "active"),
            )
            for c in rows
        ]


async def _picker(request: Request, status: int = 200, error: str | None = None) -> HTTPResponse:
    demo = request.app.ctx.config.demo_login
    customers = await asyncio.to_thread(demo_customers) if demo else []
    return request.app.ctx.pages.render(
        "picker.html",
        status=status,
        demo_login=demo,
        customers=customers,
        csrf=csrf_token(request, "login") if demo else "",
        error=error,
        chat=chat_config(request, None),
    )


# --- the chat widget ----------------------------------------------------------------------------------


def chat_config(request: Request, customer_number: str | None) -> dict:
    """What `static/chat.js` needs to start rasa-webchat: Rasa's URL and, for a customer, a fresh portal JWT.

    The conversation id is the one the channel will choose (`web-<customer>`): the page drops a conversation
    kept in this tab's storage for anybody else.
    """
    config = {
        "rasaUrl": request.app.ctx.config.rasa_public_url,
        "socketPath": "/socket.io/",
        "title": WIDGET_TITLE,
        "subtitle": WIDGET_SUBTITLE,
        "initPayload": "/greet",
        "tokenUrl": "/token",
        "token": None,
        "expiresAt": None,
        "conversationId": None,
        "privacyNotice": privacy_wording.notice_text(),
        "privacyUrl": privacy_notice.POLICY_URL,
        "privacyRetention": privacy_wording.retention_label(),
    }
    if customer_number:
        token = mint_portal_token(customer_number)
        config.update(
            token=token, expiresAt=verify_portal_token(token).expires_at, conversationId=web_sender_id(customer_number)
        )
    return config


# --- the customer's pages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    label: str
    value: str


def _payment(contract: ContractView) -> str:
    if contract.monthly_payment and contract.instalment_day:
        day = "1er" if contract.instalment_day == 1 else str(contract.instalment_day)
        return f"Mensualisé, prélèvement le {day} de chaque mois"
    return "Mensualisé" if contract.monthly_payment else "Paiement à réception de chaque facture"


def _contract_section(customer: CustomerView, contract: ContractView, now: datetime) -> dict:
    from hortense.documents.pdf import offpeak_lines  # reportlab is only needed once a page is shown

    rows = [
        Row("Offre", contract.offer_label),
        Row("Numéro de contrat", contract.contract_number),
        Row("Point de livraison (PDL)", fr.pdl(contract.pdl)),
        Row("Adresse de fourniture", f"{contract.supply_address}, {contract.supply_postcode} {contract.supply_city}"),
        Row("Début du contrat", fr.short_date(contract.start_date)),
        Row("Puissance souscrite", f"{contract.subscribed_power_kva}\u00a0kVA"),
    ]
    if contract.resale_price_eur_per_kwh is not None:
        rows.append(Row("Prix de rachat du surplus", fr.price_per_kwh(contract.resale_price_eur_per_kwh)))
    if access(contract.offer, INSTALMENTS, True).allowed:
        rows.append(Row("Paiement", _payment(contract)))
    return {
        "rows": rows,
        "offpeak": [Row(period, ranges) for period, ranges in offpeak_lines(contract)],
        "contract_pdf": document_links.contract_link(customer, contract, now),
        "proof_pdf": document_links.proof_of_address_link(customer, contract, now),
        "bank_form": document_links.bank_form_link(customer, now),
    }


def _monthly_section(
    kind: str,
    history: ConsumptionHistory | SurplusHistory,
    rows: list[dict],
    customer: CustomerView,
    contract: ContractView,
    now: datetime,
    reading: str,
    none_yet: str,
) -> dict:
    """What the consumption and surplus sections share: the period's rows and total, the chart, and why the table
    is empty (`none_yet` before the first reading, else no `reading` in the period)."""
    section = {
        "kind": kind,
        "period": period_label(history.period),
        "has_data": bool(history.months),
        "rows": rows,
        "total": fr.kwh(history.total_kwh),
        "chart": document_links.chart_link(customer, contract, kind, history.period, now) if history.months else None,
    }
    if not history.has_any_data:
        section["empty"] = none_yet
    elif not history.months:
        section["empty"] = f"Aucun {reading} {period_label(history.period)}."
    return section


def _consumption_section(session, customer: CustomerView, contract: ContractView, today: date, now: datetime) -> dict:
    history = consumption.consumption_history(session, contract.id, default_period(today))
    rows = [
        {
            "month": fr.month(m.month),
            "peak": fr.kwh(m.peak_kwh),
            "offpeak": fr.kwh(m.offpeak_kwh),
            "total": fr.kwh(m.total_kwh),
        }
        for m in history.months
    ]
    none_yet = (
        f"Pas encore de relevé de consommation : votre contrat a démarré le "
        f"{fr.short_date(contract.start_date)}, le premier relevé mensuel arrivera au début "
        "du mois prochain."
    )
    section = _monthly_section(
        "consumption", history, rows, customer, contract, now, "relevé de consommation", none_yet
    )
    section["peak"] = fr.kwh(history.peak_kwh)
    section["offpeak"] = fr.kwh(history.offpeak_kwh)
    section["offpeak_share"] = (
        f"{int((history.offpeak_kwh * 100 / history.total_kwh).quantize(Decimal('1')))}\u00a0%"
        if history.total_kwh
        else "0\u00a0%"
    )
    section["battery"] = None
    if access(contract.offer, BATTERY, contract.monthly_payment).allowed:
        status = consumption.battery_status(session, contract.id, today)
        section["battery"] = {
            "level": fr.kwh(status.level_kwh),
            "updated": fr.short_date(status.last_update) if status.last_update else None,
            "month": fr.month(status.movements_month) if status.movements_month else None,
            "stored": fr.kwh(status.month_stored_kwh),
            "used": fr.kwh(status.month_used_kwh),
        }
    return section


def _surplus_section(session, customer: CustomerView, contract: ContractView, today: date, now: datetime) -> dict:
    history = surplus.surplus_history(session, contract.id, default_period(today))
    rows = [{"month": fr.month(m.month), "kwh": fr.kwh(m.kwh)} for m in history.months]
    none_yet = "Pas encore de relevé de surplus injecté : le premier arrivera au début du mois prochain."
    section = _monthly_section("surplus", history, rows, customer, contract, now, "relevé de surplus", none_yet)
    section["kitty"] = None
    if access(contract.offer, KITTY, contract.monthly_payment).allowed:
        update = surplus.kitty_status(session, contract.id)
        kitty = {"balance": fr.eur(update.balance_eur if update else 0)}
        section["kitty"] = kitty
        if update:
            kitty.update(
                month=fr.month(update.month),
                computation=(
                    f"{fr.kwh(update.kwh)} injectés × {fr.price_per_kwh(update.price_eur_per_kwh)} = "
                    f"{fr.eur(update.amount_eur)}"
                ),
            )
    return section


def _invoices_section(session, customer: CustomerView, contract: ContractView, today: date, now: datetime) -> dict:
    items = billing.recent_invoices(session, contract.id, limit=INVOICES_SHOWN)
    section = {
        "resale": bool(items) and items[0].kind == "resale",
        "invoices": [
            {
                "number": inv.number,
                "issued": fr.short_date(inv.issued_on),
                "period": f"du {fr.short_date(inv.period_start)} au {fr.short_date(inv.period_end)}",
                "amount": fr.eur(inv.amount_eur),
                "status": invoice_status(inv),
                "settled": inv.is_settled,
                "kind": "Revente de surplus" if inv.kind == "resale" else "Consommation",
                "pdf": document_links.invoice_link(customer, contract, inv.number, now),
            }
            for inv in items
        ],
        "schedule": None,
        "schedule_note": None,
    }
    allowed = access(contract.offer, INSTALMENTS, contract.monthly_payment)
    if allowed.allowed:
        section["schedule"] = [
            {"date": fr.long_date(i.due_date), "amount": fr.eur(i.amount_eur)}
            for i in billing.upcoming_instalments(session, contract.id, today, limit=INSTALMENTS_SHOWN)
        ]
    elif allowed.reason == "not_monthly":
        section["schedule_note"] = (
            "Votre contrat n'est pas mensualisé : vous réglez chaque facture à réception, vous n'avez donc pas d'échéancier."
        )
    else:
        section["schedule_note"] = (
            f"Avec {contract.offer_label}, vous n'avez pas d'échéancier à payer : c'est "
            "nous qui vous versons le montant de vos factures de revente."
        )
    return section


CHANNEL_NAMES = {"whatsapp": "WhatsApp", "telegram": "Telegram", "messenger": "Messenger", "web": "le site"}


def _undelivered_notices(session, customer_id: int, now: datetime) -> list[dict]:
    """Messages about the customer's calls that could not reach them on their channel: shown here instead."""
    return [
        {"text": n.text, "channel": CHANNEL_NAMES.get(n.channel, n.channel), "kind": n.kind}
        for n in undelivered_for_customer(session, customer_id, now)
    ]


def customer_space(customer_number: str, contract_number: str | None, now: datetime) -> dict | None:
    """Everything the customer-space page shows for one contract, or None if the customer is unknown/inactive."""
    today = now.date()
    with session_scope() as s:
        customer = load_customer(s, customer_number)
        if customer is None:
            return None
        page = {
            "customer": customer,
            "greeting": customer.first_name,
            "contract": None,
            "tabs": [],
            "notices": _undelivered_notices(s, customer.id, now),
        }
        if not customer.contracts:
            return page
        contract = (customer.contract_by_number(contract_number) if contract_number else None) or customer.contracts[0]
        page["contract"] = contract
        page["tabs"] = [
            {"label": c.short_name, "number": c.contract_number, "offer": c.offer_label, "active": c.id == contract.id}
            for c in customer.contracts
        ]
        page["sections"] = SPACE_SECTIONS[contract.offer]
        page["contract_section"] = _contract_section(customer, contract, now)
        if access(contract.offer, CONSUMPTION, contract.monthly_payment).allowed:
            page["energy"] = _consumption_section(s, customer, contract, today, now)
        elif access(contract.offer, SURPLUS, contract.monthly_payment).allowed:
            page["energy"] = _surplus_section(s, customer, contract, today, now)
        else:
            page["energy"] = None
        page["billing"] = _invoices_section(s, customer, contract, today, now)
        return page


# --- routes -------------------------------------------------------------------------------------------


@bp.get("/")
async def home(request: Request) -> HTTPResponse:
    number = logged_in_customer(request)
    if number is None:
        return await _picker(request)
    page = await asyncio.to_thread(customer_space, number, request.args.get("contrat"), local_now())
    if page is None:  # the customer was deactivated since logging in
        log_in_customer(request, None)
        return await _picker(request, 200, "Ce compte client n'est plus actif.")
    return request.app.ctx.pages.render(
        "space.html",
        page=page,
        demo_login=request.app.ctx.config.demo_login,
        logout_csrf=csrf_token(request, "logout"),
        chat=chat_config(request, number),
    )


@bp.post("/connexion")
async def login(request: Request) -> HTTPResponse:
    """Dev-only log-in as a demo customer; in production the real portal logs customers in."""
    pages = request.app.ctx.pages
    if not request.app.ctx.config.demo_login:
        return pages.message(404, "Page introuvable", "La connexion de démonstration est désactivée.")
    if not csrf_ok(request, "login", request.form.get("csrf")):
        return pages.message(
            403, "Formulaire expiré", "Ce formulaire a expiré ou n'est pas valide. Rechargez la page et réessayez."
        )
    number = (request.form.get("customer") or "").strip()
    exists = await asyncio.to_thread(_customer_exists, number)
    if not exists:
        return await _picker(request, 400, "Ce client n'existe pas ou n'est plus actif.")
    log_in_customer(request, number)  # a new nonce: a session fixed before log-in is worthless
    return response.redirect("/", status=303)


def _customer_exists(number: str) -> bool:
    if not number or len(number) > 20:
        return False
    with session_scope() as s:
        return load_customer(s, number) is not None


@bp.post("/deconnexion")
async def logout(request: Request) -> HTTPResponse:
    if logged_in_customer(request) and not csrf_ok(request, "logout", request.form.get("csrf")):
        return request.app.ctx.pages.message(
            403, "Formulaire expiré", "Ce formulaire a expiré. Rechargez la page et réessayez."
        )
    log_out_customer(request)
    return response.redirect("/", status=303)


@bp.get("/token")
async def token(request: Request) -> HTTPResponse:
    """A fresh portal JWT for the logged-in customer: the widget reconnects with it when the old one expires."""
    number = logged_in_customer(request)
    if number is None:
        return response.json(
            {"error": "not_logged_in", "message": "Votre session a expiré : reconnectez-vous."},
            status=401,
            headers={"Cache-Control": "no-store"},
        )
    config = chat_config(request, number)
    return response.json(
        {"token": config["token"], "expires_at": config["expiresAt"], "conversation_id": config["conversationId"]},
        headers={"Cache-Control": "no-store"},
    )
