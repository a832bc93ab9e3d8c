"""Accessibility (RGAA / WCAG 2.1 AA) in a real browser, on the real stack (Rasa with the trained model, actions,
web app, headless Chromium).

axe-core (`@axe-core/playwright`) audits every page and widget state tested: the customer space of each offer
(Stockage Virtuel, Boost, SMB, the two-site business and its second site), the open widget (connecting, greeted,
with reply buttons), the bank-details form (and refused), the document verification pages, and the console as a
supervisor (log-in, "À venir", a call, its transcript, a day, the week, search, review inbox, analytics, agenda).
None may have a serious or critical violation.

A customer then books a call with the keyboard only: Tab to the launcher, Enter, type the request, Shift+Tab to
a slot button, Space, type the reason, confirm with a button and Enter, Tab to the close button, Enter. Every stop
shows its focus; the booking is in the database. `a11y.mjs` performs and measures, this test judges. Violations
per page: tests/artifacts/browser/a11y-report.json.
"""
from __future__ import annotations

import json
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import select

from hortense import clock
from hortense.account.customers import load_customer
from hortense.appointments.advisors import DEMO_ADVISORS, DEMO_PASSWORD
from hortense.db.calendar_models import Appointment
from hortense.db.models import Customer
from hortense.db.session import session_scope
from hortense.replies import formatting as fr
from tests.browser.conftest import ARTIFACTS, ROOT, _missing
from tests.browser.test_console import _seed_conversations
from tests.browser.test_phones import BOOST, _book_a_call, _verification_path

pytestmark = pytest.mark.browser

DRIVER = ROOT / "tests" / "browser" / "a11y.mjs"
CUSTOMERS = ["C1001", BOOST, "C1005", "C1006"]  # Stockage Virtuel, Boost, SMB, two-site business
KEYBOARD_CUSTOMER = "C1007"  # no call booked by any other browser test
REASON = "question sur ma mensualité"
BLOCKING = ("serious", "critical")


def _appointments(database_url: str, number: str) -> list[Appointment]:
    with session_scope(database_url) as session:
        customer_id = session.execute(select(Customer.id).where(Customer.customer_number == number)).scalar_one()
        rows = session.execute(select(Appointment).where(Appointment.customer_id == customer_id)).scalars().all()
        session.expunge_all()
        return rows


def _report(result: dict) -> dict:
    """Violations per page, by impact: what the test prints and saves."""
    return {a["name"]: [f"{v['impact']}: {v['id']} ×{v['count']} ({', '.join(n['target'] for n in v['nodes'][:3])})"
                        for v in a["violations"]] for a in result.get("audits", [])}


