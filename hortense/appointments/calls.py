"""What the advisors' console shows and records about calls, beyond one day's list (see `booking`):

- `upcoming`: the next calls across days, a page at a time, and `awaiting_outcome`: calls that have started but have
  no outcome yet;
- `week`: the calls of one Monday-to-Sunday week, by day;
- `search`: calls of customers found by name, customer number, PDL or phone;
- `history`: a customer's calls with the outcomes and notes advisors recorded;
- `record_outcome`: done / missed with a note, and `reschedule_by_advisor`: the call moved to a new slot.

Who sees what is decided here, as in `booking`: an advisor their own calls, a supervisor everybody's
(optionally one advisor's). Every time comparison uses the `now` the caller passes (`hortense.clock`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, exists, func, or_, select, union
from sqlalchemy.orm import Session

from hortense.appointments.booking import (
    BY_ADVISOR,
    SLOT,
    ConsoleCall,
    Scope,
    _insert,
    _load_availability,
    _notify_booked,
    console_calls,
    normalise_phone,
)
from hortense.appointments.calendar.phrases import PARIS
from hortense.appointments.calendar.slots import is_bookable, to_local, to_utc
from hortense.appointments.notifications import abandon_pending
from hortense.db.calendar_models import (
    STATUS_BOOKED,
    STATUS_CANCELLED,
    STATUS_DONE,
    STATUS_MISSED,
    Advisor,
    Appointment,
)
from hortense.db.console_models import (
    MAX_NOTE_CHARS,
    OUTCOME_DONE,
    OUTCOME_MISSED,
    OUTCOME_RESCHEDULED,
    CallOutcome,
)
from hortense.db.models import Contract, Customer
from hortense.replies import appointments as wording

UPCOMING_PAGE = 50  # calls per page of "À venir": the same page whether the team has 3 advisors or 200
ADVISOR_MATCHES = 20  # advisors listed when a supervisor's filter by name matches several
SEARCH_LIMIT = 100
AWAITING_DAYS = 14
AWAITING_LIMIT = 100  # the oldest first: with 200 advisors, "everybody's" list would otherwise grow with the team
OUTCOME_LABELS = {OUTCOME_DONE: "Fait", OUTCOME_MISSED: "Manqué", OUTCOME_RESCHEDULED: "Reporté"}

ERROR_NOT_FOUND = "not_found"
ERROR_NOT_BOOKABLE = "not_bookable"
ERROR_SLOT_TAKEN = "slot_taken"
ERROR_ALREADY_BOOKED = "already_booked"


@dataclass(frozen=True)
class Note:
    """An outcome recorded on a call."""

    appointment_id: int
    outcome: str
    note: str
    advisor_name: str
    at: datetime  # Europe/Paris
    rescheduled_to: datetime | None  # the new call's start (Paris), for 'rescheduled'

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome, self.outcome)


@dataclass(frozen=True)
class HistoryItem:
    call: ConsoleCall
    notes: tuple[Note, ...]


@dataclass(frozen=True)
class DayCalls:
    day: date
    calls: list[ConsoleCall]


# --------------------------------------------------------------------------- lists


@dataclass(frozen=True)
class UpcomingPage:
    """One page of the next calls: `next_after` is the cursor of the following page (None on the last one)."""

    calls: list[ConsoleCall]
    next_after: int | None


def _position(session: Session, scope: Scope, appointment_id: int) -> tuple[datetime, str, int] | None:
    """Where a call stands in the console's order (start, advisor's name, id): a page's cursor. None for a call
    this scope does not see, so a cursor tells nothing about other advisors' calls."""
    row = session.execute(
        select(Appointment.start_utc, Appointment.advisor_id, Advisor.name)
        .join(Advisor, Advisor.id == Appointment.advisor_id)
        .where(Appointment.id == appointment_id)
    ).first()
    if row is None or not scope.sees(row.advisor_id):
        return None
    return row.start_utc, row.name, appointment_id


