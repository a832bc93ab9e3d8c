"""Consumption history, virtual battery, surplus and kitty, invoices and the payment schedule, on the seeded demo."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from hortense.billing.invoices import invoice_for_contract, recent_invoices, upcoming_instalments
from hortense.energy.consumption import battery_status, consumption_history
from hortense.db.models import (
    BatteryMovement,
    Contract,
    Instalment,
    Invoice,
    KittyUpdate,
    MonthlyConsumption,
    SurplusInjection,
)
from hortense.db.session import get_engine, session_scope
from hortense.energy.periods import Period, add_months, default_period, parse_period
from hortense.energy.surplus import kitty_amount, kitty_status, surplus_history, update_kitties

from tests.conftest import FIXED_TODAY

THIS_MONTH = date(2026, 11, 1)
LAST_COMPLETE = date(2026, 10, 1)


def contract_id(session, number: str) -> int:
    return session.execute(select(Contract.id).where(Contract.contract_number == number)).scalar_one()


def at(d: date, hour: int = 3) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=timezone.utc)


CAMILLE = "SV-2023-000101"  # Stockage Virtuel, monthly payer
JULIEN = "SV-2022-000102"  # Stockage Virtuel, pays per invoice
SOPHIE = "BMS-2023-000103"  # Boost Mon Surplus, 0.1269 €/kWh
MARC = "BMS-2024-000104"  # Boost Mon Surplus, 0.0761 €/kWh
BOULANGERIE = "EVP-2022-000105"  # Pro, monthly payer
NADIA = "SV-2026-000108"  # Stockage Virtuel, started 6 days ago: no history at all


# --- consumption ---------------------------------------------------------------------------------------------

def test_consumption_history_for_a_period(session):
    cid = contract_id(session, CAMILLE)
    period = parse_period("les 3 derniers mois", FIXED_TODAY)
    history = consumption_history(session, cid, period)
    rows = session.execute(
        select(MonthlyConsumption).where(MonthlyConsumption.contract_id == cid,
                                         MonthlyConsumption.month.between(period.start, period.end))
        .order_by(MonthlyConsumption.month)).scalars().all()
    assert history.period == period and history.has_any_data
    assert [m.month for m in history.months] == [date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)]
    assert [(m.peak_kwh, m.offpeak_kwh) for m in history.months] == [
        (Decimal(r.peak_kwh), Decimal(r.offpeak_kwh)) for r in rows]
    for m in history.months:
        assert m.total_kwh == m.peak_kwh + m.offpeak_kwh > 0
    assert history.peak_kwh == sum((Decimal(r.peak_kwh) for r in rows), Decimal(0))
    assert history.offpeak_kwh == sum((Decimal(r.offpeak_kwh) for r in rows), Decimal(0))
    assert history.total_kwh == history.peak_kwh + history.offpeak_kwh


def test_consumption_history_default_period_has_six_months(session):
    history = consumption_history(session, contract_id(session, BOULANGERIE), default_period(FIXED_TODAY))
    assert [m.month for m in history.months] == [add_months(LAST_COMPLETE, -k) for k in range(5, -1, -1)]


def test_consumption_history_only_of_the_contract_asked(session):
    period = Period(date(2026, 1, 1), LAST_COMPLETE, True)
    camille = consumption_history(session, contract_id(session, CAMILLE), period)
    julien = consumption_history(session, contract_id(session, JULIEN), period)
    assert len(camille.months) == len(julien.months) == 10
    assert camille.total_kwh != julien.total_kwh


def test_consumption_history_outside_the_data_still_knows_there_is_data(session):
    history = consumption_history(session, contract_id(session, CAMILLE), Period(date(2019, 1, 1),
                                                                                 date(2019, 12, 1), True))
    assert history.months == () and history.total_kwh == 0
    assert history.has_any_data is True


def test_consumption_history_current_month_has_no_reading_yet(session):
    history = consumption_history(session, contract_id(session, CAMILLE), parse_period("ce mois-ci", FIXED_TODAY))
    assert history.months == () and history.has_any_data


def test_consumption_history_of_a_customer_without_any_reading(session):
    history = consumption_history(session, contract_id(session, NADIA), default_period(FIXED_TODAY))
    assert history.months == ()
    assert history.has_any_data is False
    assert history.total_kwh == history.peak_kwh == history.offpeak_kwh == Decimal(0)


def test_consumption_history_of_a_boost_contract_is_empty(session):
    assert consumption_history(session, contract_id(session, SOPHIE), default_period(FIXED_TODAY)).has_any_data is False


# --- virtual battery -----------------------------------------------------------------------------------------

def _ledger(session, cid, until: date) -> list[BatteryMovement]:
    return session.execute(
        select(BatteryMovement).where(BatteryMovement.contract_id == cid, BatteryMovement.occurred_on <= until)
        .order_by(BatteryMovement.occurred_on, BatteryMovement.id)).scalars().all()


@pytest.mark.parametrize("number", [CAMILLE, JULIEN])
def test_battery_level_is_the_sum_of_the_ledger(session, number):
    cid = contract_id(session, number)
    status = battery_status(session, cid, FIXED_TODAY)
    ledger = _ledger(session, cid, FIXED_TODAY)
    assert status.level_kwh == sum((Decimal(str(m.kwh)) for m in ledger), Decimal(0))
    assert status.level_kwh > 0
    assert status.last_update == max(m.occurred_on for m in ledger)


@pytest.mark.parametrize("number", [CAMILLE, JULIEN])
def test_battery_month_movements_are_those_of_the_current_month(session, number):
    cid = contract_id(session, number)
    status = battery_status(session, cid, FIXED_TODAY)
    expected = [m for m in _ledger(session, cid, FIXED_TODAY) if m.occurred_on >= THIS_MONTH]
    assert status.movements_month == THIS_MONTH
    assert [(m.occurred_on, m.kwh, m.label) for m in status.month_movements] == [
        (m.occurred_on, Decimal(str(m.kwh)), m.label) for m in expected]
    assert status.month_stored_kwh == sum((Decimal(str(m.kwh)) for m in expected if m.kwh > 0), Decimal(0)) > 0
    assert status.month_used_kwh == -sum((Decimal(str(m.kwh)) for m in expected if m.kwh < 0), Decimal(0)) > 0


def test_battery_ledger_never_goes_below_zero(session):
    for number in (CAMILLE, JULIEN):
        level = Decimal(0)
        for m in _ledger(session, contract_id(session, number), FIXED_TODAY):
            level += Decimal(str(m.kwh))
            assert level >= 0, (number, m.occurred_on)


def test_battery_ignores_future_movements(session):
    cid = contract_id(session, CAMILLE)
    before = battery_status(session, cid, FIXED_TODAY)
    session.add(BatteryMovement(contract_id=cid, occurred_on=date(2026, 11, 28), kwh=Decimal("50.0"),
                                label="Surplus solaire stocké"))
    session.flush()
    assert battery_status(session, cid, FIXED_TODAY) == before
    later = battery_status(session, cid, date(2026, 11, 28))
    assert later.level_kwh == before.level_kwh + 50
    assert later.month_movements[-1].occurred_on == date(2026, 11, 28)


def test_battery_shows_the_latest_month_with_movements_when_this_month_has_none_yet(session):
    cid = contract_id(session, CAMILLE)
    early = date(2026, 11, 3)  # this month's movements are seeded on the 5th and the 15th
    status = battery_status(session, cid, early)
    assert status.movements_month == date(2026, 10, 1)
    assert status.month_movements and all(m.occurred_on.month == 10 for m in status.month_movements)
    assert status.level_kwh == sum((Decimal(str(m.kwh)) for m in _ledger(session, cid, early)), Decimal(0))


def test_battery_without_movements(session):
    status = battery_status(session, contract_id(session, NADIA), FIXED_TODAY)
    assert status.level_kwh == 0 and status.last_update is None
    assert status.month_movements == () and status.movements_month is None
    assert status.month_stored_kwh == status.month_used_kwh == 0


# --- surplus ---------------------------------------------------------------------------------------------------

def test_surplus_history_for_a_period(session):
    cid = contract_id(session, SOPHIE)
    period = parse_period("l'an dernier", FIXED_TODAY)
    history = surplus_history(session, cid, period)
    rows = session.execute(select(SurplusInjection).where(
        SurplusInjection.contract_id == cid, SurplusInjection.month.between(period.start, period.end))
        .order_by(SurplusInjection.month)).scalars().all()
    assert [m.month for m in history.months] == [date(2025, k, 1) for k in range(1, 13)]
    assert [m.kwh for m in history.months] == [Decimal(str(r.kwh)) for r in rows]
    assert history.total_kwh == sum((Decimal(str(r.kwh)) for r in rows), Decimal(0)) > 0
    assert history.has_any_data


def test_surplus_history_before_the_contract_and_for_other_offers(session):
    marc = surplus_history(session, contract_id(session, MARC), parse_period("en 2024", FIXED_TODAY))
    assert marc.months == () and marc.has_any_data  # started in July 2025
    camille = surplus_history(session, contract_id(session, CAMILLE), default_period(FIXED_TODAY))
    assert camille.months == () and camille.has_any_data is False


# --- kitty -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwh, price, expected", [
    ("197.7", "0.1269", "25.09"),  # 25.08813
    ("100", "0.1269", "12.69"),
    ("0.5", "0.01", "0.01"),  # exactly half a cent rounds up (not to even)
    ("2.5", "0.0761", "0.19"),  # 0.19025
    ("0.1", "0.0761", "0.01"),  # 0.00761
    ("0", "0.1269", "0.00"),
    ("1234.567", "0.12345", "152.41"),  # 152.4072...
])
def test_kitty_amount_rounds_half_up_to_the_cent(kwh, price, expected):
    amount = kitty_amount(Decimal(kwh), Decimal(price))
    assert amount == Decimal(expected)
    assert amount.as_tuple().exponent == -2


def test_kitty_amount_accepts_plain_numbers():
    assert kitty_amount(100, Decimal("0.0761")) == Decimal("7.61")


def _updates(session, cid) -> list[KittyUpdate]:
    return session.execute(select(KittyUpdate).where(KittyUpdate.contract_id == cid)
                           .order_by(KittyUpdate.month)).scalars().all()


@pytest.mark.parametrize("number", [SOPHIE, MARC])
def test_seeded_kitty_is_a_running_balance_of_every_complete_month(session, number):
    cid = contract_id(session, number)
    contract = session.get(Contract, cid)
    injections = session.execute(select(SurplusInjection).where(SurplusInjection.contract_id == cid)
                                 .order_by(SurplusInjection.month)).scalars().all()
    updates = _updates(session, cid)
    assert [u.month for u in updates] == [i.month for i in injections]
    assert updates[-1].month == LAST_COMPLETE
    balance = Decimal(0)
    for injection, update in zip(injections, updates):
        amount = kitty_amount(Decimal(str(injection.kwh)), Decimal(str(contract.resale_price_eur_per_kwh)))
        balance += amount
        assert Decimal(str(update.amount_eur)) == amount
        assert Decimal(str(update.balance_eur)) == balance
    status = kitty_status(session, cid)
    assert status.month == LAST_COMPLETE and status.balance_eur == balance


def test_kitty_status_before_any_update(session):
    assert kitty_status(session, contract_id(session, CAMILLE)) is None


def test_update_kitties_is_idempotent(session):
    assert update_kitties(session, at(FIXED_TODAY)) == 0  # the seed already ran it for this day
    assert update_kitties(session, at(FIXED_TODAY)) == 0
    assert update_kitties(session, at(date(2026, 11, 30), 23)) == 0


def test_new_injection_month_creates_exactly_one_update(session):
    cid = contract_id(session, SOPHIE)
    previous = kitty_status(session, cid)
    count_before = len(_updates(session, cid))
    session.add(SurplusInjection(contract_id=cid, month=THIS_MONTH, kwh=Decimal("123.4")))
    session.flush()

    assert update_kitties(session, at(FIXED_TODAY)) == 0  # November is not complete yet
    assert kitty_status(session, cid) == previous

    december = at(date(2026, 12, 1))
    assert update_kitties(session, december) == 1
    status = kitty_status(session, cid)
    expected_amount = kitty_amount(Decimal("123.4"), Decimal("0.1269"))  # 15.65946 -> 15.66
    assert expected_amount == Decimal("15.66")
    assert (status.month, status.kwh, status.price_eur_per_kwh) == (THIS_MONTH, Decimal("123.4"), Decimal("0.1269"))
    assert status.amount_eur == expected_amount
    assert status.balance_eur == previous.balance_eur + expected_amount
    assert status.computed_at.replace(tzinfo=timezone.utc) == december

    assert len(_updates(session, cid)) == count_before + 1

    assert update_kitties(session, december) == 0
    assert update_kitties(session, at(date(2027, 1, 1))) == 0
    assert [u.month for u in _updates(session, cid)].count(THIS_MONTH) == 1
    assert len(_updates(session, cid)) == count_before + 1


def test_update_kitties_ignores_the_current_month_even_at_its_last_second(session):
    cid = contract_id(session, MARC)
    session.add(SurplusInjection(contract_id=cid, month=THIS_MONTH, kwh=Decimal("10")))
    session.flush()
    assert update_kitties(session, datetime(2026, 11, 30, 23, 59, 59, tzinfo=timezone.utc)) == 0
    assert kitty_status(session, cid).month == LAST_COMPLETE


def test_update_kitties_skips_contracts_without_a_resale_price_or_not_active(session):
    sophie = session.get(Contract, contract_id(session, SOPHIE))
    marc = session.get(Contract, contract_id(session, MARC))
    for c in (sophie, marc):
        session.add(SurplusInjection(contract_id=c.id, month=THIS_MONTH, kwh=Decimal("10")))
    sophie.resale_price_eur_per_kwh = None
    marc.status = "terminated"
    session.flush()
    assert update_kitties(session, at(date(2026, 12, 1))) == 0
    assert kitty_status(session, sophie.id).month == LAST_COMPLETE
    assert kitty_status(session, marc.id).month == LAST_COMPLETE


def _add_november_injections(url) -> dict[int, Decimal]:
    """November's injections for both Boost contracts; returns the kitty amount each should earn."""
    with session_scope(url) as s:
        earned = {}
        for number, kwh, price in ((SOPHIE, "100.0", "0.1269"), (MARC, "200.0", "0.0761")):
            cid = contract_id(s, number)
            s.add(SurplusInjection(contract_id=cid, month=THIS_MONTH, kwh=Decimal(kwh)))
            earned[cid] = kitty_amount(Decimal(kwh), Decimal(price))
    return earned


