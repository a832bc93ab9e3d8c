"""A customer types an IBAN, a card number and a link code; none of them is anywhere on disk afterwards:
not in the tracker store's SQLite file, not in the event broker's stream, not in any process's log, not in
the customer database (which keeps only the code's hash)."""
from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from hortense.billing.bank_details import has_valid_checksum
from tests.fakes.platforms import Chat, issue_code, linked_customer, mstack, stack_env, wait_for  # noqa: F401

pytestmark = pytest.mark.e2e


def luhn_card(rng: random.Random) -> str:
    """A Visa-shaped, Luhn-valid number unique to this run (so a match cannot come from elsewhere)."""
    digits = [4] + [rng.randrange(10) for _ in range(14)]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        value = digit * 2 if index % 2 == 0 else digit
        total += value - 9 if value > 9 else value
    return "".join(map(str, digits + [(10 - total % 10) % 10]))


def french_iban(rng: random.Random) -> str:
    bban = "".join(str(rng.randrange(10)) for _ in range(23))
    numeric = int(bban + "1527" + "00")  # F=15, R=27, check digits 00
    iban = f"FR{98 - numeric % 97:02d}{bban}"
    assert has_valid_checksum(iban)
    return iban


def grouped(value: str) -> str:
    return " ".join(value[i:i + 4] for i in range(0, len(value), 4))


def files_to_scan(workdir: Path) -> list[Path]:
    """The tracker store (with any SQLite journal), the event stream, every log, the customer database."""
    found = [p for p in workdir.iterdir() if p.is_file() and (
        p.name.startswith("tracker.db") or p.name.startswith("hortense.db") or p.suffix == ".log")]
    names = {p.name for p in found}
    assert {"tracker.db", "events.log", "rasa.log", "actions.log", "hortense.db"} <= names, names
    return found


def occurrences(secret: str, data: bytes) -> bool:
    """The secret as a whole token (a code is 6 digits: a timestamp's fraction must not count as one)."""
    pattern = rb"(?<![\d.])" + re.escape(secret.encode()) + rb"(?!\d)"
    return re.search(pattern, data) is not None


@pytest.fixture(scope="module")
def typed(mstack):
    """One conversation per channel in which the customer types the secrets (some of them twice)."""
    import os

    from hortense.settings import get_settings

    saved = {k: os.environ.get(k) for k in mstack.stack.env if k.startswith("HORTENSE_")}
    os.environ.update({k: v for k, v in mstack.stack.env.items() if k.startswith("HORTENSE_")})
    get_settings.cache_clear()
    try:
        rng = random.Random()
        secrets = {"iban": french_iban(rng), "card": luhn_card(rng), "code": issue_code(mstack.stack, "C1001")}
        chat = Chat.whatsapp(mstack)
        assert "reliée" in chat.turn(f"lier mon compte {secrets['code']}")
        assert linked_customer(mstack.stack, "whatsapp", chat.sender) == "C1001"
        chat.turn(f"je veux changer de RIB, mon nouvel IBAN est {grouped(secrets['iban'])}")
        chat.turn(f"et voici ma carte bancaire {grouped(secrets['card'])} pour payer")
        chat.turn(f"mon code était {secrets['code']}, et mon IBAN {secrets['iban']}")
        telegram_code = issue_code(mstack.stack, "C1003")
        secrets["telegram_code"] = telegram_code
        other = Chat.telegram(mstack)
        assert "reliée" in other.turn(f"voici le code : {telegram_code[:3]} {telegram_code[3:]}")
        other.turn(f"ma carte {secrets['card']} expire bientôt")
        web = mstack.stack.post(f"mon IBAN : {secrets['iban']} et ma carte {secrets['card']}",
                                mstack.stack.token("C1002"))
        assert web.status_code == 200
        yield secrets
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


@pytest.mark.parametrize("what", ["iban", "card", "code", "telegram_code"])
def test_secret_is_nowhere_on_disk(mstack, typed, what):
    secret = typed[what]
    spellings = {secret, grouped(secret)} if what in ("iban", "card") else {secret, f"{secret[:3]} {secret[3:]}"}
    for path in files_to_scan(mstack.stack.workdir):
        data = path.read_bytes()
        for spelling in spellings:
            assert not occurrences(spelling, data), f"{what} found in {path.name}"


def test_the_scan_would_see_them(mstack, typed):
    """The files do hold this conversation (redacted): the scan above looks where the secrets would be."""
    store = (mstack.stack.workdir / "tracker.db").read_bytes()
    events = (mstack.stack.workdir / "events.log").read_text(encoding="utf-8")
    assert b"[IBAN]" in store and b"[CARTE]" in store and b"[CODE]" in store
    assert "[IBAN]" in events and "[CARTE]" in events and "[CODE]" in events
    assert "lier mon compte [CODE]" in events


def test_the_link_code_is_stored_only_as_a_hash(mstack, typed):
    import sqlite3

    from hortense.security import link_codes

    pepper = mstack.stack.env["HORTENSE_LINK_CODE_PEPPER"].encode()
    with sqlite3.connect(mstack.stack.workdir / "hortense.db") as conn:
        hashes = {row[0] for row in conn.execute("SELECT code_hash FROM link_codes WHERE used_at IS NOT NULL")}
    assert link_codes.hash_code(typed["code"], pepper) in hashes


def test_no_configured_secret_in_any_log_or_stream(mstack, typed):
    """Tokens, app secrets, peppers: none is ever printed (they can travel in URLs and tracebacks)."""
    from hortense.rasa.tracker_store import known_secret_values

    secrets = known_secret_values(mstack.stack.env)
    assert len(secrets) >= 10  # the settings' secrets and every channel credential
    for path in files_to_scan(mstack.stack.workdir):
        if path.suffix == ".log":
            data = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in data, f"a configured secret is in {path.name}"


def test_rasa_runs_the_redacting_store(mstack):
    """Rasa would silently fall back to an in-memory store if the class failed to import: the connectors'
    start-up check says which store is in use."""
    def checked() -> bool:
        log = (mstack.stack.workdir / "rasa.log").read_text(encoding="utf-8", errors="replace")
        return "tracker store check: RedactingSQLTrackerStore (redacting)" in log

    assert wait_for(checked, 10)
