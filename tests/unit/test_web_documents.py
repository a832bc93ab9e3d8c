"""Document downloads behind signed links, the public verification page, and the customer space handing them out.

The web app runs in-process (ASGI, no server, no port) on a seeded database; every refusal is checked to be a
French page that carries no PDF bytes.
"""
from __future__ import annotations

import asyncio
import html
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import pytest

from hortense import clock as hortense_clock
from hortense.account.customers import load_customer
from hortense.db.session import session_scope
from hortense.documents import urls as document_links
from hortense.replies import formatting as fr
from hortense.security.signing import sign_path
from hortense.settings import get_settings

# --- an in-process browser ----------------------------------------------------------------------------

@dataclass
class Page:
    status: int
    headers: dict[str, str]
    body: bytes
    location: str | None = None

    @property
    def text(self) -> str:
        """The visible text, unescaped and with spaces normalised (for French assertions)."""
        raw = self.body.decode("utf-8", errors="replace")
        return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", raw)).replace("\u00a0", " ")).strip()

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def field(self, name: str) -> str | None:
        """The value of a hidden or text input of the page's form."""
        match = re.search(rf'name="{re.escape(name)}"[^>]*?value="([^"]*)"', self.body.decode("utf-8"))
        return html.unescape(match.group(1)) if match else None


