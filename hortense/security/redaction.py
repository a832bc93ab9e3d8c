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
from typing import Any, NamedTuple

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
    {"event", "timestamp", "name", "intent", "policy", "confidence", "input_channel", "message_id", "sender_id"}
)
# A key containing one of these (or made of one of the segments) holds a secret.
_SECRET_KEY_PARTS = (
    "token",
    "jwt",
    "auth",
    "password",
    "passwd",
    "secret",
    "iban",
    "mdp",
    "cookie",
    "credential",
)
_SECRET_KEY_SEGMENTS = frozenset({"code", "otp", "pin", "pwd", "key", "apikey", "cvv", "cvc"})
# "*_code" keys that are ordinary data; their values are still text-redacted.
_PUBLIC_CODE_KEYS = frozenset(
    {
        "postal_code",
        "post_code",
        "zip_code",
        "country_code",
        "language_code",
        "currency_code",
        "status_code",
        "error_code",
        "response_code",
    }
)

# Normalised separators: whatever people (or their phone, or a copy from a PDF) put between groups of
# characters: spaces of every width, invisible joiners, dashes and minus signs, dots, underscores, bullets.
# Every IBAN and card pattern below accepts any 1 to 3 of them between any two groups.
SEPARATOR_CHARS = " \t\u00a0\u1680\u2000-\u200d\u202f\u205f\u2060\u3000\ufeff.\\-_\u2010-\u2015\u2212\u00b7\u2022"
_SEP = f"[{SEPARATOR_CHARS}]"
# An IBAN start (country letters, check digits, possibly apart: "FR 76") and up to 60 more letters or digits
# with separators; bounded and made of disjoint classes, so scanning stays linear.
_IBAN_RUN = re.compile(
    rf"[A-Za-z]{_SEP}{{0,3}}[A-Za-z]{_SEP}{{0,3}}[0-9]{_SEP}{{0,3}}[0-9](?:{_SEP}{{0,3}}[A-Za-z0-9]){{0,60}}"
)
_ALNUM = re.compile(r"[A-Za-z0-9]+")
# How far a typed IBAN may be from its country's length and still be redacted (typos).
_IBAN_LENGTH_SLACK = 4
_CARD_RUN = re.compile(rf"(?<![0-9])[0-9]+(?:{_SEP}{{1,3}}[0-9]+)*")
_CARD_GROUP_SPLIT = re.compile(rf"({_SEP}{{1,3}})")
_JWT = re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*")
# The signature of a document link (see signed_links) is a bearer credential too.
_LINK_SIGNATURE = re.compile(r"(?<=[?&]sig=)[0-9A-Fa-f]{64}(?![0-9A-Za-z])")
# A password label: "mot de passe", "mots de passe", "mot-de-passe", "motdepasse", "mdp", "m.d.p", "password",
# "pass word", "passwd", "pwd", "passphrase".
_PASSWORD_LABEL = (
    r"(?:mots?[ \-]?(?:de|2|d)[ \-]?pass?e?s?|motdepasse|m\.d\.p\.?|mdp|pass[ \-]?word|passwd"
    r"|pwd|passphrase)"
)
# Words that follow "mot de passe" in ordinary sentences ("mot de passe oublié"): never a password.
_NOT_A_PASSWORD = frozenset(
    [
        "oublié",
        "oubliée",
        "oublie",
        "oublier",
        "perdu",
        "perdue",
        "ne",
        "n'est",
        "n’est",
        "n'a",
        "n’a",
        "n'arrive",
        "n’arrive",
        "n'y",
        "n’y",
        "de",
        "du",
        "des",
        "pour",
        "sur",
        "et",
        "ou",
        "à",
        "a",
        "est",
        "au",
        "aux",
        "le",
        "la",
        "les",
        "mon",
        "ma",
        "mes",
        "votre",
        "vos",
        "son",
        "sa",
        "un",
        "une",
        "incorrect",
        "incorrecte",
        "invalide",
        "erroné",
        "errone",
        "faux",
        "bloqué",
        "bloque",
        "expiré",
        "expire",
        "changé",
        "change",
        "changer",
        "modifié",
        "modifier",
        "réinitialisé",
        "réinitialiser",
        "récupérer",
        "svp",
        "stp",
        "trop",
        "pas",
        "plus",
        "marche",
        "fonctionne",
        "que",
        "qui",
        "dans",
        "avec",
        "mais",
        "car",
        "reset",
        "forgotten",
        "not",
        "doesn't",
        "is",
        "was",
        "the",
        "for",
        "and",
        "to",
        "of",
        "c'est",
        "c’est",
        "il",
        "elle",
        "ça",
        "ca",
        "ce",
        "cela",
        "je",
        "j'ai",
        "j’ai",
        "vous",
        "nous",
        "en",
        "y",
        "même",
        "meme",
        "aussi",
        "encore",
        "toujours",
        "jamais",
        "rien",
        "quoi",
        "comment",
        "actuel",
        "actuelle",
        "temporaire",
        "provisoire",
        "nouveau",
        "nouvelle",
        "ancien",
        "ancienne",
    ]
)
_STOP = "|".join(re.escape(word) for word in sorted(_NOT_A_PASSWORD, key=len, reverse=True))
_NOT_A_PASSWORD_AHEAD = rf"(?!(?:{_STOP})(?![^\W_])|[\[?!.,;…]*$)"
# Words that say the sentence is about a password problem, not a password: the label cannot reach past them.
_NEGATIVE = (
    r"(?:ne|n['’]\w*|pas|plus|jamais|oubli\w*|perdu\w*|bloqu\w*|march\w*|fonctionn\w*|incorrect\w*|invalide|faux)"
)
# Up to 8 plain words between label and verb or ":" ("mon mot de passe pour mon espace client est ..."); no
# digits, so a later redaction of numbers cannot change what the label reaches.
_FILLER = rf"(?:[\s,]+(?!{_NEGATIVE}(?![^\W_]))[^\W\d_](?:[^\W\d_]|['’\-]){{0,24}}){{0,8}}?"
_VERB = r"(?:est|c['’]est|ce\s+sera|sera|serait|était|etait|reste|vaut|is|was|:\s*c['’]est)"
_PASSWORD = re.compile(
    rf"(?<![\[\w])(?P<label>{_PASSWORD_LABEL})(?!\w)"
    r"(?:"
    rf"(?P<explicit>{_FILLER}[\"'»]?\s*(?:[:=]|->|=>|→|>)\s*)"
    rf"|(?P<verb>{_FILLER}[\s,]+{_VERB}(?![^\W_])(?:\s*[:=])?\s*{_NOT_A_PASSWORD_AHEAD})"
    rf"|(?P<bare>\s+{_NOT_A_PASSWORD_AHEAD})"
    r")"
    r"(?P<value>\"[^\"]*\"|'[^']*'|«[^»]*»|“[^”]*”|\S+)",
    re.IGNORECASE,
)
# Card security codes (CVV/CVC, "cryptogramme"), PINs and "code secret" near a card word: 3 or 4 digits.
_CARD_CODE_WORD = (
    r"(?:cvv2?|cvc2?|cvn|cid|crypto(?:gramme)?(?:\s+visuel)?|pictogramme|code\s+pin|pin"
    r"|code\s+(?:de\s+)?s[ée]curit[ée]|code\s+secret|code\s+confidentiel|code\s+cb"
    r"|code\s+(?:de\s+)?(?:ma\s+|la\s+|votre\s+)?carte|(?:chiffres|num[ée]ro|code)\s+au\s+dos"
    r"|(?:[34]|trois|quatre)\s+chiffres|security\s+code)"
)
_CARD_CODE_AFTER_WORD = re.compile(
    rf"(?<![\w\[])(?P<word>{_CARD_CODE_WORD})(?![^\W_])(?P<gap>(?:[^\d\n]){{0,40}}?)"
    rf"(?<![\d/])(?P<code>\d(?:[ \u00a0\u202f]?\d){{2,3}})(?![\d/])(?!{_SEP}{{1,3}}\d)",
    re.IGNORECASE,
)
_CARD_CODE_AFTER_CARD = re.compile(
    rf"(?P<card>{re.escape('[CARTE]')})(?P<gap>[^\d\n]{{0,30}}?)(?<![\d/])(?P<code>\d{{3,4}})(?![\d/:h])"
    rf"(?!{_SEP}{{1,3}}\d)",
)