def _balances(url) -> dict[int, list[tuple[date, Decimal]]]:
    with session_scope(url) as s:
        rows = s.execute(select(KittyUpdate.contract_id, KittyUpdate.month, KittyUpdate.balance_eur)
                         .order_by(KittyUpdate.contract_id, KittyUpdate.month)).all()
    out: dict[int, list[tuple[date, Decimal]]] = {}
    for cid, month, balance in rows:
        out.setdefault(cid, []).append((month, Decimal(str(balance))))
    return out


def test_two_runs_in_separate_sessions_do_not_double(seeded_db):
    earned = _add_november_injections(seeded_db)
    december = at(date(2026, 12, 1))
    with session_scope(seeded_db) as first:
        assert update_kitties(first, december) == 2
    with session_scope(seeded_db) as second:
        assert update_kitties(second, december) == 0
    after = _balances(seeded_db)
    for cid, amount in earned.items():
        assert after[cid][-1] == (THIS_MONTH, after[cid][-2][1] + amount)
    with session_scope(seeded_db) as s:
        counts = s.execute(select(KittyUpdate.contract_id, KittyUpdate.month, func.count())
                           .group_by(KittyUpdate.contract_id, KittyUpdate.month)).all()
    assert counts and all(n == 1 for _, _, n in counts)


