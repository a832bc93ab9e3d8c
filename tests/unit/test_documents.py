"""PDF documents and their verification codes.

Every content assertion reads the text back out of the PDF bytes, so what is checked is what a reader sees.
"""
from __future__ import annotations

import base64
import io
import re
import zlib
from dataclasses import replace
from datetime import date, datetime, time
from decimal import Decimal

import pytest
from pypdf import PdfReader

from hortense.account.customers import ContractView, CustomerView, OffpeakView
from hortense.billing.invoices import InvoiceView
from hortense.documents import pdf as docs
from hortense.documents.verification import (
    CONTRACT,
    INVOICE,
    PROOF_OF_ADDRESS,
    VerificationRef,
    document_code,
    parse_verification_path,
    verification_path,
    verify_document_code,
)

SECRET = b"test-documents-secret-0123456789abcdef"
ISSUED = date(2024, 12, 3)
BASE_URL = "https://www.hortense-energie.fr"


# --- reading PDFs back --------------------------------------------------------------------------------

def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " ")).strip()


def pdf_text(data: bytes) -> str:
    """All the text of a PDF (read by pypdf) with whitespace collapsed, so line wrapping and no-break spaces
    do not matter."""
    return _normalise(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def pdf_images(data: bytes) -> list[tuple[int, int, bytes]]:
    """(width, height, decoded pixel bytes) of every image XObject."""
    images = []
    for stream in re.finditer(rb"<<([^<>]*/Subtype /Image[^<>]*)>>\s*stream\r?\n(.*?)endstream", data, re.S):
        dictionary, payload = stream.groups()
        filters = re.search(rb"/Filter\s*(\[[^\]]*\]|/\w+)", dictionary)
        for name in re.findall(rb"/\w+", filters.group(1)) if filters else []:
            if name == b"/ASCII85Decode":
                payload = base64.a85decode(payload.strip().removesuffix(b"~>"))
            elif name == b"/FlateDecode":
                payload = zlib.decompress(payload)
            else:
                raise AssertionError(f"unexpected image filter {name!r}")
        width = int(re.search(rb"/Width (\d+)", dictionary).group(1))
        height = int(re.search(rb"/Height (\d+)", dictionary).group(1))
        images.append((width, height, payload))
    return images


def assert_valid_pdf(data: bytes) -> None:
    """Header, trailer and a cross-reference table whose every offset lands on its object."""
    assert data.startswith(b"%PDF-1.")
    assert data.rstrip().endswith(b"%%EOF")
    startxref = int(re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", data).group(1))
    assert data[startxref:startxref + 4] == b"xref"
    header = re.match(rb"xref\s+0 (\d+)\s+", data[startxref:])
    count = int(header.group(1))
    entries = re.findall(rb"(\d{10}) (\d{5}) ([nf])", data[startxref + header.end():])[:count]
    assert len(entries) == count
    for number, (offset, _, kind) in enumerate(entries):
        if kind == b"n":
            assert re.match(rb"%d 0 obj" % number, data[int(offset):]), f"object {number} misplaced"


def page_count(data: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", data))


# --- data ---------------------------------------------------------------------------------------------

def _contract(**overrides) -> ContractView:
    values = dict(
        id=1, contract_number="SV-2022-000102", offer="stockage_virtuel", pdl="14295730100102", site_label=None,
        supply_address="4 allée des Tilleuls", supply_postcode="44000", supply_city="Nantes",
        start_date=date(2022, 3, 1), subscribed_power_kva=6, monthly_payment=True, instalment_day=5,
        resale_price_eur_per_kwh=None,
        offpeak=(
            OffpeakView(time(13, 0), time(16, 0), "hiver", 11, 3),
            OffpeakView(time(2, 0), time(7, 0), "hiver", 11, 3),
            OffpeakView(time(1, 0), time(6, 0), "été", 4, 10),
            OffpeakView(time(11, 0), time(14, 0), "été", 4, 10),
        ),
    )
    values.update(overrides)
    return ContractView(**values)


STOCKAGE = _contract()
BOOST = _contract(
    id=2, contract_number="BMS-2023-000103", offer="boost_surplus", pdl="14295730100103",
    site_label="Maison de Montpellier", supply_address="27 chemin des Oliviers", supply_postcode="34000",
    supply_city="Montpellier", start_date=date(2023, 6, 14), subscribed_power_kva=9, monthly_payment=False,
    instalment_day=None, resale_price_eur_per_kwh=Decimal("0.1269"),
    offpeak=(OffpeakView(time(22, 0), time(6, 0), None, None, None),),
)
PERSON = CustomerView(
    id=10, customer_number="C1002", civility="Mme", first_name="Hélène", last_name="Lefèvre", company_name=None,
    email="helene.lefevre@example.fr", phone=None, billing_address="12 rue des Capucins", billing_postcode="69001",
    billing_city="Lyon", contracts=(STOCKAGE, BOOST),
)
COMPANY = replace(PERSON, id=11, customer_number="C1006", civility="M.", first_name="Thomas", last_name="Girard",
                  company_name="Atelier Girard & Fils <Lyon>")
OTHER_CUSTOMER = replace(PERSON, id=12, customer_number="C1009", contracts=())


def _invoice(**overrides) -> InvoiceView:
    values = dict(id=5, number="F202412-000102", kind="consumption", issued_on=date(2024, 12, 3),
                  period_start=date(2024, 9, 1), period_end=date(2024, 11, 30), amount_eur=Decimal("1234.5"),
                  status="paid", due_date=date(2024, 12, 20), paid_on=date(2024, 12, 10))
    values.update(overrides)
    return InvoiceView(**values)


def _url(customer: CustomerView = PERSON, contract: ContractView = STOCKAGE, issued_on: date = ISSUED) -> str:
    code = document_code(PROOF_OF_ADDRESS, customer.customer_number, contract.contract_number, issued_on, SECRET)
    return BASE_URL + verification_path(PROOF_OF_ADDRESS, contract.contract_number, issued_on, code)


def _proof(customer: CustomerView = PERSON, contract: ContractView = STOCKAGE) -> bytes:
    return docs.render_proof_of_address(customer, contract, ISSUED, _url(customer, contract))


ALL_DOCUMENTS = {
    "proof_of_address": lambda: _proof(),
    "contract": lambda: docs.render_contract(PERSON, BOOST, ISSUED),
    "invoice": lambda: docs.render_invoice(PERSON, STOCKAGE, _invoice()),
}


# --- all documents ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL_DOCUMENTS)
def test_documents_are_valid_single_page_a4_pdfs_with_supplier_identity(name):
    data = ALL_DOCUMENTS[name]()
    assert_valid_pdf(data)
    assert page_count(data) == 1
    box = [float(v) for v in re.search(rb"/MediaBox \[ ([\d. ]+) \]", data).group(1).split()]
    assert box[:2] == [0, 0] and box[2] == pytest.approx(595.28, abs=0.1) and box[3] == pytest.approx(841.89, abs=0.1)
    text = pdf_text(data)
    assert "Hortense Énergie" in text
    assert "Hortense Énergie SAS" in text and "10 rue de la Lumière, 69002 Lyon" in text
    assert "RCS Lyon 912 345 678" in text
    assert "au capital de 100 000,00 €" in text
    assert "Page 1 sur 1" in text


@pytest.mark.parametrize("name", ALL_DOCUMENTS)
def test_documents_are_byte_stable(name):
    assert ALL_DOCUMENTS[name]() == ALL_DOCUMENTS[name]()


@pytest.mark.parametrize("render", [
    lambda: docs.render_proof_of_address(OTHER_CUSTOMER, STOCKAGE, ISSUED, _url()),
    lambda: docs.render_contract(OTHER_CUSTOMER, STOCKAGE, ISSUED),
    lambda: docs.render_invoice(OTHER_CUSTOMER, STOCKAGE, _invoice()),
])
def test_no_document_puts_a_customer_on_someone_elses_contract(render):
    with pytest.raises(ValueError):
        render()


# --- proof of address ---------------------------------------------------------------------------------

def test_proof_of_address_states_holder_address_pdl_and_dates_in_french():
    text = pdf_text(_proof())
    assert "Attestation de domicile" in text
    assert "Justificatif de fourniture d'électricité" in text
    assert ("certifie que Mme Hélène Lefèvre est titulaire d'un contrat de fourniture d'électricité "
            "au point de livraison n° 14 295 730 100 102") in text
    assert "4 allée des Tilleuls, 44000 Nantes" in text
    assert "14295730100102" not in text  # always grouped for reading
    assert "SV-2022-000102" in text
    assert "Stockage Virtuel" in text
    assert "depuis le mardi 1er mars 2022" in text
    assert "Date d'émission : 3 décembre 2024" in text
    assert "Fait à Lyon, le 3 décembre 2024." in text
    assert "Client n° C1002" in text and "12 rue des Capucins" in text


def test_proof_of_address_carries_the_verification_url_in_clear_and_as_a_link():
    url = _url()
    data = _proof()
    text = pdf_text(data)
    assert f"Vérifiez l'authenticité de ce document : {url}" in text
    assert b"/URI (" + url.encode() + b")" in data


def test_proof_of_address_qr_code_encodes_the_verification_url():
    url = _url()
    images = pdf_images(_proof())
    assert len(images) == 1
    width, height, pixels = images[0]
    mode = {1: "L", 3: "RGB"}[len(pixels) // (width * height)]  # reportlab stores the 1-bit image widened
    expected = docs.qr_image(url).convert(mode)
    assert (width, height) == expected.size
    assert pixels == expected.tobytes()
    assert pixels != docs.qr_image(_url(issued_on=date(2024, 12, 4))).convert(mode).tobytes()


def test_company_name_is_escaped_and_shown_with_the_person_to_address():
    text = pdf_text(_proof(COMPANY))
    assert "certifie que Atelier Girard & Fils <Lyon> est titulaire" in text
    assert "À l'attention de M. Thomas Girard" in text


def test_proof_of_address_refuses_a_non_web_verification_url():
    with pytest.raises(ValueError):
        docs.render_proof_of_address(PERSON, STOCKAGE, ISSUED, "javascript:alert(1)")


# --- contract -----------------------------------------------------------------------------------------

def test_contract_with_seasonal_offpeak_and_monthly_payment():
    text = pdf_text(docs.render_contract(PERSON, STOCKAGE, ISSUED))
    assert "Conditions particulières de votre contrat" in text
    assert "Contrat n° SV-2022-000102 – Stockage Virtuel" in text
    assert "Le client : Mme Hélène Lefèvre, client n° C1002, 12 rue des Capucins, 69001 Lyon." in text
    assert "Le fournisseur : Hortense Énergie SAS au capital de 100 000,00 €" in text
    assert "14 295 730 100 102" in text
    assert "mardi 1er mars 2022" in text
    assert "6 kVA" in text
    assert "Été (avril à octobre) : 1h00 – 6h00 et 11h00 – 14h00" in text
    assert "Hiver (novembre à mars) : 2h00 – 7h00 et 13h00 – 16h00" in text
    assert "Mensualisation : Oui, prélèvement le 5 de chaque mois" in text
    assert "Prix de rachat" not in text
    assert "Document édité le 3 décembre 2024." in text


def test_boost_contract_shows_resale_price_and_all_year_offpeak():
    text = pdf_text(docs.render_contract(PERSON, BOOST, ISSUED))
    assert "Boost Mon Surplus" in text and "BMS-2023-000103" in text
    assert "Site : Maison de Montpellier" in text
    assert "27 chemin des Oliviers, 34000 Montpellier" in text
    assert "9 kVA" in text
    assert "mercredi 14 juin 2023" in text
    assert "Toute l'année : 22h00 – 6h00" in text
    assert "Mensualisation : Non" in text
    assert "Prix de rachat du surplus : 0,1269 €/kWh" in text


def test_contract_without_offpeak_and_first_of_month_instalment():
    contract = _contract(offpeak=(), instalment_day=1)
    customer = replace(PERSON, contracts=(contract,))
    text = pdf_text(docs.render_contract(customer, contract, ISSUED))
    assert "Aucune plage d'heures creuses sur ce contrat." in text
    assert "prélèvement le 1er de chaque mois" in text


# --- invoices -----------------------------------------------------------------------------------------

def test_consumption_invoice():
    text = pdf_text(docs.render_invoice(PERSON, STOCKAGE, _invoice()))
    assert "Facture n° F202412-000102" in text
    assert "revente" not in text
    assert "Date d'émission : 3 décembre 2024" in text
    assert "Période : du 1er septembre 2024 au 30 novembre 2024" in text
    assert "Montant TTC 1 234,50 €" in text
    assert "Statut : Payée le 10 décembre 2024" in text
    assert "SV-2022-000102 – Stockage Virtuel" in text
    assert "14 295 730 100 102" in text
    assert "Autofacturation" not in text


def test_resale_invoice_is_self_billed():
    invoice = _invoice(number="R202412-000103", kind="resale", amount_eur=Decimal("87.6"),
                       status="to_be_paid_to_customer", due_date=None, paid_on=None)
    text = pdf_text(docs.render_invoice(PERSON, BOOST, invoice))
    assert "Facture de revente de surplus" in text
    assert "87,60 €" in text
    assert "Statut : Versement à venir" in text
    assert "Autofacturation : facture établie par Hortense Énergie SAS au nom et pour le compte de " \
           "Mme Hélène Lefèvre" in text


@pytest.mark.parametrize("status, due_date, paid_on, expected", [
    ("paid", None, date(2024, 12, 10), "Payée le 10 décembre 2024"),
    ("unpaid", date(2024, 12, 20), None, "À régler avant le 20 décembre 2024"),
    ("to_be_paid_to_customer", None, None, "Versement à venir"),
    ("paid_to_customer", None, date(2025, 1, 8), "Versée le 8 janvier 2025"),
])
def test_invoice_status_lines(status, due_date, paid_on, expected):
    invoice = _invoice(status=status, due_date=due_date, paid_on=paid_on)
    assert docs.invoice_status_text(invoice) == expected
    assert f"Statut : {expected}" in pdf_text(docs.render_invoice(PERSON, STOCKAGE, invoice))


@pytest.mark.parametrize("overrides", [{"status": "cancelled"}, {"kind": "credit_note"}])
def test_unknown_invoice_status_or_kind_is_refused(overrides):
    with pytest.raises(ValueError):
        docs.render_invoice(PERSON, STOCKAGE, _invoice(**overrides))


# --- verification codes -------------------------------------------------------------------------------

def _code(**overrides) -> str:
    args = dict(kind=PROOF_OF_ADDRESS, customer_number="C1002", contract_number="SV-2022-000102",
                issued_on=ISSUED, secret=SECRET)
    args.update(overrides)
    return document_code(**args)


def _verify(code: str, **overrides) -> bool:
    args = dict(kind=PROOF_OF_ADDRESS, customer_number="C1002", contract_number="SV-2022-000102",
                issued_on=ISSUED, secret=SECRET)
    args.update(overrides)
    return verify_document_code(code, **args)


def test_code_is_short_base32_and_deterministic():
    code = _code()
    assert re.fullmatch(r"[A-Z2-7]{16}", code)
    assert code == _code()


def test_code_round_trip_tolerates_retyping():
    code = _code()
    assert _verify(code)
    assert _verify(f"  {code.lower()} ")
    assert _verify(code, contract_number="sv-2022-000102")  # contract numbers are case-insensitive


@pytest.mark.parametrize("tampered", [
    {"customer_number": "C1003"},
    {"contract_number": "SV-2022-000103"},
    {"issued_on": date(2024, 12, 4)},
    {"kind": CONTRACT},
    {"kind": INVOICE},
    {"secret": b"another-secret-0123456789abcdef-xyz"},
])
def test_code_does_not_verify_for_other_facts(tampered):
    assert _code(**tampered) != _code()
    assert not _verify(_code(), **tampered)


def test_edited_or_malformed_codes_do_not_verify():
    code = _code()
    for i in range(len(code)):
        edited = code[:i] + ("A" if code[i] != "A" else "B") + code[i + 1:]
        assert not _verify(edited)
    for bad in ("", code[:-1], code + "A", code[:-1] + "1", code[:-1] + "=", None, 12345):
        assert not _verify(bad)


def test_unknown_kind_or_date_time_cannot_get_a_code():
    with pytest.raises(ValueError):
        _code(kind="attestation")
    assert not _verify(_code(), kind="attestation")
    with pytest.raises(TypeError):
        _code(issued_on=datetime(2024, 12, 3, 10, 0))


def test_missing_secret_fails_loudly():
    with pytest.raises(ValueError):
        _code(secret=b"")
    with pytest.raises(ValueError):
        _verify(_code(), secret=b"")


# --- verification paths -------------------------------------------------------------------------------

def test_verification_path_round_trip():
    code = _code()
    path = verification_path(PROOF_OF_ADDRESS, "SV-2022-000102", ISSUED, code)
    assert path == f"/verifier/attestation-domicile/SV-2022-000102/2024-12-03/{code}"
    ref = parse_verification_path(path)
    assert ref == VerificationRef(PROOF_OF_ADDRESS, "SV-2022-000102", ISSUED, code)
    assert ref == (PROOF_OF_ADDRESS, "SV-2022-000102", ISSUED, code)
    assert _verify(ref.code, kind=ref.kind, contract_number=ref.contract_number, issued_on=ref.issued_on)
    assert parse_verification_path(path + "/") == ref
    assert parse_verification_path(path.replace(code, code.lower())) == ref


@pytest.mark.parametrize("path", [
    "",
    "/verifier",
    "/verifier/attestation-domicile/SV-2022-000102/2024-12-03",
    "/verifier/inconnu/SV-2022-000102/2024-12-03/AAAAAAAAAAAAAAAA",
    "/verifier/attestation-domicile/SV-2022-000102/2024-13-03/AAAAAAAAAAAAAAAA",
    "/verifier/attestation-domicile/SV-2022-000102/03-12-2024/AAAAAAAAAAAAAAAA",
    "/verifier/attestation-domicile/SV-2022-000102/2024-12-03/AAAAAAAAAAAAAAA",
    "/verifier/attestation-domicile/SV-2022-000102/2024-12-03/AAAAAAAAAAAAAAA1",
    "/verifier/attestation-domicile/../2024-12-03/AAAAAAAAAAAAAAAA",
    "/verifier/attestation-domicile/SV-2022-000102/2024-12-03/AAAAAAAAAAAAAAAA/extra",
    "/verifier/attestation-domicile/SV-2022-000102/2024-12-03/AAAAAAAAAAAAAAAA?x=1",
    "/autre/attestation-domicile/SV-2022-000102/2024-12-03/AAAAAAAAAAAAAAAA",
])
def test_malformed_verification_paths_are_rejected(path):
    assert parse_verification_path(path) is None


def test_verification_path_refuses_what_would_not_parse_back():
    code = _code()
    with pytest.raises(ValueError):
        verification_path(PROOF_OF_ADDRESS, "SV/../2022", ISSUED, code)
    with pytest.raises(ValueError):
        verification_path("inconnu", "SV-2022-000102", ISSUED, code)
    with pytest.raises(ValueError):
        verification_path(PROOF_OF_ADDRESS, "SV-2022-000102", ISSUED, "not-a-code")


def test_long_document_numbers_its_pages_and_repeats_header_and_footer():
    seasons = tuple(OffpeakView(time(h % 24, 0), time((h + 2) % 24, 0), f"période {h}", 1, 12) for h in range(70))
    contract = _contract(offpeak=seasons)
    data = docs.render_contract(replace(PERSON, contracts=(contract,)), contract, ISSUED)
    assert_valid_pdf(data)
    pages = page_count(data)
    assert pages >= 2
    text = pdf_text(data)
    for number in range(1, pages + 1):
        assert f"Page {number} sur {pages}" in text
    assert text.count("Fournisseur d'électricité verte") == pages  # brand header
    assert text.count("au capital de 100 000,00 € – 10 rue de la Lumière") == pages  # legal footer
