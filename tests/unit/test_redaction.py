"""Tests for hortense.security.redaction: secrets must never reach the tracker store or logs."""

from __future__ import annotations

import copy
import io
import logging
import random

import pytest

from hortense.security.redaction import (
    REDACTED,
    RedactingFilter,
    contains_iban,
    redact_event,
    redact_text,
)


def _iban(country: str, bban: str) -> str:
    numeric = "".join(str(int(c, 36)) for c in (bban + country + "00"))
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


FR = "FR7630006000011234567890189"
FR_SPACED = "FR76 3000 6000 0112 3456 7890 189"
DE = "DE89370400440532013000"
GENERATED_IT = _iban("IT", "X0542811101000000123456")
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiJDMDAxMjM0IiwiZXhwIjoxNzk1NzAwMDAwfQ."
    "Sfl_KxwRJSMeKKF2QT4fwpMeJf36POk6yJV-adQssw5c"
)

REDACTED_CASES = [
    # IBANs, any country, any spelling
    (FR, "[IBAN]"),
    (FR_SPACED, "[IBAN]"),
    (FR.lower(), "[IBAN]"),
    ("FR76-3000-6000-0112-3456-7890-189", "[IBAN]"),
    ("FR76\u00a03000\u00a06000\u00a00112\u00a03456\u00a07890\u00a0189", "[IBAN]"),
    (f"mon IBAN est {FR_SPACED}, merci", "mon IBAN est [IBAN], merci"),
    (f"iban:{FR} merci beaucoup", "iban:[IBAN] merci beaucoup"),
    (f"{FR_SPACED} 2026", "[IBAN] 2026"),
    (DE, "[IBAN]"),
    ("DE89 3704 0044 0532 0130 00", "[IBAN]"),
    ("GB29 NWBK 6016 1331 9268 19", "[IBAN]"),
    ("gb29 nwbk 6016 1331 9268 19", "[IBAN]"),
    (GENERATED_IT, "[IBAN]"),
    ("BR1800360305000010009795493C1", "[IBAN]"),
    # an IBAN with a typo (bad checksum, one digit missing) is still an account number
    ("FR76 3000 6000 0112 3456 7890 199", "[IBAN]"),
    ("FR76 3000 6000 0112 3456 7890 18", "[IBAN]"),
    ('{"iban": "FR7630006000011234567890189"}', '{"iban": "[IBAN]"}'),
    # payment cards (Luhn-valid)
    ("4111111111111111", "[CARTE]"),
    ("ma carte 4111 1111 1111 1111 expire 12/27", "ma carte [CARTE] expire 12/27"),
    ("5555-5555-5555-4444", "[CARTE]"),
    ("amex 3782 822463 10005", "amex [CARTE]"),
    ("4222222222222", "[CARTE]"),
    ("6304000000000000000", "[CARTE]"),
    ("diners 36259600000004", "diners [CARTE]"),
    ("CB:4012888888881881.", "CB:[CARTE]."),
    # JWTs
    (f"Bearer {JWT}", "Bearer [JETON]"),
    (f"token={JWT}&x=1", "token=[JETON]&x=1"),
    ("eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", "[JETON]"),
    # signatures of document links (hortense.security.signing)
    (
        "/doc/f.pdf?c=C1&exp=1795700000&sig=" + "ab12" * 16,
        "/doc/f.pdf?c=C1&exp=1795700000&sig=[JETON]",
    ),
    ("/doc/f.pdf?sig=" + "0" * 64 + "&c=C1", "/doc/f.pdf?sig=[JETON]&c=C1"),
    # one-time codes
    ("482913", "[CODE]"),
    ("mon code c'est 482 913", "mon code c'est [CODE]"),
    ("code : 482-913.", "code : [CODE]."),
    ("code 12345678 reçu", "code [CODE] reçu"),
    ("code:0482913", "code:[CODE]"),
    ("appelez le 06 12 34 56 78, code 482913", "appelez le 06 12 34 56 78, code [CODE]"),
    # passwords
    ("mot de passe : Soleil2024!", "mot de passe : [MOT DE PASSE]"),
    ("Mot de passe: Soleil 2024", "Mot de passe: [MOT DE PASSE] 2024"),
    ("mon mot de passe est hunter2 merci", "mon mot de passe est [MOT DE PASSE] merci"),
    ("mon mdp c'est azerty", "mon mdp c'est [MOT DE PASSE]"),
    ("mdp xK9$pq", "mdp [MOT DE PASSE]"),
    ("MDP=xK9$pq", "MDP=[MOT DE PASSE]"),
    ("password=hunter2", "password=[MOT DE PASSE]"),
    ("login ok password: hunter2", "login ok password: [MOT DE PASSE]"),
    ("{'password': 'hunter 2'}", "{'password': [MOT DE PASSE]}"),
    ('{"password":"hunter2"}', '{"password":[MOT DE PASSE]}'),
    ("nouveau mot de passe : Abc123", "nouveau mot de passe : [MOT DE PASSE]"),
    ("mot de passe provisoire : Abc123", "mot de passe provisoire : [MOT DE PASSE]"),
    ("mdp : 482913", "mdp : [CODE]"),
    ("mdp AB12 FR76 3000 6000 0112 3456 7890 189", "mdp [MOT DE PASSE] [IBAN]"),
    (f"AB12 voici mon iban {FR_SPACED}", "AB12 voici mon iban [IBAN]"),
    (f"ref x1{FR} ok", "ref x1[IBAN] ok"),
    ("mot de passe du compte : abc", "mot de passe du compte : [MOT DE PASSE]"),
    ("mot de passe est-" + JWT, "mot de passe est[MOT DE PASSE]"),
    ("4111111111111111" + JWT, "[CARTE][JETON]"),
    (f"{FR} {FR_SPACED}", "[IBAN] [IBAN]"),
    # several secrets in one message
    (
        f"IBAN {FR_SPACED}, carte 4111111111111111, code 482913, mdp: x1",
        "IBAN [IBAN], carte [CARTE], code [CODE], mdp: [MOT DE PASSE]",
    ),
]