# Each round only turns secrets into placeholders, so rounds always settle.
_MAX_ROUNDS = 5


def redact_text(text: str, keep_codes: bool = False) -> str:
    """Replace secrets by placeholders; applying it twice changes nothing more.

    Rounds repeat until nothing changes: removing one secret can reveal the
    shape of another (an IBAN glued to a card number), which must go too.
    `keep_codes` keeps one-time-code-like numbers (the linking action reads the code; the tracker store
    redacts it later), still redacting a card's security code.
    """
    if not text:
        return text
    for _ in range(_MAX_ROUNDS):
        redacted = _redact_round(text, keep_codes)
        if redacted == text:
            break
        text = redacted
    return text


def _redact_round(text: str, keep_codes: bool = False) -> str:
    text = _JWT.sub(JWT_MARK, text)
    text = _LINK_SIGNATURE.sub(JWT_MARK, text)
    text = _redact_ibans(text)
    text = _CARD_RUN.sub(_redact_card_run, text)
    text = _redact_card_codes(text)
    if keep_codes:
        return _PASSWORD.sub(_redact_password, text)
    text = _redact_codes(text)
    # Passwords come after the other secrets so that "the word after the label"
    # is the same on a second run; cutting a value out of a longer number
    # ("mdp=-06 12 34 56 78") can leave a code-like tail, hence codes again.
    text = _PASSWORD.sub(_redact_password, text)
    return _redact_codes(text)


