"""Links as links (issue 10, item 8): a download link is a button (Telegram, Messenger), a short labelled link
(WhatsApp: `/l/<token>`) or a labelled Markdown link (website), never a raw signed URL in a text; a chart goes
with its caption in one platform message where the platform allows it.

The connectors' outputs send to the local fake platforms (which enforce the platforms' rules); the short-link
route runs in the in-process web app on the seeded database.
"""
from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta

import pytest

from channels.messenger import MessengerOutput
from channels.telegram import TelegramOutput
from channels.web import with_links_in_text
from channels.whatsapp import WhatsAppOutput
from hortense import clock as hortense_clock
from hortense.db.session import session_scope
from hortense.db.short_link_models import ShortLink
from hortense.documents import short_links
from hortense.documents import urls as document_links
from hortense.replies.common import Link, link_button
from hortense.settings import get_settings
from tests.fakes.platforms import (
    MESSENGER_PAGE_TOKEN,
    TELEGRAM_TOKEN,
    TWILIO_SID,
    TWILIO_TOKEN,
    WHATSAPP_NUMBER,
    FakePlatforms,
    saw_inbound,
)
from tests.unit.test_web_documents import assert_refused, client, local  # noqa: F401 (client: the web app fixture)

CHOICE = {"title": "Factures précédentes", "payload": '/ask_invoices{"invoice_scope": "older"}'}
CAPTION = ("Graphique : votre consommation de décembre 2025 à novembre 2026, mois par mois (heures pleines et "
           "heures creuses).")
SHORT_URL = re.compile(r"(https?://\S+/l/([A-Za-z0-9_-]{22}))(?=\s|$)")


@pytest.fixture(scope="module")
def fake():
    platforms = FakePlatforms().start()
    yield platforms
    platforms.stop()


@pytest.fixture
def customers(seeded_db):
    from hortense.account.customers import load_customer

    with session_scope(seeded_db) as s:
        return {n: load_customer(s, n) for n in ("C1001", "C1002")}


@pytest.fixture
def contract_url(customers, clock) -> str:
    customer = customers["C1001"]
    return document_links.contract_link(customer, customer.contracts[0])


def link_message(url: str, *choices: dict) -> dict:
    button = link_button(Link("Télécharger votre contrat (PDF)", url, "Contrat (PDF)"))
    return {"text": "Voici votre contrat en PDF. Le lien est valable 15 minutes.", "buttons": [button, *choices]}


def no_signed_url(text: str) -> None:
    assert "sig=" not in text and "exp=" not in text and "c=C1" not in text, text


# --- the representation ---------------------------------------------------------------------------------

def test_a_link_is_a_web_url_button_without_payload():
    button = link_button(Link("Télécharger la facture (PDF)", "https://x.test/documents/f.pdf?sig=1", "Facture (PDF)"))
    assert button == {"type": "web_url", "title": "Télécharger la facture (PDF)",
                      "url": "https://x.test/documents/f.pdf?sig=1", "short_title": "Facture (PDF)"}
    assert "payload" not in button  # never a choice: not numbered, not an offered payload


def test_the_website_shows_links_as_labelled_markdown_and_keeps_choices_as_buttons():
    url = "https://x.test/documents/contrat/A.pdf?c=C1001&exp=1&sig=ab"
    shown = with_links_in_text(link_message(url, CHOICE))
    assert shown["text"].endswith(f"\n[Télécharger votre contrat (PDF)]({url})")
    assert shown["buttons"] == [CHOICE]
    assert "buttons" not in with_links_in_text(link_message(url))
    plain = {"text": "Bonjour", "buttons": [CHOICE]}
    assert with_links_in_text(plain) is plain


# --- the messaging connectors -----------------------------------------------------------------------------

def test_telegram_link_is_an_inline_url_button_above_the_choices(fake, contract_url):
    chat = 710_000_000 + uuid.uuid4().int % 10**6
    output = TelegramOutput(f"{fake.url}/telegram", TELEGRAM_TOKEN)
    asyncio.run(output.send_response(f"telegram:{chat}", link_message(contract_url, CHOICE)))
    [sent] = fake.to(str(chat))
    no_signed_url(sent.text)
    assert sent.buttons == [{"title": "Télécharger votre contrat (PDF)", "url": contract_url},
                            {"title": "Factures précédentes", "payload": CHOICE["payload"]}]


