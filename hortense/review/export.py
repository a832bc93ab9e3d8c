"""`make import-reviewed`: the supervisors' labelled messages become training examples in data/nlu/reviewed.yml.

What is written:
- one example per distinct text (compared case- and space-insensitively); a text labelled twice keeps its
  latest label; a text already in another file of data/nlu is left out (Rasa refuses an example under two
  intents, and a duplicate teaches nothing);
- "hors sujet" labels go under `out_of_scope`; "ignorer" labels are not written;
- no personal data: the text is redacted again (`hortense.security.redaction`), every number of 3 digits or
  more is masked (phone, PDL, contract and customer numbers, amounts), e-mail addresses are masked, and the
  customer's own names (when the conversation is known to be theirs) are replaced;
- the examples already in reviewed.yml stay (the file only grows, unless a newer label moves a text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from hortense.conversations.store import OUT_OF_SCOPE_INTENT
from hortense.db.console_models import LABEL_INTENT, LABEL_OUT_OF_SCOPE, ReviewLabel
from hortense.db.link_models import AccountLink
from hortense.db.models import Customer
from hortense.security.redaction import redact_text
from hortense.settings import PROJECT_ROOT

NLU_DIR = PROJECT_ROOT / "data" / "nlu"
REVIEWED = NLU_DIR / "reviewed.yml"
NUMBER_MASK = "X"
EMAIL_MASK = "adresse@example.fr"
MAX_CHARS = 300

# Digits, possibly in groups ("06 12 34 56 78", "14 295 730 100 101", "SV-2023-000101").
_NUMBER = re.compile(r"\d(?:[\d\u00a0\u202f .\-]*\d)?")
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
# Characters that mean something in Rasa's example markup ([text](entity), {"entity": …}) or in YAML lists.
_MARKUP = re.compile(r"[\[\]{}()]")
_WEB_SENDER = re.compile(r"^web-(\w+)$")


def _mask_number(match: re.Match) -> str:
    digits = sum(c.isdigit() for c in match.group(0))
    if digits < 3:
        return match.group(0)
    return re.sub(r"\d", NUMBER_MASK, match.group(0))


def clean_example(text: str, names: tuple[str, ...] = ()) -> str:
    """A training example with no personal data, on one line; '' if nothing meaningful is left."""
    text = redact_text(text or "")
    text = _EMAIL.sub(EMAIL_MASK, text)
    text = _NUMBER.sub(_mask_number, text)
    for name in sorted({n for n in names if n and len(n) >= 2}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", "Dupont", text, flags=re.IGNORECASE)
    text = _MARKUP.sub(" ", text)
    text = " ".join(text.split())[:MAX_CHARS].strip(" -")
    if text.startswith("/") or not any(c.isalpha() for c in re.sub(rf"{NUMBER_MASK}+", "", text)):
        return ""
    return text


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def _customer_names(session: Session, sender_id: str) -> tuple[str, ...]:
    """The names of the customer a conversation belongs to (website: web-<number>; messaging: the link)."""
    match = _WEB_SENDER.match(sender_id)
    customer = None
    if match:
        customer = session.execute(select(Customer).where(Customer.customer_number == match.group(1))).scalar()
    if customer is None:
        link = session.execute(select(AccountLink.customer_id).where(AccountLink.sender_id == sender_id)).scalar()
        customer = session.get(Customer, link) if link is not None else None
    if customer is None:
        return ()
    return tuple(n for n in (customer.first_name, customer.last_name, customer.company_name) if n)


def labelled_examples(session: Session) -> dict[str, str]:
    """Cleaned text -> intent, from the labels (latest label of a text wins)."""
    rows = (
        session.execute(
            select(ReviewLabel)
            .where(ReviewLabel.kind.in_((LABEL_INTENT, LABEL_OUT_OF_SCOPE)))
            .order_by(ReviewLabel.labelled_at, ReviewLabel.id)
        )
        .scalars()
        .all()
    )
    names: dict[str, tuple[str, ...]] = {}
    examples: dict[str, tuple[str, str]] = {}
    for row in rows:
        if row.sender_id not in names:
            names[row.sender_id] = _customer_names(session, row.sender_id)
        text = clean_example(row.text, names[row.sender_id])
        intent = row.intent if row.kind == LABEL_INTENT else OUT_OF_SCOPE_INTENT
        if text and intent:
            examples[_key(text)] = (text, intent)
    return {text: intent for text, intent in examples.values()}


def _examples_of(path: Path) -> dict[str, tuple[str, str]]:
    """key -> (text, intent) of a Rasa NLU YAML file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    found: dict[str, tuple[str, str]] = {}
    for block in data.get("nlu") or []:
        if not isinstance(block, dict) or "intent" not in block:
            continue
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                text = line[2:].strip()
                found[_key(text)] = (text, str(block["intent"]))
    return found


@dataclass(frozen=True)
class ImportReport:
    written: int  # examples in the file after the import
    added: int
    skipped_known: int  # already in another training file


def render(examples: dict[str, str]) -> str:
    by_intent: dict[str, list[str]] = {}
    for text, intent in examples.items():
        by_intent.setdefault(intent, []).append(text)
    out = [
        'version: "3.1"',
        "# Written by `make import-reviewed` from the supervisors' review labels; edit by",
        "# relabelling in the console rather than here.",
        "nlu:",
    ]
    for intent in sorted(by_intent):
        out += [f"- intent: {intent}", "  examples: |"]
        out += [f"    - {text}" for text in sorted(by_intent[intent], key=_key)]
    return "\n".join(out) + "\n"


def import_reviewed(session: Session, target: Path = REVIEWED, nlu_dir: Path | None = None) -> ImportReport:
    """Merge the labelled examples into `target` (see the module's rules); nothing is written if none."""
    nlu_dir = nlu_dir or target.parent
    known: dict[str, tuple[str, str]] = {}
    for path in sorted(nlu_dir.glob("*.yml")):
        if path.resolve() != target.resolve():
            known.update(_examples_of(path))
    current = _examples_of(target) if target.exists() else {}
    merged = {key: pair for key, pair in current.items() if key not in known}
    added = skipped = 0
    for text, intent in labelled_examples(session).items():
        key = _key(text)
        if key in known:
            skipped += 1
            continue
        if merged.get(key, (None, None))[1] != intent:
            added += key not in merged
            merged[key] = (text, intent)
    if not merged:
        return ImportReport(0, 0, skipped)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(dict(merged.values())), encoding="utf-8")
    return ImportReport(len(merged), added, skipped)
