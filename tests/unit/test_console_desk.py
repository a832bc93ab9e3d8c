"""The console's calls across days, notes, search; the supervisors' review inbox and its export; analytics."""
# ruff: noqa: F811  (the fixtures of test_console are imported, then named as arguments)
from __future__ import annotations

import json
import re
import sqlite3
from datetime import datetime, timedelta
from urllib.parse import urlencode

import pytest
import yaml
from sqlalchemy import select

from hortense.analytics import figures
from hortense.appointments import booking as ap
from hortense.appointments import calls as desk
from hortense.appointments.calendar.phrases import PARIS
from hortense.db.calendar_models import Appointment, Notification
from hortense.db.console_models import CallOutcome, ReviewLabel
from hortense.db.session import session_scope
from hortense.review import export, inbox
from hortense.settings import get_settings
from tests.unit.test_console import (  # noqa: F401  (fixtures)
    DURING,
    FRIDAY_10,
    NOW,
    _csrf,
    _signed_in,
    _status,
    app,
    client,
    world,
)

MONDAY_14 = datetime(2026, 11, 30, 14, 0, tzinfo=PARIS)


# --------------------------------------------------------------------------- calls

def test_the_console_opens_on_the_next_calls_across_days(client, world, clock):
    clock.set(NOW)  # Thursday 8:00: the calls are tomorrow
    _signed_in(client, "alice@hortense.test")
    page = client.get("/console/calls").text
    assert "À venir" in page and "vendredi 27 novembre 2026" in page
    assert "Camille Dubois" in page and "Julien Moreau" not in page


def test_a_supervisor_sees_everyones_next_calls_and_filters_by_advisor(client, world, clock):
    clock.set(NOW)
    _signed_in(client, "chief@hortense.test")
    page = client.get("/console/calls").text
    assert "Camille Dubois" in page and "Julien Moreau" in page and "tous les conseillers" in page
    only_bruno = client.get(f"/console/calls?advisor={world.bruno}").text
    assert "Julien Moreau" in only_bruno and "Camille Dubois" not in only_bruno


def test_an_advisor_cannot_widen_the_filter(client, world, clock):
    clock.set(NOW)
    _signed_in(client, "alice@hortense.test")
    assert "Julien Moreau" not in client.get(f"/console/calls?advisor={world.bruno}").text


def test_started_calls_without_outcome_are_listed_to_close(client, world):
    _signed_in(client, "alice@hortense.test")  # the clock: Friday 10:40
    page = client.get("/console/calls").text
    assert "Appels à clôturer" in page and "Camille Dubois" in page


def test_the_week_view_shows_the_calls_by_day(client, world):
    _signed_in(client, "alice@hortense.test")
    page = client.get("/console/calls/week?day=2026-11-24").text
    assert "Semaine du 23 novembre 2026" in page
    friday = page.index("vendredi 27 novembre 2026")
    assert page.index("Camille Dubois") > friday and "Julien Moreau" not in page
    assert "day=2026-11-16" in page and "day=2026-11-30" in page


@pytest.mark.parametrize("query", ["dubois", "Camille Dubois", "C1001", "14 295 730 100 101", "06 12 34 56 78",
                                   "+33612345678", "SV-2023-000101"])
def test_search_by_name_number_pdl_or_phone(client, world, query):
    _signed_in(client, "alice@hortense.test")
    page = client.get(f"/console/search?{urlencode({'q': query})}").text
    assert f"/console/calls/{world.alice_call}" in page, query


def test_search_stays_within_what_an_advisor_may_see(client, world):
    _signed_in(client, "alice@hortense.test")
    assert f"/console/calls/{world.bruno_call}" not in client.get("/console/search?q=Moreau").text
    assert "0 appel" in client.get("/console/search?q=Moreau").text
    chief = type(client)(client.app, client.loop)
    _signed_in(chief, "chief@hortense.test")
    assert f"/console/calls/{world.bruno_call}" in chief.get("/console/search?q=Moreau").text
    assert "0 appel" in chief.get("/console/search?q=%25").text  # a LIKE wildcard matches nothing


