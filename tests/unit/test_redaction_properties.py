"""Property-based redaction test: secrets typed in generated formats never survive anywhere we write.

Hypothesis builds messages holding IBANs (many countries, any grouping, any separator, any case, country
code apart or not), payment cards (every network, any grouping and separator), card security codes,
one-time codes and passwords after any password phrase. Each message goes through the real exits:
- the redacting SQL tracker store (raw rows read back from the SQLite file),
- the logs (the process-wide record factory, then a real handler),
- the advisors' console transcript (`web.console.read_transcript` on that same file),
and no digit of the secret (nor the secret itself) may be left. The bot's warning must fire for every form,
and the identity assertion stored beside the text must stay as signed.
"""
from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import sqlite3
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hortense.security.redaction import redact_text, secret_kinds

EXAMPLES = 600

# Separators people type (or paste) between groups.
SEPARATORS = [" ", "  ", "\u00a0", "\u202f", "\u2009", "\t", "-", " - ", ".", "_", "\u2013", "\u200b", "·", " . "]

COUNTRIES = {  # country: (IBAN length, letters at the start of the BBAN)
    "FR": (27, 0), "DE": (22, 0), "BE": (16, 0), "ES": (24, 0), "IT": (27, 1), "GB": (22, 4), "NL": (18, 4),
    "CH": (21, 0), "LU": (20, 0), "MC": (27, 0), "PT": (25, 0), "AT": (20, 0), "IE": (22, 4),
}

# Contexts hold no digit: whatever digit is left after redaction belongs to a secret.
PREFIXES = ["", "mon IBAN : ", "voici mon rib ", "iban=", "IBAN:", "nouvel iban, ", "rib « ", "ma carte ",
            "carte bancaire n° ", "CB:", "bonjour, ", "(", "le numéro est ", "tenez : "]
SUFFIXES = ["", " merci", ".", " !", " »", ")", " pour le prélèvement", ", merci beaucoup", " voilà", "?"]
GLUE = [" et ", ", ", ". ", " ; ", "\n", " puis "]


def _luhn_complete(partial: str) -> str:
    for last in "0123456789":
        digits = partial + last
        total = 0
        for index, char in enumerate(reversed(digits)):
            value = int(char)
            if index % 2 == 1:
                value = value * 2 - 9 if value > 4 else value * 2
            total += value
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable")


def _iban_check(country: str, bban: str) -> str:
    numeric = "".join(str(int(c, 36)) for c in (bban + country + "00"))
    return f"{98 - int(numeric) % 97:02d}"


@st.composite
def ibans(draw) -> str:
    country = draw(st.sampled_from(sorted(COUNTRIES)))
    length, letters = COUNTRIES[country]
    bank = "".join(draw(st.lists(st.sampled_from("ABCDEFGHJKLMNPRSTUVWXYZ"), min_size=letters, max_size=letters)))
    digits = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=length - 4 - letters,
                                   max_size=length - 4 - letters)))
    bban = bank + digits
    return f"{country}{_iban_check(country, bban)}{bban}"


@st.composite
def cards(draw) -> str:
    prefix, length = draw(st.sampled_from([
        ("4", 16), ("4", 13), ("4", 19), ("51", 16), ("55", 16), ("2221", 16), ("2720", 16), ("34", 15),
        ("37", 15), ("36", 14), ("6011", 16), ("65", 16), ("62", 17), ("62", 19), ("5", 18),
    ]))
    body = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=length - len(prefix) - 1,
                                 max_size=length - len(prefix) - 1)))
    return _luhn_complete(prefix + body)


@st.composite
def grouped(draw, compact: str, min_first: int = 1) -> str:
    """The secret cut in groups (standard 4s, pairs, or random sizes), joined with one or mixed separators."""
    style = draw(st.sampled_from(["none", "fours", "pairs", "threes", "random", "amex"]))
    if style == "none":
        return compact
    sizes: list[int] = []
    remaining = len(compact)
    while remaining > 0:
        if style == "fours":
            size = 4
        elif style == "pairs":
            size = 2
        elif style == "threes":
            size = 3
        elif style == "amex":
            size = [4, 6, 5, 4, 4][min(len(sizes), 4)]
        else:
            size = draw(st.integers(min_value=max(1, min_first if not sizes else 1), max_value=6))
        sizes.append(min(size, remaining))
        remaining -= sizes[-1]
    mixed = draw(st.booleans())
    separator = draw(st.sampled_from(SEPARATORS))
    out, position = [], 0
    for index, size in enumerate(sizes):
        if index:
            out.append(draw(st.sampled_from(SEPARATORS)) if mixed else separator)
        out.append(compact[position:position + size])
        position += size
    return "".join(out)


@st.composite
def iban_forms(draw) -> tuple[str, str]:
    iban = draw(ibans())
    form = draw(grouped(iban, min_first=2))
    case = draw(st.sampled_from(["upper", "lower", "as is"]))
    form = form.lower() if case == "lower" else form.upper() if case == "upper" else form
    return "iban", form


@st.composite
def card_forms(draw) -> tuple[str, str]:
    return "card", draw(grouped(draw(cards())))


