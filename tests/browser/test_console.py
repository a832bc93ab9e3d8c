"""The advisors' console in a real browser, on the real stack (Rasa with the trained model, actions, web app).

A customer writes something Hortense does not understand in the widget. An advisor logs in and sees their next
calls across days, the week, finds a customer by PDL and records a note after a call, and every page fits a
390 px phone. A supervisor sees every advisor's calls, labels the misunderstood message in the review inbox
(then `python -m hortense import-reviewed`, what `make import-reviewed` runs, writes it into a copy of the
training data that `rasa data validate --fail-on-warnings` accepts) and reads analytics that this test
computes on its own from the seeded conversations and the databases.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, time, timedelta, timezone

import pytest
import yaml
from sqlalchemy import select

from hortense import clock
from hortense.appointments import booking as ap
from hortense.appointments.advisors import DEMO_ADVISORS, DEMO_PASSWORD, seed_advisors
from hortense.db.calendar_models import Advisor, Appointment
from hortense.db.models import Contract, Customer
from hortense.db.session import session_scope
from hortense.replies import formatting as fr
from tests.browser.conftest import ARTIFACTS, ROOT

pytestmark = pytest.mark.browser

STRANGE = "xqzt vlorp brindu kaffmaz"
LABEL = "help"
NOTE = "Échéancier expliqué, le client rappellera en janvier"
DRIVER = ROOT / "tests" / "browser" / "console.mjs"


def _customer_id(session, number: str) -> int:
    return session.execute(select(Customer.id).where(Customer.customer_number == number)).scalar_one()


def _seed_calls(url: str) -> dict:
    """Two calls for Claire on two different days, one for Thomas, and one of Claire's that started earlier."""
    now = clock.now()
    with session_scope(url) as s:
        seed_advisors(s)
        claire = s.execute(select(Advisor.id).where(Advisor.email == DEMO_ADVISORS[0][1])).scalar_one()
        # The browser stack is shared by the browser tests: start from customers without a call, on slots where
        # no advisor is booked yet, so that the advisors' assignment below is known.
        for number in ("C1002", "C1003", "C1004"):
            earlier = ap.upcoming_for_customer(s, _customer_id(s, number), now)
            if earlier is not None:
                assert ap.cancel(s, customer_id=_customer_id(s, number), appointment_id=earlier.id, now=now)
        taken = set(s.execute(select(Appointment.start_utc).where(Appointment.status == "booked")).scalars())
        slots = [t for t in ap.next_free_slots(s, now, limit=60) if t not in taken]
        first = slots[0]
        other_day = next(t for t in slots if t.date() != first.date())
        booked = []
        for number, start in (("C1002", first), ("C1003", other_day), ("C1004", first)):
            result = ap.book(s, customer_id=_customer_id(s, number), contract_id=None, start=start, reason="Facture",
                             phone="0612345678", channel="web", sender_id=f"web-{number}", now=now)
            assert result.ok, result
            booked.append(result.appointment)
        assert [b.advisor_id == claire for b in booked] == [True, True, False]
        start = (now - timedelta(minutes=90)).replace(minute=0, second=0, microsecond=0)
        past = Appointment(customer_id=_customer_id(s, "C1005"), advisor_id=claire, start_utc=start,
                           end_utc=start + timedelta(minutes=30), reason="Question sur le contrat",
                           phone="+33556123405", channel="web", sender_id="web-C1005", status="booked",
                           created_at=now, updated_at=now)
        s.add(past)
        s.flush()
        pdl = s.execute(select(Contract.pdl).where(Contract.customer_id == _customer_id(s, "C1003"))).scalar()
        # Claire's calls with that customer, any status (a call cancelled above by this set-up counts too).
        found = len(s.execute(select(Appointment.id).where(Appointment.customer_id == _customer_id(s, "C1003"),
                                                           Appointment.advisor_id == claire)).all())
        return {"booked": booked, "past": past.id, "pdl": pdl, "pdl_calls": found}