def test_two_interleaved_runs_do_not_double(seeded_db):
    """Run B reads what is already done, then run A completes and commits before B writes.

    Either B's inserts hit the unique constraint and are rolled back one by one (B commits, having created
    nothing), or the database refuses B's stale write as a whole (SQLite with real transactions). Never
    a second update for a month, never a wrong balance."""
    earned = _add_november_injections(seeded_db)
    before = _balances(seeded_db)
    december = at(date(2026, 12, 1))
    created_a = []
    conflicts = []

    @event.listens_for(get_engine(seeded_db), "handle_error")
    def record(context):
        conflicts.append(context.sqlalchemy_exception)

    try:
        with session_scope(seeded_db) as b:
            @event.listens_for(b, "do_orm_execute")
            def run_a_in_between(state):
                if not created_a and "FROM surplus_injections" in str(state.statement):
                    with session_scope(seeded_db) as a:
                        created_a.append(update_kitties(a, december))

            created_b = update_kitties(b, december)
    except OperationalError:  # "database is locked": B's snapshot is stale, B is rolled back whole
        assert created_a == [2]
    else:
        assert created_a == [2] and created_b == 0
        assert conflicts and all(isinstance(e, IntegrityError) and "kitty_updates" in e.statement
                                 for e in conflicts)  # B did collide, and recovered

    after = _balances(seeded_db)
    for cid, amount in earned.items():
        assert after[cid][:-1] == before[cid]
        assert after[cid][-1] == (THIS_MONTH, before[cid][-1][1] + amount)


