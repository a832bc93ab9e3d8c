"""The customer space in a real browser: log in as a demo customer, chat with Hortense in the widget, see the
chart, download the proof of address, reload and keep the conversation.

Everything runs for real (Rasa with the trained model, the action server, the web app, headless Chromium);
`tests/browser/drive.mjs` performs the steps and reports what it saw, this test judges it. Screenshots go to
tests/artifacts/browser/.
"""
from __future__ import annotations

import io
import json
import re
import subprocess

import pytest

from hortense.replies import formatting as fr
from hortense.account.customers import load_customer
from hortense.db.session import session_scope
from tests.browser.conftest import ARTIFACTS, ROOT

pytestmark = pytest.mark.browser

CUSTOMER = "C1001"  # Stockage Virtuel, one contract, monthly payer: every section of the space has content
DRIVER_TIMEOUT_S = 420


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " ")).strip()


def pdf_text(path) -> str:
    from pypdf import PdfReader

    return flat(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(path.read_bytes())).pages))


def drive(browser_tools, web_stack, scenario: dict, tmp_path) -> dict:
    """Run the Node driver on a scenario; fail with what it saw (and the servers' logs) if a step failed."""
    scenario = {"chromium": browser_tools.chromium, "artifactsDir": str(ARTIFACTS), "timeoutMs": 60000,
                "resultPath": str(tmp_path / "result.json"), **scenario}
    scenario_path = tmp_path / "scenario.json"
    scenario_path.write_text(json.dumps(scenario, ensure_ascii=False), encoding="utf-8")
    run = subprocess.run([browser_tools.node, str(browser_tools.driver), str(scenario_path)], cwd=ROOT,
                         capture_output=True, text=True, timeout=DRIVER_TIMEOUT_S)
    result_path = tmp_path / "result.json"
    result = json.loads(result_path.read_text()) if result_path.exists() else {}
    report = json.dumps({k: result.get(k) for k in ("failed", "error", "failureText", "console", "pageErrors",
                                                    "failedRequests")}, ensure_ascii=False, indent=1)
    logs = "\n".join(f"--- {p.name}\n{p.tail(25)}" for p in web_stack.stack.processes)
    assert run.returncode == 0 and result.get("ok"), \
        f"browser scenario failed\n{report}\nstdout: {run.stdout[-2000:]}\nstderr: {run.stderr[-2000:]}\n{logs}"
    return result


def test_customer_space_widget_documents_and_reload(browser_tools, web_stack, tmp_path):
    with session_scope(web_stack.database_url) as session:
        customer = load_customer(session, CUSTOMER)
    contract = customer.contracts[0]
    pdf_path = tmp_path / "attestation.pdf"
    scenario = {
        "baseUrl": web_stack.web_url,
        "customer": CUSTOMER,
        "pdfPath": str(pdf_path),
        "ask": {
            "pdl": "Quel est mon numéro de PDL ?",
            "consumption": "Je voudrais voir ma consommation",
            "proof": "J'ai besoin d'un justificatif de domicile",
            "contract": "Quel est mon numéro de contrat ?",
        },
        "expect": {
            "greeting": f"Bonjour {customer.first_name}",
            "pdl": fr.pdl(contract.pdl),
            "consumption": "Votre consommation",
            "contract": contract.contract_number,
        },
    }
    result = drive(browser_tools, web_stack, scenario, tmp_path)
    steps = {s["name"]: s["detail"] for s in result["steps"]}
    # The customer space greets the logged-in customer and its own chart loaded.
    assert customer.first_name in steps["login"]["heading"]
    assert steps["space_chart"] and steps["space_chart"][0]["naturalWidth"] > 0
    # The widget: greeting by name, the PDL, a consumption chart image that really loaded.
    assert any(f"Bonjour {customer.first_name}" in t for t in steps["greeting"]["texts"])
    assert any(flat(fr.pdl(contract.pdl)) in flat(t) for t in steps["pdl"]["texts"])
    charts = steps["consumption_chart"]["images"]
    assert charts and all(i["naturalWidth"] > 0 for i in charts)
    assert all("/charts/consumption.png?" in i["src"] for i in charts)
    # The proof of address came as a signed link to this customer's own document, and is the right PDF.
    proof = steps["proof_of_address"]
    assert f"/documents/attestation/{contract.contract_number}.pdf?" in proof["href"] and "sig=" in proof["href"]
    assert pdf_path.read_bytes().startswith(b"%PDF")
    text = pdf_text(pdf_path)
    assert flat(customer.holder_name) in text
    assert flat(contract.supply_address) in text
    assert flat(f"{contract.supply_postcode} {contract.supply_city}") in text
    assert flat(fr.pdl(contract.pdl)) in text
    # After a reload, the conversation is still there and still answers for this customer.
    reload = steps["reload_keeps_conversation"]
    assert reload["messagesAfter"] >= reload["messagesBefore"]
    assert reload["storedConversation"] == f"web-{CUSTOMER}"
    assert any(contract.contract_number in t for t in steps["still_connected_after_reload"]["texts"])
    assert not result["pageErrors"], result["pageErrors"]
    assert (ARTIFACTS / "07-after-reload.png").exists()


def test_widget_renews_its_token_and_keeps_answering(browser_tools, web_stack, short_token_web_url, tmp_path):
    """Portal tokens of one minute: the page fetches a new one from /token and reconnects the socket with it,
    and the conversation goes on as the same customer."""
    with session_scope(web_stack.database_url) as session:
        customer = load_customer(session, "C1002")
    result = drive(browser_tools, web_stack, {
        "mode": "renewal", "baseUrl": short_token_web_url, "customer": customer.customer_number,
        "shotPrefix": "renewal-", "ask": {"pdl": "c'est quoi mon PDL"},
        "expect": {"greeting": f"Bonjour {customer.first_name}", "pdl": fr.pdl(customer.contracts[0].pdl)},
    }, tmp_path)
    steps = {s["name"]: s["detail"] for s in result["steps"]}
    assert steps["token_renewed_and_socket_reconnected"]["tokenFetches"] >= 1
    assert steps["token_renewed_and_socket_reconnected"]["socketTokens"] >= 2
    assert any(flat(fr.pdl(customer.contracts[0].pdl)) in flat(t) for t in steps["answers_after_renewal"]["texts"])