PASSWORD_LABELS = ["mot de passe", "Mot de passe", "MOT DE PASSE", "mots de passe", "mot-de-passe", "motdepasse",
                   "mdp", "MDP", "Mdp", "password", "Password", "passwd", "pwd", "m.d.p", "mot de pass"]
FILLERS = ["", " pour mon espace client", " du site", " actuel", " d'accès", " de connexion sur l'appli",
           " pour le compte de ma mère", " que j'utilise", " provisoire", " du compte en ligne chez vous"]
CONNECTORS = [" : ", ": ", "=", " = ", " est ", ", c'est ", " c'est ", " -> ", " → ", " était ", " is "]


@st.composite
def passwords(draw) -> tuple[str, str]:
    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ0123456789!$%&*+#@"
    body = draw(st.text(alphabet=alphabet, min_size=5, max_size=14))
    value = draw(st.sampled_from("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ")) + body + \
        draw(st.sampled_from("0123456789"))
    label = draw(st.sampled_from(["mon ", "le ", "", "Mon nouveau "])) + draw(st.sampled_from(PASSWORD_LABELS))
    filler = draw(st.sampled_from(FILLERS))
    connector = draw(st.sampled_from(CONNECTORS if filler else [*CONNECTORS, " "]))
    quote = draw(st.sampled_from(["", "\"", "«"]))
    closing = {"": "", "\"": "\"", "«": "»"}[quote]
    return "password", f"{label}{filler}{connector}{quote}{value}{closing}"


CVV_WORDS = ["cvv", "CVV", "cryptogramme", "crypto", "le code au dos", "code de sécurité", "CVC", "code secret",
             "les trois chiffres au dos", "pictogramme", "code pin", "code de ma carte"]


@st.composite
def card_codes(draw) -> tuple[str, str]:
    """A card and its security code: after a card word, or right next to the card number."""
    code = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=3, max_size=4)))
    if code.startswith(("19", "20")) and len(code) == 4:
        code = "7" + code[1:]
    card = draw(grouped(draw(cards())))
    shape = draw(st.sampled_from(["word", "next", "word only", "expiry"]))
    word = draw(st.sampled_from(CVV_WORDS))
    gap = draw(st.sampled_from([" ", " : ", ", ", " est ", " = "]))
    if shape == "word":
        return "cvv", f"{card} {word}{gap}{code}"
    if shape == "next":
        return "cvv", f"{card}{draw(st.sampled_from([' ', ', ', ' / ', ' et ', ' - ']))}{code}"
    if shape == "expiry":
        return "cvv", f"{card} exp {draw(st.sampled_from(['fin', 'bientôt', 'en mars']))} {word} {code}"
    return "cvv", f"ma carte, {word}{gap}{code}"


def _reads_as_date(digits: str) -> bool:
    """8 digits in one block reading as YYYYMMDD or DDMMYYYY (1900-2099) are a date, which redaction keeps by
    design ("né le 03122026"; see hortense.security.link_codes); the codes we issue are 6 digits."""
    if len(digits) != 8:
        return False
    for year, month, day in ((digits[:4], digits[4:6], digits[6:]), (digits[4:], digits[2:4], digits[:2])):
        try:
            if 1900 <= int(year) <= 2099 and date(int(year), int(month), int(day)):
                return True
        except ValueError:
            continue
    return False


@st.composite
def link_codes(draw) -> tuple[str, str]:
    code = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=6, max_size=8)))
    if code[0] == "0":
        code = "4" + code[1:]
    half = len(code) // 2
    form = draw(st.sampled_from([code, f"{code[:half]} {code[half:]}", f"{code[:half]}-{code[half:]}"]))
    if _reads_as_date(form):  # a code, not a date: 4 starts neither a year of 19xx/20xx nor a day
        form = "4" + form[1:]
    return "code", f"{draw(st.sampled_from(['lier mon compte ', 'mon code : ', 'code ', '']))}{form}"


@st.composite
def messages(draw) -> tuple[str, list[str]]:
    parts = draw(st.lists(st.one_of(iban_forms(), card_forms(), passwords(), card_codes(), link_codes()),
                          min_size=1, max_size=3))
    pieces, kinds = [], []
    for kind, form in parts:
        pieces.append(draw(st.sampled_from(PREFIXES)) + form + draw(st.sampled_from(SUFFIXES)))
        kinds.append(kind)
    glue = draw(st.sampled_from(GLUE))
    return glue.join(pieces), kinds


_BOOKKEEPING = {"timestamp", "message_id", "sender_id", "confidence", "hortense_identity"}  # the assertion: checked apart


def stored_strings(value, key: str = "") -> list[str]:
    """Every string a stored event holds, bookkeeping (timestamps, message ids) aside."""
    if key in _BOOKKEEPING:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in stored_strings(v, str(k))]
    if isinstance(value, list):
        return [s for v in value for s in stored_strings(v)]
    return []


def secrets_left(original: str, stored: str) -> list[str]:
    """What survives: any digit (contexts have none), or a password-like token of the original."""
    left = re.findall(r"\d", stored)
    for token in re.findall(r"[^\s\"«»]{6,}", original):
        if re.search(r"\d", token) and token in stored:
            left.append(token)
    return left


