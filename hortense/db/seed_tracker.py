"""A full conversation store for the scale benchmark: `python -m hortense db seed-tracker --events 1000000`.

Rasa's SQL tracker store (`events`: one row per event, JSON in `data`, as `SQLTrackerStore.save` writes it) filled
with realistic conversations of the generated customers (hortense/db/seed_scale.py) over the retention period
(180 days: older events are deleted every night): sessions that open as Rasa opens them (`action_session_start`,
`session_started`, carried-over slots, `action_listen`), then turns of a customer message (text, intent and
ranking, the website channel's metadata), the prediction, the action, the slots it set, its answer and
`action_listen`; sometimes a fallback (what customers type and the answers: hortense/db/data/scripted_turns.yml). The conversations the calls were booked from are there (the console's
transcript pages read them), and `extra_senders` (the benchmark's own customers) get earlier sessions too.

The table is created by Rasa itself first (`hortense.ops.cluster.prepare_tracker_database`), then read here by
reflection; rows go in with COPY on PostgreSQL (executemany on SQLite). Deterministic for a given seed.
"""

from __future__ import annotations

import json
import random
import time as time_mod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import MetaData, Table, func, select
from sqlalchemy.engine import Engine

from hortense import clock
from hortense.db import demo_data
from hortense.db.seed_scale import BulkWriter, SeedReport, _progress, settle

RETENTION_DAYS = 180
CHUNK = 20_000
SESSION_EVENTS = 40  # events of a session, on average (2 to 9 turns of 6 events or so)


@dataclass(frozen=True)
class Scripted:
    """One everyday turn of the generated conversations: what customers type, the answer's start, the slot it
    sets and the action (by default the intent's own `action_<intent>`)."""

    intent: str
    said: tuple[str, ...]
    answer: str
    slot: str | None = "last_question"
    action: str = ""

    @property
    def action_name(self) -> str:
        return self.action or f"action_{self.intent}"


# Intents a message's ranking may name besides the scripted ones.
OTHER_INTENTS = ("affirm", "deny", "help", "goodbye")


@dataclass(frozen=True)
class Script:
    """The scripted turns, the fallback turn, and every intent a message's ranking names (the turns' intents, the
    fallback's and `OTHER_INTENTS`)."""

    turns: tuple[Scripted, ...]
    fallback: Scripted
    intents: tuple[str, ...]


@cache
def scripted_turns() -> Script:
    """The turns of hortense/db/data/scripted_turns.yml (read once)."""
    name = "scripted_turns.yml"
    content = demo_data.read(name)

    def scripted(raw: Any, where: str) -> Scripted:
        return demo_data.record(Scripted, raw, demo_data.named(where, raw, "intent"), {"said": demo_data.texts})

    turns = tuple(
        scripted(raw, f"{name}, turns[{k}]") for k, raw in enumerate(demo_data.table(content, "turns", name), 1)
    )
    fallback = scripted(content.get("fallback"), f"{name}, fallback")
    return Script(turns, fallback, (*(t.intent for t in turns), fallback.intent, *OTHER_INTENTS))


CARRIED_SLOTS = ("selected_contract", "last_question")


@dataclass
class TrackerReport(SeedReport):
    SUMMARY = "{events} events in {sessions} sessions of {conversations} conversations in {seconds:.0f} s"
    events: int = 0
    conversations: int = 0
    sessions: int = 0


