"""Phone appointments with an advisor: propose, book, move, cancel, and what advisors see.

Double booking is prevented by the database, not by a check-then-insert: `book` inserts inside a savepoint
and lets the partial unique indexes of `appointments` (one active call per advisor and start, one per
customer) reject a concurrent winner's slot. The availability computed beforehand only chooses *which*
advisor to try first.

Rules chosen here:
- Load spreading: among the advisors free at a start (working hours, no absence, no active call), the one
  with the fewest active calls that day is tried first (ties: lowest id), then the next.
- A customer has at most one upcoming call. A 'booked' call whose end is past is over: `book` and
  `reschedule` first mark that customer's past 'booked' calls as 'missed' (the advisor can still correct
  it to 'done' in the console), and the scheduler marks every call left 'booked' after its day as 'missed'.
- Customers may cancel or move only an upcoming call (start in the future); advisors may mark 'done' or
  'missed' any call that is not cancelled, even to correct an earlier mark.
- Every datetime returned is aware and in Europe/Paris; every datetime stored is UTC.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hortense import clock
from hortense.account.offers import OFFER_LABELS
from hortense.appointments.calendar.phrases import PARIS, Preference, parse_preference
from hortense.appointments.calendar.slots import (
    DEFAULT_RULES,
    SlotProposal,
    candidate_slots,
    is_bookable,
    match_preference,
    to_local,
    to_utc,
)
from hortense.appointments.notifications import abandon_pending, schedule, undelivered
from hortense.db.calendar_models import (
    ADVISOR_SLOT_INDEX,
    CUSTOMER_UPCOMING_INDEX,
    KIND_CANCELLATION,
    KIND_CONFIRMATION,
    KIND_REMINDER,
    STATUS_BOOKED,
    STATUS_CANCELLED,
    STATUS_DONE,
    STATUS_MISSED,
    Advisor,
    AdvisorAbsence,
    AdvisorWorkingHours,
    Appointment,
    Notification,
)
from hortense.db.models import Contract, Customer
from hortense.replies import appointments as wording
from hortense.replies import formatting
from hortense.views import view_of

SLOT = timedelta(minutes=DEFAULT_RULES.slot_minutes)
REMINDER_LONG = timedelta(hours=24)
REMINDER_SHORT = timedelta(hours=1)
MAX_REASON_CHARS = 500

ERROR_SLOT_TAKEN = "slot_taken"
ERROR_NOT_BOOKABLE = "not_bookable"
ERROR_ALREADY_BOOKED = "already_booked"
ERROR_NOT_OWNER = "not_owner"

BY_CUSTOMER = "customer"
BY_ADVISOR = "advisor"

STATUS_LABELS = {STATUS_BOOKED: "Prévu", STATUS_DONE: "Fait", STATUS_MISSED: "Manqué", STATUS_CANCELLED: "Annulé"}


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class AppointmentView:
    id: int
    customer_id: int
    contract_id: int | None
    advisor_id: int
    advisor_name: str
    start: datetime  # aware, Europe/Paris
    end: datetime
    reason: str
    phone: str  # E.164
    channel: str
    sender_id: str
    status: str

    @property
    def label(self) -> str:
        """'jeudi 3 décembre à 14h30'."""
        return formatting.slot_label(self.start)

    @property
    def phone_display(self) -> str:
        return display_phone(self.phone)


@dataclass(frozen=True)
class BookingResult:
    """ok=True: `appointment` is the new call. Else `error` says why; for 'already_booked', `appointment`
    is the customer's existing upcoming call (to offer moving it); `alternatives` are free slots (Paris)."""

    ok: bool
    appointment: AppointmentView | None
    alternatives: tuple[datetime, ...]
    error: str | None


@dataclass(frozen=True)
class Scope:
    """Whose calls a console user sees and may act on: `advisor_id` None = everybody's (a supervisor without a
    filter)."""

    advisor_id: int | None

    @classmethod
    def of(cls, advisor_id: int, is_supervisor: bool, only: int | None = None) -> Scope:
        return cls(only if is_supervisor else advisor_id)

    def sees(self, advisor_id: int) -> bool:
        """Whether a call of this advisor is in the scope."""
        return self.advisor_id is None or self.advisor_id == advisor_id

    def conditions(self) -> list:
        return [] if self.advisor_id is None else [Appointment.advisor_id == self.advisor_id]


