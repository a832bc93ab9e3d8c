"""The bank-details form: signed link, CSRF, French validation messages, a pending SEPA change recorded with a
masked / fingerprinted / encrypted IBAN, and the clear IBAN nowhere in logs or in the database."""
from __future__ import annotations

import logging
import os
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from hortense import clock as hortense_clock
from hortense.account.customers import load_customer
from hortense.billing.bank_changes import decrypt_iban, iban_fingerprint
from hortense.billing.bank_details import effective_date, mask_iban
from hortense.db.bank_models import BankDetailsChange, BankDetailsChangeContract
from hortense.db.session import session_scope
from hortense.documents import urls as document_links
from hortense.replies.billing import MSG_HOLDER_EMPTY, MSG_IBAN_CHECKSUM, MSG_IBAN_NOT_SEPA, MSG_IBAN_RIB_KEY
from hortense.settings import get_settings
from tests.unit.test_web_documents import Page, WebClient, local

IBAN = "FR76 3000 6000 0112 3456 7890 189"  # valid checksum and RIB key
IBAN_COMPACT = IBAN.replace(" ", "")
GERMAN_IBAN = "DE89 3704 0044 0532 0130 00"
NON_SEPA_IBAN = "BR18 0036 0305 0000 1000 9795 493C 1"  # a valid Brazilian IBAN: outside the SEPA zone


def iban_with_checksum(country: str, bban: str) -> str:
    """A correct ISO 13616 check for any BBAN, to build IBANs that pass mod-97 but fail a finer check."""
    digits = "".join(str(int(ch, 36)) for ch in (bban + country + "00").upper())
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


# Same bank, branch and account as IBAN, RIB key 88 instead of 89: mod-97 is recomputed, so only the key is wrong.
BAD_RIB_KEY_IBAN = iban_with_checksum("FR", "30006000011234567890188")


@pytest.fixture
def client(seeded_db, clock) -> WebClient:
    """The web app on the seeded day: pages, links and data all read the same stopped clock."""
    from web.app import create_app

    return WebClient(create_app())


@pytest.fixture
def customer(seeded_db):
    with session_scope(seeded_db) as s:
        return load_customer(s, "C1001")


def open_form(client: WebClient, customer, now: datetime | None = None) -> Page:
    page = client.get(local(document_links.bank_form_link(customer, now)))
    assert page.status == 200, page.text[:300]
    return page


def submit(client: WebClient, form: Page, iban: str, holder: str = "Camille Dubois", contracts=None,
           csrf: str | None = "from-form") -> Page:
    fields = [("c", form.field("c")), ("exp", form.field("exp")), ("sig", form.field("sig")),
              ("titulaire", holder), ("iban", iban)]
    if csrf == "from-form":
        fields.append(("csrf", form.field("csrf")))
    elif csrf is not None:
        fields.append(("csrf", csrf))
    for number in contracts or []:
        fields.append(("contrats", number))
    return client.post("/rib", fields)


def changes(seeded_db) -> list[BankDetailsChange]:
    with session_scope(seeded_db) as s:
        return s.execute(select(BankDetailsChange).order_by(BankDetailsChange.id)).scalars().all()


def secrets_of(text: str) -> list[str]:
    """Every spelling of the test IBAN that would count as leaking it (and its account number alone)."""
    return [needle for needle in (IBAN, IBAN_COMPACT, "12345678901", "0112 3456 7890") if needle in text]


def test_form_shows_the_customer_and_the_effective_date(client, customer):
    page = open_form(client, customer)
    assert "Changer de coordonnées bancaires" in page.text
    assert customer.customer_number in page.text
    assert "mandat de prélèvement SEPA" in page.text
    assert page.field("csrf") and page.field("sig")
    assert page.headers["cache-control"] == "no-store"


def test_valid_french_iban_is_recorded_pending_signature_and_shown_masked(client, customer, seeded_db, caplog):
    caplog.set_level(logging.DEBUG)
    form = open_form(client, customer)
    response = submit(client, form, IBAN)
    assert response.status == 303, response.text[:400]
    assert response.location.startswith("/rib/confirmation/HRT-C1001-")
    done = client.get(response.location)
    assert done.status == 200
    masked = mask_iban(IBAN)
    assert masked in done.text and masked.endswith("189")
    assert "en attente de la signature" in done.text
    assert not secrets_of(done.body.decode())

    [change] = changes(seeded_db)
    today = hortense_clock.today()
    assert change.status == "pending_signature"
    assert change.mandate_reference in done.text and change.mandate_reference.startswith("HRT-C1001-")
    assert change.iban_masked == masked
    assert change.effective_date == effective_date(today)
    assert change.account_holder == "Camille Dubois"
    from web.bank import bank_secret

    assert decrypt_iban(change.iban_encrypted, bank_secret()) == IBAN_COMPACT
    assert change.iban_fingerprint == iban_fingerprint(IBAN, bank_secret())
    with session_scope(seeded_db) as s:
        linked = s.execute(select(BankDetailsChangeContract.contract_id)).scalars().all()
    assert linked == [customer.contracts[0].id]

    # Nothing in clear: not in any column, not anywhere in the database file, not in any log record.
    for column in BankDetailsChange.__table__.columns:
        assert not secrets_of(str(getattr(change, column.name))), column.name
    db_file = seeded_db.removeprefix("sqlite:///")
    raw = b"".join(open(path, "rb").read() for path in (db_file, db_file + "-wal") if os.path.exists(path))
    assert IBAN_COMPACT.encode() not in raw and IBAN.encode() not in raw
    logged = [record.getMessage() for record in caplog.records]
    assert any(change.mandate_reference in message for message in logged)
    assert not [message for message in logged if secrets_of(message)]


