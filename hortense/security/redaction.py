"""Keep secrets typed in chat out of the tracker store, logs and event broker.

Customers paste IBANs, card numbers, one-time codes and passwords into the
chat; once persisted they would spread to backups and analytics. Everything
that leaves the conversation goes through `redact_text` or `redact_event`.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterator
from typing import Any

from hortense.billing.bank_details import has_valid_checksum, iban_length
from hortense.security.link_codes import iter_code_spans

IBAN_MARK = "[IBAN]"
CARD_MARK = "[CARTE]"
JWT_MARK = "[JETON]"
CODE_MARK = "[CODE]"
PASSWORD_MARK = "[MOT DE PASSE]"
REDACTED = "[REDACTED]"

# Rasa bookkeeping, never user input: kept as is.
STRUCTURAL_KEYS = frozenset(
    {"event", "timestamp", "name", "intent", "policy", "confidence",
     "input_channel", "message_id", "sender_id"}
)
# A key containing one of these (or made of one of the segments) holds a secret.
_SECRET_KEY_PARTS = (
    "token", "jwt", "auth", "password", "passwd", "secret", "iban", "mdp",
    "cookie", "credential",
)
_SECRET_KEY_SEGMENTS = frozenset({"code", "otp", "pin", "pwd", "key", "apikey", "cvv", "cvc"})
# "*_code" keys that are ordinary data; their values are still text-redacted.
_PUBLIC_CODE_KEYS = frozenset(
    {"postal_code", "post_code", "zip_code", "country_code", "language_code",
     "currency_code", "status_code", "error_code", "response_code"}
)

_IBAN_SEPARATOR = "[ \u00a0\u202f\t\\-]"
# An IBAN start and the groups after it; bounded so scanning stays linear.
_IBAN_RUN = re.compile(
    rf"(?<![A-Za-z])[A-Za-z]{{2}}[0-9]{{2}}[A-Za-z0-9]{{0,36}}"
    rf"(?:{_IBAN_SEPARATOR}{{1,2}}[A-Za-z0-9]{{1,36}}){{0,12}}"
)
# How far a typed IBAN may be from its country's length and still be redacted (typos).
_IBAN_LENGTH_SLACK = 4
_CARD_RUN = re.compile(r"(?<![0-9])[0-9]+(?:[ \u00a0\u202f\-][0-9]+)*")
_JWT = re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*")
# The signature of a document link (see signed_links) is a bearer credential too.
_LINK_SIGNATURE = re.compile(r"(?<=[?&]sig=)[0-9A-Fa-f]{64}(?![0-9A-Za-z])")
# Up to 3 plain words between label and ":" ("mot de passe du compte :"); no
# digits, so a later redaction of numbers cannot change what the label reaches.
_FILLER = r"(?:\s+[^\W\d_](?:[^\W\d_]|['’\-]){0,19}){0,3}?"
_PASSWORD = re.compile(
    r"(?<![\[\w])(?:mots?[ \-]de[ \-]passe|motdepasse|mdp|password|passwd|pwd)(?!\w)"
    r"(?:"
    rf"(?P<explicit>{_FILLER}[\"']?\s*[:=]\s*)"
    rf"|(?P<verb>{_FILLER}\s+(?:est|c'est|c’est|is)\b\s*)"
    r"|\s+"
    r")"
    r"(?P<value>\"[^\"]*\"|'[^']*'|\S+)",
    re.IGNORECASE,
)
# Words that follow "mot de passe" in ordinary sentences ("mot de passe oublié").
_NOT_A_PASSWORD = frozenset(
    ["oublié", "oubliée", "oublie", "oublier", "perdu", "perdue", "ne", "n'est", "n’est", "n'a", "n’a", "n'arrive", "n’arrive", "n'y", "n’y", "de", "du", "des", "pour", "sur", "et", "ou", "à", "a", "est", "au", "aux", "le", "la", "les", "mon", "ma", "mes", "votre", "vos", "son", "sa", "un", "une", "incorrect", "incorrecte", "invalide", "erroné", "errone", "faux", "bloqué", "bloque", "expiré", "expire", "changé", "change", "changer", "modifié", "modifier", "réinitialisé", "réinitialiser", "récupérer", "svp", "stp", "trop", "pas", "plus", "marche", "fonctionne", "que", "qui", "dans", "avec", "mais", "car", "reset", "forgotten", "not", "doesn't", "is", "was", "the", "for", "and", "to", "of", "c'est", "c’est"]
)


# Each round only turns secrets into placeholders, so rounds always settle.
_MAX_ROUNDS = 5


def redact_text(text: str) -> str:
    """Replace secrets by placeholders; applying it twice changes nothing more.

    Rounds repeat until nothing changes: removing one secret can reveal the
    shape of another (an IBAN glued to a card number), which must go too.
    """
    if not text:
        return text
    for _ in range(_MAX_ROUNDS):
        redacted = _redact_round(text)
        if redacted == text:
            break
        text = redacted
    return text


def _redact_round(text: str) -> str:
    text = _JWT.sub(JWT_MARK, text)
    text = _LINK_SIGNATURE.sub(JWT_MARK, text)
    text = _redact_ibans(text)
    text = _CARD_RUN.sub(_redact_card_run, text)
    text = _redact_codes(text)
    # Passwords come after the other secrets so that "the word after the label"
    # is the same on a second run; cutting a value out of a longer number
    # ("mdp=-06 12 34 56 78") can leave a code-like tail, hence codes again.
    text = _PASSWORD.sub(_redact_password, text)
    return _redact_codes(text)


def contains_iban(text: str) -> bool:
    """True if the text holds an IBAN with a valid checksum (to warn the customer)."""
    for match in _iban_runs(text or ""):
        tokens = _plausible_iban_tokens(match.group())
        length = iban_length(tokens[0][:2])
        compact = "".join(tokens)
        if length and len(compact) >= length and has_valid_checksum(compact[:length]):
            return True
    return False


def redact_event(event: dict) -> dict:
    """Deep copy of a Rasa event dict with every user-controlled string redacted."""
    return _redact_value(event)


class RedactingFilter(logging.Filter):
    """Logging filter that formats then redacts each record; never raises."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            try:
                message = record.getMessage()
            except Exception:  # odd args: keep everything, still redacted
                message = f"{_safe_str(record.msg)} {_safe_str(record.args)}"
            record.msg = redact_text(message)
            record.args = ()
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = redact_text(record.exc_text)
            if record.stack_info:
                record.stack_info = redact_text(record.stack_info)
        except Exception:  # better a useless line than a leaked secret or a crash
            record.msg, record.args = "[log message dropped: redaction failed]", ()
        return True