@dataclass(frozen=True)
class ConsoleCall:
    """One call as an advisor sees it, with the customer's context."""

    id: int
    advisor_id: int
    advisor_name: str
    start: datetime  # Europe/Paris
    end: datetime
    customer_id: int
    customer_number: str
    customer_name: str
    offer_label: str | None
    pdl: str | None
    contract_number: str | None
    site_label: str | None
    phone: str
    reason: str
    channel: str
    sender_id: str
    status: str
    cancel_reason: str | None
    cancelled_by: str | None
    updated_at: datetime
    reminder_undelivered: bool = False  # a notification of this call did not reach the customer on its channel

    @property
    def phone_display(self) -> str:
        return display_phone(self.phone)

    @property
    def pdl_display(self) -> str:
        return formatting.pdl(self.pdl) if self.pdl else ""

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


def _view(row: Appointment, advisor_name: str) -> AppointmentView:
    return view_of(
        AppointmentView, row, advisor_name=advisor_name, start=to_local(row.start_utc), end=to_local(row.end_utc)
    )


def _view_of(session: Session, row: Appointment) -> AppointmentView:
    name = session.execute(select(Advisor.name).where(Advisor.id == row.advisor_id)).scalar_one()
    return _view(row, name)


# --------------------------------------------------------------------------- phone numbers

_PHONE_NOISE = re.compile(r"[\s.\-/()\u00a0\u202f]")
_NATIONAL = re.compile(r"[1-79]\d{8}")


def normalise_phone(text: str) -> str | None:
    """A French number in E.164 ('+33612345678'), or None if it is not one.

    Accepts '06 12 34 56 78', '06.12.34.56.78', '0612345678', '+33 6 12 34 56 78', '+33 (0)6 12 34 56 78',
    '0033612345678'. Mobiles (06, 07), geographic numbers (01-05) and 09 are accepted; 08 (special rates)
    and foreign numbers are not: advisors only call French numbers.
    """
    if not isinstance(text, str) or len(text) > 40:
        return None
    compact = _PHONE_NOISE.sub("", text.strip().replace("(0)", ""))
    if compact.startswith("+33"):
        national = compact[3:]
    elif compact.startswith("0033"):
        national = compact[4:]
    elif compact.startswith("0") and len(compact) == 10:
        national = compact[1:]
    else:
        return None
    if len(national) == 10 and national.startswith("0"):  # '+33 06 12 ...', a common slip
        national = national[1:]
    return f"+33{national}" if _NATIONAL.fullmatch(national) else None


def display_phone(e164: str) -> str:
    """'+33612345678' -> '06 12 34 56 78' (other values unchanged)."""
    if e164 and e164.startswith("+33") and len(e164) == 12:
        digits = "0" + e164[3:]
        return " ".join(digits[i : i + 2] for i in range(0, 10, 2))
    return e164 or ""


# --------------------------------------------------------------------------- availability


@dataclass
class _Availability:
    """Who can take a call when, loaded once for a time window (a few small queries)."""

    hours: dict[int, list[tuple[int, time, time]]]
    absences: dict[int, list[tuple[datetime, datetime]]]
    taken: set[tuple[int, datetime]]
    load: Counter  # (advisor_id, local date) -> active calls

    def free_advisors(self, start: datetime, prefer: int | None = None) -> list[int]:
        """Advisors free for the slot starting at `start`: least loaded that day first (then `prefer` first)."""
        local = to_local(start)
        start_utc = to_utc(start)
        end_local = local + SLOT  # wall-clock addition: slots never straddle a DST change (9:00-18:00)
        free = []
        for advisor_id, ranges in self.hours.items():
            if (advisor_id, start_utc) in self.taken:
                continue
            if not any(
                wd == local.weekday() and lo <= local.time() and end_local.time() <= hi for wd, lo, hi in ranges
            ):
                continue
            if any(a < start_utc + SLOT and b > start_utc for a, b in self.absences.get(advisor_id, ())):
                continue
            free.append(advisor_id)
        free.sort(key=lambda a: (a != prefer, self.load[(a, local.date())], a))
        return free

    def is_free(self, start: datetime) -> bool:
        return bool(self.free_advisors(start))