def contains_iban(text: str) -> bool:
    """True if the text holds an IBAN with a valid checksum, however it is written (to warn the customer)."""
    for candidate in _iban_candidates(text or ""):
        compact = "".join(token for _, _, token in candidate.tokens)
        length = iban_length(compact[:2])
        if length and len(compact) >= length and has_valid_checksum(compact[:length]):
            return True
    return False


SECRET_MARKS = (IBAN_MARK, CARD_MARK, CODE_MARK, PASSWORD_MARK)


def secret_kinds(original: str, redacted: str) -> list[str]:
    """The placeholders `redacted` holds more often than `original`: the kinds of secret that were typed (what the
    bot says about them: hortense.replies.security.secret_warning)."""
    return [mark for mark in SECRET_MARKS if redacted.count(mark) > (original or "").count(mark)]


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


class _IbanCandidate(NamedTuple):
    start: int
    tokens: list[tuple[int, int, str]]  # (start, end, text) in the message; country and check digits joined
    strict: bool  # only a checksum-valid IBAN of the country's exact length counts


def _iban_candidates(text: str) -> Iterator[_IbanCandidate]:
    """Every possible IBAN start, even inside a longer run ("AB12 voici FR76 ...", "ibanFR76...")."""
    position = 0
    while (match := _IBAN_RUN.search(text, position)) is not None:
        position = match.start() + 1
        start = match.start()
        tokens = [(start + m.start(), start + m.end(), m.group()) for m in _ALNUM.finditer(match.group())]
        head = match.group()[:4]
        apart = not head.isalnum()  # "FR 76 ...", "F R 7 6 ...": country and check digits not together
        glued = start > 0 and text[start - 1].isascii() and text[start - 1].isalpha()
        lowercase_apart = apart and not text[start : start + 1].isupper()
        yield _IbanCandidate(start, _plausible_iban_tokens(tokens), strict=glued or lowercase_apart)


