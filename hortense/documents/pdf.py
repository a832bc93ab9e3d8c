"""Customer documents as PDF (proof of address, contract terms, invoice), rendered with reportlab.

Rendering only: callers pass views they loaded (and checked ownership of) themselves. Every amount and
date goes through `hortense.replies.formatting`, so a document says exactly what the chat says.
"""

from __future__ import annotations

import io
from datetime import date, time
from decimal import Decimal
from itertools import groupby
from xml.sax.saxutils import escape, quoteattr

import qrcode
from babel.dates import get_month_names
from PIL.Image import Image as PILImage
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from hortense.account.customers import ContractView, CustomerView, OffpeakView
from hortense.billing.invoices import InvoiceView
from hortense.db.models import OFFER_BOOST
from hortense.replies import formatting

# The supplier (fictional), as its legal mentions must appear on every document.
SUPPLIER_NAME = "Hortense Énergie"
SUPPLIER_LEGAL_NAME = "Hortense Énergie SAS"
SUPPLIER_CAPITAL_EUR = Decimal("100000")
SUPPLIER_STREET = "10 rue de la Lumière"
SUPPLIER_POSTCODE = "69002"
SUPPLIER_CITY = "Lyon"
SUPPLIER_SIREN = "912 345 678"
SUPPLIER_RCS = f"RCS {SUPPLIER_CITY} {SUPPLIER_SIREN}"
SUPPLIER_ADDRESS = f"{SUPPLIER_STREET}, {SUPPLIER_POSTCODE}\u00a0{SUPPLIER_CITY}"
SUPPLIER_TAGLINE = "Fournisseur d'électricité verte"

VERIFY_SENTENCE = "Vérifiez l'authenticité de ce document"

# `invariant` makes the output byte-stable for a given input.
INVARIANT = 1

_PAGE_WIDTH, _PAGE_HEIGHT = A4
_MARGIN_X = 20 * mm
_FRAME_PADDING = 6  # reportlab's default frame padding, taken out of the margin so all edges line up
_TEXT_WIDTH = _PAGE_WIDTH - 2 * _MARGIN_X
_LABEL_WIDTH = 62 * mm
_QR_SIZE = 32 * mm

_GREEN = colors.HexColor("#1E7B4A")
_GREY = colors.HexColor("#5F6B66")
_RULE = colors.HexColor("#D5DDD8")
_TINT = colors.HexColor("#F1F6F3")

_BASE = ParagraphStyle("base", fontName="Helvetica", fontSize=10, leading=14, textColor=colors.black)
_STYLES = {
    "title": ParagraphStyle("title", _BASE, fontName="Helvetica-Bold", fontSize=19, leading=24, textColor=_GREEN),
    "subtitle": ParagraphStyle("subtitle", _BASE, fontSize=12, leading=16, textColor=_GREY, spaceAfter=6),
    "section": ParagraphStyle(
        "section",
        _BASE,
        fontName="Helvetica-Bold",
        fontSize=11.5,
        leading=15,
        textColor=_GREEN,
        spaceBefore=12,
        spaceAfter=5,
    ),
    "body": ParagraphStyle("body", _BASE, spaceAfter=6),
    "label": ParagraphStyle("label", _BASE, fontSize=9.5, textColor=_GREY),
    "value": ParagraphStyle("value", _BASE),
    "small": ParagraphStyle("small", _BASE, fontSize=8.5, leading=11.5, textColor=_GREY),
    "party": ParagraphStyle("party", _BASE, fontSize=9.5, leading=13),
    "recipient": ParagraphStyle("recipient", _BASE, fontSize=10, leading=13.5),
    "total": ParagraphStyle("total", _BASE, fontName="Helvetica-Bold", fontSize=13, leading=17),
    "total_amount": ParagraphStyle(
        "total_amount", _BASE, fontName="Helvetica-Bold", fontSize=13, leading=17, alignment=TA_RIGHT
    ),
}

_INVOICE_STATUSES = ("paid", "unpaid", "to_be_paid_to_customer", "paid_to_customer")
_INVOICE_KINDS = ("consumption", "resale")


# --- text helpers -------------------------------------------------------------------------------------


def _t(text: object) -> str:
    """Data goes into reportlab's mini-markup: escape it ('Atelier Girard & Fils' would break the parser)."""
    # Narrow no-break spaces are outside Helvetica's encoding; a no-break space reads the same.
    return escape(str(text)).replace("\u202f", "\u00a0")