def _load_availability(session: Session, first: datetime, last: datetime) -> _Availability:
    """Availability for slots starting between `first` and `last` (aware datetimes)."""
    first_utc, last_utc = to_utc(first) - timedelta(days=1), to_utc(last) + timedelta(days=1)
    hours: dict[int, list[tuple[int, time, time]]] = defaultdict(list)
    for advisor_id, weekday, lo, hi in session.execute(
        select(
            AdvisorWorkingHours.advisor_id,
            AdvisorWorkingHours.weekday,
            AdvisorWorkingHours.start_time,
            AdvisorWorkingHours.end_time,
        )
        .join(Advisor, Advisor.id == AdvisorWorkingHours.advisor_id)
        .where(Advisor.active.is_(True))
    ):
        hours[advisor_id].append((weekday, lo, hi))
    absences: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for advisor_id, a, b in session.execute(
        select(AdvisorAbsence.advisor_id, AdvisorAbsence.start_utc, AdvisorAbsence.end_utc).where(
            AdvisorAbsence.start_utc < last_utc, AdvisorAbsence.end_utc > first_utc
        )
    ):
        absences[advisor_id].append((a, b))
    taken: set[tuple[int, datetime]] = set()
    load: Counter = Counter()
    for advisor_id, start_utc in session.execute(
        select(Appointment.advisor_id, Appointment.start_utc).where(
            Appointment.status == STATUS_BOOKED, Appointment.start_utc >= first_utc, Appointment.start_utc <= last_utc
        )
    ):
        taken.add((advisor_id, start_utc))
        load[(advisor_id, to_local(start_utc).date())] += 1
    return _Availability(dict(hours), dict(absences), taken, load)


def _horizon_availability(session: Session, now: datetime) -> _Availability:
    return _load_availability(session, now, now + DEFAULT_RULES.horizon + timedelta(days=1))


# --------------------------------------------------------------------------- proposing


def propose(session: Session, preference_text: str, now: datetime, limit: int = 3) -> SlotProposal:
    """Up to `limit` free slots fitting the customer's French wish ("jeudi vers 14h"), or the nearest ones
    with a reason code (see `hortense.appointments.calendar.slots.match_preference`)."""
    availability = _horizon_availability(session, now)
    return match_preference(parse_preference(preference_text, now), now, availability.is_free, limit)


def next_free_slots(
    session: Session, now: datetime, limit: int = 3, after: datetime | None = None
) -> tuple[datetime, ...]:
    """The first `limit` free slots (Paris time), strictly after `after` when given."""
    availability = _horizon_availability(session, now)
    picked: list[datetime] = []
    for start in candidate_slots(now):
        if after is not None and start <= after:
            continue
        if availability.is_free(start):
            picked.append(start)
            if len(picked) == limit:
                break
    return tuple(picked)


def _alternatives(session: Session, start: datetime, now: datetime, limit: int = 3) -> tuple[datetime, ...]:
    """Free slots nearest to the refused `start`: same day first, closest time of day."""
    local = to_local(start)
    wish = Preference(understood=True, days=(local.date(),), exact_time=local.time().replace(second=0, microsecond=0))
    availability = _horizon_availability(session, now)
    slots = match_preference(wish, now, availability.is_free, limit).slots
    return tuple(s for s in slots if s != local)[:limit] or next_free_slots(session, now, limit)


# --------------------------------------------------------------------------- booking


