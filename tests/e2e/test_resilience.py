"""Failures of the parts around Rasa, on real processes: the customer always gets a French answer.

- database down: the customer database file is replaced, mid-conversation, by a file that is not a database
  (as root, `chmod` would not stop anyone; this is what a lost or corrupted volume looks like). Every
  action's query then fails for real. Hortense apologises and offers to try again, nothing crashes, and a
  booking confirmed during the outage is not announced as booked (nor stored). Putting the file back
  brings the answers back;
- action server down: its process is stopped; the website channel answers its "souci technique" message;
  started again, the answers come back;
- Rasa restart: the Rasa process is stopped and started again on the same tracker store; a booking form in
  progress and a site chosen by a two-site customer are still there.

Own stack (the session stack of the other e2e tests is never broken): one more model load, ~1-2 minutes.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from hortense.db.session import reset_engines, session_scope
from hortense.ops import launcher
from tests.e2e.servers import Process, Stack, buttons, start_seeded_stack, texts

pytestmark = pytest.mark.e2e

SORRY = ("désolée", "souci technique")
RETRY = ("réessayer", "réessayez", "plus tard", "quelques minutes", "quelques instants")


def flat(text: str) -> str:
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


def apologises(answer: str) -> bool:
    low = answer.lower()
    return any(s in low for s in SORRY) and any(r in low for r in RETRY)


@pytest.fixture(scope="module")
def resilient_stack(tmp_path_factory) -> Stack:
    running = start_seeded_stack(tmp_path_factory.mktemp("resilience"))
    yield running
    running.stop()


def _proc(stack: Stack, name: str) -> Process:
    return next(p for p in reversed(stack.processes) if p.name == name)


def _respawn(stack: Stack, name: str) -> Process:
    """Start `name` again with the very command, port, model and environment it had (start_stack's)."""
    before = _proc(stack, name)
    log = stack.workdir / f"{name}-restarted-{int(time.time())}.log"
    proc = launcher.spawn(name, list(before.popen.args), stack.env, stack.workdir, log=log)
    proc.url, proc.ready_url = before.url, before.ready_url
    stack.processes.append(proc)
    launcher.wait_ready(proc, 90 if name == "actions" else 300)
    return proc


def _db_files(stack: Stack) -> list[Path]:
    main = Path(stack.database_url.removeprefix("sqlite:///"))
    return [main, main.with_name(main.name + "-wal"), main.with_name(main.name + "-shm")]


def _break_database(stack: Stack) -> None:
    for path in _db_files(stack):
        if path.exists():
            shutil.move(path, path.with_name(path.name + ".saved"))
    _db_files(stack)[0].write_bytes(b"this is not a database\n" * 512)


def _restore_database(stack: Stack) -> None:
    _db_files(stack)[0].unlink(missing_ok=True)
    for path in _db_files(stack):
        saved = path.with_name(path.name + ".saved")
        if saved.exists():
            shutil.move(saved, path)


def _upcoming_calls(stack: Stack, customer: str) -> int:
    from sqlalchemy import text

    with session_scope(stack.database_url) as s:
        count = s.execute(text(
            "SELECT count(*) FROM appointments a JOIN customers c ON c.id = a.customer_id "
            "WHERE c.customer_number = :c AND a.status = 'booked'"), {"c": customer}).scalar_one()
    reset_engines()
    return count


def _start_booking(stack: Stack, customer: str) -> str:
    """Up to the form's question about the reason of the call; returns the chosen slot's label."""
    proposals = stack.say(customer, "je voudrais être rappelé demain matin svp")
    offered = buttons(proposals)
    assert offered, texts(proposals)
    reply = stack.say(customer, offered[0]["payload"])
    assert "motif" in texts(reply), texts(reply)
    return offered[0]["title"]


def test_database_down_apologises_no_crash_no_false_booking(resilient_stack):
    stack = resilient_stack
    customer = "C1002"
    _start_booking(stack, customer)
    reply = stack.say(customer, "une question sur mes heures creuses")
    assert "06 12 34 56 02" in texts(reply), texts(reply)  # asks to confirm the number on file
    _break_database(stack)
    try:
        confirm = texts(stack.say(customer, "oui"))  # the phone number: the next step needs the database
        while "récapitule" in confirm:  # should the recap still come, confirming must not book
            confirm = texts(stack.say(customer, "oui"))
        assert "réservé" not in confirm.lower() and "c'est noté" not in confirm.lower(), confirm
        assert apologises(confirm), confirm
        account = texts(stack.say("C1004", "quel est mon numéro de PDL ?"))
        assert apologises(account), account
        assert "14 295 730 100 104" not in flat(account)
        assert all(p.popen.poll() is None for p in stack.processes), "a process died"
    finally:
        _restore_database(stack)
    assert _upcoming_calls(stack, customer) == 0  # nothing was booked during the outage
    answer = flat(texts(stack.say("C1004", "quel est mon numéro de PDL ?")))
    assert "14 295 730 100 104" in answer  # back to normal


def test_action_server_down_gets_the_french_technical_answer(resilient_stack):
    stack = resilient_stack
    _proc(stack, "actions").stop()
    try:
        response = stack.post("quel est mon numéro de contrat ?", stack.token("C1003"))
        assert response.status_code == 200
        answer = texts(response.json())
        assert "souci technique" in answer, answer
        assert _proc(stack, "rasa").popen.poll() is None
    finally:
        _respawn(stack, "actions")
    assert "BMS-2023-000103" in texts(stack.say("C1003", "quel est mon numéro de contrat ?"))


def test_rasa_restart_keeps_the_booking_form_and_the_chosen_site(resilient_stack):
    stack = resilient_stack
    label = _start_booking(stack, "C1001")
    first = stack.say("C1006", "mon pdl stp")
    shop = next(b for b in buttons(first) if "Boutique" in b["title"] or "Lyon" in b["title"])
    assert "14 295 730 100 107" in flat(texts(stack.say("C1006", shop["payload"])))

    _proc(stack, "rasa").stop()
    _respawn(stack, "rasa")

    reply = stack.say("C1001", "une question sur ma dernière facture")  # the form goes on: reason taken
    assert "06 12 34 56 01" in texts(reply), texts(reply)
    reply = stack.say("C1001", "oui")
    assert "récapitule" in texts(reply) and label.lower() in texts(reply).lower(), texts(reply)
    answer = stack.say("C1006", "et mon numéro de contrat ?")  # the chosen site is remembered
    assert "EVP-2023-000107" in texts(answer) and not buttons(answer), texts(answer)