KEPT_AS_IS = [
    "",
    "Bonjour, je voudrais changer mon IBAN",
    "Mon numéro : 06 12 34 56 78",
    "0612345678",
    "+33 6 12 34 56 78",
    "+33612345678",
    "06 12 34 56 78 et 07 98 76 54 32",
    "PDL 09123456789012",
    "PDL 25123456789014",
    "PDL 25123456789016",  # 14 digits, Luhn-valid: only Diners (36...) cards have 14 digits
    "SIRET 73282932000074",
    "j'habite au 12 rue de la Paix, 75011 Paris",
    "ma facture de 1 234,56 € du 03/12/2026",
    "150 000 €",
    "150000 euros",
    "123456,78",
    "consommation 3500 kWh en 2026",
    "rendez-vous le 03-12-2026 à 14:30",
    "le 2026-12-03T14:30:00",
    "né le 03122026",
    "4111111111111112",  # not Luhn-valid
    "1234567890123",
    "j'ai oublié mon mot de passe",
    "mot de passe oublié",
    "Mon mot de passe ne marche pas",
    "mot de passe ?",
    "référence FR12345678901 de TVA",
    "commande AB123456",
    "AT12 je voudrais savoir",
    "[IBAN] [CARTE] [JETON] [CODE] [MOT DE PASSE] [REDACTED]",
]


@pytest.mark.parametrize("text, expected", REDACTED_CASES)
def test_secrets_are_redacted(text, expected):
    assert redact_text(text) == expected


@pytest.mark.parametrize("text", KEPT_AS_IS)
def test_ordinary_text_is_kept(text):
    assert redact_text(text) == text


@pytest.mark.parametrize("text", [case[0] for case in REDACTED_CASES] + KEPT_AS_IS)
def test_redaction_is_idempotent(text):
    once = redact_text(text)
    assert redact_text(once) == once


def test_redaction_is_idempotent_on_random_mixes():
    rng = random.Random(20261126)
    pieces = [FR_SPACED, FR, "4111 1111 1111 1111", "482913", "482 913", "mdp", "mot de passe",
              ":", "=", "06 12 34 56 78", "2026", "12", "03/12/2026", "€", "oublié", JWT, "-",
              "DE89", "3704", "0044", "abc", "est", "1 234", ",56", "kWh", "+33", "[CODE]"]
    for _ in range(5000):
        text = "".join(rng.choice(pieces) + rng.choice(["", " ", " ", "-", ", "]) for _ in range(8))
        once = redact_text(text)
        assert redact_text(once) == once, text


@pytest.mark.parametrize("value", [None, ""])
def test_empty_values(value):
    assert redact_text(value) == value