def test_messenger_link_is_a_button_template_with_a_short_title_and_the_choices_as_quick_replies(fake, contract_url):
    psid = f"98{uuid.uuid4().int % 10**12:012d}"
    saw_inbound("messenger", psid)
    output = MessengerOutput(f"{fake.url}/graph", MESSENGER_PAGE_TOKEN)
    asyncio.run(output.send_response(f"messenger:{psid}", link_message(contract_url, CHOICE)))
    [sent] = fake.to(psid)
    template = sent.raw["message"]["attachment"]["payload"]
    assert template["template_type"] == "button"
    assert template["buttons"] == [{"type": "web_url", "url": contract_url, "title": "Contrat (PDF)"}]
    assert sent.raw["message"]["quick_replies"][0]["payload"] == CHOICE["payload"]
    no_signed_url(sent.text)
    assert sent.text.startswith("Voici votre contrat en PDF")


def test_messenger_four_links_and_a_long_text_respect_the_template_limits(fake, contract_url):
    psid = f"97{uuid.uuid4().int % 10**12:012d}"
    saw_inbound("messenger", psid)
    links = [link_button(Link(f"Facture du {d} novembre 2026 (PDF)", contract_url, f"PDF du {d:02d}/11/2026"))
             for d in (1, 2, 3, 4)]
    text = "\n".join(f"• ligne {i} de la liste des factures précédentes, avec montant et état" for i in range(20))
    output = MessengerOutput(f"{fake.url}/graph", MESSENGER_PAGE_TOKEN)
    asyncio.run(output.send_response(f"messenger:{psid}", {"text": text, "buttons": [*links, CHOICE]}))
    sent = fake.to(psid)
    assert not [r for r in fake.refused if r.recipient == psid]
    templates = [s.raw["message"]["attachment"]["payload"] for s in sent if "attachment" in s.raw["message"]]
    assert [len(t["buttons"]) for t in templates] == [3, 1]
    assert [b["title"] for t in templates for b in t["buttons"]] == [f"PDF du {d:02d}/11/2026" for d in (1, 2, 3, 4)]
    assert "quick_replies" in sent[-1].raw["message"] and "quick_replies" not in sent[-2].raw["message"]
    assert "".join(s.text for s in sent[:-1]).replace("\n", "").startswith(text.replace("\n", "")[:500])


def test_whatsapp_link_is_a_short_labelled_link_that_stands_for_the_signed_one(fake, contract_url, clock):
    sender = f"whatsapp:+337{uuid.uuid4().int % 10**8:08d}"
    saw_inbound("whatsapp", sender)
    output = WhatsAppOutput(f"{fake.url}/twilio", TWILIO_SID, TWILIO_TOKEN, WHATSAPP_NUMBER)
    asyncio.run(output.send_response(sender, link_message(contract_url, CHOICE)))
    [sent] = fake.to(sender)
    no_signed_url(sent.text)
    match = SHORT_URL.search(sent.text)
    assert match, sent.text
    assert f"Télécharger votre contrat (PDF) : {get_settings().web_base_url}/l/" in sent.text
    assert "1. Factures précédentes" in sent.text  # the choice is numbered, the link is not
    assert len(match.group(1)) < 70
    with session_scope() as s:
        found = short_links.resolve(s, match.group(2))
        stored = s.query(ShortLink).all()
    assert found.outcome == "ok" and get_settings().web_base_url + found.target == contract_url
    assert found.customer_number == "C1001"
    assert all(match.group(2) not in row.token_hash for row in stored)  # only its hash is kept


def test_whatsapp_never_falls_back_to_the_signed_url(fake, clock, seeded_db):
    sender = f"whatsapp:+337{uuid.uuid4().int % 10**8:08d}"
    saw_inbound("whatsapp", sender)
    foreign = "https://elsewhere.test/documents/contrat/A.pdf?c=C1001&exp=9999999999&sig=" + "a" * 64
    output = WhatsAppOutput(f"{fake.url}/twilio", TWILIO_SID, TWILIO_TOKEN, WHATSAPP_NUMBER)
    asyncio.run(output.send_response(sender, link_message(foreign)))
    [sent] = fake.to(sender)
    no_signed_url(sent.text)
    assert "elsewhere" not in sent.text and "espace client" in sent.text