# --- IBAN ---------------------------------------------------------------


def _plausible_iban_tokens(run: str) -> list[str]:
    """Leading groups of a run that can belong to an IBAN (stops at ordinary words)."""
    tokens = re.findall(r"[A-Za-z0-9]+", run)
    kept = [tokens[0]]
    for index, token in enumerate(tokens[1:], start=1):
        has_digit = any(char.isdigit() for char in token)
        bank_letters = token.isalpha() and len(token) <= 4 and (token.isupper() or index == 1)
        if not (has_digit or bank_letters):
            break
        kept.append(token)
    return kept


def _iban_runs(text: str) -> Iterator[re.Match[str]]:
    """Every possible IBAN start, even inside a longer run ("AB12 voici FR76 ...")."""
    position = 0
    while (match := _IBAN_RUN.search(text, position)) is not None:
        yield match
        position = match.start() + 1


def _redact_ibans(text: str) -> str:
    pieces, kept_from = [], 0
    for match in _iban_runs(text):
        if match.start() < kept_from:
            continue
        tokens = _plausible_iban_tokens(match.group())
        count = _iban_token_count(tokens)
        if count is None:
            continue
        # Cut after the `count`-th token, keeping whatever follows.
        end = match.start()
        for token in tokens[:count]:
            end = text.index(token, end) + len(token)
        pieces += [text[kept_from : match.start()], IBAN_MARK]
        kept_from = end
    pieces.append(text[kept_from:])
    return "".join(pieces)


def _iban_token_count(tokens: list[str]) -> int | None:
    """How many leading tokens form an IBAN (exact, checksum-valid or near miss)."""
    cumulative, total = [], 0
    for token in tokens:
        total += len(token)
        cumulative.append(total)
    compact = "".join(tokens)
    length = iban_length(tokens[0][:2])
    if length is None:  # unknown country: only a checksum-valid run is an IBAN
        for count in range(len(tokens), 0, -1):
            size = cumulative[count - 1]
            if 15 <= size <= 34 and has_valid_checksum(compact[:size]):
                return count
        return None
    for count, size in enumerate(cumulative, start=1):
        if size == length:
            return count
        if size > length:
            if has_valid_checksum(compact[:length]):
                return count
            break
    near = [
        count
        for count, size in enumerate(cumulative, start=1)
        if abs(size - length) <= _IBAN_LENGTH_SLACK
    ]
    return max(near) if near else None