def _plausible_iban_tokens(tokens: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Leading groups of a run that can belong to an IBAN (stops at ordinary words).

    Groups with digits always can; short groups of letters (a bank code: "NWBK") while the IBAN of that
    country is not complete yet, or when written in capitals.
    """
    kept = [tokens[0]]
    total = len(tokens[0][2])
    expected = iban_length("".join(token for _, _, token in tokens[:2])[:2]) or 0
    for index, token in enumerate(tokens[1:], start=1):
        word = token[2]
        has_digit = any(char.isdigit() for char in word)
        bank_letters = word.isalpha() and len(word) <= 4 and (word.isupper() or index == 1 or total < expected)
        if not (has_digit or bank_letters):
            break
        kept.append(token)
        total += len(word)
    return kept


def _redact_ibans(text: str) -> str:
    pieces, kept_from = [], 0
    for candidate in _iban_candidates(text):
        if candidate.start < kept_from:
            continue
        count = _iban_token_count([token for _, _, token in candidate.tokens], candidate.strict)
        if count is None:
            continue
        pieces += [text[kept_from : candidate.start], IBAN_MARK]
        kept_from = candidate.tokens[count - 1][1]
    pieces.append(text[kept_from:])
    return "".join(pieces)


def _iban_token_count(tokens: list[str], strict: bool = False) -> int | None:
    """How many leading tokens form an IBAN (checksum-valid; or, when not strict, exact length or near miss)."""
    cumulative, total = [], 0
    for token in tokens:
        total += len(token)
        cumulative.append(total)
    compact = "".join(tokens)
    length = iban_length(compact[:2])
    if length is None:  # unknown country: only a checksum-valid run is an IBAN
        if strict:
            return None
        for count in range(len(tokens), 0, -1):
            size = cumulative[count - 1]
            if 15 <= size <= 34 and has_valid_checksum(compact[:size]):
                return count
        return None
    for count, size in enumerate(cumulative, start=1):
        if size >= length and has_valid_checksum(compact[:length]):
            return count
        if size == length and not strict:
            return count
        if size >= length:
            break
    if strict:
        return None
    near = [count for count, size in enumerate(cumulative, start=1) if abs(size - length) <= _IBAN_LENGTH_SLACK]
    return max(near) if near else None


# --- payment cards ------------------------------------------------------


def _redact_card_run(match: re.Match[str]) -> str:
    """Any 13-19 digits of a run, whatever separates them, that make a Luhn-valid card number."""
    run = match.group()
    if sum(char.isdigit() for char in run) < 13:
        return run
    pieces = _CARD_GROUP_SPLIT.split(run)
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
    """End of the longest card number starting at `start`.

    A card starts at the run's first group or at a group of 3+ digits (never in the middle of digit pairs:
    two phone numbers side by side are not a card), and may end anywhere.
    """
    if start > 0 and len(groups[start]) < 3:
        return None
    if len(groups[start]) > 19:  # one long block: a card glued to what follows ("4111...1111123")
        block = groups[start]
        return start + 1 if any(_is_card_number(block[:size]) for size in range(19, 12, -1)) else None
    ends, digits = [], 0
    for end in range(start + 1, len(groups) + 1):
        digits += len(groups[end - 1])
        if digits > 19:
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


def _redact_card_codes(text: str) -> str:
    """The security code (CVV), PIN or "code secret" typed after a card word or next to a redacted card."""

    def code(match: re.Match[str]) -> str:
        return match.group()[: match.start("code") - match.start()] + CODE_MARK

    text = _CARD_CODE_AFTER_WORD.sub(code, text)
    return _CARD_CODE_AFTER_CARD.sub(
        lambda m: m.group() if re.fullmatch(r"(?:19|20)\d\d", m.group("code")) else code(m), text
    )


# --- passwords and codes ------------------------------------------------


def _redact_password(match: re.Match[str]) -> str:
    value = match.group("value")
    if value.startswith("["):  # already a placeholder: keeps redaction idempotent
        return match.group()
    if not match.group("explicit"):
        word = value.strip(".,;!?…\"'«»“”()").lower()
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


# The identity assertion a connector attaches to each message (hortense.security.identity): made by the server,
# never typed; its signature (hex) and sender id must stay byte for byte as signed, or it no longer verifies.
ASSERTION_KEY = "hortense_identity"
_ASSERTION_FIELDS = frozenset({"channel", "sender", "customer", "iat", "sig"})
_ASSERTION_SIG = re.compile(r"[0-9a-f]{64}")


def _is_identity_assertion(value: Any) -> bool:
    """A well-formed assertion (server-made fields only, of the expected types); anything else is redacted."""
    if not isinstance(value, dict) or not value or not set(value) <= _ASSERTION_FIELDS:
        return False
    text_fields = all(
        isinstance(value.get(k), str) and len(value[k]) <= 200 for k in ("channel", "sender") if k in value
    )
    customer_ok = value.get("customer") is None or (isinstance(value["customer"], str) and len(value["customer"]) <= 64)
    iat_ok = "iat" not in value or (isinstance(value["iat"], int) and not isinstance(value["iat"], bool))
    sig_ok = "sig" not in value or (
        isinstance(value["sig"], str) and _ASSERTION_SIG.fullmatch(value["sig"]) is not None
    )
    return text_fields and customer_ok and iat_ok and sig_ok


def _redact_mapping(mapping: dict) -> dict:
    # Slot events and entities name the secret next to it: {"name": "iban", "value": ...}.
    label = mapping.get("name", mapping.get("entity"))
    value_is_secret = isinstance(label, str) and _is_secret_key(label)
    result = {}
    for key, value in mapping.items():
        kept_as_is = isinstance(key, str) and key in STRUCTURAL_KEYS
        if kept_as_is or key == ASSERTION_KEY and _is_identity_assertion(value):
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