def upcoming(
    session: Session, scope: Scope, now: datetime, *, after: int | None = None, size: int | None = None
) -> UpcomingPage:
    """Booked calls that have not started yet, across days, soonest first: `size` of them, after the call
    `after` (a cursor: the last call of the previous page). Read on the start_utc index with a LIMIT, however
    deep the page and however many advisors (`size` UPCOMING_PAGE unless given)."""
    size = size or UPCOMING_PAGE
    conditions = [*scope.conditions(), Appointment.status == STATUS_BOOKED, Appointment.start_utc > now]
    position = _position(session, scope, after) if after is not None else None
    if position is not None:
        start, name, last_id = position
        conditions += [
            Appointment.start_utc >= start,  # the index range; the rest orders calls of the same slot
            or_(
                Appointment.start_utc > start,
                Advisor.name > name,
                and_(Advisor.name == name, Appointment.id > last_id),
            ),
        ]
    calls = console_calls(session, conditions, limit=size + 1)
    more = len(calls) > size
    calls = calls[:size]
    return UpcomingPage(calls, calls[-1].id if more and calls else None)


def awaiting_outcome(
    session: Session, scope: Scope, now: datetime, days: int = AWAITING_DAYS, limit: int = AWAITING_LIMIT
) -> list[ConsoleCall]:
    """Calls of the last `days` days that have started, are still 'booked' and carry no outcome: to close (the
    `limit` oldest)."""
    noted = exists().where(CallOutcome.appointment_id == Appointment.id)
    return console_calls(
        session,
        [
            *scope.conditions(),
            Appointment.status == STATUS_BOOKED,
            Appointment.start_utc <= now,
            Appointment.start_utc > now - timedelta(days=days),
            ~noted,
        ],
        limit=limit,
    )


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week(session: Session, scope: Scope, any_day: date) -> list[DayCalls]:
    """The seven days (Monday first) of the week containing `any_day`, each with its calls (all statuses)."""
    monday = monday_of(any_day)
    start = datetime.combine(monday, time(0), tzinfo=PARIS)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=PARIS)
    calls = console_calls(
        session, [*scope.conditions(), Appointment.start_utc >= to_utc(start), Appointment.start_utc < to_utc(end)]
    )
    by_day: dict[date, list[ConsoleCall]] = defaultdict(list)
    for call in calls:
        by_day[call.start.date()].append(call)
    return [DayCalls(monday + timedelta(days=i), by_day.get(monday + timedelta(days=i), [])) for i in range(7)]


_DIGITS = re.compile(r"\D")
_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


CUSTOMER_IDS_LIMIT = 1000  # customers found by a search, beyond which their calls are found by a join


def name_expression():
    """A customer's names as the search reads them (lower-case; PostgreSQL has a trigram index on it:
    `ix_customers_search_name`, migration 0011)."""
    return func.lower(
        func.coalesce(Customer.first_name, "")
        + " "
        + func.coalesce(Customer.last_name, "")
        + " "
        + func.coalesce(Customer.company_name, "")
    )


def _customer_queries(query: str) -> tuple[list, str | None]:
    """What a search finds: customers by number, PDL (14 digits), phone, contract number or every word of a name,
    as separate index-served queries (their UNION), and the phone (calls are also found by the number called)."""
    query = " ".join(query.split())[:100]
    if not query:
        return [], None
    found: list = [select(Customer.id).where(Customer.customer_number.in_({query, query.upper()}))]
    digits = _DIGITS.sub("", query)
    if len(digits) == 14:
        found.append(select(Contract.customer_id).where(Contract.pdl == digits))
    phone = normalise_phone(query)
    if phone:
        found.append(select(Customer.id).where(Customer.phone == phone))
    if len(digits) >= 4:
        found.append(
            select(Contract.customer_id).where(
                Contract.contract_number.ilike(_like(query.replace(" ", "")), escape="\\")
            )
        )
    words = [w for w in _WORD.findall(query) if not w.isdigit()]
    if words:
        name = name_expression()
        found.append(select(Customer.id).where(and_(*(name.like(_like(w), escape="\\") for w in words))))
    return found, phone


