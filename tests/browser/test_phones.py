"""Every page on a phone (360, 390 and 414 px wide, iPhone 13 emulation: touch, mobile viewport, zoom).

A page wider than the screen makes a phone browser zoom out and scroll sideways, and the fixed chat launcher
then sits off-screen: a customer cannot see or open Hortense. Here each page (customer space of every offer,
the two-site business's second site, bank-details form and its confirmation, document verification, error
page, the advisors' console) must be exactly as wide as the screen, the launcher must be on the screen and
answer a tap, and the widget must then fill the screen. `drive.mjs` (mode `phones`) measures, this test judges.
Screenshots: tests/artifacts/browser/phone-<width>-<page>.png.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from hortense import clock
from hortense.account.customers import load_customer
from hortense.appointments import booking as appointments
from hortense.appointments.advisors import DEMO_ADVISORS, DEMO_PASSWORD
from hortense.db.models import Customer
from hortense.db.session import session_scope
from hortense.documents import verification as docver
from tests.browser.conftest import WEB_SECRETS
from tests.browser.test_customer_space import assert_quiet, drive

pytestmark = pytest.mark.browser

# iPhone 13 is 390 px wide; 360 (small Android phones) and 414 (large iPhones) bracket it.
VIEWPORTS = [{"width": 360, "height": 740}, {"width": 390, "height": 664}, {"width": 414, "height": 736}]
PHONE = 390  # the width where the chart answer and the bank-details submission are checked too
BOOST = "C1003"  # the customer of the report: a Boost Mon Surplus space was 619 px wide on an iPhone
CUSTOMERS = ["C1001", BOOST, "C1005", "C1006"]  # Stockage Virtuel, Boost, SMB, two-site business
BANK_FORMS = {BOOST, "C1006"}  # one contract; two contracts (the form has a fieldset of checkboxes)
NOT_FOUND = "/page-qui-n-existe-pas"
# Tolerance for the widget's box, in CSS pixels (rounding of fractional positions).
EDGE = 1


def _book_a_call(database_url: str) -> tuple[str, int]:
    """A call for the Boost customer on the first free slot: the console's calls page then has a row."""
    now = clock.now()
    with session_scope(database_url) as session:
        customer_id = session.execute(select(Customer.id).where(Customer.customer_number == BOOST)).scalar_one()
        upcoming = appointments.upcoming_for_customer(session, customer_id, now)
        if upcoming is None:
            start = appointments.next_free_slots(session, now)[0]
            booked = appointments.book(session, customer_id=customer_id, contract_id=None, start=start,
                                       reason="Question sur ma cagnotte et sur le prix de rachat de mon surplus",
                                       phone="0612345603", channel="web", sender_id=f"web-{BOOST}", now=now)
            assert booked.ok, booked
            upcoming = booked.appointment
        return upcoming.start.date().isoformat(), upcoming.id


def _verification_path(contract_number: str, issued_on: date, genuine: bool = True) -> str:
    secret = WEB_SECRETS["HORTENSE_DOCUMENTS_SECRET"].encode("utf-8")
    code = docver.document_code(docver.PROOF_OF_ADDRESS, BOOST, contract_number, issued_on, secret)
    if not genuine:
        code = "".join("A" if c != "A" else "B" for c in code)
    return docver.verification_path(docver.PROOF_OF_ADDRESS, contract_number, issued_on, code)


def _expected_pages(width: int) -> list[str]:
    names = ["picker"]
    for number in CUSTOMERS:
        names.append(f"space-{number}")
        if number == "C1006":
            names.append("space-C1006-tab2")
        if number in BANK_FORMS:
            names.append(f"bank-form-{number}")
            if number == BOOST and width == PHONE:
                names.append(f"bank-done-{number}")
    names += ["verification", "verification-unknown", "not-found", "console-login", "console-calls",
              "console-transcript", "console-agenda", "console-agenda-feed"]
    return names