class _Events:
    """Rows of one conversation, as Rasa's SQLTrackerStore.save writes them."""

    def __init__(self, sender: str, rng: random.Random, script: Script) -> None:
        self.sender, self.rng, self.script = sender, rng, script
        self.rows: list[dict] = []

    def add(self, data: dict, intent: str | None = None) -> None:
        self.rows.append(
            dict(
                sender_id=self.sender,
                type_name=data["event"],
                timestamp=data["timestamp"],
                intent_name=intent,
                action_name=data.get("name") if data["event"] == "action" else None,
                data=json.dumps(data, ensure_ascii=False),
            )
        )

    def action(self, name: str, at: float, policy: str | None = None, confidence: float | None = None) -> None:
        self.add(
            {
                "event": "action",
                "timestamp": at,
                "name": name,
                "policy": policy,
                "confidence": confidence,
                "action_text": None,
                "hide_rule_turn": False,
            }
        )

    def session(self, at: float, carried: dict) -> float:
        self.action("action_session_start", at)
        self.add({"event": "session_started", "timestamp": at})
        for name, value in carried.items():
            self.add({"event": "slot", "timestamp": at, "name": name, "value": value})
        self.action("action_listen", at)
        return at

    def turn(self, at: float, channel: str, turn: Scripted) -> float:
        intent, action, slot, answer = turn.intent, turn.action_name, turn.slot, turn.answer
        message = self.rng.choice(turn.said)
        confidence = round(self.rng.uniform(0.55, 0.999), 4)
        others = self.rng.sample([i for i in self.script.intents if i != intent], 9)
        ranking = [{"name": intent, "confidence": confidence}] + [
            {"name": o, "confidence": round((1 - confidence) / (k + 2), 4)} for k, o in enumerate(others)
        ]
        message_id = f"{self.rng.getrandbits(128):032x}"
        self.add(
            {
                "event": "user",
                "timestamp": at,
                "metadata": {"hortense_identity": f"v1.{self.rng.getrandbits(256):064x}", "channel": channel},
                "text": message,
                "parse_data": {
                    "intent": {"name": intent, "confidence": confidence},
                    "entities": [],
                    "text": message,
                    "message_id": message_id,
                    "metadata": {},
                    "intent_ranking": ranking,
                },
                "input_channel": channel,
                "message_id": message_id,
            },
            intent,
        )
        self.add({"event": "user_featurization", "timestamp": at, "use_text_for_featurization": False})
        at += self.rng.uniform(0.05, 0.4)
        self.action(action, at, "RulePolicy", 1.0)
        if slot:
            self.add({"event": "slot", "timestamp": at, "name": slot, "value": intent})
        self.add(
            {
                "event": "bot",
                "timestamp": at,
                "metadata": {"utter_action": action},
                "text": answer,
                "data": {
                    "elements": None,
                    "quick_replies": None,
                    "buttons": [
                        {"title": "Ma conso", "payload": "/ask_consumption"},
                        {"title": "Mes factures", "payload": "/ask_invoices"},
                    ],
                    "attachment": None,
                    "image": None,
                    "custom": None,
                },
            }
        )
        self.action("action_listen", at, "RulePolicy", 1.0)
        return at


def _conversation(
    sender: str, channel: str, rng: random.Random, start: float, end: float, events: int
) -> tuple[list[dict], int]:
    """About `events` events of one conversation: sessions between `start` and `end` (epoch seconds)."""
    script = scripted_turns()
    conv = _Events(sender, rng, script)
    carried: dict = {}
    sessions = max(1, round(events / SESSION_EVENTS))
    for k in range(sessions):
        at = start + (end - start) * (k + rng.random()) / sessions
        conv.session(at, carried)
        for _ in range(rng.randint(2, 9)):
            at += rng.uniform(4, 90)
            conv.turn(at, channel, script.fallback if rng.random() < 0.06 else rng.choice(script.turns))
        carried = {name: rng.choice(("ask_pdl", "ask_invoices", None)) for name in CARRIED_SLOTS}
    return conv.rows, sessions