def search(session: Session, scope: Scope, query: str, limit: int = SEARCH_LIMIT) -> list[ConsoleCall]:
    """The calls (newest first) of customers matching `query`; nothing for an empty query.

    The customers are found first (each criterion on its own index), then their calls by `customer_id` (or the
    number called): a single query OR-ing columns of several tables would read every call."""
    queries, phone = _customer_queries(query)
    if not queries:
        return []
    matching = union(*queries) if len(queries) > 1 else queries[0]
    ids = list(session.execute(matching.limit(CUSTOMER_IDS_LIMIT + 1)).scalars())
    if len(ids) > CUSTOMER_IDS_LIMIT:  # a very broad search: let the database join
        by_customer = Appointment.customer_id.in_(matching.scalar_subquery())
        found = or_(by_customer, Appointment.phone == phone) if phone else by_customer
        return console_calls(session, [*scope.conditions(), found], limit=limit, newest_first=True)
    by_customer = Appointment.customer_id.in_(ids)
    found = or_(by_customer, Appointment.phone == phone) if phone else by_customer
    # Their calls on the customer_id (and phone) indexes, then the `limit` newest (and any tied with the last):
    # ordered and limited in one query, the database would walk every call by date looking for theirs.
    starts = session.execute(select(Appointment.id, Appointment.start_utc).where(*scope.conditions(), found)).all()
    if len(starts) > limit:
        cutoff = sorted((start for _, start in starts), reverse=True)[limit - 1]
        starts = [(i, start) for i, start in starts if start >= cutoff]
    if not starts:
        return []
    return console_calls(session, [Appointment.id.in_([i for i, _ in starts])], limit=limit, newest_first=True)


def notes_for(session: Session, appointment_ids: list[int]) -> dict[int, list[Note]]:
    """The outcomes recorded on these calls, oldest first."""
    if not appointment_ids:
        return {}
    moved = Appointment.__table__.alias("moved")
    rows = session.execute(
        select(CallOutcome, Advisor.name, moved.c.start_utc)
        .join(Advisor, Advisor.id == CallOutcome.advisor_id)
        .outerjoin(moved, moved.c.id == CallOutcome.rescheduled_to_id)
        .where(CallOutcome.appointment_id.in_(appointment_ids))
        .order_by(CallOutcome.created_at, CallOutcome.id)
    ).all()
    notes: dict[int, list[Note]] = defaultdict(list)
    for outcome, advisor_name, moved_start in rows:
        notes[outcome.appointment_id].append(
            Note(
                outcome.appointment_id,
                outcome.outcome,
                outcome.note or "",
                advisor_name,
                to_local(outcome.created_at),
                to_local(moved_start) if moved_start is not None else None,
            )
        )
    return notes


def history(session: Session, customer_id: int) -> list[HistoryItem]:
    """Every call of the customer (any advisor: the context of the call at hand), newest first, with notes."""
    calls = console_calls(session, [Appointment.customer_id == customer_id], newest_first=True)
    notes = notes_for(session, [c.id for c in calls])
    return [HistoryItem(c, tuple(notes.get(c.id, ()))) for c in calls]


# --------------------------------------------------------------------------- outcomes


def clean_note(note: str | None) -> str:
    """One paragraph at most MAX_NOTE_CHARS long (line breaks kept, other whitespace folded)."""
    lines = [" ".join(line.split()) for line in (note or "").splitlines()]
    return "\n".join(line for line in lines if line)[:MAX_NOTE_CHARS]


def _visible_row(session: Session, scope: Scope, appointment_id: int) -> Appointment | None:
    row = session.get(Appointment, appointment_id)
    if row is None or not scope.sees(row.advisor_id):
        return None
    return row


def record_outcome(
    session: Session,
    *,
    advisor_id: int,
    is_supervisor: bool,
    appointment_id: int,
    outcome: str,
    note: str,
    now: datetime,
) -> bool:
    """Mark a call that has started 'done' or 'missed' and keep the note on it (a correction adds a note).

    False, and nothing changes, for a call this advisor may not see, a cancelled call or one not started yet.
    """
    if outcome not in (OUTCOME_DONE, OUTCOME_MISSED):
        raise ValueError(f"outcome must be 'done' or 'missed', not {outcome!r}")
    from hortense.appointments.booking import set_status  # the one place that changes a call's status

    scope = Scope.of(advisor_id, is_supervisor)
    if _visible_row(session, scope, appointment_id) is None:
        return False
    status = STATUS_DONE if outcome == OUTCOME_DONE else STATUS_MISSED
    if not set_status(session, scope=scope, appointment_id=appointment_id, status=status, now=now):
        return False
    session.add(
        CallOutcome(
            appointment_id=appointment_id, advisor_id=advisor_id, outcome=outcome, note=clean_note(note), created_at=now
        )
    )
    session.flush()
    return True