def _seed_conversations(tracker: str, day) -> None:
    """Two Telegram conversations of `day` (Paris), one with a message Hortense did not understand."""
    t0 = datetime.combine(day, time(10), clock.local_zone()).timestamp()

    def user(text, intent, confidence):
        return ("user", intent, None, {"event": "user", "text": text, "input_channel": "telegram",
                                       "parse_data": {"intent": {"name": intent, "confidence": confidence}}})

    events = [
        ("telegram-seed-1", 0, user("bonjour", "greet", 0.99)),
        ("telegram-seed-1", 1, ("bot", None, None, {"event": "bot", "text": "Bonjour !"})),
        ("telegram-seed-1", 30, user("ma facture", "ask_invoices", 0.95)),
        ("telegram-seed-1", 32, ("bot", None, None, {"event": "bot", "text": "Votre facture…"})),
        ("telegram-seed-2", 60, user("blurp", "nlu_fallback", 0.55)),
        ("telegram-seed-2", 60.2, ("action", None, "action_hortense_fallback", {"event": "action"})),
        ("telegram-seed-2", 61, ("bot", None, None, {"event": "bot", "text": "Vouliez-vous dire… ?"})),
    ]
    with sqlite3.connect(tracker, timeout=30) as db:
        db.executemany("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
                       [(s, kind, t0 + dt, intent, action, json.dumps({**data, "timestamp": t0 + dt}))
                        for s, dt, (kind, intent, action, data) in events])


def _independent_figures(tracker: str, database: str, first, last) -> dict:
    """The analytics, recomputed here with plain SQL and a loop over the events (not hortense.analytics)."""
    zone = clock.local_zone()
    lo = datetime.combine(first, time(0), zone).timestamp()
    hi = datetime.combine(last + timedelta(days=1), time(0), zone).timestamp()
    with sqlite3.connect(tracker) as db:
        rows = db.execute("SELECT sender_id, type_name, timestamp, intent_name, action_name FROM events "
                          "WHERE timestamp >= ? ORDER BY sender_id, id", (lo,)).fetchall()
    messages, fallbacks, senders = 0, 0, set()
    last_user = None
    for sender, kind, ts, intent, action in rows:
        if kind == "user" and ts < hi:
            messages += 1
            senders.add(sender)
            fallbacks += intent == "nlu_fallback"
            last_user = (sender, intent == "nlu_fallback")
        elif kind == "user":
            last_user = None
        elif kind == "action" and action == "action_hortense_fallback" and last_user and last_user[0] == sender \
                and not last_user[1]:
            fallbacks += 1
            last_user = (sender, True)
    lo_utc = datetime.fromtimestamp(lo, timezone.utc).replace(tzinfo=None).isoformat(" ")
    hi_utc = datetime.fromtimestamp(hi, timezone.utc).replace(tzinfo=None).isoformat(" ")
    with sqlite3.connect(database) as db:
        booked = db.execute("SELECT COUNT(*) FROM appointments WHERE created_at >= ? AND created_at < ?",
                            (lo_utc, hi_utc)).fetchone()[0]
        done = db.execute("SELECT COUNT(*) FROM appointments WHERE status = 'done' AND start_utc >= ? "
                          "AND start_utc < ?", (lo_utc, hi_utc)).fetchone()[0]
    rate = f"{100 * fallbacks / messages:.1f}".replace(".", ",") + " %"
    return {"messages": str(messages), "conversations": str(len(senders)), "fallback_rate": rate,
            "calls_booked": str(booked), "calls_done": str(done)}