def test_a_note_recorded_after_the_call_stays_on_it_and_on_the_next_one(client, world, clock):
    csrf = _signed_in(client, "alice@hortense.test")
    response = client.post(f"/console/calls/{world.alice_call}/status",
                           {"status": "done", "note": "Échéancier expliqué, rappel <b>en janvier</b>", "csrf": csrf,
                            "back": "call"})
    assert (response.status, response.location) == (303, f"/console/calls/{world.alice_call}")
    assert _status(world, world.alice_call) == "done"
    page = client.get(f"/console/calls/{world.alice_call}").text
    assert "Échéancier expliqué, rappel &lt;b&gt;en janvier&lt;/b&gt;" in page and "Fait" in page
    # The customer books again: the new call's page shows the earlier call and its note.
    with session_scope(world.url) as s:
        new = ap.book(s, customer_id=world.customers["C1001"], contract_id=None, start=MONDAY_14, reason="Suite",
                      phone="0612345678", channel="web", sender_id="conv-C1001", now=DURING).appointment
    assert new.advisor_id == world.alice  # the least loaded, then the lowest id
    page = client.get(f"/console/calls/{new.id}").text
    assert "Appels précédents" in page and "Échéancier expliqué" in page


def test_an_advisor_reschedules_a_call_and_the_customer_is_told(client, world):
    csrf = _signed_in(client, "alice@hortense.test")
    response = client.post(f"/console/calls/{world.alice_call}/reschedule",
                           {"day": "2026-11-30", "time": "14:00", "note": "Client en réunion, rappeler lundi",
                            "csrf": csrf})
    assert (response.status, response.location) == (303, f"/console/calls/{world.alice_call}")
    assert _status(world, world.alice_call) == "cancelled"
    with session_scope(world.url) as s:
        outcome = s.execute(select(CallOutcome)).scalar_one()
        new = s.get(Appointment, outcome.rescheduled_to_id)
        assert (outcome.outcome, outcome.note) == ("rescheduled", "Client en réunion, rappeler lundi")
        assert new.status == "booked" and new.advisor_id == world.alice and new.reason == "Facture"
        confirmation = s.execute(select(Notification).where(Notification.appointment_id == new.id,
                                                            Notification.kind == "confirmation")).scalar_one()
    assert "déplacé" in confirmation.text and "lundi 30 novembre à 14h" in confirmation.text
    page = client.get(f"/console/calls/{world.alice_call}").text
    assert "Reporté" in page and "lundi 30 novembre 2026" in page


def test_a_reschedule_to_an_impossible_slot_changes_nothing(client, world):
    csrf = _signed_in(client, "alice@hortense.test")
    response = client.post(f"/console/calls/{world.alice_call}/reschedule",
                           {"day": "2026-11-28", "time": "10:00", "csrf": csrf})  # a Saturday
    assert response.status == 409 and _status(world, world.alice_call) == "booked"
    assert client.post(f"/console/calls/{world.bruno_call}/reschedule",
                       {"day": "2026-11-30", "time": "10:00", "csrf": csrf}).status == 404


def test_clean_note_keeps_lines_and_length():
    assert desk.clean_note("  a   b \n\n c ") == "a b\nc"
    assert len(desk.clean_note("x" * 5000)) == 1000


# --------------------------------------------------------------------------- tracker store of conversations

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=PARIS).timestamp()  # Wednesday


def _user(text, intent, confidence, channel="web", ranking=None):
    parse = {"text": text, "intent": {"name": intent, "confidence": confidence},
             "intent_ranking": ranking or [{"name": intent, "confidence": confidence}]}
    return ("user", intent, None, {"event": "user", "text": text, "parse_data": parse, "input_channel": channel})


def _bot(text):
    return ("bot", None, None, {"event": "bot", "text": text})


def _action(name):
    return ("action", None, name, {"event": "action", "name": name})