# --- contains_iban ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        (FR, True),
        (f"voici mon iban : {FR_SPACED.lower()} merci", True),
        ("DE89 3704 0044 0532 0130 00", True),
        (GENERATED_IT, True),
        ("FR76 3000 6000 0112 3456 7890 199", False),  # checksum wrong
        ("FR76 3000 6000 0112 3456 7890 18", False),  # too short
        ("je veux changer d'IBAN", False),
        (f"AB12 voici mon iban {FR_SPACED}", True),
        (f"ref x1{FR}", True),
        ("4111111111111111", False),
        ("", False),
    ],
)
def test_contains_iban(text, expected):
    assert contains_iban(text) is expected


# --- redact_event -----------------------------------------------------------------


def user_event():
    return {
        "event": "user",
        "timestamp": 1795700000.123,
        "text": f"mon iban est {FR_SPACED}",
        "input_channel": "whatsapp",
        "message_id": "wamid.482913",
        "parse_data": {
            "text": f"mon iban est {FR_SPACED}",
            "intent": {"name": "inform_iban", "confidence": 0.98},
            "intent_ranking": [{"name": "inform_iban", "confidence": 0.98}],
            "entities": [
                {"entity": "iban", "start": 13, "end": 46, "value": FR_SPACED,
                 "extractor": "RegexEntityExtractor"},
                {"entity": "link_code", "value": "482913"},
                {"entity": "city", "value": "Lyon"},
            ],
            "message_id": "wamid.482913",
        },
        "metadata": {
            "sender_phone": "+33612345678",
            "auth_token": JWT,
            "session": {"jwt": "abc", "Authorization": "Bearer xyz", "code": "482913",
                        "nested": [{"password": "hunter2"}, f"free text {FR}"]},
            "otpCode": "482913",
            "iban_hint": "FR76",
            "postal_code": "75011",
            "lang": "fr",
        },
    }


def test_user_event_is_redacted_everywhere():
    event = user_event()
    redacted = redact_event(event)
    assert redacted["text"] == "mon iban est [IBAN]"
    assert redacted["parse_data"]["text"] == "mon iban est [IBAN]"
    entities = redacted["parse_data"]["entities"]
    assert entities[0]["value"] == REDACTED  # entity named like a secret
    assert entities[1]["value"] == REDACTED
    assert entities[2]["value"] == "Lyon"
    assert entities[0]["start"] == 13 and entities[0]["extractor"] == "RegexEntityExtractor"
    metadata = redacted["metadata"]
    assert metadata["auth_token"] == REDACTED
    assert metadata["session"]["jwt"] == REDACTED
    assert metadata["session"]["Authorization"] == REDACTED
    assert metadata["session"]["code"] == REDACTED
    assert metadata["session"]["nested"] == [{"password": REDACTED}, "free text [IBAN]"]
    assert metadata["otpCode"] == REDACTED
    assert metadata["iban_hint"] == REDACTED
    assert metadata["postal_code"] == "75011"
    assert metadata["sender_phone"] == "+33612345678" and metadata["lang"] == "fr"


def test_structural_keys_are_kept():
    event = user_event()
    redacted = redact_event(event)
    for key in ("event", "timestamp", "input_channel", "message_id"):
        assert redacted[key] == event[key]
    assert redacted["parse_data"]["intent"] == {"name": "inform_iban", "confidence": 0.98}
    assert redacted["parse_data"]["intent_ranking"] == event["parse_data"]["intent_ranking"]
    assert redacted["parse_data"]["message_id"] == "wamid.482913"


def test_input_event_is_never_mutated():
    event = user_event()
    snapshot = copy.deepcopy(event)
    redacted = redact_event(event)
    assert event == snapshot
    redacted["metadata"]["session"]["nested"].append("x")
    assert event == snapshot


def test_no_secret_left_anywhere_in_a_redacted_event():
    flat = repr(redact_event(user_event()))
    for secret in (FR, "3000 6000", "'482913'", "hunter2", "xyz", JWT[:20]):
        assert secret not in flat


@pytest.mark.parametrize(
    "event, expected_value",
    [
        ({"event": "slot", "name": "iban", "value": FR}, REDACTED),
        ({"event": "slot", "name": "link_code", "value": "482913"}, REDACTED),
        ({"event": "slot", "name": "new_password", "value": "hunter2"}, REDACTED),
        ({"event": "slot", "name": "comment", "value": f"iban {FR}"}, "iban [IBAN]"),
        ({"event": "slot", "name": "comment", "value": {"a": [f"{FR}", 3]}}, {"a": ["[IBAN]", 3]}),
        ({"event": "slot", "name": "city", "value": "Lyon"}, "Lyon"),
        ({"event": "slot", "name": "is_authenticated", "value": False}, False),
        ({"event": "slot", "name": "auth_level", "value": None}, None),
        ({"event": "slot", "name": "count", "value": 482913}, 482913),
    ],
)
def test_slot_events(event, expected_value):
    redacted = redact_event(event)
    assert redacted["value"] == expected_value
    assert redacted["name"] == event["name"] and redacted["event"] == "slot"