def _label(text: str) -> str:
    """French puts a (no-break) space before a colon."""
    return f"{text}\u00a0:"


def _hhmm(t: time) -> str:
    """'22h00': contracts spell every off-peak boundary with minutes, unlike the chat's '22h'."""
    return f"{t.hour}h{t.minute:02d}"


def _month_name(month: int) -> str:
    return get_month_names("wide", locale=formatting.LOCALE)[month]


def _day_of_month(day: int) -> str:
    return "1er" if day == 1 else str(day)


def _join_fr(items: list[str]) -> str:
    """'a', 'a et b', 'a, b et c'."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} et {items[-1]}"


def _nowrap(text: str) -> str:
    """Keep a postcode with its city and a PDL in one piece when a sentence wraps."""
    return text.replace(" ", "\u00a0")


def _supply_address(contract: ContractView) -> str:
    return f"{contract.supply_address}, {_nowrap(f'{contract.supply_postcode} {contract.supply_city}')}"


def offpeak_lines(contract: ContractView) -> list[tuple[str, str]]:
    """(period, ranges) rows: all-year ranges first, then one row per season with its months."""

    def season_key(r: OffpeakView) -> tuple:
        return (r.season is not None, r.season_start_month or 0, r.season or "")

    rows = []
    for _, group in groupby(sorted(contract.offpeak, key=lambda r: (season_key(r), r.start)), key=season_key):
        ranges = list(group)
        first = ranges[0]
        if first.season is None:
            period = "Toute l'année"
        else:
            period = first.season[:1].upper() + first.season[1:]
            if first.season_start_month and first.season_end_month:
                period += f" ({_month_name(first.season_start_month)} à {_month_name(first.season_end_month)})"
        rows.append((period, _join_fr([f"{_hhmm(r.start)}\u00a0– {_hhmm(r.end)}" for r in ranges])))
    return rows


def invoice_status_text(invoice: InvoiceView) -> str:
    """The status line of an invoice, as the customer reads it."""
    if invoice.status not in _INVOICE_STATUSES:
        # Better no document than one that states a wrong payment situation.
        raise ValueError(f"unknown invoice status: {invoice.status!r}")
    if invoice.status == "paid":
        return f"Payée le {formatting.short_date(invoice.paid_on)}" if invoice.paid_on else "Payée"
    if invoice.status == "unpaid":
        return f"À régler avant le {formatting.short_date(invoice.due_date)}" if invoice.due_date else "À régler"
    if invoice.status == "to_be_paid_to_customer":
        return "Versement à venir"
    return f"Versée le {formatting.short_date(invoice.paid_on)}" if invoice.paid_on else "Versée"


# --- QR code ------------------------------------------------------------------------------------------


def qr_image(data: str) -> PILImage:
    """The QR code as a black-and-white PIL image (medium error correction survives a printed-and-scanned copy)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=4, border=4)
    code.add_data(data)
    code.make(fit=True)
    return code.make_image().get_image()


def _qr_flowable(data: str) -> Image:
    png = io.BytesIO()
    qr_image(data).save(png, format="PNG")
    png.seek(0)
    return Image(png, width=_QR_SIZE, height=_QR_SIZE)


# --- layout building blocks ---------------------------------------------------------------------------


def _p(markup: str, style: str = "body") -> Paragraph:
    return Paragraph(markup, _STYLES[style])


def _check_owner(customer: CustomerView, contract: ContractView) -> None:
    """A document must never print one customer's name on another customer's contract."""
    if customer.contract(contract.id) is None:
        raise ValueError(
            f"contract {contract.contract_number} is not one of customer {customer.customer_number}'s contracts"
        )


