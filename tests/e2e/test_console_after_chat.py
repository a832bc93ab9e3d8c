"""A call booked in the chat shows up in the advisor's console with its transcript, and in the iCalendar feed."""
from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
import requests
from icalendar import Calendar

from hortense import clock
from hortense.account.customers import load_customer
from hortense.appointments import booking as appointments
from tests.browser.conftest import start_web
from tests.e2e.servers import buttons, free_port, texts

pytestmark = pytest.mark.e2e
PARIS = ZoneInfo("Europe/Paris")


def login(web: str, email: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{web}/console/login", timeout=10).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    reply = browser.post(f"{web}/console/login", data={"email": email, "password": "hortense-demo", "csrf": csrf},
                         timeout=10, allow_redirects=False)
    assert reply.status_code == 303 and reply.headers["Location"].endswith("/console/calls")
    return browser


def test_a_call_booked_in_chat_is_in_the_console_with_its_transcript(stack, db):
    customer = "C1008"
    proposals = stack.say(customer, "je voudrais qu'un conseiller me rappelle la semaine prochaine le matin")
    stack.say(customer, buttons(proposals)[0]["payload"])
    stack.say(customer, "je déménage et je veux transférer mon contrat")
    stack.say(customer, "oui")
    assert "C'est réservé" in texts(stack.say(customer, "oui"))
    db.commit()
    call = appointments.upcoming_for_customer(db, load_customer(db, customer).id, clock.local_now())
    assert call is not None

    web = start_web(stack, free_port(), name="web-console")
    advisor_email = {1: "claire.fontaine@hortense.example.fr", 2: "thomas.roux@hortense.example.fr"}[call.advisor_id]
    other_email = {1: "thomas.roux@hortense.example.fr", 2: "claire.fontaine@hortense.example.fr"}[call.advisor_id]

    advisor = login(web, advisor_email)
    day = advisor.get(f"{web}/console/calls?day={call.start.date().isoformat()}", timeout=10).text
    assert "Studio Lefèvre Architecture" in day and "14 295 730 100 109" in day.replace("\u00a0", " ") \
        or "14295730100109" in day
    assert "je déménage et je veux transférer mon contrat" in day
    transcript = advisor.get(f"{web}/console/calls/{call.id}/transcript", timeout=10)
    assert transcript.status_code == 200
    assert "la semaine prochaine le matin" in transcript.text and "réservé" in transcript.text

    other = login(web, other_email)
    assert other.get(f"{web}/console/calls/{call.id}/transcript", timeout=10).status_code in (403, 404)
    assert "Studio Lefèvre" not in other.get(f"{web}/console/calls?day={call.start.date().isoformat()}",
                                             timeout=10).text

    agenda = advisor.get(f"{web}/console/agenda", timeout=10).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', agenda).group(1)
    issued = advisor.post(f"{web}/console/agenda/new", data={"csrf": csrf}, timeout=10).text
    feed_url = re.search(r"(http[^\"<\s]+/console/ical/[^\"<\s]+\.ics)", issued).group(1)
    feed_path = feed_url[feed_url.index("/console/ical/"):]
    feed = requests.get(f"{web}{feed_path}", timeout=10)
    assert feed.status_code == 200 and feed.headers["Content-Type"].startswith("text/calendar")
    events = [c for c in Calendar.from_ical(feed.content).walk("VEVENT")]
    starts = [e.decoded("DTSTART") for e in events]
    assert any(s == call.start for s in starts)