# sender, seconds after T0, event
CONVERSATIONS = [
    ("web-C1001", 0, _user("Quel est mon PDL ?", "ask_pdl", 0.98)),
    ("web-C1001", 0.5, _action("action_ask_pdl")),
    ("web-C1001", 1.5, _bot("Votre PDL est le 14 295 730 100 101.")),
    ("web-C1001", 60, _user("mon compteur clignote en rouge, 06 12 34 56 78", "nlu_fallback", 0.55,
                            ranking=[{"name": "nlu_fallback", "confidence": 0.55},
                                     {"name": "ask_consumption", "confidence": 0.41}])),
    ("web-C1001", 60.5, _action("action_hortense_fallback")),
    ("web-C1001", 63, _bot("Vouliez-vous dire : ma consommation ?")),
    ("web-C1001", 90, _user("/ask_consumption", "ask_consumption", 1.0)),
    ("web-C1001", 91, _bot("Votre consommation…")),
    ("telegram-42", 86400, _user("bonjour", "greet", 0.99, channel="telegram")),
    ("telegram-42", 86402, _bot("Bonjour !")),
    ("telegram-42", 86460, _user("la météo demain", "out_of_scope", 0.9, channel="telegram")),
    ("telegram-42", 86461, _bot("Je ne peux pas vous renseigner sur ce sujet.")),
    ("telegram-42", 86520, _user("facture un peu chère non", "ask_invoices", 0.5, channel="telegram")),
    ("telegram-42", 86524, _bot("Votre dernière facture…")),
]


def _seed_tracker(path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM events")
        db.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(sender, kind, T0 + dt, intent, action, json.dumps({**data, "timestamp": T0 + dt}))
             for sender, dt, (kind, intent, action, data) in CONVERSATIONS])


@pytest.fixture
def conversations(world):
    url = get_settings().tracker_url
    _seed_tracker(url.removeprefix("sqlite:///"))
    return url


# --------------------------------------------------------------------------- review

def test_the_inbox_lists_misunderstood_messages_newest_first(world, conversations, session):
    items = inbox.inbox(session, conversations, threshold=0.7, now=DURING)
    assert [i.message.text for i in items] == ["facture un peu chère non", "la météo demain",
                                               "mon compteur clignote en rouge, 06 12 34 56 78"]
    assert [i.why for i in items] == ["confiance faible", "hors sujet", "non compris"]
    assert items[2].message.predicted == "ask_consumption"


def test_the_intent_catalogue_comes_from_the_domain():
    intents = inbox.catalogue()
    assert "ask_pdl" in intents and "book_appointment" in intents
    assert "nlu_fallback" not in intents and "out_of_scope" not in intents


def _review_form(page, text):
    block = page[page.index(f"« {text}"):]
    sender = re.search(r'name="sender" value="([^"]+)"', block).group(1)
    event = re.search(r'name="event" value="([^"]+)"', block).group(1)
    return sender, event


def test_a_supervisor_labels_messages_and_they_leave_the_inbox(client, world, conversations):
    csrf = _signed_in(client, "chief@hortense.test")
    page = client.get("/console/review").text
    assert "mon compteur clignote en rouge" in page and "Vouliez-vous dire" in page  # with its context
    sender, event = _review_form(page, "mon compteur clignote")
    assert client.post("/console/review/label", {"sender": sender, "event": event, "kind": "intent",
                                                 "intent": "not_an_intent", "csrf": csrf}).status == 400
    assert client.post("/console/review/label", {"sender": sender, "event": event, "kind": "intent",
                                                 "intent": "ask_consumption"}).status == 403
    response = client.post("/console/review/label", {"sender": sender, "event": event, "kind": "intent",
                                                     "intent": "ask_consumption", "csrf": csrf})
    assert response.status == 303
    sender, event = _review_form(page, "la météo demain")
    client.post("/console/review/label", {"sender": sender, "event": event, "kind": "out_of_scope", "csrf": csrf})
    sender, event = _review_form(page, "facture un peu chère")
    client.post("/console/review/label", {"sender": sender, "event": event, "kind": "ignore", "csrf": csrf})
    remaining = client.get("/console/review").text
    assert "Aucun message à revoir" in remaining, remaining[remaining.find("<article"):][:300]
    done = client.get("/console/review?show=done").text
    assert "ask_consumption" in done and "Hors sujet" in done and "Ignoré" in done
    # A message that is not in the inbox cannot be labelled (the text always comes from the tracker store).
    first = _review_form(page, "mon compteur")[1]
    assert client.post("/console/review/label", {"sender": "web-C1001", "event": str(int(first) - 3),
                                                 "kind": "ignore", "csrf": csrf}).status == 404
    with session_scope(world.url) as s:
        labels = {r.text: (r.kind, r.intent) for r in s.execute(select(ReviewLabel)).scalars()}
    assert labels["mon compteur clignote en rouge, 06 12 34 56 78"] == ("intent", "ask_consumption")