# --- payment cards ------------------------------------------------------


def _redact_card_run(match: re.Match[str]) -> str:
    run = match.group()
    if sum(char.isdigit() for char in run) < 13:
        return run
    pieces = re.split(r"([ \u00a0\u202f\-])", run)
    groups, separators = pieces[0::2], pieces[1::2]
    out: list[str] = []
    start = 0
    while start < len(groups):
        end = _longest_card(groups, start)
        if end is None:
            out.append(groups[start])
            if start < len(separators):
                out.append(separators[start])
            start += 1
            continue
        out.append(CARD_MARK)
        if end - 1 < len(separators):
            out.append(separators[end - 1])
        start = end
    return "".join(out)


def _longest_card(groups: list[str], start: int) -> int | None:
    """End of the longest card number starting at `start`; typed groups are 3+ digits."""
    ends, digits = [], 0
    for end in range(start + 1, len(groups) + 1):
        group = groups[end - 1]
        digits += len(group)
        if len(group) < 3 or digits > 19:
            break
        ends.append(end)
    for end in reversed(ends):
        if _is_card_number("".join(groups[start:end])):
            return end
    return None


def _is_card_number(digits: str) -> bool:
    """Luhn-valid PAN with a card-network first digit; 14 digits only for Diners (36).

    The restrictions keep 14-digit PDL/SIRET numbers and chained phone numbers
    (which pass Luhn one time in ten) out of the [CARTE] net.
    """
    if not 13 <= len(digits) <= 19 or digits[0] not in "23456":
        return False
    if len(digits) == 14 and not digits.startswith("36"):
        return False
    return _luhn_ok(digits)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


# --- passwords and codes ------------------------------------------------


def _redact_password(match: re.Match[str]) -> str:
    value = match.group("value")
    if value.startswith("["):  # already a placeholder: keeps redaction idempotent
        return match.group()
    if not match.group("explicit"):
        word = value.strip(".,;!?…\"'«»()").lower()
        if not word or word in _NOT_A_PASSWORD or not any(c.isalnum() for c in word):
            return match.group()
    return match.group()[: match.start("value") - match.start()] + PASSWORD_MARK


def _redact_codes(text: str) -> str:
    spans = list(iter_code_spans(text))
    for start, end, _ in reversed(spans):
        text = text[:start] + CODE_MARK + text[end:]
    return text


# --- events -------------------------------------------------------------


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return _redact_mapping(value)
    if isinstance(value, list):
        return [_redact_value(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_redact_value(item) for item in value)
    return copy.deepcopy(value)


def _redact_mapping(mapping: dict) -> dict:
    # Slot events and entities name the secret next to it: {"name": "iban", "value": ...}.
    label = mapping.get("name", mapping.get("entity"))
    value_is_secret = isinstance(label, str) and _is_secret_key(label)
    result = {}
    for key, value in mapping.items():
        if isinstance(key, str) and key in STRUCTURAL_KEYS:
            result[key] = copy.deepcopy(value)
        elif isinstance(key, str) and _is_secret_key(key) or key == "value" and value_is_secret:
            result[key] = _hide(value)
        else:
            result[key] = _redact_value(value)
    return result


def _hide(value: Any) -> Any:
    """Booleans and None cannot hold a secret; keep them so flags like
    `authenticated: False` are not turned into a truthy string."""
    if value is None or isinstance(value, bool):
        return value
    return REDACTED


def _is_secret_key(key: str) -> bool:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).lower()
    if snake in _PUBLIC_CODE_KEYS:
        return False
    if any(part in snake for part in _SECRET_KEY_PARTS):
        return True
    return any(segment in _SECRET_KEY_SEGMENTS for segment in re.split(r"[^a-z0-9]+", snake))


def _safe_str(value: Any) -> str:
    try:
        return str(value)
    except Exception:
        try:
            return repr(value)
        except Exception:
            return "<unprintable>"