@dataclass(frozen=True)
class RescheduleResult:
    ok: bool
    new_appointment_id: int | None
    error: str | None


def reschedule_by_advisor(
    session: Session,
    *,
    advisor_id: int,
    is_supervisor: bool,
    appointment_id: int,
    new_start: datetime,
    note: str,
    now: datetime,
) -> RescheduleResult:
    """The call is moved to `new_start` (the customer asked to be called back later, or could not be reached):
    the old call is closed as cancelled by the advisor with "Reporté au …", a new call is booked with the same
    customer, contract, reason and phone (the same advisor when free), the customer is told on the call's
    channel, and the note is kept on the old call with a link to the new one. All or nothing (a savepoint).

    Allowed for a 'booked' or 'missed' call this advisor may see; the new slot follows the booking rules.
    """
    old = _visible_row(session, Scope.of(advisor_id, is_supervisor), appointment_id)
    if old is None or old.status not in (STATUS_BOOKED, STATUS_MISSED):
        return RescheduleResult(False, None, ERROR_NOT_FOUND)
    if not is_bookable(new_start, now):
        return RescheduleResult(False, None, ERROR_NOT_BOOKABLE)
    new_start_utc = to_utc(new_start)
    candidates = _load_availability(session, new_start, new_start).free_advisors(new_start, prefer=old.advisor_id)
    outer = session.begin_nested()
    session.execute(
        Appointment.__table__.update()
        .where(Appointment.id == old.id)
        .values(
            status=STATUS_CANCELLED,
            cancelled_by=BY_ADVISOR,
            updated_at=now,
            cancel_reason=wording.rescheduled_by_advisor(to_local(new_start)),
        )
    )
    values = dict(
        customer_id=old.customer_id,
        contract_id=old.contract_id,
        start_utc=new_start_utc,
        end_utc=new_start_utc + SLOT,
        reason=old.reason,
        phone=old.phone,
        channel=old.channel,
        sender_id=old.sender_id,
        status=STATUS_BOOKED,
        created_at=now,
        updated_at=now,
    )
    row, error = _insert(session, candidates, values)
    if row is None:
        outer.rollback()
        session.expire(old)
        return RescheduleResult(False, None, ERROR_ALREADY_BOOKED if error == "already_booked" else ERROR_SLOT_TAKEN)
    outer.commit()
    session.expire(old)
    abandon_pending(session, old.id, now, "call rescheduled by the advisor")
    _notify_booked(session, row, now, moved=True)
    session.add(
        CallOutcome(
            appointment_id=old.id,
            advisor_id=advisor_id,
            outcome=OUTCOME_RESCHEDULED,
            note=clean_note(note),
            rescheduled_to_id=row.id,
            created_at=now,
        )
    )
    session.flush()
    return RescheduleResult(True, row.id, None)


def advisor_name(session: Session, advisor_id: int) -> str | None:
    """The name of the advisor a supervisor filters on (None if there is no such advisor)."""
    return session.execute(select(Advisor.name).where(Advisor.id == advisor_id)).scalar_one_or_none()


def find_advisors(session: Session, text: str, limit: int = ADVISOR_MATCHES) -> list[tuple[int, str]]:
    """Active advisors who take calls whose name holds every word of `text` (case-insensitive), by name: a
    supervisor's filter by name (at most `limit`, so the page does not grow with the team). The advisors
    table holds one row per member of the team: read whole, it stays small."""
    from hortense.db.calendar_models import AdvisorWorkingHours

    words = [w for w in _WORD.findall(text[:100]) if w]
    if not words:
        return []
    takes_calls = exists().where(AdvisorWorkingHours.advisor_id == Advisor.id)
    named = [func.lower(Advisor.name).like(_like(w), escape="\\") for w in words]
    return [
        (i, n)
        for i, n in session.execute(
            select(Advisor.id, Advisor.name)
            .where(Advisor.active.is_(True), takes_calls, *named)
            .order_by(Advisor.name, Advisor.id)
            .limit(limit)
        )
    ]