# --- a chart and its caption, one message -----------------------------------------------------------------

CHART = {"text": CAPTION, "image": "https://x.test/charts/consumption.png?contrat=A&du=2025-12&au=2026-11&c=C1001"
                                   "&exp=1&sig=" + "b" * 64}


def test_telegram_chart_is_one_photo_with_its_caption(fake):
    chat = 720_000_000 + uuid.uuid4().int % 10**6
    asyncio.run(TelegramOutput(f"{fake.url}/telegram", TELEGRAM_TOKEN).send_response(f"telegram:{chat}", dict(CHART)))
    [sent] = fake.to(str(chat))
    assert sent.raw["photo"] == CHART["image"] and sent.raw["caption"] == CAPTION and sent.text == CAPTION


def test_whatsapp_chart_is_one_message_media_and_body(fake):
    sender = f"whatsapp:+337{uuid.uuid4().int % 10**8:08d}"
    saw_inbound("whatsapp", sender)
    output = WhatsAppOutput(f"{fake.url}/twilio", TWILIO_SID, TWILIO_TOKEN, WHATSAPP_NUMBER)
    asyncio.run(output.send_response(sender, dict(CHART)))
    [sent] = fake.to(sender)
    assert sent.raw["MediaUrl"] == CHART["image"] and sent.raw["Body"] == CAPTION


def test_messenger_chart_is_one_generic_template_picture_and_caption(fake):
    psid = f"96{uuid.uuid4().int % 10**12:012d}"
    saw_inbound("messenger", psid)
    asyncio.run(MessengerOutput(f"{fake.url}/graph", MESSENGER_PAGE_TOKEN).send_response(f"messenger:{psid}",
                                                                                          dict(CHART)))
    [sent] = fake.to(psid)
    [element] = sent.raw["message"]["attachment"]["payload"]["elements"]
    assert element["image_url"] == CHART["image"]
    assert f"{element['title']} {element['subtitle']}" == CAPTION
    assert len(element["title"]) <= 80 and len(element["subtitle"]) <= 80


# --- the short-link route of the web app ----------------------------------------------------------------

def _short(url: str) -> str:
    with session_scope() as s:
        return short_links.shorten(s, url)


def test_short_link_redirects_to_the_signed_link_and_the_document(client, contract_url, customers):
    short = _short(contract_url)
    assert len(short) - len(get_settings().web_base_url) == len("/l/") + 22
    page = client.get(local(short))
    assert page.status == 302 and page.location == local(contract_url)
    assert page.headers.get("cache-control") == "no-store"
    document = client.get(page.location)
    assert document.status == 200 and document.content_type == "application/pdf"
    assert customers["C1001"].contracts[0].contract_number in document.headers["content-disposition"]


def test_short_link_is_refused_to_a_browser_logged_in_as_another_customer(client, contract_url):
    short = _short(contract_url)
    client.login("C1002")
    assert_refused(client.get(local(short)), 403, "Document non disponible")


def test_short_link_expires_with_its_signed_link(client, contract_url, clock):
    short = _short(contract_url)
    clock.advance(timedelta(minutes=15, seconds=1))
    assert_refused(client.get(local(short)), 410, "Lien expiré")


def test_unknown_or_malformed_short_links_are_404(client):
    assert_refused(client.get("/l/" + "A" * 22), 404, "Lien introuvable")
    assert_refused(client.get("/l/pas-un-jeton"), 404, "Lien introuvable")


def test_only_live_signed_links_of_this_web_app_are_shortened(contract_url, clock, seeded_db):
    with session_scope() as s:
        with pytest.raises(ValueError):
            short_links.shorten(s, "https://elsewhere.test/x?c=C1&exp=9999999999&sig=a")
        with pytest.raises(ValueError):
            short_links.shorten(s, get_settings().web_base_url + "/documents/contrat/A.pdf")
        with pytest.raises(ValueError):
            short_links.shorten(s, contract_url, now=hortense_clock.now() + timedelta(minutes=16))