def test_update_kitties_is_part_of_the_callers_transaction(seeded_db):
    """`session_scope` promises a rollback when the block raises; the kitty updates must go with it.

    Fails today on SQLite (see the report): pysqlite does not emit BEGIN before a SAVEPOINT, so when
    update_kitties runs first in a session its `begin_nested()` opens the transaction itself and the
    RELEASE SAVEPOINT commits it: the updates survive the caller's rollback."""
    _add_november_injections(seeded_db)
    before = _balances(seeded_db)
    with pytest.raises(RuntimeError):
        with session_scope(seeded_db) as s:
            assert update_kitties(s, at(date(2026, 12, 1))) == 2
            raise RuntimeError("the monthly job fails after computing the kitties")
    assert _balances(seeded_db) == before


# --- invoices ------------------------------------------------------------------------------------------------------

def test_recent_invoices_are_the_latest_first(session):
    cid = contract_id(session, CAMILLE)
    invoices = recent_invoices(session, cid)
    assert len(invoices) == 4
    issued = [i.issued_on for i in invoices]
    assert issued == sorted(issued, reverse=True) and len(set(issued)) == 4
    latest = session.execute(select(func.max(Invoice.issued_on)).where(Invoice.contract_id == cid)).scalar_one()
    assert issued[0] == latest == date(2026, 11, 3)
    assert all(i.number.endswith("-000101") for i in invoices)
    assert all(i.kind == "consumption" and i.is_settled for i in invoices)  # a monthly payer owes nothing