def test_other_sepa_countries_are_accepted(client, customer, seeded_db):
    response = submit(client, open_form(client, customer), GERMAN_IBAN)
    assert response.status == 303
    assert changes(seeded_db)[0].iban_country == "DE"


@pytest.mark.parametrize("iban, message", [
    ("FR76 3000 6000 0112 3456 7890 188", MSG_IBAN_CHECKSUM),
    (BAD_RIB_KEY_IBAN, MSG_IBAN_RIB_KEY),
    (NON_SEPA_IBAN, MSG_IBAN_NOT_SEPA),
])
def test_invalid_iban_is_rejected_with_a_french_message(client, customer, seeded_db, caplog, iban, message):
    caplog.set_level(logging.DEBUG)
    page = submit(client, open_form(client, customer), iban)
    assert page.status == 400
    assert message in page.text
    assert "Merci de corriger" in page.text
    assert changes(seeded_db) == []
    compact = iban.replace(" ", "")
    assert not [r for r in caplog.records if compact in r.getMessage() or iban in r.getMessage()]


def test_rib_key_case_really_has_a_valid_checksum():
    from hortense.billing.bank_details import has_valid_checksum

    assert has_valid_checksum(BAD_RIB_KEY_IBAN)


def test_missing_holder_is_rejected(client, customer, seeded_db):
    page = submit(client, open_form(client, customer), IBAN, holder=" ")
    assert page.status == 400 and MSG_HOLDER_EMPTY in page.text
    assert changes(seeded_db) == []


def test_missing_or_foreign_csrf_token_is_refused(client, customer, seeded_db):
    form = open_form(client, customer)
    page = submit(client, form, IBAN, csrf=None)
    assert page.status == 403 and "Formulaire expiré" in page.text
    page = submit(client, form, IBAN, csrf="0" * 64)
    assert page.status == 403
    # The right token, but posted from another browser (no session cookie): a cross-site forgery.
    stranger = WebClient(client.app)
    page = submit(stranger, form, IBAN)
    assert page.status == 403
    assert changes(seeded_db) == []


def test_expired_or_tampered_link_gets_no_form(client, customer, seeded_db):
    old = hortense_clock.now() - timedelta(minutes=20)
    page = client.get(local(document_links.bank_form_link(customer, old)))
    assert page.status == 410 and "Lien expiré" in page.text and 'name="iban"' not in page.body.decode()
    url = local(document_links.bank_form_link(customer))
    page = client.get(url.replace("c=C1001", "c=C1002"))
    assert page.status == 403 and 'name="iban"' not in page.body.decode()


def test_link_expiring_before_submission_is_refused(client, customer, seeded_db, clock):
    almost_expired = hortense_clock.now() - timedelta(minutes=15) + timedelta(seconds=1.5)
    form = open_form(client, customer, now=almost_expired)
    clock.advance(1.6)
    page = submit(client, form, IBAN)
    assert page.status == 410 and "Lien expiré" in page.text
    fields = {"c": form.field("c"), "exp": str(int(form.field("exp")) + 3600), "sig": form.field("sig"),
              "csrf": form.field("csrf"), "titulaire": "Camille Dubois", "iban": IBAN}
    assert client.post("/rib", fields).status == 403  # a longer expiry breaks the signature
    assert changes(seeded_db) == []


def test_business_chooses_the_contracts_concerned(client, seeded_db):
    with session_scope(seeded_db) as s:
        business = load_customer(s, "C1006")
    form = open_form(client, business)
    assert "Contrats concernés" in form.text
    page = submit(client, form, IBAN, holder="Atelier Girard & Fils", contracts=[])
    assert page.status == 400 and "au moins un contrat" in page.text
    page = submit(client, form, IBAN, holder="Atelier Girard et Fils",
                  contracts=[business.contracts[1].contract_number, "SV-2023-000101"])
    assert page.status == 303
    with session_scope(seeded_db) as s:
        linked = s.execute(select(BankDetailsChangeContract.contract_id)).scalars().all()
    assert linked == [business.contracts[1].id]  # another customer's contract number is ignored


def test_a_new_request_supersedes_the_pending_one(client, customer, seeded_db):
    form = open_form(client, customer)
    assert submit(client, form, IBAN).status == 303
    assert submit(client, form, GERMAN_IBAN).status == 303
    first, second = changes(seeded_db)
    assert (first.status, second.status) == ("superseded", "pending_signature")


def test_confirmation_page_is_bound_to_its_customer(client, customer, seeded_db):
    response = submit(client, open_form(client, customer), IBAN)
    reference = re.search(r"/rib/confirmation/([A-Z0-9-]+)", response.location).group(1)
    from hortense.security.signing import sign_path

    other = sign_path(f"/rib/confirmation/{reference}", "C1002", get_settings().links_secret.encode())
    page = client.get(other)
    assert page.status == 404 and "IBAN" not in page.text
    assert client.get(f"/rib/confirmation/{reference}").status == 403
