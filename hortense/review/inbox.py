"""The review inbox: customer messages Hortense did not understand or understood with low confidence, and the
supervisors' labels on them.

A message is listed when the NLU fell back (`nlu_fallback`, which also gives "Vouliez-vous dire… ?"), when a
fallback action answered it, when it was classified `out_of_scope`, or when its intent's confidence is under
`settings.review_confidence`. Button payloads are not listed: the customer did not write them.

Labels live in our database (`review_labels`), keyed by the message's conversation and timestamp; the text is
copied from the tracker store (already redacted there), never taken from the form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hortense.conversations.store import (
    FALLBACK_INTENT,
    OUT_OF_SCOPE_INTENT,
    CustomerMessage,
    customer_messages,
)
from hortense.db.calendar_models import Advisor
from hortense.db.console_models import LABEL_IGNORE, LABEL_INTENT, LABEL_KINDS, LABEL_OUT_OF_SCOPE, ReviewLabel
from hortense.settings import PROJECT_ROOT

DOMAIN = PROJECT_ROOT / "domain.yml"
INBOX_DAYS = 30
PAGE = 50
KIND_LABELS = {LABEL_OUT_OF_SCOPE: "Hors sujet", LABEL_IGNORE: "Ignoré"}
# Intents of the domain that are not things a customer says in their own words.
NOT_PICKABLE = frozenset({FALLBACK_INTENT, OUT_OF_SCOPE_INTENT, "select_contract"})

SHOW_TODO = "todo"
SHOW_DONE = "done"


@lru_cache(maxsize=4)
def _catalogue(path: str, mtime: float) -> tuple[str, ...]:
    domain = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    names = []
    for item in domain.get("intents") or []:
        name = next(iter(item)) if isinstance(item, dict) else item
        if isinstance(name, str) and name not in NOT_PICKABLE:
            names.append(name)
    return tuple(sorted(names))


def catalogue(domain: Path = DOMAIN) -> tuple[str, ...]:
    """The intents a supervisor may pick, read from domain.yml (re-read when the file changes)."""
    return _catalogue(str(domain), domain.stat().st_mtime)


def needs_review(message: CustomerMessage, threshold: float) -> bool:
    if message.is_button or not message.text.strip():
        return False
    if message.fallback or message.intent in (FALLBACK_INTENT, OUT_OF_SCOPE_INTENT):
        return True
    return message.confidence is not None and message.confidence < threshold


@dataclass(frozen=True)
class Label:
    kind: str
    intent: str | None
    advisor_name: str
    at: datetime

    @property
    def display(self) -> str:
        return self.intent or "" if self.kind == LABEL_INTENT else KIND_LABELS.get(self.kind, self.kind)


@dataclass(frozen=True)
class InboxItem:
    message: CustomerMessage
    label: Label | None

    @property
    def why(self) -> str:
        m = self.message
        if m.intent == FALLBACK_INTENT or m.fallback:
            return "non compris"
        if m.intent == OUT_OF_SCOPE_INTENT:
            return "hors sujet"
        return "confiance faible"


def _labels(session: Session, senders: set[str]) -> dict[tuple[str, float], Label]:
    if not senders:
        return {}
    rows = session.execute(
        select(ReviewLabel, Advisor.name)
        .join(Advisor, Advisor.id == ReviewLabel.advisor_id)
        .where(ReviewLabel.sender_id.in_(sorted(senders)))
    ).all()
    return {(r.sender_id, round(r.message_ts, 6)): Label(r.kind, r.intent, name, r.labelled_at) for r, name in rows}


def inbox(
    session: Session,
    tracker_url: str,
    *,
    threshold: float,
    now: datetime,
    show: str = SHOW_TODO,
    days: int = INBOX_DAYS,
    limit: int = PAGE,
) -> list[InboxItem]:
    """Messages to review (`show='todo'`: not labelled yet; 'done': labelled), newest first, of the last `days`.

    Raises `hortense.conversations.store.TrackerUnavailable` when the tracker store cannot be read.
    """
    since = (now - timedelta(days=days)).timestamp()
    candidates = [m for m in customer_messages(tracker_url, since=since) if needs_review(m, threshold)]
    labels = _labels(session, {m.sender_id for m in candidates})
    items = [InboxItem(m, labels.get((m.sender_id, round(m.ts, 6)))) for m in reversed(candidates)]
    wanted = [i for i in items if (i.label is None) == (show == SHOW_TODO)]
    return wanted[:limit]


def find_message(
    tracker_url: str, sender_id: str, event_id: int, *, threshold: float, now: datetime, days: int = INBOX_DAYS
) -> CustomerMessage | None:
    """The reviewable message with this tracker event id in this conversation, else None."""
    since = (now - timedelta(days=days)).timestamp()
    for m in customer_messages(tracker_url, since=since):
        if m.event_id == event_id and m.sender_id == sender_id:
            return m if needs_review(m, threshold) else None
    return None


def label_message(
    session: Session,
    message: CustomerMessage,
    *,
    advisor_id: int,
    kind: str,
    intent: str | None,
    now: datetime,
    intents: tuple[str, ...],
) -> bool:
    """Store (or replace) the label of a message; False for an unknown kind or an intent not in `intents`."""
    if kind not in LABEL_KINDS or (kind == LABEL_INTENT and intent not in intents):
        return False
    values = dict(
        text=message.text,
        predicted_intent=message.predicted,
        kind=kind,
        intent=intent if kind == LABEL_INTENT else None,
        advisor_id=advisor_id,
        labelled_at=now,
    )
    key = (ReviewLabel.sender_id == message.sender_id, ReviewLabel.message_ts == message.ts)
    for _ in range(2):  # a concurrent first label wins the insert; ours then updates it
        row = session.execute(select(ReviewLabel).where(*key)).scalar_one_or_none()
        if row is not None:
            for name, value in values.items():
                setattr(row, name, value)
            session.flush()
            return True
        try:
            with session.begin_nested():
                session.add(ReviewLabel(sender_id=message.sender_id, message_ts=message.ts, **values))
            return True
        except IntegrityError:
            continue
    return False