def test_bot_event_text_data_and_metadata():
    event = {
        "event": "bot",
        "timestamp": 1.0,
        "text": "Votre code est 482913",
        "data": {
            "buttons": [{"title": "Oui", "payload": '/inform{"iban": "' + FR + '"}'}],
            "custom": {"card": "4111 1111 1111 1111", "link": f"/doc?token={JWT}"},
        },
        "metadata": {"utter_action": "utter_code", "secret_value": "x"},
    }
    redacted = redact_event(event)
    assert redacted["text"] == "Votre code est [CODE]"
    button = redacted["data"]["buttons"][0]
    assert button == {"title": "Oui", "payload": '/inform{"iban": "[IBAN]"}'}
    assert redacted["data"]["custom"] == {"card": "[CARTE]", "link": "/doc?token=[JETON]"}
    assert redacted["metadata"] == {"utter_action": "utter_code", "secret_value": REDACTED}


def test_nested_message_text_and_other_events():
    event = {"event": "user_featurization", "message": {"text": "mdp: abc", "sender_id": "482913"}}
    redacted = redact_event(event)
    assert redacted["message"] == {"text": "mdp: [MOT DE PASSE]", "sender_id": "482913"}
    action = {"event": "action", "name": "action_check_code", "policy": "RulePolicy",
              "confidence": 1.0, "timestamp": 2.0}
    assert redact_event(action) == action


def test_non_string_leaves_are_preserved():
    event = {"event": "x", "values": [1, 2.5, True, None, ("a", FR)], "nested": {"n": 0}}
    assert redact_event(event) == {
        "event": "x", "values": [1, 2.5, True, None, ("a", "[IBAN]")], "nested": {"n": 0},
    }


# --- RedactingFilter ----------------------------------------------------------------


@pytest.fixture
def captured_logger():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("hortense.tests.redaction")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    yield logger, stream
    logger.handlers[:] = []


def test_log_args_are_formatted_then_redacted(captured_logger):
    logger, stream = captured_logger
    logger.info("user said %s with code %s", f"iban {FR}", 482913)
    assert stream.getvalue() == "INFO user said iban [IBAN] with code [CODE]\n"


def test_log_message_and_dict_arguments(captured_logger):
    logger, stream = captured_logger
    logger.warning("payload %r", {"password": "hunter2", "card": "4111111111111111"})
    out = stream.getvalue()
    assert "hunter2" not in out and "4111111111111111" not in out and "[CARTE]" in out


def test_log_non_string_message(captured_logger):
    logger, stream = captured_logger
    logger.info({"iban": FR})
    assert FR not in stream.getvalue() and "[IBAN]" in stream.getvalue()


@pytest.mark.parametrize(
    "msg, args",
    [("two %s %s", (FR,)), ("%d", ("482913",)), ("%(a)s", ("x",)), ("no placeholder", (FR,))],
)
def test_log_with_odd_args_never_crashes_and_still_redacts(msg, args):
    record = logging.LogRecord("t", logging.INFO, __file__, 1, msg, args, None)
    assert RedactingFilter().filter(record) is True
    message = record.getMessage()
    assert FR not in message and "482913" not in message


def test_log_object_with_broken_str():
    class Broken:
        def __str__(self):
            raise RuntimeError("boom")

        def __repr__(self):
            raise RuntimeError("boom")

    record = logging.LogRecord("t", logging.INFO, __file__, 1, "%s", (Broken(),), None)
    assert RedactingFilter().filter(record) is True
    record.getMessage()  # must not raise


def test_exception_text_is_redacted(captured_logger):
    logger, stream = captured_logger
    try:
        raise ValueError(f"bad iban {FR}")
    except ValueError:
        logger.exception("failed for %s", "mdp: hunter2")
    out = stream.getvalue()
    assert FR not in out and "hunter2" not in out
    assert "ValueError: bad iban [IBAN]" in out and "Traceback" in out


def test_filter_twice_is_harmless(captured_logger):
    logger, stream = captured_logger
    logger.handlers[0].addFilter(RedactingFilter())
    logger.info("code %s", "482913")
    assert stream.getvalue() == "INFO code [CODE]\n"
