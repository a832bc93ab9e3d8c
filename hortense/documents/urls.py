"""Signed, expiring links to a customer's documents, bank-details form and charts, for the bot and the portal.

Every link is an absolute URL on the web app (`settings.web_base_url`), bound to the customer number and
valid 15 minutes (`hortense.security.signing`): a link pasted in a chat log or forwarded by mistake soon stops
working, and the web app re-checks in the database that the document belongs to that customer.

A link is only ever signed for a contract the customer holds: asking for another one is a programming
error (ValueError), not something to hand out.
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import quote

from hortense.account.customers import ContractView, CustomerView
from hortense.account.offers import CONSUMPTION, SURPLUS, access
from hortense.energy.periods import Period
from hortense.security.signing import DEFAULT_TTL, sign_path
from hortense.settings import Settings, get_settings

CONTRACT_PATH = "/documents/contrat/{number}.pdf"
PROOF_OF_ADDRESS_PATH = "/documents/attestation/{number}.pdf"
INVOICE_PATH = "/documents/facture/{number}.pdf"
BANK_FORM_PATH = "/rib"
BANK_CONFIRMATION_PATH = "/rib/confirmation/{reference}"
CHART_PATH = "/charts/{kind}.png"

CHART_KINDS = {"consumption": CONSUMPTION, "surplus": SURPLUS}  # chart kind -> the offer feature it shows
MAX_CHART_MONTHS = 36


def _secret(settings: Settings) -> bytes:
    return settings.links_secret.encode("utf-8")


def _absolute(signed: str, settings: Settings) -> str:
    return f"{settings.web_base_url}{signed}"


def _owned(customer: CustomerView, contract: ContractView) -> ContractView:
    """The ownership rule of every link: never sign anything for a contract the customer does not hold."""
    if customer.contract(contract.id) is None:
        raise ValueError(f"contract {contract.contract_number} does not belong to customer {customer.customer_number}")
    return contract


def signed_path(path: str, customer_number: str, now: datetime | None = None, settings: Settings | None = None) -> str:
    """The signed, 15-minute form of a bare path of the web app, without the host (for redirects)."""
    s = settings or get_settings()
    return sign_path(path, customer_number, _secret(s), ttl=DEFAULT_TTL, now=now)


def signed_url(path: str, customer_number: str, now: datetime | None = None, settings: Settings | None = None) -> str:
    """An absolute, signed, 15-minute URL for a bare path of the web app."""
    s = settings or get_settings()
    return _absolute(signed_path(path, customer_number, now, s), s)


def contract_link(customer: CustomerView, contract: ContractView, now: datetime | None = None) -> str:
    """The contract's particular conditions as a PDF."""
    number = _owned(customer, contract).contract_number
    return signed_url(CONTRACT_PATH.format(number=number), customer.customer_number, now)


def proof_of_address_link(customer: CustomerView, contract: ContractView, now: datetime | None = None) -> str:
    """An 'attestation de domicile' PDF for this contract's supply address, issued on download."""
    number = _owned(customer, contract).contract_number
    return signed_url(PROOF_OF_ADDRESS_PATH.format(number=number), customer.customer_number, now)


def invoice_link(
    customer: CustomerView, contract: ContractView, invoice_number: str, now: datetime | None = None
) -> str:
    """One invoice as a PDF; the web app checks that the invoice belongs to one of the customer's contracts."""
    _owned(customer, contract)
    if not invoice_number or "/" in invoice_number or "?" in invoice_number or "#" in invoice_number:
        raise ValueError(f"invoice number not usable in a URL: {invoice_number!r}")
    return signed_url(INVOICE_PATH.format(number=invoice_number), customer.customer_number, now)


def bank_form_link(customer: CustomerView, now: datetime | None = None) -> str:
    """The secure bank-details form (IBAN is never typed in the chat)."""
    return signed_url(BANK_FORM_PATH, customer.customer_number, now)


def chart_resource(kind: str, contract_number: str, start: date, end: date) -> str:
    """What a chart link signs: kind, contract and period together, so none of them can be changed in the URL.

    `hortense.security.signing` signs a bare path; the chart's parameters travel in the query string, so the
    signed "path" is this canonical spelling of the whole resource, rebuilt by the web app to verify.
    """
    return f"{CHART_PATH.format(kind=kind)};contrat={contract_number};du={start:%Y-%m};au={end:%Y-%m}"


def chart_link(
    customer: CustomerView, contract: ContractView, kind: str, period: Period, now: datetime | None = None
) -> str:
    """A PNG chart: 'consumption' (monthly peak/off-peak stacked bars) or 'surplus' (monthly injected kWh)."""
    s = get_settings()
    _owned(customer, contract)
    feature = CHART_KINDS.get(kind)
    if feature is None:
        raise ValueError(f"unknown chart kind: {kind!r}")
    if not access(contract.offer, feature, contract.monthly_payment).allowed:
        raise ValueError(f"no {kind} chart for offer {contract.offer}")
    start, end = period.start.replace(day=1), period.end.replace(day=1)
    if end < start or (end.year - start.year) * 12 + end.month - start.month >= MAX_CHART_MONTHS:
        raise ValueError("chart period must be 1 to 36 months")
    resource = chart_resource(kind, contract.contract_number, start, end)
    signed = sign_path(resource, customer.customer_number, _secret(s), ttl=DEFAULT_TTL, now=now)
    # sign_path returned "<resource>?c=…&exp=…&sig=…": put the resource's parameters back into the query.
    _, _, signature_query = signed.partition("?")
    query = f"contrat={quote(contract.contract_number, safe='')}&du={start:%Y-%m}&au={end:%Y-%m}&{signature_query}"
    return f"{s.web_base_url}{CHART_PATH.format(kind=kind)}?{query}"
