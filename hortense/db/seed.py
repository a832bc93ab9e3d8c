"""Demo customers of every offer, with history generated relative to `today` so the demo always looks current.

The customers and their sites are data: hortense/db/data/demo_customers.yml, read by `demo_customers()`.

Values are deterministic for a given `today` (seeded random generators per contract), so tests can
re-derive them through the domain layer. Seeding is idempotent: it does nothing when customers exist.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from hortense import clock
from hortense.db import demo_data, models
from hortense.db.models import OFFER_BOOST, OFFER_PRO, OFFER_STOCKAGE
from hortense.energy.periods import add_months as _add_months
from hortense.energy.surplus import update_kitties

# The same few months are shifted millions of times by the scale seed (hortense/db/seed_scale.py): cached.
add_months = lru_cache(maxsize=8192)(_add_months)

# Price used to turn demo consumption into invoice amounts (€/kWh, taxes included).
DEMO_PRICE = Decimal("0.2516")


@dataclass
class SiteSpec:
    contract_number: str
    offer: str
    pdl: str
    address: str
    postcode: str
    city: str
    months_ago_started: int
    kva: int
    monthly: bool
    offpeak: list[tuple]  # (start, end) or (start, end, season, start_month, end_month)
    site_label: str | None = None
    instalment_day: int | None = None
    resale_price: str | None = None
    base_kwh: int = 300
    empty_history: bool = False
    history_seed: str | None = None  # seeds the history's random generator (default: the contract number)


@dataclass
class CustomerSpec:
    number: str
    civility: str
    first: str
    last: str
    email: str
    phone: str
    address: str
    postcode: str
    city: str
    sites: list[SiteSpec] = field(default_factory=list)
    company: str | None = None


@dataclass(frozen=True)
class _Season:
    """The months of a season of off-peak hours (first and last, inclusive)."""

    start_month: int
    end_month: int


@cache
def demo_customers() -> tuple[CustomerSpec, ...]:
    """The demo customers and their sites, as hortense/db/data/demo_customers.yml writes them (read once)."""
    name = "demo_customers.yml"
    content = demo_data.read(name)
    seasons = content.get("seasons")
    if not isinstance(seasons, dict):
        raise demo_data.DemoDataError(f"{name}: a mapping of seasons expected under 'seasons'")
    months = {season: demo_data.record(_Season, raw, f"{name}, seasons.{season}") for season, raw in seasons.items()}

    def offpeak(value: Any, where: str) -> list[tuple]:
        if not isinstance(value, list) or not value:
            raise demo_data.DemoDataError(f"{where}: a non-empty list of off-peak ranges expected")
        ranges: list[tuple] = []
        for k, item in enumerate(value, 1):
            at = f"{where}[{k}]"
            if not isinstance(item, dict):
                ranges.append(demo_data.time_range(item, at))
                continue
            if set(item) != {"hours", "season"}:
                raise demo_data.DemoDataError(f'{at}: a range "HH:MM-HH:MM" or {{hours: ..., season: ...}} expected')
            if item["season"] not in months:
                raise demo_data.DemoDataError(f"{at}: unknown season {item['season']!r} (seasons: {', '.join(months)})")
            season = months[item["season"]]
            ranges.append(
                (*demo_data.time_range(item["hours"], at), item["season"], season.start_month, season.end_month)
            )
        return ranges

    def offer(value: Any, where: str) -> str:
        if value not in models.OFFERS:
            raise demo_data.DemoDataError(f"{where}: {value!r} is not an offer ({', '.join(models.OFFERS)})")
        return value

    site_fields = {"offer": offer, "offpeak": offpeak, "resale_price": demo_data.decimal_text}

    def sites(value: Any, where: str) -> list[SiteSpec]:
        if not isinstance(value, list) or not value:
            raise demo_data.DemoDataError(f"{where}: a non-empty list of sites expected")
        return [
            demo_data.record(SiteSpec, raw, demo_data.named(f"{where}[{k}]", raw, "contract_number"), site_fields)
            for k, raw in enumerate(value, 1)
        ]

    return tuple(
        demo_data.record(CustomerSpec, raw, demo_data.named(f"{name}, customers[{k}]", raw, "number"), {"sites": sites})
        for k, raw in enumerate(demo_data.table(content, "customers", name), 1)
    )


# Seasonal shape of demand and of solar production, January..December.
DEMAND = [1.45, 1.35, 1.15, 0.95, 0.8, 0.7, 0.7, 0.7, 0.8, 1.0, 1.25, 1.45]
SOLAR = [0.35, 0.5, 0.8, 1.1, 1.35, 1.5, 1.55, 1.4, 1.1, 0.75, 0.45, 0.3]


def _kwh(x: float) -> Decimal:
    return Decimal(str(round(x, 1)))


def _months(start: date, last: date):
    m = start
    while m <= last:
        yield m
        m = add_months(m, 1)


def address_values(prefix: str, spec: CustomerSpec | SiteSpec) -> dict:
    """A spec's address as the `billing_*` (customer) or `supply_*` (contract) columns, made alike by
    `models.address_columns`."""
    return {f"{prefix}_address": spec.address, f"{prefix}_postcode": spec.postcode, f"{prefix}_city": spec.city}


def customer_values(spec: CustomerSpec) -> dict:
    """The customer row of a spec (without `id`)."""
    return dict(
        customer_number=spec.number,
        civility=spec.civility,
        first_name=spec.first,
        last_name=spec.last,
        company_name=spec.company,
        email=spec.email,
        phone=spec.phone,
        **address_values("billing", spec),
        is_active=True,
    )


def contract_values(spec: SiteSpec, today: date) -> dict:
    """The contract row of a site (without `customer_id`), dated relative to `today`."""
    this_month = date(today.year, today.month, 1)
    start = add_months(this_month, -spec.months_ago_started)
    start_date = start.replace(day=min(today.day, 28)) if spec.months_ago_started == 0 else start.replace(day=1)
    if spec.empty_history:
        start_date = date.fromordinal(today.toordinal() - 6)
    return dict(
        contract_number=spec.contract_number,
        offer=spec.offer,
        pdl=spec.pdl,
        site_label=spec.site_label,
        **address_values("supply", spec),
        start_date=start_date,
        subscribed_power_kva=spec.kva,
        monthly_payment=spec.monthly,
        instalment_day=spec.instalment_day,
        resale_price_eur_per_kwh=Decimal(spec.resale_price) if spec.resale_price else None,
        status="active",
    )


def offpeak_values(spec: SiteSpec) -> list[dict]:
    """The off-peak range rows of a site (without `contract_id`): all-year, or seasonal with their months."""
    rows = []
    for r in spec.offpeak:
        if len(r) == 2:
            rows.append(
                dict(start_time=r[0], end_time=r[1], season=None, season_start_month=None, season_end_month=None)
            )
        else:
            rows.append(
                dict(start_time=r[0], end_time=r[1], season=r[2], season_start_month=r[3], season_end_month=r[4])
            )
    return rows


def history_rows(spec: SiteSpec, contract_id: int, today: date) -> dict[Any, list[dict]]:
    """A site's history as rows per model, in insertion order: monthly consumption and bimonthly invoices
    (Stockage Virtuel, Pro), virtual-battery movements (Stockage Virtuel), surplus injections and quarterly
    resale invoices (Boost Mon Surplus), instalments (monthly payers). Deterministic for a given spec and
    `today` (a random generator seeded by `spec.history_seed`, else the contract number). Kitty updates are not
    here: they are computed from the injections by `hortense.energy.surplus` (`update_kitties`)."""
    this_month = date(today.year, today.month, 1)
    start = add_months(this_month, -spec.months_ago_started)
    rng = random.Random(spec.history_seed or spec.contract_number)
    last_complete = add_months(this_month, -1)
    history = [] if spec.empty_history else list(_months(max(start, add_months(this_month, -24)), last_complete))
    rows: dict[Any, list[dict]] = {}

    if spec.offer in (OFFER_STOCKAGE, OFFER_PRO):
        consumption = rows.setdefault(models.MonthlyConsumption, [])
        for m in history:
            total = spec.base_kwh * DEMAND[m.month - 1] * rng.uniform(0.9, 1.1)
            share = rng.uniform(0.3, 0.42)
            consumption.append(
                dict(
                    contract_id=contract_id,
                    month=m,
                    peak_kwh=_kwh(total * (1 - share)),
                    offpeak_kwh=_kwh(total * share),
                )
            )
        rows.setdefault(models.Invoice, []).extend(_consumption_invoices(contract_id, spec, history))
    if spec.offer == OFFER_STOCKAGE and history:
        battery = rows.setdefault(models.BatteryMovement, [])
        level = 0.0
        for m in list(history) + [this_month]:
            stored = spec.base_kwh * 0.6 * SOLAR[m.month - 1] * rng.uniform(0.85, 1.15)
            used = min(level + stored, spec.base_kwh * 0.55 * DEMAND[m.month - 1] * rng.uniform(0.85, 1.15))
            day_in = 15 if m < this_month else max(1, min(today.day - 1, 15))
            battery.append(
                dict(
                    contract_id=contract_id,
                    occurred_on=m.replace(day=max(1, day_in - 10)),
                    kwh=_kwh(stored),
                    label="Surplus solaire stocké",
                )
            )
            battery.append(
                dict(
                    contract_id=contract_id,
                    occurred_on=m.replace(day=day_in),
                    kwh=_kwh(-used),
                    label="Énergie restituée",
                )
            )
            level += round(stored, 1) - round(used, 1)
    if spec.offer == OFFER_BOOST:
        rows.setdefault(models.SurplusInjection, []).extend(
            dict(
                contract_id=contract_id, month=m, kwh=_kwh(spec.base_kwh * SOLAR[m.month - 1] * rng.uniform(0.85, 1.15))
            )
            for m in history
        )
        rows.setdefault(models.Invoice, []).extend(_resale_invoices(contract_id, spec, history))
    if spec.monthly:
        rows.setdefault(models.Instalment, []).extend(_instalments(contract_id, spec, today))
    return rows


def _seed_site(session: Session, customer: models.Customer, spec: SiteSpec, today: date) -> None:
    values = contract_values(spec, today)
    contract = models.Contract(customer=customer, **values)
    session.add(contract)
    for r in offpeak_values(spec):
        contract.offpeak_ranges.append(models.OffpeakRange(**r))
    session.flush()
    for model, rows in history_rows(spec, contract.id, today).items():
        if rows:
            session.execute(insert(model), rows)


def _consumption_invoices(contract_id: int, spec: SiteSpec, history: list[date]) -> list[dict]:
    """Bimonthly invoices; the latest one of a non-monthly payer is still to be paid."""
    pairs = [history[i : i + 2] for i in range(len(history) % 2, len(history), 2)]
    rows = []
    for index, pair in enumerate(pairs):
        period_start, period_end = pair[0], add_months(pair[-1], 1)
        issued = period_end.replace(day=3)
        kwh = sum(spec.base_kwh * DEMAND[m.month - 1] for m in pair)
        amount = (Decimal(str(round(kwh))) * _price_for(spec)).quantize(Decimal("0.01"))
        latest = index == len(pairs) - 1
        unpaid = latest and not spec.monthly
        rows.append(
            dict(
                contract_id=contract_id,
                number=f"F{issued:%Y%m}-{spec.contract_number[-6:]}",
                kind="consumption",
                issued_on=issued,
                period_start=period_start,
                period_end=date.fromordinal(period_end.toordinal() - 1),
                amount_eur=amount,
                status="unpaid" if unpaid else "paid",
                due_date=date.fromordinal(issued.toordinal() + 14),
                paid_on=None if unpaid else date.fromordinal(issued.toordinal() + 10),
            )
        )
    return rows


def _price_for(spec: SiteSpec) -> Decimal:
    return DEMO_PRICE if spec.offer == OFFER_STOCKAGE else Decimal("0.2204")


def _resale_invoices(contract_id: int, spec: SiteSpec, history: list[date]) -> list[dict]:
    """Quarterly resale invoices (the supplier pays the customer for the surplus)."""
    quarters: dict[tuple[int, int], list[date]] = {}
    for m in history:
        quarters.setdefault((m.year, (m.month - 1) // 3), []).append(m)
    complete = [months for months in quarters.values() if len(months) == 3]
    assert spec.resale_price is not None, "a Boost Mon Surplus contract has a resale price"
    rows = []
    for index, months in enumerate(complete):
        issued = add_months(months[-1], 1).replace(day=8)
        kwh = sum(spec.base_kwh * SOLAR[m.month - 1] for m in months)
        amount = (Decimal(str(round(kwh))) * Decimal(spec.resale_price)).quantize(Decimal("0.01"))
        latest = index == len(complete) - 1
        rows.append(
            dict(
                contract_id=contract_id,
                number=f"R{issued:%Y%m}-{spec.contract_number[-6:]}",
                kind="resale",
                issued_on=issued,
                period_start=months[0],
                period_end=date.fromordinal(add_months(months[-1], 1).toordinal() - 1),
                amount_eur=amount,
                status="to_be_paid_to_customer" if latest else "paid_to_customer",
                due_date=date.fromordinal(issued.toordinal() + 30),
                paid_on=None if latest else date.fromordinal(issued.toordinal() + 21),
            )
        )
    return rows


def _instalments(contract_id: int, spec: SiteSpec, today: date) -> list[dict]:
    """Six past debits (paid) and twelve to come, on the contract's instalment day."""
    assert spec.instalment_day is not None, "a monthly payer has an instalment day"
    amount = (Decimal(spec.base_kwh) * _price_for(spec)).quantize(Decimal("1")) + Decimal("0.00")
    this_month = date(today.year, today.month, 1)
    rows = []
    for offset in range(-6, 12):
        due = add_months(this_month, offset).replace(day=spec.instalment_day)
        if spec.empty_history and due <= today:
            continue
        rows.append(
            dict(
                contract_id=contract_id, due_date=due, amount_eur=amount, status="paid" if due < today else "scheduled"
            )
        )
    return rows


def seed_demo(session: Session, today: date | None = None, customers: Sequence[CustomerSpec] | None = None) -> int:
    """Insert the demo customers (or `customers`) unless the database already has customers; returns how many were
    added."""
    if session.execute(select(func.count()).select_from(models.Customer)).scalar_one():
        return 0
    today = today or clock.today()
    customers = demo_customers() if customers is None else customers
    for spec in customers:
        customer = models.Customer(**customer_values(spec))
        session.add(customer)
        for site in spec.sites:
            _seed_site(session, customer, site, today)
    session.flush()
    update_kitties(session, datetime.combine(today, time(3, 0), tzinfo=timezone.utc))
    return len(customers)