def _close_past_calls(session: Session, now: datetime, customer_id: int) -> None:
    """The customer's 'booked' calls that are over become 'missed' (see the module rules).

    Always the first statement of a booking: on SQLite this UPDATE opens the write transaction, so the
    savepoints that follow are nested inside it (and the write lock is taken before any read).
    """
    session.execute(
        update(Appointment)
        .where(Appointment.customer_id == customer_id, Appointment.status == STATUS_BOOKED, Appointment.end_utc <= now)
        .values(status=STATUS_MISSED, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def _owns_contract(session: Session, customer_id: int, contract_id: int | None) -> bool:
    if contract_id is None:
        return True
    owner = session.execute(select(Contract.customer_id).where(Contract.id == contract_id)).scalar_one_or_none()
    return owner == customer_id


def _upcoming_row(session: Session, customer_id: int, now: datetime) -> Appointment | None:
    return session.execute(
        select(Appointment)
        .where(Appointment.customer_id == customer_id, Appointment.status == STATUS_BOOKED, Appointment.end_utc > now)
        .order_by(Appointment.start_utc)
        .limit(1)
    ).scalar_one_or_none()


def _violated_index(exc: IntegrityError) -> str | None:
    """Which unique index refused the row: PostgreSQL names it, SQLite names its columns."""
    name = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
    if name:
        return name
    message = str(exc.orig)
    if "appointments.advisor_id" in message:
        return ADVISOR_SLOT_INDEX
    if "appointments.customer_id" in message:
        return CUSTOMER_UPCOMING_INDEX
    return None


def _failure(
    error: str, alternatives: tuple[datetime, ...] = (), appointment: AppointmentView | None = None
) -> BookingResult:
    return BookingResult(False, appointment, alternatives, error)


def _already_booked(session: Session, customer_id: int, now: datetime) -> BookingResult:
    row = _upcoming_row(session, customer_id, now)
    return _failure(ERROR_ALREADY_BOOKED, appointment=_view_of(session, row) if row else None)


def _clean_reason(reason: str) -> str:
    return " ".join((reason or "").split())[:MAX_REASON_CHARS]


def _insert(session: Session, candidates: Iterable[int], values: dict) -> tuple[Appointment | None, str | None]:
    """Try each advisor in turn, each insert in its own savepoint; the database decides who wins.

    Returns (row, None) on success, (None, 'slot_taken' | 'already_booked') otherwise.
    """
    for advisor_id in candidates:
        try:
            with session.begin_nested():
                row = Appointment(advisor_id=advisor_id, **values)
                session.add(row)
                session.flush()
            return row, None
        except IntegrityError as exc:
            index = _violated_index(exc)
            if index == CUSTOMER_UPCOMING_INDEX:
                return None, ERROR_ALREADY_BOOKED
            if index != ADVISOR_SLOT_INDEX:
                raise
    return None, ERROR_SLOT_TAKEN


def _booked_values(start_utc: datetime, now: datetime, **call: Any) -> dict:
    """The row of a call newly booked at `start_utc` (one slot long) at `now`, for book and reschedule alike;
    `call` says whose call it is and how to reach them (customer, contract, reason, phone, channel, sender)."""
    return dict(
        call, start_utc=start_utc, end_utc=start_utc + SLOT, status=STATUS_BOOKED, created_at=now, updated_at=now
    )


def reminder_due_at(start_utc: datetime, now: datetime) -> datetime:
    """24 h before the call, or 1 h before when booked less than 24 h ahead; never in the past."""
    lead = REMINDER_LONG if start_utc - now >= REMINDER_LONG else REMINDER_SHORT
    return max(start_utc - lead, now)


def _notify_booked(
    session: Session, row: Appointment, now: datetime, moved: bool = False, confirmed_in_chat: bool = False
) -> None:
    """The confirmation (due now) and the reminder of a new call, in the booking's transaction.

    `confirmed_in_chat`: the conversation that booked has just said "C'est réservé" on that channel, so the
    confirmation is recorded as delivered there, not sent a second time by the scheduler."""
    start = to_local(row.start_utc)
    confirmation = wording.confirmation_notice(start, row.phone, moved=moved)
    reminder = wording.reminder_notice(start, row.phone)
    common = dict(appointment_id=row.id, channel=row.channel, sender_id=row.sender_id)
    schedule(session, kind=KIND_CONFIRMATION, text=confirmation, due_at=now, **common)
    if confirmed_in_chat:
        session.execute(
            update(Notification)
            .where(
                Notification.appointment_id == row.id,
                Notification.kind == KIND_CONFIRMATION,
                Notification.sent_at.is_(None),
            )
            .values(sent_at=now)
            .execution_options(synchronize_session=False)
        )
    schedule(session, kind=KIND_REMINDER, text=reminder, due_at=reminder_due_at(row.start_utc, now), **common)


def book(
    session: Session,
    *,
    customer_id: int,
    contract_id: int | None,
    start: datetime,
    reason: str,
    phone: str,
    channel: str,
    sender_id: str,
    now: datetime,
    confirmed_in_chat: bool = False,
) -> BookingResult:
    """Book the 30-minute call starting at `start` with the least-loaded free advisor.

    Errors: 'not_owner' (contract of another customer), 'not_bookable' (outside the slot rules),
    'already_booked' (the customer has an upcoming call: it is returned), 'slot_taken' (no advisor left at
    that start, possibly taken by a concurrent booking). Raises ValueError for a phone number that
    `normalise_phone` rejects or a naive datetime. Commits nothing: the caller's `session_scope` does.
    """
    e164 = normalise_phone(phone)
    if e164 is None:
        raise ValueError("phone must be a French number (check it with normalise_phone first)")
    start_utc = to_utc(start)
    _close_past_calls(session, now, customer_id)
    if not _owns_contract(session, customer_id, contract_id):
        return _failure(ERROR_NOT_OWNER)
    if not is_bookable(start, now):
        return _failure(ERROR_NOT_BOOKABLE, _alternatives(session, start, now))
    if _upcoming_row(session, customer_id, now) is not None:
        return _already_booked(session, customer_id, now)

    availability = _load_availability(session, start, start)
    values = _booked_values(
        start_utc,
        now,
        customer_id=customer_id,
        contract_id=contract_id,
        reason=_clean_reason(reason),
        phone=e164,
        channel=channel,
        sender_id=sender_id,
    )
    row, error = _insert(session, availability.free_advisors(start), values)
    if error == ERROR_ALREADY_BOOKED:
        return _already_booked(session, customer_id, now)
    if row is None:
        return _failure(ERROR_SLOT_TAKEN, _alternatives(session, start, now))
    _notify_booked(session, row, now, confirmed_in_chat=confirmed_in_chat)
    return BookingResult(True, _view_of(session, row), (), None)


def upcoming_for_customer(session: Session, customer_id: int, now: datetime) -> AppointmentView | None:
    """The customer's booked call that has not ended yet, or None."""
    row = _upcoming_row(session, customer_id, now)
    return _view_of(session, row) if row else None


def cancel(
    session: Session,
    *,
    customer_id: int,
    appointment_id: int,
    now: datetime,
    reason: str | None = None,
    by: str = BY_CUSTOMER,
) -> bool:
    """Cancel the customer's own upcoming call; False (and nothing changed) for anyone else's or a past one.

    Ownership is part of the UPDATE's condition: the check and the change are one statement.
    """
    result = session.execute(
        update(Appointment)
        .where(
            Appointment.id == appointment_id,
            Appointment.customer_id == customer_id,
            Appointment.status == STATUS_BOOKED,
            Appointment.start_utc > now,
        )
        .values(
            status=STATUS_CANCELLED, cancel_reason=_clean_reason(reason or "") or None, cancelled_by=by, updated_at=now
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    abandon_pending(session, appointment_id, now, "call cancelled")
    return True


def reschedule(
    session: Session,
    *,
    customer_id: int,
    appointment_id: int,
    new_start: datetime,
    now: datetime,
    confirmed_in_chat: bool = False,
) -> BookingResult:
    """Move the customer's upcoming call to `new_start`, keeping its reason, phone, contract and the channel
    its notifications go to.

    Atomic: the old call is cancelled and the new one inserted inside one savepoint; if no advisor is free
    at `new_start` the savepoint is rolled back and the old call stands. The same advisor is preferred when
    free.
    """
    _close_past_calls(session, now, customer_id)
    old = session.execute(
        select(Appointment).where(
            Appointment.id == appointment_id,
            Appointment.customer_id == customer_id,
            Appointment.status == STATUS_BOOKED,
            Appointment.start_utc > now,
        )
    ).scalar_one_or_none()
    if old is None:
        return _failure(ERROR_NOT_OWNER)
    new_start_utc = to_utc(new_start)
    if new_start_utc == old.start_utc:
        return BookingResult(True, _view_of(session, old), (), None)
    if not is_bookable(new_start, now):
        return _failure(ERROR_NOT_BOOKABLE, _alternatives(session, new_start, now))

    values = _booked_values(
        new_start_utc,
        now,
        customer_id=customer_id,
        contract_id=old.contract_id,
        reason=old.reason,
        phone=old.phone,
        channel=old.channel,
        sender_id=old.sender_id,
    )
    candidates = _load_availability(session, new_start, new_start).free_advisors(new_start, prefer=old.advisor_id)
    outer = session.begin_nested()
    moved = session.execute(
        update(Appointment)
        .where(Appointment.id == old.id, Appointment.status == STATUS_BOOKED)
        .values(
            status=STATUS_CANCELLED,
            cancelled_by=BY_CUSTOMER,
            updated_at=now,
            cancel_reason=wording.moved_by_customer(to_local(new_start)),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:  # cancelled meanwhile by someone else
        outer.rollback()
        return _failure(ERROR_NOT_OWNER)
    row, error = _insert(session, candidates, values)
    if row is None:
        outer.rollback()
        session.expire(old)
        if error == ERROR_ALREADY_BOOKED:
            return _already_booked(session, customer_id, now)
        return _failure(ERROR_SLOT_TAKEN, _alternatives(session, new_start, now))
    outer.commit()
    session.expire(old)
    abandon_pending(session, old.id, now, "call moved")
    _notify_booked(session, row, now, moved=True, confirmed_in_chat=confirmed_in_chat)
    return BookingResult(True, _view_of(session, row), (), None)


# --------------------------------------------------------------------------- advisors


def _is_supervisor(session: Session, advisor_id: int) -> bool | None:
    """True/False for an active advisor, None for an unknown or inactive one."""
    row = session.execute(select(Advisor.is_supervisor, Advisor.active).where(Advisor.id == advisor_id)).first()
    if row is None or not row.active:
        return None
    return bool(row.is_supervisor)


def advisor_cancel(session: Session, *, advisor_id: int, appointment_id: int, reason: str, now: datetime) -> bool:
    """An advisor cancels their own upcoming call (a supervisor: anyone's); the customer is told why.

    Raises ValueError without a reason: the customer must be told something.
    """
    reason = _clean_reason(reason)
    if not reason:
        raise ValueError("a cancellation by an advisor needs a reason for the customer")
    supervisor = _is_supervisor(session, advisor_id)
    if supervisor is None:
        return False
    conditions = [Appointment.id == appointment_id, Appointment.status == STATUS_BOOKED, Appointment.end_utc > now]
    if not supervisor:
        conditions.append(Appointment.advisor_id == advisor_id)
    result = session.execute(
        update(Appointment)
        .where(and_(*conditions))
        .values(status=STATUS_CANCELLED, cancel_reason=reason, cancelled_by=BY_ADVISOR, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    row = session.get(Appointment, appointment_id)
    session.refresh(row)
    abandon_pending(session, row.id, now, "call cancelled by the advisor")
    text = wording.advisor_cancellation_notice(to_local(row.start_utc), reason)
    schedule(
        session,
        appointment_id=row.id,
        kind=KIND_CANCELLATION,
        channel=row.channel,
        sender_id=row.sender_id,
        text=text,
        due_at=now,
    )
    return True


def set_status(
    session: Session,
    *,
    scope: Scope,
    appointment_id: int,
    status: str,
    now: datetime | None = None,
) -> bool:
    """Mark a call of `scope` 'done' or 'missed' (an advisor's own calls; any call for a supervisor). With
    `now`, a call that has not started yet cannot be marked. False when not allowed or not found; nothing
    changes then."""
    if status not in (STATUS_DONE, STATUS_MISSED):
        raise ValueError(f"status must be 'done' or 'missed', not {status!r}")
    conditions = [Appointment.id == appointment_id, Appointment.status.in_((STATUS_BOOKED, STATUS_DONE, STATUS_MISSED))]
    conditions.extend(scope.conditions())
    if now is not None:
        conditions.append(Appointment.start_utc <= now)
    changed_at = now or clock.now()
    result = session.execute(
        update(Appointment)
        .where(and_(*conditions))
        .values(status=status, updated_at=changed_at)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        abandon_pending(session, appointment_id, changed_at, f"call marked {status}")
        return True
    return False


def mark_past_calls(session: Session, now: datetime) -> int:
    """Calls still 'booked' after the end of their day (Paris) become 'missed'; returns how many."""
    start_of_today = datetime.combine(to_local(now).date(), time(0), tzinfo=PARIS)
    result = session.execute(
        update(Appointment)
        .where(Appointment.status == STATUS_BOOKED, Appointment.end_utc <= to_utc(start_of_today))
        .values(status=STATUS_MISSED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def _customer_name(c: Customer) -> str:
    return c.company_name or " ".join(p for p in (c.civility, c.first_name, c.last_name) if p)


def calls_between(session: Session, *, advisor_id: int | None, start: datetime, end: datetime) -> list[ConsoleCall]:
    """Calls starting in [start, end), all statuses, chronological; advisor_id None = every advisor."""
    conditions = [Appointment.start_utc >= to_utc(start), Appointment.start_utc < to_utc(end)]
    if advisor_id is not None:
        conditions.append(Appointment.advisor_id == advisor_id)
    return console_calls(session, conditions)


def console_calls(
    session: Session, conditions: list, *, limit: int | None = None, newest_first: bool = False
) -> list[ConsoleCall]:
    """The calls matching `conditions` (on Appointment, Customer or Contract) with the customer's context,
    chronological (or newest first), at most `limit`."""
    order = (Appointment.start_utc.desc(),) if newest_first else (Appointment.start_utc,)
    query = (
        select(Appointment, Advisor.name, Customer, Contract)
        .join(Advisor, Advisor.id == Appointment.advisor_id)
        .join(Customer, Customer.id == Appointment.customer_id)
        .outerjoin(Contract, Contract.id == Appointment.contract_id)
        .where(and_(*conditions))
        .order_by(*order, Advisor.name, Appointment.id)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = session.execute(query).all()
    # A call booked without a contract still shows the contract when the customer has only one, and the
    # offer when all their contracts share it (a business with several sites).
    no_contract = {a.customer_id for a, _, _, c in rows if c is None}
    by_customer: dict[int, list[Contract]] = defaultdict(list)
    if no_contract:
        for c in session.execute(
            select(Contract).where(Contract.customer_id.in_(no_contract)).order_by(Contract.id)
        ).scalars():
            by_customer[c.customer_id].append(c)
    not_delivered = undelivered(session, [a.id for a, _, _, _ in rows])
    calls = []
    for a, advisor_name, customer, contract in rows:
        theirs = by_customer.get(a.customer_id, [])
        contract = contract or (theirs[0] if len(theirs) == 1 else None)
        offers = {contract.offer} if contract else {c.offer for c in theirs}
        calls.append(
            view_of(
                ConsoleCall,
                a,
                advisor_name=advisor_name,
                start=to_local(a.start_utc),
                end=to_local(a.end_utc),
                customer_number=customer.customer_number,
                customer_name=_customer_name(customer),
                offer_label=OFFER_LABELS.get(offers.pop()) if len(offers) == 1 else None,
                pdl=contract.pdl if contract else None,
                contract_number=contract.contract_number if contract else None,
                site_label=contract.site_label if contract else None,
                reminder_undelivered=a.id in not_delivered,
            )
        )
    return calls


def calls_for_day(session: Session, *, advisor_id: int | None, day: date) -> list[ConsoleCall]:
    """The calls of one Paris day; advisor_id None = a supervisor's view of every advisor."""
    start = datetime.combine(day, time(0), tzinfo=PARIS)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=PARIS)
    return calls_between(session, advisor_id=advisor_id, start=start, end=end)


def call_for_advisor(
    session: Session, *, advisor_id: int, appointment_id: int, is_supervisor: bool = False
) -> ConsoleCall | None:
    """One call if this advisor may see it (their own; any for a supervisor), else None."""
    row = session.execute(
        select(Appointment.start_utc, Appointment.advisor_id).where(Appointment.id == appointment_id)
    ).first()
    if row is None or not Scope.of(advisor_id, is_supervisor).sees(row.advisor_id):
        return None
    calls = calls_between(session, advisor_id=row.advisor_id, start=row.start_utc, end=row.start_utc + SLOT)
    return next((c for c in calls if c.id == appointment_id), None)
