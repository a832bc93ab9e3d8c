"""How Hortense is doing, by day or week and by channel, computed from the tracker store (conversations) and
our database (calls, reminders, customers' offers): no separate log to keep in step.

Definitions (one period = one Paris day, or one Monday-to-Sunday week):
- conversations: distinct conversations (sender ids) with at least one customer message in the period;
- customer messages: user events (typed text and buttons pressed);
- fallback rate: customer messages Hortense did not understand (`nlu_fallback`, or answered by a fallback
  action) / customer messages; conversations without fallback: the share of conversations none of whose
  messages of the period fell back;
- top intents and questions per offer: over the whole range; a conversation's offer is its customer's (website
  conversations are `web-<customer number>`, messaging ones go through the account link), else "Non identifié";
- calls booked (created in the period), cancelled (status cancelled, changed in the period), done and missed
  (status, call started in the period), by the channel the call was booked from;
- reminders delivered (sent in the period) and failed (given up in the period after a sending error);
- median answer time: seconds from a customer message to Hortense's first message after it.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from hortense import clock
from hortense.account.offers import OFFER_LABELS
from hortense.conversations.store import CustomerMessage, customer_messages
from hortense.db.calendar_models import (
    KIND_REMINDER,
    STATUS_CANCELLED,
    STATUS_DONE,
    STATUS_MISSED,
    Appointment,
    Notification,
)
from hortense.db.link_models import AccountLink
from hortense.db.models import Contract, Customer

DAY = "day"
WEEK = "week"
GRANULARITIES = (DAY, WEEK)
ALL_CHANNELS = ""
UNKNOWN_OFFER = "Non identifié"
TOP_INTENTS = 10
DEFAULT_DAYS = {DAY: 30, WEEK: 12 * 7}
MAX_DAYS = 366


@dataclass
class Period:
    start: date  # the day, or the week's Monday
    conversations: int = 0
    messages: int = 0
    fallbacks: int = 0
    conversations_without_fallback: int = 0
    calls_booked: int = 0
    calls_cancelled: int = 0
    calls_done: int = 0
    calls_missed: int = 0
    reminders_delivered: int = 0
    reminders_failed: int = 0
    answer_seconds: list[float] = field(default_factory=list, repr=False)

    @property
    def fallback_rate(self) -> float | None:
        return self.fallbacks / self.messages if self.messages else None

    @property
    def without_fallback_share(self) -> float | None:
        return self.conversations_without_fallback / self.conversations if self.conversations else None

    @property
    def median_answer_seconds(self) -> float | None:
        return statistics.median(self.answer_seconds) if self.answer_seconds else None


@dataclass
class Report:
    granularity: str
    first: date
    last: date
    channel: str  # ALL_CHANNELS or one channel
    channels: list[str]  # every channel seen in the range (the filter's choices)
    periods: list[Period]
    total: Period
    top_intents: list[tuple[str, int]]
    per_offer: list[tuple[str, int]]


def period_start(day: date, granularity: str) -> date:
    return day - timedelta(days=day.weekday()) if granularity == WEEK else day


def default_range(granularity: str, today: date | None = None) -> tuple[date, date]:
    last = today or clock.today()
    first = period_start(last - timedelta(days=DEFAULT_DAYS[granularity] - 1), granularity)
    return first, last


def _local_day(ts: float | datetime) -> date:
    moment = ts if isinstance(ts, datetime) else datetime.fromtimestamp(ts, clock.local_zone())
    return moment.astimezone(clock.local_zone()).date()


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    zone = clock.local_zone()
    return datetime.combine(first, time(0), tzinfo=zone), datetime.combine(
        last + timedelta(days=1), time(0), tzinfo=zone
    )


def _offers_of_senders(session: Session, senders: set[str]) -> dict[str, str]:
    """sender id -> offer label (the first contract's offer of the conversation's customer)."""
    numbers = {s: s[4:] for s in senders if s.startswith("web-")}
    by_number: dict[str, int] = (
        dict(
            session.execute(
                select(Customer.customer_number, Customer.id).where(
                    Customer.customer_number.in_(sorted(set(numbers.values())))
                )
            ).all()
        )
        if numbers
        else {}
    )
    linked: dict[str, int] = (
        dict(
            session.execute(
                select(AccountLink.sender_id, AccountLink.customer_id).where(AccountLink.sender_id.in_(sorted(senders)))
            ).all()
        )
        if senders
        else {}
    )
    customer_of = {s: by_number.get(numbers.get(s, "")) or linked.get(s) for s in senders}
    ids = {c for c in customer_of.values() if c is not None}
    offer_of: dict[int, str] = {}
    if ids:
        for customer_id, offer in session.execute(
            select(Contract.customer_id, Contract.offer)
            .where(Contract.customer_id.in_(sorted(ids)))
            .order_by(Contract.customer_id, Contract.id)
        ):
            offer_of.setdefault(customer_id, OFFER_LABELS.get(offer, offer))
    return {s: offer_of.get(c, UNKNOWN_OFFER) if c is not None else UNKNOWN_OFFER for s, c in customer_of.items()}


def _conversation_figures(
    periods: dict[date, Period], total: Period, messages: list[CustomerMessage], granularity: str
) -> None:
    seen: dict[date, dict[str, bool]] = defaultdict(dict)  # period -> sender -> had a fallback
    everywhere: dict[str, bool] = {}
    for m in messages:
        start = period_start(_local_day(m.ts), granularity)
        p = periods[start]
        for bucket in (p, total):
            bucket.messages += 1
            bucket.fallbacks += m.fallback
            if m.answer_seconds is not None:
                bucket.answer_seconds.append(m.answer_seconds)
        seen[start][m.sender_id] = seen[start].get(m.sender_id, False) or m.fallback
        everywhere[m.sender_id] = everywhere.get(m.sender_id, False) or m.fallback
    for start, senders in seen.items():
        periods[start].conversations = len(senders)
        periods[start].conversations_without_fallback = sum(not f for f in senders.values())
    total.conversations = len(everywhere)
    total.conversations_without_fallback = sum(not f for f in everywhere.values())


def _any_within(lo: datetime, hi: datetime, *columns: Any) -> Any:
    """SQL: one of these times falls in [lo, hi)."""
    return or_(*(and_(column >= lo, column < hi) for column in columns))


def _call_figures(
    session: Session,
    periods: dict[date, Period],
    total: Period,
    lo: datetime,
    hi: datetime,
    channel: str,
    granularity: str,
) -> None:
    def count(when: datetime, attribute: str) -> None:
        for bucket in (periods[period_start(_local_day(when), granularity)], total):
            setattr(bucket, attribute, getattr(bucket, attribute) + 1)

    rows = session.execute(
        select(
            Appointment.created_at,
            Appointment.updated_at,
            Appointment.start_utc,
            Appointment.status,
            Appointment.channel,
        ).where(_any_within(lo, hi, Appointment.created_at, Appointment.updated_at, Appointment.start_utc))
    ).all()
    for created, updated, start, status, call_channel in rows:
        if channel and call_channel != channel:
            continue
        if lo <= created < hi:
            count(created, "calls_booked")
        if status == STATUS_CANCELLED and lo <= updated < hi:
            count(updated, "calls_cancelled")
        if status in (STATUS_DONE, STATUS_MISSED) and lo <= start < hi:
            count(start, "calls_done" if status == STATUS_DONE else "calls_missed")
    reminders = session.execute(
        select(
            Notification.sent_at,
            Notification.abandoned_at,
            Notification.attempts,
            Notification.last_error,
            Notification.channel,
        ).where(
            Notification.kind == KIND_REMINDER, _any_within(lo, hi, Notification.sent_at, Notification.abandoned_at)
        )
    ).all()
    for sent, abandoned, attempts, error, note_channel in reminders:
        if channel and note_channel != channel:
            continue
        if sent is not None and lo <= sent < hi:
            count(sent, "reminders_delivered")
        elif abandoned is not None and lo <= abandoned < hi and attempts and not (error or "").startswith("call "):
            count(abandoned, "reminders_failed")  # not the ones dropped because the call was cancelled or moved


def compute(
    session: Session,
    tracker_url: str | None,
    *,
    first: date,
    last: date,
    granularity: str = DAY,
    channel: str = ALL_CHANNELS,
) -> Report:
    """The figures of [first, last] (Paris days). Raises TrackerUnavailable when the tracker store is unreadable
    (with tracker_url None, conversation figures are zero)."""
    if granularity not in GRANULARITIES:
        raise ValueError(f"granularity must be one of {GRANULARITIES}")
    last = max(first, min(last, first + timedelta(days=MAX_DAYS)))
    lo, hi = _bounds(first, last)
    messages = customer_messages(tracker_url, since=lo.timestamp(), until=hi.timestamp()) if tracker_url else []
    channels = sorted({m.channel for m in messages})
    if channel:
        messages = [m for m in messages if m.channel == channel]
    starts, day = [], period_start(first, granularity)
    while day <= last:
        starts.append(day)
        day += timedelta(days=7 if granularity == WEEK else 1)
    periods = {s: Period(s) for s in starts}
    total = Period(first)
    _conversation_figures(periods, total, messages, granularity)
    _call_figures(session, periods, total, lo, hi, channel, granularity)
    intents = Counter(m.intent or "inconnu" for m in messages)
    offers = _offers_of_senders(session, {m.sender_id for m in messages})
    per_offer = Counter(offers[m.sender_id] for m in messages)
    return Report(
        granularity,
        first,
        last,
        channel,
        channels,
        [periods[s] for s in starts],
        total,
        intents.most_common(TOP_INTENTS),
        sorted(per_offer.items(), key=lambda kv: (-kv[1], kv[0])),
    )


CSV_COLUMNS = (
    "periode",
    "canal",
    "conversations",
    "messages_clients",
    "part_conversations_sans_repli",
    "taux_de_repli",
    "appels_reserves",
    "appels_annules",
    "appels_faits",
    "appels_manques",
    "rappels_delivres",
    "rappels_echoues",
    "temps_de_reponse_median_s",
)


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for p in [*report.periods, report.total]:
        median = p.median_answer_seconds
        writer.writerow(
            [
                "total" if p is report.total else p.start.isoformat(),
                report.channel or "tous",
                p.conversations,
                p.messages,
                _ratio(p.without_fallback_share),
                _ratio(p.fallback_rate),
                p.calls_booked,
                p.calls_cancelled,
                p.calls_done,
                p.calls_missed,
                p.reminders_delivered,
                p.reminders_failed,
                "" if median is None else f"{median:.2f}",
            ]
        )
    return out.getvalue()