def test_generated_secret_formats_are_plain_strings():
    from hortense.security.redaction import contains_iban

    assert contains_iban("FR76.3000.6000.0112.3456.7890.189")
    assert contains_iban("fr 76 3000 6000 0112 3456 7890 189")


def test_hundreds_of_secret_formats_leave_no_survivor(tmp_path, monkeypatch):
    """Each generated message: warned about, redacted for storage and in the logs (Hypothesis shrinks a
    failure to its simplest form); then all of them go through the real tracker store and the console."""
    from rasa.core.tracker_store import TrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.utils.endpoints import EndpointConfig

    from channels.guard import redact_keeping_codes
    from hortense.conversations import store as conversations_store
    from hortense.rasa.tracker_store import install_log_redaction, redact_for_storage, uninstall_log_redaction
    from hortense.security.identity import sign_assertion, verify_assertion
    from hortense.settings import get_settings
    from web import console

    def user_event(text: str, sender: str, assertion: dict) -> UserUttered:
        return UserUttered(text, {"name": "inform", "confidence": 0.9},
                           parse_data={"text": text, "intent": {"name": "inform", "confidence": 0.9},
                                       "entities": [{"entity": "value", "value": text}]},
                           metadata={"hortense_identity": assertion}, input_channel="web")

    def check_stored(text: str, event: dict, sender: str, assertion: dict) -> None:
        if event.get("event") == "user":  # the assertion is stored as signed, and still verifies
            assert event["metadata"]["hortense_identity"] == assertion
            verify_assertion(event["metadata"], "web", sender)
        assert not secrets_left(text, "\n".join(stored_strings(event))), (text, event)

    install_log_redaction()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    log = logging.getLogger("hortense.test.property")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    seen: list[str] = []

    # Fixed examples by default (a reproducible CI); HORTENSE_HYPOTHESIS_RANDOM=1 explores new ones. "Fixed" for
    # one set of loaded modules only: Hypothesis also draws constants found in the project modules already
    # imported, so the examples change with the tests run before this one. The property must hold for all.
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("HORTENSE_HYPOTHESIS_RANDOM"),
              database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(messages())
    def check(example: tuple[str, list[str]]) -> None:
        text, kinds = example
        seen.append(text)
        stream.seek(0)
        stream.truncate()
        # what the bot sees, and whether it warns: every form except a bare link code (which it needs)
        admitted = redact_keeping_codes(text)
        if set(kinds) - {"code"}:
            assert secret_kinds(text, admitted), f"no warning for {text!r}"
        sender = f"web-prop-{len(seen)}"
        assertion = sign_assertion("web", sender, "C1001")
        check_stored(text, redact_for_storage(user_event(text, sender, assertion).as_dict()), sender, assertion)
        log.info("message received: %s", text)
        assert not secrets_left(text, stream.getvalue()), (text, stream.getvalue())

    try:
        check()
    finally:
        log.removeHandler(handler)
        uninstall_log_redaction()
    messages_seen = list(dict.fromkeys(seen))
    assert len(messages_seen) >= 500

    # The same messages through the real store (raw rows) and the console's transcript page.
    db = tmp_path / "tracker.db"
    monkeypatch.setenv("HORTENSE_TRACKER_DB", str(db))
    monkeypatch.delenv("HORTENSE_TRACKER_URL", raising=False)
    get_settings.cache_clear()
    store = TrackerStore.create(EndpointConfig(type="hortense.rasa.tracker_store.RedactingSQLTrackerStore",
                                               dialect="sqlite", db=str(db)), Domain.empty())
    assertions = {}

    async def save_all() -> None:
        for index, text in enumerate(messages_seen):
            sender = f"web-store-{index}"
            assertions[sender] = sign_assertion("web", sender, "C1001")
            tracker = await store.get_or_create_tracker(sender)
            tracker.update(user_event(text, sender, assertions[sender]))
            tracker.update(BotUttered(f"Vous avez écrit : {text}"))
            await store.save(tracker)

    try:
        asyncio.run(save_all())
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT sender_id, data FROM events").fetchall()
        assert len(rows) >= 2 * len(messages_seen)
        for sender, data in rows:
            check_stored(messages_seen[int(sender.rsplit("-", 1)[1])], json.loads(data), sender, assertions[sender])
        for index, text in enumerate(messages_seen):
            lines = console.read_transcript(f"web-store-{index}")
            assert lines and len(lines) == 2
            for line in lines:
                assert not secrets_left(text, line.text), (text, line.text)
    finally:
        conversations_store.reset_engines()


@pytest.mark.parametrize("text", [
    "FR 76 3000 6000 0112 3456 7890 189", "FR76.3000.6000.0112.3456.7890.189", "fr76 3000.6000-0112 3456 7890 189",
    "4111.1111.1111.1111", "41 11 11 11 11 11 11 11", "4111 1111 1111 1111 123",
    "mon mot de passe pour mon espace client est Soleil2024",
])
def test_issue_examples(text):
    redacted = redact_text(text)
    assert not re.search(r"\d", redacted), redacted