def _invoice(cid, number, issued_on, amount="10.00"):
    return Invoice(contract_id=cid, number=number, kind="consumption", issued_on=issued_on,
                   period_start=date(2024, 1, 1), period_end=date(2024, 1, 31), amount_eur=Decimal(amount),
                   status="paid", due_date=issued_on, paid_on=issued_on)


def test_recent_invoices_are_ordered_by_issue_date_not_by_insertion(session):
    cid = contract_id(session, CAMILLE)
    before = recent_invoices(session, cid)
    session.add(_invoice(cid, "F-LATE-ENTRY-OLD", date(2024, 2, 3)))  # recorded last, issued long ago
    session.flush()
    assert recent_invoices(session, cid) == before
    session.add(_invoice(cid, "F-SAME-DAY-1", date(2026, 11, 20)))
    session.add(_invoice(cid, "F-SAME-DAY-2", date(2026, 11, 20)))
    session.flush()
    assert [i.number for i in recent_invoices(session, cid)] == [
        "F-SAME-DAY-2", "F-SAME-DAY-1", before[0].number, before[1].number]


def test_recent_invoices_limit(session):
    cid = contract_id(session, CAMILLE)
    assert [i.number for i in recent_invoices(session, cid, limit=2)] == [
        i.number for i in recent_invoices(session, cid)[:2]]
    total = session.execute(select(func.count()).select_from(Invoice).where(Invoice.contract_id == cid)).scalar_one()
    assert len(recent_invoices(session, cid, limit=100)) == total