def _parties(customer: CustomerView) -> Table:
    """Supplier identity on the left, recipient on the right (where a window envelope shows it)."""
    supplier = _p(
        "<br/>".join(
            [
                f"<b>{_t(SUPPLIER_LEGAL_NAME)}</b>",
                _t(SUPPLIER_STREET),
                _t(f"{SUPPLIER_POSTCODE} {SUPPLIER_CITY}"),
                _t(SUPPLIER_RCS),
            ]
        ),
        "party",
    )
    lines = [f"<b>{_t(customer.holder_name)}</b>"]
    if customer.company_name:
        person = " ".join(part for part in (customer.civility, customer.full_name) if part)
        lines.append(_t(f"À l'attention de {person}"))
    lines += [
        _t(customer.billing_address),
        _t(f"{customer.billing_postcode} {customer.billing_city}"),
        _t(f"Client n° {customer.customer_number}"),
    ]
    recipient = _p("<br/>".join(lines), "recipient")
    table = Table([[supplier, recipient]], colWidths=[_TEXT_WIDTH - 80 * mm, 80 * mm])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (0, 0), 0),
                ("BOX", (1, 0), (1, 0), 0.5, _RULE),
                ("BACKGROUND", (1, 0), (1, 0), _TINT),
                ("LEFTPADDING", (1, 0), (1, 0), 8),
                ("TOPPADDING", (1, 0), (1, 0), 6),
                ("BOTTOMPADDING", (1, 0), (1, 0), 8),
            ]
        )
    )
    return table


def _heading(title: str, subtitle: str | None = None) -> list:
    flow = [Spacer(1, 10 * mm), _p(_t(title), "title")]
    if subtitle:
        flow.append(_p(_t(subtitle), "subtitle"))
    flow.append(Spacer(1, 3 * mm))
    return flow


def _facts(rows: list[tuple[str, str]], bold: frozenset[int] = frozenset()) -> Table:
    """A two-column label/value table; rows listed in `bold` are the ones the reader looks for."""
    data = []
    for i, (label, value) in enumerate(rows):
        value_markup = f"<b>{_t(value)}</b>" if i in bold else _t(value)
        data.append([_p(_t(_label(label)), "label"), _p(value_markup, "value")])
    table = Table(data, colWidths=[_LABEL_WIDTH, _TEXT_WIDTH - _LABEL_WIDTH])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, _RULE),
                ("LINEABOVE", (0, 0), (-1, 0), 0.4, _RULE),
                ("BACKGROUND", (0, 0), (0, -1), _TINT),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


def _verification_block(url: str) -> KeepTogether:
    """QR code plus the URL in clear, sized to stay on one line so it can be retyped from paper."""
    text_width = _TEXT_WIDTH - _QR_SIZE - 8 * mm
    line_width = text_width - 12 - 2  # the cell's default 6 pt paddings, and a little slack
    size = 9.0
    while size > 6 and stringWidth(url, "Helvetica", size) > line_width:
        size -= 0.5
    intro = _p(f"<b>{_t(_label(VERIFY_SENTENCE))}</b>", "body")
    link = Paragraph(
        f"<a href={quoteattr(url)} color='#1E7B4A'>{_t(url)}</a>",
        ParagraphStyle("url", _BASE, fontSize=size, leading=size + 3),
    )
    note = _p(
        _t(
            f"Scannez ce code ou saisissez cette adresse : la page de vérification d'{SUPPLIER_NAME} "
            "confirme que ce document a bien été émis par nos services."
        ),
        "small",
    )
    table = Table(
        [[_qr_flowable(url), [intro, link, Spacer(1, 2 * mm), note]]], colWidths=[_QR_SIZE + 8 * mm, text_width]
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BOX", (0, 0), (-1, -1), 0.5, _RULE),
                ("LEFTPADDING", (0, 0), (0, 0), 4 * mm),
                ("TOPPADDING", (0, 0), (-1, -1), 3 * mm),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3 * mm),
            ]
        )
    )
    return KeepTogether([Spacer(1, 8 * mm), table])


# --- page decoration and assembly ---------------------------------------------------------------------


def _legal_mention() -> str:
    return (
        f"{SUPPLIER_LEGAL_NAME} au capital de {formatting.eur(SUPPLIER_CAPITAL_EUR)} – {SUPPLIER_ADDRESS}"
        f" – {SUPPLIER_RCS}"
    )