def test_every_page_fits_a_phone_and_the_widget_opens_full_screen(browser_tools, web_stack, tmp_path):
    with session_scope(web_stack.database_url) as session:
        customers = {number: load_customer(session, number) for number in CUSTOMERS}
    boost = customers[BOOST]
    call_day, _ = _book_a_call(web_stack.database_url)
    supervisor = next((email for _, email, is_supervisor in DEMO_ADVISORS if is_supervisor))
    contract = boost.contracts[0].contract_number
    today = clock.today()

    scenario = {
        "mode": "phones",
        "baseUrl": web_stack.web_url,
        "viewports": VIEWPORTS,
        "chartWidth": PHONE,
        "submitWidth": PHONE,
        "expect": {"anonymousGreeting": "Bonjour"},
        "customers": [
            {"number": number, "greeting": f"Bonjour {customer.first_name}",
             **({"chart": {"ask": "Quel est mon surplus injecté ?", "expect": "Votre surplus injecté"},
                 "bank": {"holder": boost.holder_name, "iban": "FR76 3000 6000 0112 3456 7890 189"}}
                if number == BOOST else {}),
             **({"bank": {}} if number == "C1006" else {})}
            for number, customer in customers.items()
        ],
        "verificationPath": _verification_path(contract, today),
        "unknownVerificationPath": _verification_path(contract, today, genuine=False),
        "notFoundPath": NOT_FOUND,
        "advisor": {"email": supervisor, "password": DEMO_PASSWORD},
        "callDay": call_day,
    }
    result = drive(browser_tools, web_stack, scenario, tmp_path)

    assert [p["width"] for p in result["phones"]] == [v["width"] for v in VIEWPORTS]
    for phone in result["phones"]:
        width, height = phone["width"], phone["height"]
        assert [p["name"] for p in phone["pages"]] == _expected_pages(width)
        for page in phone["pages"]:
            where = f"{page['name']} at {width} px ({page['url']})"
            # Exactly the screen's width: no sideways scrolling, no zooming out, nothing sticking out.
            assert page["scrollWidth"] == width, f"{where}: the page is {page['scrollWidth']} px wide, " \
                                                 f"sticking out: {page['overflowing']}"
            assert page["innerWidth"] == width and page["visualWidth"] == width and page["scale"] == 1, page
            assert page["scrollX"] == 0, f"{where}: the page scrolls sideways"
            assert page["overflowing"] == [], f"{where}: {page['overflowing']}"
            assert page["lang"] == "fr", where
            assert page["lowContrast"] == [], f"{where}: text below WCAG AA contrast: {page['lowContrast']}"
        # ...and they are the pages meant (not a log-in page or an error instead).
        pages = {p["name"]: p for p in phone["pages"]}
        assert pages["picker"]["heading"] == "Votre espace client"
        for number, customer in customers.items():
            assert pages[f"space-{number}"]["heading"] == f"Bonjour {customer.first_name}"
        assert pages["space-C1006-tab2"]["heading"] == f"Bonjour {customers['C1006'].first_name}"
        assert "/?contrat=" in pages["space-C1006-tab2"]["url"]
        for number in BANK_FORMS:
            assert pages[f"bank-form-{number}"]["heading"] == "Changer de coordonnées bancaires"
        if width == PHONE:
            assert pages[f"bank-done-{BOOST}"]["heading"] == "Votre demande est enregistrée"
        assert pages["verification"]["verdict"] == "verdict ok"
        assert pages["verification-unknown"]["verdict"] == "verdict ko"
        assert pages["not-found"]["heading"] == "Page introuvable"
        assert pages["console-login"]["heading"] == "Connexion"
        assert pages["console-calls"]["heading"].startswith("Appels du")
        assert pages["console-transcript"]["heading"] == f"Conversation de {boost.holder_name}"
        assert pages["console-agenda"]["heading"] == pages["console-agenda-feed"]["heading"] == "Mon agenda (iCalendar)"
        # The launcher of every page with the widget is on the screen and a tap there reaches it.
        launcher_pages = {n for n in _expected_pages(width) if n == "picker" or n.startswith("space-")}
        assert {l["name"] for l in phone["launchers"]} == launcher_pages
        for launcher in phone["launchers"]:
            assert 0 <= launcher["left"] < launcher["right"] <= width, (width, launcher)
            assert 0 <= launcher["top"] < launcher["bottom"] <= height, (width, launcher)
            assert launcher["reachable"], (width, launcher)
            look = launcher["look"]  # WCAG AA: the icon on the launcher, the launcher on the page
            assert look["iconContrast"] >= 4.5 and look["edgeContrast"] >= 3 and look["opacity"] == 1, (width, launcher)
            assert look["name"] == "Ouvrir la conversation avec Hortense", (width, launcher)
        # Tapped, the widget fills the screen: its input and close button are on it, the launcher is gone.
        assert {w["name"] for w in phone["widgets"]} == {"picker", *(f"space-{n}" for n in CUSTOMERS)}
        for widget in phone["widgets"]:
            where = f"widget on {widget['name']} at {width} px"
            assert (widget["innerWidth"], widget["innerHeight"], widget["scrollWidth"]) == (width, height, width), where
            for box in ("container", "conversation"):
                b = widget[box]
                assert b["visible"], (where, box)
                assert abs(b["left"]) <= EDGE and abs(b["top"]) <= EDGE, (where, box, b)
                assert abs(b["right"] - width) <= EDGE and abs(b["bottom"] - height) <= EDGE, (where, box, b)
            for box in ("input", "close"):
                b = widget[box]
                assert b["visible"] and 0 <= b["left"] < b["right"] <= width and 0 <= b["top"] < b["bottom"] <= height, \
                    (where, box, b)
            assert not widget["launcher"]["visible"], where
            assert widget["messagesFit"], f"{where}: the conversation scrolls sideways"
        if width == PHONE:
            chart = phone["chart"]  # the surplus chart answered in the widget fits the screen
            assert 0 <= chart["left"] < chart["right"] <= width and chart["messagesFit"], chart

    # No console error (the error page and the unknown document answer 404 on purpose and Chromium logs that
    # status, nothing else), no failed or third-party request.
    deliberate = (NOT_FOUND, scenario["unknownVerificationPath"])
    assert_quiet(result, lambda message: "status of 404" in message and message.endswith(deliberate))