def test_review_and_analytics_are_for_supervisors_only(client, world, conversations):
    csrf = _signed_in(client, "alice@hortense.test")
    for target in ("/console/review", "/console/analytics", "/console/analytics.csv",
                   "/console/analytics/chart/activity.png"):
        assert client.get(target).status == 404, target
    assert client.post("/console/review/label", {"sender": "web-C1001", "event": "4", "kind": "ignore",
                                                 "csrf": csrf}).status == 404


def test_import_writes_clean_rasa_examples_without_duplicates(world, conversations, tmp_path, session):
    messages = {m.text: m for m in inbox.inbox(session, conversations, threshold=0.7, now=DURING)
                for m in [m.message]}
    intents = inbox.catalogue()
    for text, kind, intent in (("mon compteur clignote en rouge, 06 12 34 56 78", "intent", "ask_consumption"),
                               ("la météo demain", "out_of_scope", None),
                               ("facture un peu chère non", "ignore", None)):
        assert inbox.label_message(session, messages[text], advisor_id=world.chief, kind=kind, intent=intent,
                                   now=DURING, intents=intents)
    session.flush()
    nlu = tmp_path / "nlu"
    nlu.mkdir()
    (nlu / "energy.yml").write_text('version: "3.1"\nnlu:\n- intent: out_of_scope\n  examples: |\n'
                                    '    - la météo demain\n', encoding="utf-8")
    target = nlu / "reviewed.yml"
    report = export.import_reviewed(session, target)
    assert (report.added, report.skipped_known) == (1, 1)
    data = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert data["version"] == "3.1"
    assert data["nlu"] == [{"intent": "ask_consumption",
                            "examples": "- mon compteur clignote en rouge, XX XX XX XX XX\n"}]
    again = export.import_reviewed(session, target)
    assert again.added == 0 and target.read_text(encoding="utf-8").count("clignote") == 1


def test_clean_example_masks_personal_data():
    assert export.clean_example("je suis Camille Dubois, camille@example.com", ("Camille", "Dubois")) == \
        "je suis Dupont Dupont, adresse@example.fr"
    assert export.clean_example("mon iban FR76 3000 6000 0112 3456 7890 189") == "mon iban IBAN"
    assert export.clean_example("le 3 décembre à 14h30") == "le 3 décembre à 14h30"
    assert export.clean_example("[texte](ask_pdl) {x}") == "texte ask_pdl x"
    assert export.clean_example("/ask_pdl") == "" and export.clean_example("06 12 34 56 78") == ""


# --------------------------------------------------------------------------- analytics