@dataclass
class WebClient:
    """Calls the Sanic app through ASGI and keeps its cookies, like one browser would."""

    app: object
    cookies: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from sanic import Sanic
        from sanic.asgi import ASGIApp

        # Several apps start in one process here: Sanic's start-up code rewriting ("touchup") supports that
        # only in test mode.
        Sanic.test_mode = True

        async def lifespan() -> None:
            messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

            async def receive():
                return messages.pop(0)

            async def send(_):
                return None

            self.app.asgi = True
            await ASGIApp.create(self.app, {"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)

        asyncio.run(lifespan())

    def request(self, method: str, target: str, form: dict | list | None = None) -> Page:
        parts = urlsplit(target)
        body = urlencode(form, doseq=True).encode() if form is not None else b""
        headers = [(b"host", b"localhost:8000")]
        if form is not None:
            headers.append((b"content-type", b"application/x-www-form-urlencoded"))
        if self.cookies:
            headers.append((b"cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()).encode()))
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": parts.path, "raw_path": parts.path.encode(),
                 "query_string": parts.query.encode(), "root_path": "", "headers": headers,
                 "client": ("127.0.0.1", 50000), "server": ("localhost", 8000)}
        sent: list[dict] = []

        async def call() -> None:
            delivered = False

            async def receive():
                nonlocal delivered
                if not delivered:
                    delivered = True
                    return {"type": "http.request", "body": body, "more_body": False}
                await asyncio.sleep(3600)

            async def send(message):
                sent.append(message)

            await self.app(scope, receive, send)

        asyncio.run(call())
        start = next(m for m in sent if m["type"] == "http.response.start")
        raw_headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in start["headers"]]
        for name, value in raw_headers:
            if name == "set-cookie":
                for morsel in SimpleCookie(value).values():
                    if morsel["max-age"] in ("0", 0):
                        self.cookies.pop(morsel.key, None)
                    else:
                        self.cookies[morsel.key] = morsel.value
        page = Page(start["status"], dict(raw_headers),
                    b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))
        page.location = page.headers.get("location")
        return page

    def get(self, target: str) -> Page:
        return self.request("GET", target)

    def post(self, target: str, form: dict | list) -> Page:
        return self.request("POST", target, form)

    def login(self, customer_number: str) -> Page:
        picker = self.get("/")
        return self.post("/connexion", {"csrf": picker.field("csrf"), "customer": customer_number})


def local(url: str) -> str:
    """The path and query of an absolute link (the client talks to the app directly)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " ")).strip()


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " ")).strip()


def assert_refused(page: Page, status: int, title: str) -> None:
    assert page.status == status, page.text[:300]
    assert page.content_type.startswith("text/html")
    assert b"%PDF" not in page.body and b"\x89PNG" not in page.body
    assert title in page.text


# --- fixtures -----------------------------------------------------------------------------------------

@pytest.fixture
def client(seeded_db, clock, monkeypatch) -> WebClient:
    """The web app on the seeded day: pages, links and data all read the same stopped clock; the demo picker on
    (as `make run` turns it on)."""
    from web import documents
    from web.app import create_app

    monkeypatch.setenv("HORTENSE_DEMO_LOGIN", "1")
    documents.verification_limiter.reset()  # every test is a new minute for the per-address limit
    return WebClient(create_app())


@pytest.fixture
def customers(seeded_db):
    with session_scope(seeded_db) as s:
        return {n: load_customer(s, n) for n in ("C1001", "C1002", "C1003", "C1006")}


def secret() -> bytes:
    return get_settings().links_secret.encode()


# --- valid links --------------------------------------------------------------------------------------

def test_proof_of_address_link_serves_the_customers_pdf(client, customers):
    customer = customers["C1001"]
    contract = customer.contracts[0]
    page = client.get(local(document_links.proof_of_address_link(customer, contract)))
    assert page.status == 200
    assert page.content_type == "application/pdf"
    assert page.headers["content-disposition"] == f'attachment; filename="attestation-domicile-{contract.contract_number}.pdf"'
    assert page.headers["cache-control"] == "no-store"
    text = pdf_text(page.body)
    assert customer.holder_name in text
    assert flat(f"{contract.supply_address}, {contract.supply_postcode} {contract.supply_city}") in text
    assert flat(fr.pdl(contract.pdl)) in text
    assert contract.contract_number in text


def test_contract_and_invoice_links_serve_pdfs(client, customers, seeded_db):
    from hortense.billing.invoices import recent_invoices

    customer = customers["C1006"]
    site = customer.contracts[1]
    page = client.get(local(document_links.contract_link(customer, site)))
    assert page.status == 200 and page.content_type == "application/pdf"
    text = pdf_text(page.body)
    assert site.contract_number in text and flat(fr.pdl(site.pdl)) in text and customer.holder_name in text
    with session_scope(seeded_db) as s:
        invoice = recent_invoices(s, site.id)[0]
    page = client.get(local(document_links.invoice_link(customer, site, invoice.number)))
    assert page.status == 200 and page.content_type == "application/pdf"
    assert invoice.number in pdf_text(page.body)


def test_links_are_absolute_on_the_public_base_url_and_expire_in_15_minutes(customers):
    now = datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc)
    customer = customers["C1001"]
    url = document_links.contract_link(customer, customer.contracts[0], now)
    assert url.startswith(get_settings().web_base_url + "/documents/contrat/SV-2023-000101.pdf?c=C1001&exp=")
    assert f"exp={int((now + timedelta(minutes=15)).timestamp())}" in url
    assert document_links.bank_form_link(customer, now).startswith(get_settings().web_base_url + "/rib?c=C1001&")


# --- refused links ------------------------------------------------------------------------------------

def test_tampered_signature_is_refused(client, customers):
    customer = customers["C1001"]
    url = local(document_links.proof_of_address_link(customer, customer.contracts[0]))
    sig = re.search(r"sig=([0-9a-f]+)", url).group(1)
    forged = url.replace(sig, ("0" if sig[0] != "0" else "1") + sig[1:])
    assert_refused(client.get(forged), 403, "Lien invalide")


def test_changing_the_customer_in_the_link_is_refused(client, customers):
    customer = customers["C1001"]
    url = local(document_links.contract_link(customer, customer.contracts[0]))
    assert_refused(client.get(url.replace("c=C1001", "c=C1002")), 403, "Lien invalide")


def test_link_without_signature_is_refused(client, customers):
    contract = customers["C1001"].contracts[0]
    assert_refused(client.get(f"/documents/contrat/{contract.contract_number}.pdf"), 403, "Lien invalide")
    assert_refused(client.get(f"/documents/contrat/{contract.contract_number}.pdf?c=C1001"), 403, "Lien invalide")


def test_expired_link_is_refused_with_410(client, customers):
    customer = customers["C1001"]
    sixteen_minutes_ago = hortense_clock.now() - timedelta(minutes=16)
    url = local(document_links.proof_of_address_link(customer, customer.contracts[0], sixteen_minutes_ago))
    page = client.get(url)
    assert_refused(page, 410, "Lien expiré")
    assert "15 minutes" in page.text


def test_another_customers_link_to_my_contract_is_refused(client, customers):
    """A link genuinely signed for C1002, pointing at C1001's contract: the database says it is not theirs."""
    mine = customers["C1001"].contracts[0]
    for kind in ("contrat", "attestation"):
        path = f"/documents/{kind}/{mine.contract_number}.pdf"
        page = client.get(sign_path(path, "C1002", secret()))
        assert_refused(page, 403, "Document non disponible")


def test_invoice_of_another_customer_is_refused(client, customers, seeded_db):
    from hortense.billing.invoices import recent_invoices

    with session_scope(seeded_db) as s:
        other_invoice = recent_invoices(s, customers["C1002"].contracts[0].id)[0]
    page = client.get(sign_path(f"/documents/facture/{other_invoice.number}.pdf", "C1001", secret()))
    assert_refused(page, 403, "Document non disponible")


def test_logged_in_customer_cannot_use_a_link_made_for_someone_else(client, customers):
    customer = customers["C1001"]
    url = local(document_links.contract_link(customer, customer.contracts[0]))
    assert client.login("C1002").status == 303
    assert_refused(client.get(url), 403, "Document non disponible")


def test_document_links_are_never_signed_for_a_contract_of_another_customer(customers):
    with pytest.raises(ValueError):
        document_links.contract_link(customers["C1001"], customers["C1002"].contracts[0])
    with pytest.raises(ValueError):
        document_links.proof_of_address_link(customers["C1001"], customers["C1002"].contracts[0])
    with pytest.raises(ValueError):
        document_links.invoice_link(customers["C1001"], customers["C1002"].contracts[0], "F202611-000102")


def test_unknown_document_kind_or_name_is_404(client):
    assert client.get("/documents/releve/SV-2023-000101.pdf").status == 404
    assert client.get("/documents/contrat/SV-2023-000101.txt").status == 404
    assert client.get("/documents/contrat/..%2F..%2Fetc.pdf").status == 404


# --- the public verification page ---------------------------------------------------------------------

def test_proof_of_address_qr_code_points_to_a_page_that_confirms_it(client, customers):
    customer = customers["C1003"]
    contract = customer.contracts[0]
    pdf = client.get(local(document_links.proof_of_address_link(customer, contract))).body
    url = re.search(r"(https?://\S+/verifier/attestation-domicile/\S+)", pdf_text(pdf)).group(1)
    assert url.startswith(get_settings().web_base_url + "/verifier/")
    page = client.get(local(url))
    assert page.status == 200
    assert "Ce document est authentique" in page.text
    assert customer.holder_name in page.text and contract.contract_number in page.text
    issued = date.fromisoformat(re.search(r"/(\d{4}-\d{2}-\d{2})/", url).group(1))
    assert flat(fr.long_date(issued)) in page.text

    code = url.rstrip("/").rsplit("/", 1)[1]
    forged = local(url).replace(code, ("A" if code[0] != "A" else "B") + code[1:])
    page = client.get(forged)
    assert page.status == 404 and "Document non reconnu" in page.text
    assert customer.holder_name not in page.text


def test_verification_of_a_code_moved_to_another_contract_fails(client, customers):
    customer = customers["C1001"]
    pdf = client.get(local(document_links.proof_of_address_link(customer, customer.contracts[0]))).body
    url = local(re.search(r"(https?://\S+/verifier/\S+)", pdf_text(pdf)).group(1))
    other = customers["C1002"].contracts[0].contract_number
    page = client.get(url.replace(customer.contracts[0].contract_number, other))
    assert page.status == 404 and "Document non reconnu" in page.text
    assert client.get("/verifier/attestation-domicile/pas-un-code").status == 404


def test_the_verification_page_is_limited_per_address_with_a_french_429(client, customers, monkeypatch):
    from hortense.security.rate_limit import RateLimit
    from web import documents

    monkeypatch.setattr(documents, "verification_limiter", RateLimit("verification-test", 3, 60, redis=None))
    assert [client.get(f"/verifier/attestation-domicile/code-{i}").status for i in range(3)] == [404] * 3
    page = client.get("/verifier/attestation-domicile/code-3")
    assert page.status == 429 and page.headers.get("retry-after") == "60"
    assert page.content_type.startswith("text/html") and "Trop de demandes" in page.text
    assert "Réessayez dans une minute" in page.text and "Traceback" not in page.text


# --- the customer space that hands the links out ------------------------------------------------------

def test_demo_picker_logs_in_and_shows_the_customers_space(client, customers):
    picker = client.get("/")
    assert picker.status == 200
    assert "Démo — choix du client (ne pas déployer en production)" in picker.text
    assert "Camille Dubois" in picker.text and "Atelier Girard & Fils" in picker.text
    assert picker.headers["content-security-policy"].startswith("default-src 'self'")

    response = client.login("C1001")
    assert response.status == 303 and response.location == "/"
    cookie = next(v for k, v in response.headers.items() if k == "set-cookie")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie

    space = client.get("/")
    contract = customers["C1001"].contracts[0]
    assert "Bonjour Camille" in space.text
    for expected in ("Mon contrat", "Ma conso", "Mes factures", contract.contract_number, flat(fr.pdl(contract.pdl)),
                     "Heures creuses", "22h00 – 6h00", "Changer de RIB", "Mon échéancier", "Code de liaison"):
        assert expected.lower() in space.text.lower(), expected
    body = space.body.decode()
    assert "/charts/consumption.png?contrat=SV-2023-000101" in body
    assert "/documents/attestation/SV-2023-000101.pdf?c=C1001" in body
    assert "/vendor/rasa-webchat.js" in body and "hortense-chat-config" in body


def test_boost_customer_sees_surplus_and_kitty_and_no_schedule(client):
    client.login("C1003")
    space = client.get("/")
    assert "Mon surplus" in space.text and "Ma cagnotte" in space.text
    assert "/charts/surplus.png?contrat=BMS-2023-000103" in space.body.decode()
    assert "vous n'avez pas d'échéancier à payer" in space.text
    assert "(e)" not in space.text  # agreement is never written "(e)"


def test_multi_site_customer_switches_contract_with_tabs(client, customers):
    client.login("C1006")
    first, second = customers["C1006"].contracts
    page = client.get("/")
    assert "Atelier de Villeurbanne" in page.text and "Boutique de Lyon" in page.text
    assert first.contract_number in page.text
    page = client.get(f"/?contrat={second.contract_number}")
    assert flat(fr.pdl(second.pdl)) in page.text
    assert flat(fr.pdl(first.pdl)) not in page.text


def test_widget_token_for_the_logged_in_customer_only(client):
    from hortense.security.identity import verify_portal_token

    refused = client.get("/token")
    assert refused.status == 401 and b"token" not in refused.body.replace(b"not_logged_in", b"")
    client.login("C1002")
    import json

    data = json.loads(client.get("/token").body)
    assert verify_portal_token(data["token"]).customer_number == "C1002"
    assert data["conversation_id"] == "web-C1002"


def test_login_needs_the_forms_csrf_token_and_a_real_customer(client):
    client.get("/")
    assert client.post("/connexion", {"customer": "C1001"}).status == 403
    assert client.post("/connexion", {"customer": "C1001", "csrf": "0" * 64}).status == 403
    picker = client.get("/")
    page = client.post("/connexion", {"customer": "C9999", "csrf": picker.field("csrf")})
    assert page.status == 400 and "n'existe pas" in page.text


def test_demo_login_can_be_turned_off(seeded_db, monkeypatch):
    from web.app import create_app

    monkeypatch.setenv("HORTENSE_DEMO_LOGIN", "0")
    client = WebClient(create_app())
    page = client.get("/")
    assert "désactivée" in page.text and "Camille Dubois" not in page.text
    assert client.post("/connexion", {"customer": "C1001", "csrf": "x"}).status == 404


def test_logout_ends_the_session(client):
    client.login("C1001")
    space = client.get("/")
    assert client.post("/deconnexion", {"csrf": space.field("csrf")}).status == 303
    assert "Démo — choix du client" in client.get("/").text
    assert client.get("/token").status == 401


def test_health_and_widget_bundle(client):
    assert client.get("/health").status == 200
    bundle = client.get("/vendor/rasa-webchat.js")
    assert bundle.status in (200, 503)
    assert bundle.content_type.startswith("application/javascript")