def test_axe_on_every_page_and_a_keyboard_only_booking(browser_tools, web_stack, tmp_path):
    if not (ROOT / "node_modules" / "@axe-core" / "playwright" / "package.json").exists():
        _missing("node_modules/@axe-core/playwright (npm ci --no-audit --no-fund)")
    url = web_stack.database_url
    assert not _appointments(url, KEYBOARD_CUSTOMER)
    call_day, call_id = _book_a_call(url)
    today = clock.today()
    seeded_day = today - timedelta(days=2)  # a misunderstood message for the review inbox, analytics figures
    _seed_conversations(web_stack.stack.env["HORTENSE_TRACKER_DB"], seeded_day)
    with session_scope(url) as session:
        customers = {n: load_customer(session, n) for n in [*CUSTOMERS, KEYBOARD_CUSTOMER]}
    boost = customers[BOOST]
    contract = boost.contracts[0].contract_number
    supervisor = next(email for _, email, is_supervisor in DEMO_ADVISORS if is_supervisor)
    scenario = {
        "chromium": browser_tools.chromium, "artifactsDir": str(ARTIFACTS), "timeoutMs": 60000,
        "resultPath": str(tmp_path / "result.json"), "baseUrl": web_stack.web_url,
        "keyboard": {"customer": KEYBOARD_CUSTOMER, "greeting": f"Bonjour {customers[KEYBOARD_CUSTOMER].first_name}",
                     "ask": "je voudrais un rendez-vous", "reasonPrompt": "motif", "reason": REASON,
                     "booked": "C'est réservé"},
        "customers": [{"number": n, "greeting": f"Bonjour {customers[n].first_name}",
                       **({"openWidget": True} if n == "C1001" else {}),
                       **({"bank": {"holder": boost.holder_name}} if n == BOOST else {})} for n in CUSTOMERS],
        "verificationPath": _verification_path(contract, today),
        "unknownVerificationPath": _verification_path(contract, today, genuine=False),
        "supervisor": supervisor, "password": DEMO_PASSWORD, "callId": call_id, "callDay": call_day,
        "search": fr.pdl(boost.contracts[0].pdl),
        "analyticsQuery": f"granularity=day&first={seeded_day.isoformat()}&last={today.isoformat()}",
    }
    (tmp_path / "scenario.json").write_text(json.dumps(scenario, ensure_ascii=False), encoding="utf-8")
    run = subprocess.run([browser_tools.node, str(DRIVER), str(tmp_path / "scenario.json")], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    result_path = tmp_path / "result.json"
    result = json.loads(result_path.read_text()) if result_path.exists() else {}
    report = _report(result)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "a11y-report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=1))
    logs = "\n".join(f"--- {p.name}\n{p.tail(25)}" for p in web_stack.stack.processes)
    assert run.returncode == 0 and result.get("ok"), \
        f"{json.dumps({k: result.get(k) for k in ('failed', 'error')}, ensure_ascii=False)}\n{run.stderr[-2000:]}\n{logs}"
    steps = {s["name"]: s.get("detail") for s in result["steps"]}

    # axe-core: every page and state was audited, none has a serious or critical violation.
    audited = {a["name"] for a in result["audits"]}
    expected = {"widget-buttons", "picker", *(f"space-{n}" for n in CUSTOMERS), "space-C1006-tab2",
                "widget-connecting-C1001", "widget-greeting-C1001", f"bank-form-{BOOST}", f"bank-form-error-{BOOST}",
                "verification", "verification-unknown", "console-login", "console-login-error", "console-upcoming",
                "console-call", "console-transcript", "console-day", "console-week", "console-search",
                "console-search-none", "console-review", "console-review-done", "console-analytics",
                "console-agenda"}
    assert expected <= audited, sorted(expected - audited)
    blocking = {a["name"]: [v for v in report[a["name"]] if v.startswith(BLOCKING)] for a in result["audits"]}
    assert not {name: found for name, found in blocking.items() if found}, blocking
    assert all(a["passes"] > 10 for a in result["audits"])  # axe really ran on a page

    # The keyboard-only booking went through; every stop showed where the focus was.
    assert not result.get("keyboardFailed"), result.get("keyboardFailed")
    opened = steps["kb_open"]
    assert opened["live"]["live"] == "polite" and opened["live"]["role"] == "log", opened
    slot = steps["kb_slot"]
    assert slot["replies"] and all(r["role"] == "button" and r["tabindex"] == "0" for r in slot["replies"]), slot
    stops = steps["kb_focus_stops"]
    assert {"launcher", "input", "reply", "close"} <= set(stops), stops
    for name, stop in stops.items():
        assert stop["focusVisible"] and (stop["outline"] or stop["boxShadow"]), (name, stop)
    closed = steps["kb_close"]
    assert closed["focusAfter"] and "rw-launcher" in closed["focusAfter"]["element"], closed
    escape = steps["kb_escape"]
    assert "rw-new-message" in escape["focusOpened"]["element"], escape  # opened, the input has the focus
    assert "rw-launcher" in escape["focusAfter"]["element"] and escape["focusAfter"]["focusVisible"], escape
    booked = [a for a in _appointments(url, KEYBOARD_CUSTOMER) if a.status == "booked"]
    assert len(booked) == 1 and booked[0].reason == REASON and booked[0].channel == "web", booked
    assert not result["pageErrors"], result["pageErrors"]