def test_console_advisor_and_supervisor(browser_tools, web_stack, tmp_path):
    url = web_stack.database_url
    seeded = _seed_calls(url)
    tracker = web_stack.stack.env["HORTENSE_TRACKER_DB"]
    today = clock.today()
    yesterday = today - timedelta(days=1)
    _seed_conversations(tracker, yesterday)
    query = f"granularity=day&first={yesterday.isoformat()}&last={today.isoformat()}"
    scenario = {
        "chromium": browser_tools.chromium, "artifactsDir": str(ARTIFACTS), "timeoutMs": 60000,
        "resultPath": str(tmp_path / "result.json"), "baseUrl": web_stack.web_url, "customer": "C1001",
        "strange": STRANGE, "label": LABEL, "note": NOTE, "password": DEMO_PASSWORD,
        "advisor": DEMO_ADVISORS[0][1], "supervisor": DEMO_ADVISORS[2][1], "search": fr.pdl(seeded["pdl"]),
        "pastCall": seeded["past"], "analyticsQuery": query,
    }
    (tmp_path / "scenario.json").write_text(json.dumps(scenario, ensure_ascii=False), encoding="utf-8")
    run = subprocess.run([browser_tools.node, str(DRIVER), str(tmp_path / "scenario.json")], cwd=ROOT,
                         capture_output=True, text=True, timeout=420)
    result_path = tmp_path / "result.json"
    result = json.loads(result_path.read_text()) if result_path.exists() else {}
    logs = "\n".join(f"--- {p.name}\n{p.tail(25)}" for p in web_stack.stack.processes)
    assert run.returncode == 0 and result.get("ok"), \
        f"{json.dumps(result, ensure_ascii=False, indent=1)[-4000:]}\n{run.stderr[-2000:]}\n{logs}"
    steps = {s["name"]: s["detail"] for s in result["steps"]}

    # The advisor: next calls across two days (Claire's only), the one to close, the week, a search, a note.
    booked = seeded["booked"]
    upcoming = steps["advisor_upcoming"]
    days = {fr.long_date(b.start.date()) for b in booked[:2]}
    assert len(days) == 2 and all(any(d in h for h in upcoming["days"]) for d in days), upcoming
    assert any("Julien Moreau" in c for c in upcoming["calls"]) and any("Sophie Laurent" in c for c in upcoming["calls"])
    assert not any("Marc Petit" in c for c in upcoming["calls"])  # Thomas's call
    assert any("Léa Bernard" in c or "Boulangerie" in c for c in upcoming["toClose"]), upcoming
    assert len(steps["advisor_week"]["days"]) == 7
    search = steps["advisor_search"]
    expected = f"{seeded['pdl_calls']} appel"
    assert search["status"].startswith(expected) and any("Sophie Laurent" in c for c in search["calls"]), search
    note = steps["advisor_note"]
    assert any(NOTE in n and "Fait" in n for n in note["notes"]), note
    for name in ("advisor_upcoming", "advisor_search", "advisor_note", "supervisor_review", "supervisor_analytics"):
        phone = steps[name]["phone"]
        assert phone["scroll"] == phone["client"] == 390, (name, phone)

    # The supervisor: everybody's calls, the review inbox, the label.
    sup = steps["supervisor_upcoming"]
    assert "tous les conseillers" in sup["title"] and any("Marc Petit" in c for c in sup["calls"])
    assert any("Claire Fontaine" in c for c in sup["calls"]) and any("Thomas Roux" in c for c in sup["calls"])
    review = steps["supervisor_review"]
    assert STRANGE in review["listed"] and review["labelled"] == LABEL

    # `make import-reviewed` (its command) writes the label into a copy of the training data, which validates.
    project = tmp_path / "project"
    shutil.copytree(ROOT / "data", project / "data")
    for name in ("domain.yml", "config.yml"):
        shutil.copy(ROOT / name, project / name)
    reviewed = project / "data" / "nlu" / "reviewed.yml"
    env = {**os.environ, "HORTENSE_DATABASE_URL": url}
    out = subprocess.run([sys.executable, "-m", "hortense", "import-reviewed", "--out", str(reviewed)], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    data = yaml.safe_load(reviewed.read_text(encoding="utf-8"))
    assert {"intent": LABEL, "examples": f"- {STRANGE}\n"} in data["nlu"]
    rasa = ROOT / ".venv" / "bin" / "rasa"
    validate = subprocess.run([str(rasa), "data", "validate", "--fail-on-warnings", "--quiet", "--domain",
                               "domain.yml", "--data", "data", "--config", "config.yml"], cwd=project, env=env,
                              capture_output=True, text=True, timeout=600)
    assert validate.returncode == 0, validate.stdout[-3000:] + validate.stderr[-3000:]

    # Analytics: the page's figures are the ones computed here from the seeded conversations and the databases.
    analytics = steps["supervisor_analytics"]
    assert analytics["charts"] and all(w > 0 for w in analytics["charts"])
    expected = _independent_figures(tracker, url.removeprefix("sqlite:///"), yesterday, today)
    shown = {k: analytics["figures"][k] for k in expected}
    assert shown == expected
    assert int(expected["messages"]) >= 4 and int(expected["calls_booked"]) >= 4 and expected["calls_done"] == "1"
    assert not result["pageErrors"], result["pageErrors"]