def _senders(engine_data: Engine | None, rng: random.Random, since: datetime) -> list[tuple[str, str]]:
    """(sender id, channel) of the generated customers' conversations and of the calls booked since `since`."""
    if engine_data is None:
        return []
    from hortense.db.calendar_models import Appointment
    from hortense.db.models import Customer
    from hortense.db.seed_scale import GENERATED

    customers, calls = Customer.__table__, Appointment.__table__
    with engine_data.connect() as conn:
        numbers = list(
            conn.execute(select(customers.c.customer_number).where(customers.c.customer_number.like(GENERATED)))
            .scalars()
            .all()
        )
        booked = conn.execute(
            select(calls.c.sender_id, calls.c.channel).where(calls.c.created_at >= since).order_by(calls.c.id)
        ).all()
    calls = sorted(set(booked))
    booked_from = {s for s, _ in calls}
    web = [(f"web-{n}", "web") for n in numbers if f"web-{n}" not in booked_from]
    rng.shuffle(calls)
    rng.shuffle(web)
    # the conversations calls were booked from and others, alternately
    mixed = [pair for both in zip(calls, web, strict=False) for pair in both]
    shortest = min(len(calls), len(web))
    return mixed + calls[shortest:] + web[shortest:]


def _tracker_table(engine: Engine) -> Table:
    return Table("events", MetaData(), autoload_with=engine)


def _chunks(
    senders: Sequence[tuple[str, str]], target: int, rng: random.Random, now: float, extra: Sequence[str]
) -> Iterator[tuple[list[dict], int, int]]:
    """Rows in chunks until `target` events: the `extra` senders first, then the others, again if need be."""
    start = now - RETENTION_DAYS * 86400
    made = 0
    rows: list[dict] = []
    conversations = sessions = 0
    order = [(s, "web") for s in extra] + list(senders)
    if not order:
        raise ValueError("no conversation to write: seed the customers first")
    per = max(SESSION_EVENTS, target // len(order))
    index = 0
    while made < target:
        sender, channel = order[index % len(order)]
        size = int(rng.uniform(0.3, 1.7) * per)
        new, count = _conversation(sender, channel, rng, start, now - 3600, min(size, target - made))
        rows.extend(new)
        made += len(new)
        conversations += 1
        sessions += count
        index += 1
        if len(rows) >= CHUNK:
            yield rows, conversations, sessions
            rows, conversations, sessions = [], 0, 0
    if rows:
        yield rows, conversations, sessions


def seed_tracker(
    tracker: Engine,
    events: int,
    *,
    data: Engine | None = None,
    extra_senders: Sequence[str] = (),
    seed_number: int = 1,
    now: datetime | None = None,
    progress: bool = True,
) -> TrackerReport:
    """Fill the `events` table of `tracker` with about `events` events (does nothing if it holds as many)."""
    started = time_mod.monotonic()
    now = now or clock.now()
    rng = random.Random(f"hortense-tracker:{seed_number}")
    table = _tracker_table(tracker)
    report = TrackerReport()
    with tracker.connect() as conn:
        existing = conn.execute(select(func.count()).select_from(table)).scalar_one()
    if existing >= events:
        return report
    senders = _senders(data, rng, now - timedelta(days=RETENTION_DAYS))
    bar = _progress(events - existing, progress, "events")
    for rows, conversations, sessions in _chunks(senders, events - existing, rng, now.timestamp(), extra_senders):
        with tracker.begin() as conn:
            BulkWriter(conn).write(table, rows)
        report.events += len(rows)
        report.conversations += conversations
        report.sessions += sessions
        if bar is not None:
            bar.update(len(rows))
    if bar is not None:
        bar.close()
    settle(tracker, ["events"])
    report.seconds = time_mod.monotonic() - started
    return report


def ensure_table(tracker_url: str) -> None:
    """Rasa's own `events` table (created by Rasa's SQLTrackerStore, in a child process), if missing."""
    from sqlalchemy import create_engine, inspect

    engine = create_engine(tracker_url, future=True)
    try:
        missing = not inspect(engine).has_table("events")
    finally:
        engine.dispose()
    if missing:
        from hortense.ops.cluster import prepare_tracker_database

        prepare_tracker_database(tracker_url)