def test_figures_from_the_tracker_store_and_the_database(world, conversations, session):
    report = figures.compute(session, conversations, first=NOW.date() - timedelta(days=1), last=NOW.date() + 1 *
                             timedelta(days=1), granularity=figures.DAY)
    by_day = {p.start.isoformat(): p for p in report.periods}
    wednesday, thursday = by_day["2026-11-25"], by_day["2026-11-26"]
    assert (wednesday.conversations, wednesday.messages, wednesday.fallbacks) == (1, 3, 1)
    assert wednesday.conversations_without_fallback == 0
    assert (thursday.conversations, thursday.messages, thursday.fallbacks) == (1, 3, 0)
    assert wednesday.median_answer_seconds == 1.5  # 1.5, 3 and 1 seconds
    assert thursday.median_answer_seconds == 2
    assert report.total.fallback_rate == pytest.approx(1 / 6)
    assert report.total.without_fallback_share == pytest.approx(1 / 2)
    assert dict(report.top_intents)["ask_consumption"] == 1
    assert dict(report.per_offer) == {"Stockage Virtuel": 3, "Non identifié": 3}
    assert report.channels == ["telegram", "web"]
    # The two calls were booked on Thursday 08:00 (NOW) through the web.
    assert thursday.calls_booked == 2 and report.total.calls_booked == 2
    telegram = figures.compute(session, conversations, first=NOW.date() - timedelta(days=1), last=NOW.date(),
                               channel="telegram")
    assert (telegram.total.messages, telegram.total.calls_booked) == (3, 0)
    weekly = figures.compute(session, conversations, first=NOW.date() - timedelta(days=1), last=NOW.date(),
                             granularity=figures.WEEK)
    assert [p.start.isoformat() for p in weekly.periods] == ["2026-11-23"] and weekly.periods[0].messages == 6
    csv_text = figures.to_csv(report)
    assert csv_text.splitlines()[0].startswith("periode,canal,conversations")
    assert "2026-11-25,tous,1,3,0.0000,0.3333" in csv_text


def test_done_missed_cancelled_calls_and_reminders_are_counted(world, conversations, session, clock):
    with session_scope(world.url) as s:
        assert desk.record_outcome(s, advisor_id=world.alice, is_supervisor=False, appointment_id=world.alice_call,
                                   outcome="done", note="", now=DURING)
        assert desk.record_outcome(s, advisor_id=world.bruno, is_supervisor=False, appointment_id=world.bruno_call,
                                   outcome="missed", note="", now=DURING)
        reminder = s.execute(select(Notification).where(Notification.kind == "reminder")).scalars().first()
        reminder.sent_at = NOW + timedelta(hours=2)
    report = figures.compute(session, conversations, first=NOW.date(), last=FRIDAY_10.date())
    assert (report.total.calls_done, report.total.calls_missed, report.total.reminders_delivered) == (1, 1, 1)


def test_the_analytics_page_and_csv(client, world, conversations):
    _signed_in(client, "chief@hortense.test")
    page = client.get("/console/analytics?first=2026-11-25&last=2026-11-26").text
    assert re.search(r'data-figure="messages">6<', page) and re.search(r'data-figure="conversations">2<', page)
    assert "16,7 %" in page  # the fallback rate
    assert "/console/analytics/chart/activity.png?" in page
    chart = client.get("/console/analytics/chart/fallback.png?first=2026-11-25&last=2026-11-26")
    assert chart.status == 200 and chart.body.startswith(b"\x89PNG")
    csv_response = client.get("/console/analytics.csv?first=2026-11-25&last=2026-11-26&granularity=week")
    assert csv_response.header("content-type").startswith("text/csv")
    assert "attachment" in csv_response.header("content-disposition")
    assert csv_response.text.splitlines()[1].startswith("2026-11-23,tous,2,6,")


def test_the_import_command_writes_the_file(world, conversations, tmp_path, session, capsys):
    from hortense.cli import main

    message = next(i.message for i in inbox.inbox(session, conversations, threshold=0.7, now=DURING)
                   if i.message.text == "la météo demain")
    inbox.label_message(session, message, advisor_id=world.chief, kind="out_of_scope", intent=None, now=DURING,
                        intents=inbox.catalogue())
    session.commit()
    target = tmp_path / "nlu" / "reviewed.yml"
    assert main(["import-reviewed", "--out", str(target), "--url", world.url]) == 0
    assert yaml.safe_load(target.read_text(encoding="utf-8"))["nlu"] == [
        {"intent": "out_of_scope", "examples": "- la météo demain\n"}]
    assert "1 examples" in capsys.readouterr().out
