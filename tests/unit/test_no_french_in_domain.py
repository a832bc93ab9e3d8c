"""Issue 9: no French prose in domain services. What customers (and advisors) read is worded in hortense/replies/
(static texts are domain.yml responses); domain code returns data and reason codes.

An AST scan of hortense/ outside replies/: no string literal (f-strings included, docstrings aside) that reads as a
French sentence. Patterns that *match* French input (regexes) are not prose; a few modules are presentation or data
themselves, and are listed below with the reason.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

HORTENSE = Path(__file__).resolve().parents[2] / "hortense"

# Modules that are presentation or data, not services.
PRESENTATION = {
    "replies": "the wording itself",
    "documents/pdf.py": "lays out the PDF documents (contract conditions, attestation, invoices)",
    "analytics/charts.py": "draws the console's charts (titles and legends)",
    "cli.py": "the operators' terminal",
    "db/seed_scale.py": "generated data (first names, surnames, trades, streets, reasons and notes of calls)",
    "conversation/cues.py": "vocabularies of what customers type",
}
# Single literals kept on purpose: (module, literal).
KEPT = {
    ("privacy/rights.py", "données du client effacées"): "stored as a notification's last error (a diagnostic)",
}

MIN_WORDS = 4
_ACCENTED = re.compile(r"[àâçéèêëîïôûùüÿœÀÂÇÉÈÊËÎÏÔÛÙÜŒ]")
_FRENCH_WORDS = frozenset({
    "de", "des", "du", "le", "la", "les", "un", "une", "et", "vous", "votre", "vos", "nous", "est", "sont", "pour",
    "au", "aux", "par", "ce", "cette", "en", "ne", "pas", "sur", "avec", "dans", "je", "il", "elle", "qui", "que",
})
_REGEX = re.compile(r"\\|\(\?|\|")


def reads_as_french_prose(text: str) -> bool:
    """At least MIN_WORDS spaced words, an accent or two French function words, and not a regular expression."""
    if _REGEX.search(text):
        return False
    words = [token for token in text.split() if re.search(r"[^\W\d_]{2,}", token)]  # written words, spaced
    if len(words) < MIN_WORDS:
        return False
    function_words = sum(w.strip(".,;:!?«»()'\"").lower() in _FRENCH_WORDS for w in words)
    return bool(_ACCENTED.search(text)) or function_words >= 2


def _literals(tree: ast.AST) -> list[tuple[int, str]]:
    docstrings, inside_fstrings = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
        if isinstance(node, ast.JoinedStr):
            inside_fstrings.update(id(value) for value in node.values)
    found = []
    for node in ast.walk(tree):
        if id(node) in docstrings or id(node) in inside_fstrings:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            found.append((node.lineno, text))
    return found


def _scan() -> tuple[list[str], set[tuple[str, str]]]:
    offending, kept_seen = [], set()
    for path in sorted(HORTENSE.rglob("*.py")):
        module = path.relative_to(HORTENSE).as_posix()
        if any(module == name or module.startswith(f"{name}/") for name in PRESENTATION):
            continue
        for line, text in _literals(ast.parse(path.read_text(encoding="utf-8"))):
            if not reads_as_french_prose(text):
                continue
            if (module, text) in KEPT:
                kept_seen.add((module, text))
            else:
                offending.append(f"hortense/{module}:{line}: {text!r}")
    return offending, kept_seen


def test_the_detector_tells_prose_from_patterns():
    assert reads_as_french_prose("C'est confirmé : un conseiller vous appellera le {} au {}.")
    assert reads_as_french_prose("Conversations et messages des clients")
    assert not reads_as_french_prose(r"\b(ce mois[- ]ci|ce mois|mois en cours)\b")
    assert not reads_as_french_prose("no WhatsApp template configured for {}")
    assert not reads_as_french_prose("Mon contrat")
    assert not reads_as_french_prose("[A-Za-zÀ-ÖØ-öø-ÿĀ-ž]")


def test_no_french_prose_in_domain_services():
    offending, kept_seen = _scan()
    assert not offending, (
        "French prose in a domain service: word it in hortense/replies/<area>.py (or domain.yml) and return data "
        "or a reason code instead:\n" + "\n".join(offending)
    )
    assert kept_seen == set(KEPT), f"stale entries in KEPT: {set(KEPT) - kept_seen}"