def test_recent_invoices_of_a_non_monthly_payer_start_with_the_unpaid_one(session):
    latest, *older = recent_invoices(session, contract_id(session, JULIEN))
    assert latest.status == "unpaid" and not latest.is_settled and latest.paid_on is None
    assert latest.due_date > latest.issued_on
    assert all(i.is_settled for i in older)


def test_recent_invoices_of_a_boost_contract_are_resale_invoices(session):
    latest, *older = recent_invoices(session, contract_id(session, SOPHIE))
    assert latest.kind == "resale" and latest.status == "to_be_paid_to_customer" and not latest.is_settled
    assert all(i.kind == "resale" and i.status == "paid_to_customer" and i.is_settled for i in older)


def test_recent_invoices_of_a_customer_without_history(session):
    assert recent_invoices(session, contract_id(session, NADIA)) == ()


def test_invoice_for_contract_checks_ownership(session):
    camille, sophie = contract_id(session, CAMILLE), contract_id(session, SOPHIE)
    own = recent_invoices(session, camille)[0]
    other = recent_invoices(session, sophie)[0]
    assert invoice_for_contract(session, camille, own.number) == own
    assert invoice_for_contract(session, camille, other.number) is None  # exists, but not Camille's
    assert invoice_for_contract(session, sophie, own.number) is None
    assert invoice_for_contract(session, camille, "F000000-000000") is None


def test_invoice_ownership_between_the_two_sites_of_one_business(session):
    atelier, boutique = contract_id(session, "EVP-2021-000106"), contract_id(session, "EVP-2023-000107")
    invoice = recent_invoices(session, boutique)[0]
    assert invoice_for_contract(session, boutique, invoice.number) == invoice
    assert invoice_for_contract(session, atelier, invoice.number) is None


# --- instalments -------------------------------------------------------------------------------------------------

def test_upcoming_instalments_are_scheduled_and_future(session):
    cid = contract_id(session, CAMILLE)
    upcoming = upcoming_instalments(session, cid, FIXED_TODAY)
    assert [i.due_date for i in upcoming] == [date(2026, 12, 5), date(2027, 1, 5), date(2027, 2, 5)]
    assert all(i.status == "scheduled" and i.amount_eur > 0 for i in upcoming)
    # November's debit (the 5th) is past and paid
    past = session.execute(select(Instalment).where(Instalment.contract_id == cid,
                                                    Instalment.due_date < FIXED_TODAY)).scalars().all()
    assert past and all(i.status == "paid" for i in past)


def test_upcoming_instalments_skip_past_and_non_scheduled_ones(session):
    cid = contract_id(session, CAMILLE)
    december = session.execute(select(Instalment).where(Instalment.contract_id == cid,
                                                        Instalment.due_date == date(2026, 12, 5))).scalar_one()
    december.status = "paid"  # paid early
    session.add(Instalment(contract_id=cid, due_date=date(2026, 11, 25), amount_eur=Decimal("80.00"),
                           status="scheduled"))  # yesterday, never collected
    session.add(Instalment(contract_id=cid, due_date=FIXED_TODAY, amount_eur=Decimal("80.00"),
                           status="scheduled"))  # today still counts
    session.flush()
    upcoming = upcoming_instalments(session, cid, FIXED_TODAY)
    assert [i.due_date for i in upcoming] == [FIXED_TODAY, date(2027, 1, 5), date(2027, 2, 5)]


def test_upcoming_instalments_limit(session):
    cid = contract_id(session, BOULANGERIE)
    assert len(upcoming_instalments(session, cid, FIXED_TODAY, limit=12)) == 11
    assert len(upcoming_instalments(session, cid, FIXED_TODAY, limit=1)) == 1


def test_upcoming_instalments_of_a_non_monthly_payer_and_a_new_customer(session):
    assert upcoming_instalments(session, contract_id(session, JULIEN), FIXED_TODAY) == ()
    nadia = upcoming_instalments(session, contract_id(session, NADIA), FIXED_TODAY)
    assert [i.due_date for i in nadia] == [date(2026, 12, 20), date(2027, 1, 20), date(2027, 2, 20)]