def _decorate(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    """Brand header and legal footer, on every page."""
    canvas.saveState()
    top = _PAGE_HEIGHT - 15 * mm
    canvas.setFillColor(_GREEN)
    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawString(_MARGIN_X, top, SUPPLIER_NAME)
    canvas.setFillColor(_GREY)
    canvas.setFont("Helvetica", 8.5)
    canvas.drawString(_MARGIN_X, top - 5 * mm, SUPPLIER_TAGLINE)
    canvas.setStrokeColor(_GREEN)
    canvas.setLineWidth(1.2)
    canvas.line(_MARGIN_X, top - 9 * mm, _PAGE_WIDTH - _MARGIN_X, top - 9 * mm)

    canvas.setStrokeColor(_RULE)
    canvas.setLineWidth(0.5)
    canvas.line(_MARGIN_X, 19 * mm, _PAGE_WIDTH - _MARGIN_X, 19 * mm)
    canvas.setFont("Helvetica", 7.5)
    canvas.drawString(_MARGIN_X, 14 * mm, _legal_mention())
    canvas.restoreState()


class _NumberedCanvas(Canvas):
    """Defers each page's output until the end, so the footer can say 'Page 1 sur 2'."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pending_pages: list[dict] = []

    def showPage(self):
        self._pending_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pending_pages)
        for number, state in enumerate(self._pending_pages, start=1):
            self.__dict__.update(state)
            self.saveState()
            self.setFillColor(_GREY)
            self.setFont("Helvetica", 7.5)
            self.drawRightString(_PAGE_WIDTH - _MARGIN_X, 14 * mm, f"Page {number} sur {total}")
            self.restoreState()
            super().showPage()
        super().save()


def _build(title: str, story: list) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN_X - _FRAME_PADDING,
        rightMargin=_MARGIN_X - _FRAME_PADDING,
        topMargin=32 * mm,
        bottomMargin=25 * mm,
        title=title,
        subject=title,
        author=SUPPLIER_LEGAL_NAME,
        creator=SUPPLIER_NAME,
        lang="fr-FR",
        invariant=INVARIANT,
        pageCompression=1,
    )
    doc.build(story, onFirstPage=_decorate, onLaterPages=_decorate, canvasmaker=_NumberedCanvas)
    return buffer.getvalue()


# --- the documents ------------------------------------------------------------------------------------


def render_proof_of_address(
    customer: CustomerView, contract: ContractView, issued_on: date, verification_url: str
) -> bytes:
    """'Attestation de domicile': what a landlord or a bank asks for, checkable through its QR code."""
    _check_owner(customer, contract)
    if not verification_url.startswith(("https://", "http://")):
        raise ValueError("the verification URL must be an http(s) URL")
    pdl = formatting.pdl(contract.pdl)
    statement = (
        f"{_t(SUPPLIER_LEGAL_NAME)}, fournisseur d'électricité, dont le siège social est situé "
        f"{_t(SUPPLIER_ADDRESS)}, certifie que <b>{_t(customer.holder_name)}</b> est titulaire d'un contrat "
        f"de fourniture d'électricité au point de livraison n°\u00a0{_t(_nowrap(pdl))}, situé "
        f"{_t(_supply_address(contract))}, depuis le {_t(formatting.long_date(contract.start_date))}."
    )
    story = [
        _parties(customer),
        *_heading("Attestation de domicile", "Justificatif de fourniture d'électricité"),
        _p(statement),
        Spacer(1, 2 * mm),
        _facts(
            [
                ("Titulaire du contrat", customer.holder_name),
                ("Adresse de fourniture", _supply_address(contract)),
                ("Point de livraison (PDL)", pdl),
                ("Numéro de contrat", contract.contract_number),
                ("Offre", contract.offer_label),
                ("Date de début du contrat", formatting.long_date(contract.start_date)),
                ("Date d'émission", formatting.short_date(issued_on)),
            ],
            bold=frozenset({0, 1}),
        ),
        Spacer(1, 5 * mm),
        _p("Cette attestation est délivrée pour servir et valoir ce que de droit."),
        _p(_t(f"Fait à {SUPPLIER_CITY}, le {formatting.short_date(issued_on)}.")),
        _p(_t(f"Pour {SUPPLIER_NAME}, le service clients")),
        _verification_block(verification_url),
    ]
    return _build(f"Attestation de domicile – contrat {contract.contract_number}", story)


def render_contract(customer: CustomerView, contract: ContractView, issued_on: date) -> bytes:
    """'Conditions particulières': the facts specific to this contract, as agreed with the customer."""
    _check_owner(customer, contract)
    client = [
        customer.holder_name,
        f"client n° {customer.customer_number}",
        f"{customer.billing_address}, {customer.billing_postcode} {customer.billing_city}",
    ]
    story = [
        _parties(customer),
        *_heading(
            "Conditions particulières de votre contrat",
            f"Contrat n° {contract.contract_number} – {contract.offer_label}",
        ),
        _p("Les parties", "section"),
        _p(
            f"<b>{_t(_label('Le fournisseur'))}</b> {_t(SUPPLIER_LEGAL_NAME)} au capital de "
            f"{_t(formatting.eur(SUPPLIER_CAPITAL_EUR))}, {_t(SUPPLIER_ADDRESS)}, {_t(_nowrap(SUPPLIER_RCS))}."
        ),
        _p(f"<b>{_t(_label('Le client'))}</b> {_t(', '.join(client))}."),
        _p("Votre offre", "section"),
    ]
    offer_rows = [
        ("Offre", contract.offer_label),
        ("Numéro de contrat", contract.contract_number),
        ("Point de livraison (PDL)", formatting.pdl(contract.pdl)),
        ("Adresse de fourniture", _supply_address(contract)),
    ]
    if contract.site_label:
        offer_rows.append(("Site", contract.site_label))
    offer_rows += [
        ("Date de début du contrat", formatting.long_date(contract.start_date)),
        ("Puissance souscrite", f"{contract.subscribed_power_kva}\u00a0kVA"),
    ]
    story.append(_facts(offer_rows, bold=frozenset({0})))

    story.append(_p("Heures creuses", "section"))
    offpeak = offpeak_lines(contract)
    story.append(_facts(offpeak) if offpeak else _p("Aucune plage d'heures creuses sur ce contrat."))

    story.append(_p("Paiement", "section"))
    if contract.monthly_payment:
        monthly = "Oui"
        if contract.instalment_day:
            monthly += f", prélèvement le {_day_of_month(contract.instalment_day)} de chaque mois"
    else:
        monthly = "Non"
    story.append(_facts([("Mensualisation", monthly)]))

    if contract.offer == OFFER_BOOST and contract.resale_price_eur_per_kwh is not None:
        story.append(_p("Revente de votre surplus", "section"))
        story.append(
            _facts(
                [("Prix de rachat du surplus", formatting.price_per_kwh(contract.resale_price_eur_per_kwh))],
                bold=frozenset({0}),
            )
        )

    story += [
        Spacer(1, 6 * mm),
        _p(
            _t(
                f"Ces conditions particulières complètent les conditions générales de vente de l'offre "
                f"{contract.offer_label}."
            ),
            "small",
        ),
        _p(_t(f"Document édité le {formatting.short_date(issued_on)}."), "small"),
    ]
    return _build(f"Conditions particulières – contrat {contract.contract_number}", story)


def render_invoice(customer: CustomerView, contract: ContractView, invoice: InvoiceView) -> bytes:
    """A consumption invoice, or the self-billed invoice of a surplus resale (the supplier pays the customer)."""
    _check_owner(customer, contract)
    if invoice.kind not in _INVOICE_KINDS:
        raise ValueError(f"unknown invoice kind: {invoice.kind!r}")
    resale = invoice.kind == "resale"
    title = "Facture de revente de surplus" if resale else "Facture"
    status = invoice_status_text(invoice)
    period = f"du {formatting.short_date(invoice.period_start)} au {formatting.short_date(invoice.period_end)}"
    story = [
        _parties(customer),
        *_heading(title, f"Facture n° {invoice.number}"),
        _facts(
            [
                ("Numéro de facture", invoice.number),
                ("Date d'émission", formatting.short_date(invoice.issued_on)),
                ("Période", period),
                ("Contrat", f"{contract.contract_number} – {contract.offer_label}"),
                ("Point de livraison (PDL)", formatting.pdl(contract.pdl)),
                ("Adresse de fourniture", _supply_address(contract)),
                ("Statut", status),
            ],
            bold=frozenset({0, 6}),
        ),
        Spacer(1, 5 * mm),
    ]
    total = Table(
        [[_p("Montant TTC", "total"), _p(_t(formatting.eur(invoice.amount_eur)), "total_amount")]],
        colWidths=[_TEXT_WIDTH - 60 * mm, 60 * mm],
    )
    total.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), _TINT),
                ("LINEABOVE", (0, 0), (-1, 0), 1.2, _GREEN),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
                ("RIGHTPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    story.append(total)
    story.append(Spacer(1, 6 * mm))
    if resale:
        # Self-billing: French law requires the mention on an invoice the buyer issues for the seller.
        story.append(
            _p(
                _t(
                    f"{_label('Autofacturation')} facture établie par {SUPPLIER_LEGAL_NAME} au nom et "
                    f"pour le compte de {customer.holder_name}, pour le rachat du surplus d'électricité "
                    "injecté sur le réseau."
                ),
                "small",
            )
        )
    return _build(f"{title} n° {invoice.number}", story)
