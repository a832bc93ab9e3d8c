"""A supplier-sized database: `python -m hortense db seed --customers 100000 [--seed 1]`.

On top of the demo customers (`hortense.db.seed`, left as they are: C1001… answer the same), generated customers
up to `--customers` in all, with the demo seed's own rules for everything a contract records: the contract row,
its off-peak ranges and its history come from `seed.contract_values`, `seed.offpeak_values` and
`seed.history_rows` (24 months of readings, bimonthly or quarterly invoices, instalments, battery movements,
surplus injections), and the kitty from `hortense.energy.surplus.kitty_amount`, month after month, as the
scheduler's `update_kitties` records it. What varies is drawn from one random generator seeded by `--seed`:

- offers in a supplier's shares (`OFFER_SHARES`), monthly instalments or bimonthly invoices (`MONTHLY_SHARE`),
  the power, the size of the home or business, when the contract started (some this very week: no history);
- businesses (Électricité verte Pro), some with several sites (2 to 5 contracts);
- the off-peak ranges and resale prices of the demo contracts (the catalogue the demo already shows);
- 200 advisors (the demo ones included) and a year of calls: past calls done, missed or cancelled with the
  advisors' notes, calls of the last days still waiting for their outcome, booked calls for the next weeks,
  with their confirmation and reminder notifications.

Written in bulk: COPY on PostgreSQL, executemany in chunks on SQLite, rows numbered here (then PostgreSQL's
sequences are moved past them). Same `--seed`, same `today`, same database: same rows.
"""

from __future__ import annotations

import io
import random
import sys
import time as time_mod
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from sqlalchemy import Table, func, select
from sqlalchemy.engine import Connection, Engine

from hortense import clock
from hortense.db import seed
from hortense.db.calendar_models import (
    STATUS_BOOKED,
    STATUS_CANCELLED,
    STATUS_DONE,
    STATUS_MISSED,
    Advisor,
    AdvisorWorkingHours,
    Appointment,
    Notification,
)
from hortense.db.console_models import OUTCOME_DONE, OUTCOME_MISSED, CallOutcome
from hortense.db.models import (
    OFFER_BOOST,
    OFFER_PRO,
    OFFER_STOCKAGE,
    BatteryMovement,
    Contract,
    Customer,
    Instalment,
    Invoice,
    KittyUpdate,
    MonthlyConsumption,
    OffpeakRange,
    SurplusInjection,
)
from hortense.db.seed import add_months
from hortense.energy.surplus import kitty_amount

T = TypeVar("T")
NUMBER_PREFIX = "C2"  # generated customers: C2000001…, never a demo number (C1001…) nor a bench clone (C011001…)
FIRST_SERIAL = 200_000  # contract serials: the last 6 digits name the invoices, apart from the demo ones
OFFER_SHARES = ((OFFER_STOCKAGE, 0.45), (OFFER_BOOST, 0.33), (OFFER_PRO, 0.22))
MONTHLY_SHARE = {OFFER_STOCKAGE: 0.62, OFFER_BOOST: 0.55, OFFER_PRO: 0.7}
MULTI_SITE_SHARE = 0.15  # of the businesses: 2 to 5 sites
NEW_CONTRACT_SHARE = 0.01  # started this week: no history yet
ADVISORS = 200
CALLS_PER_CUSTOMER_YEAR = 1.0  # about one call a year per customer…
MAX_CALLS_PER_ADVISOR_DAY = 4  # …spread over the advisors (2 a day each with 100,000 customers and 200 advisors)
PAST_DAYS = 365
FUTURE_DAYS = 21
AWAITING_DAYS = 1  # calls of the last day may still wait for their outcome (AWAITING_SHARE of them)
AWAITING_SHARE = 0.4
BATCH = 2000  # customers per written batch


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(","))


FIRST_NAMES = _names(
    "Camille, Julien, Sophie, Marc, Léa, Thomas, Nadia, Paul, Emma, Lucas, Chloé, Hugo, Manon, Louis, Inès, "
    "Gabriel, Sarah, Arthur, Jade, Raphaël, Louise, Nathan, Alice, Théo, Lina, Adam, Zoé, Jules, Anna, Tom, "
    "Clara, Enzo, Rose, Maxime, Juliette, Antoine, Margaux, Nicolas, Pauline, Alexandre, Élodie, Mathieu, "
    "Céline, Romain, Aurélie, Yanis, Fatima, Karim, Mélanie, Sébastien"
)
LAST_NAMES = _names(
    "Martin, Bernard, Dubois, Thomas, Robert, Richard, Petit, Durand, Leroy, Moreau, Simon, Laurent, Lefebvre, "
    "Michel, Garcia, David, Bertrand, Roux, Vincent, Fournier, Morel, Girard, André, Lefèvre, Mercier, Dupont, "
    "Lambert, Bonnet, François, Martinez, Legrand, Garnier, Faure, Rousseau, Blanc, Guerin, Muller, Henry, "
    "Roussel, Nicolas, Perrin, Morin, Mathieu, Clément, Gauthier, Dumont, Lopez, Fontaine, Chevalier, Robin, "
    "Masson, Sanchez, Gérard, Nguyen, Boyer, Denis, Lemaire, Duval, Joly, Gautier, Roger, Roche, Roy, Noël, "
    "Meyer, Lucas, Meunier, Jean, Perez, Marchand, Dufour, Blanchard, Marie, Barbier, Brun, Dumas, Brunet, "
    "Schmitt, Leroux, Colin, Fernandez, Pierre, Renard, Arnaud, Rolland, Caron, Aubert, Giraud, Leclerc, Vidal, "
    "Bourgeois, Renaud, Lemoine, Picard, Gaillard, Philippe, Leclercq, Lacroix, Fabre, Dupuis, Olivier, "
    "Rodriguez, Da Silva, Hubert, Louis, Charles, Guillot, Rivière, Le Gall, Guillaume, Adam, Rey, Moulin, "
    "Gonzalez, Berger, Lecomte, Menard, Fleury, Deschamps, Carpentier, Julien, Benoit, Paris, Maillard, Marchal, "
    "Aubry, Vasseur, Le Roux, Renault, Jacquet, Collet, Prévost, Poirier, Charpentier, Royer, Huet, Baron, "
    "Dupuy, Pons, Paul, Laine, Carré, Breton, Haddad, Benali, Diallo, Traoré, Kaya, Yilmaz, Bensaïd, Haddou, "
    "Nkemelu"
)
TRADES = _names(
    "Boulangerie, Pâtisserie, Boucherie, Garage, Atelier, Studio, Cabinet, Pharmacie, Fromagerie, Librairie, "
    "Imprimerie, Menuiserie, Brasserie, Restaurant, Épicerie, Salon, Ferme, Serres, Laverie, Cave"
)
FORMS = ("SARL", "SAS", "EURL", "& Fils", "SASU", "")
CITIES = (
    ("Paris", "75011"),
    ("Paris", "75015"),
    ("Lyon", "69003"),
    ("Villeurbanne", "69100"),
    ("Marseille", "13008"),
    ("Toulouse", "31000"),
    ("Nice", "06000"),
    ("Nantes", "44000"),
    ("Montpellier", "34000"),
    ("Strasbourg", "67000"),
    ("Bordeaux", "33000"),
    ("Lille", "59000"),
    ("Rennes", "35000"),
    ("Reims", "51100"),
    ("Toulon", "83000"),
    ("Grenoble", "38000"),
    ("Dijon", "21000"),
    ("Angers", "49000"),
    ("Nîmes", "30000"),
    ("Clermont-Ferrand", "63000"),
    ("Le Mans", "72000"),
    ("Aix-en-Provence", "13100"),
    ("Brest", "29200"),
    ("Tours", "37000"),
    ("Amiens", "80000"),
    ("Limoges", "87000"),
    ("Annecy", "74000"),
    ("Perpignan", "66000"),
    ("Pau", "64000"),
    ("Besançon", "25000"),
    ("Orléans", "45000"),
    ("Rouen", "76000"),
    ("Caen", "14000"),
    ("Nancy", "54000"),
    ("Avignon", "84000"),
    ("La Rochelle", "17000"),
    ("Poitiers", "86000"),
    ("Valence", "26000"),
    ("Bayonne", "64100"),
    ("Albi", "81000"),
)
STREETS = (
    "rue de la République",
    "avenue Jean Jaurès",
    "rue Victor Hugo",
    "boulevard Pasteur",
    "rue des Écoles",
    "chemin des Vignes",
    "allée des Tilleuls",
    "rue du Moulin",
    "place de l'Église",
    "rue de la Gare",
    "impasse des Lilas",
    "route de Lyon",
    "rue Nationale",
    "cours Gambetta",
    "rue des Acacias",
    "rue du Stade",
    "avenue de la Libération",
    "rue Pierre Curie",
    "quai des Chartrons",
    "rue des Jardins",
)
REASONS = (
    "Question sur ma facture",
    "Changement de puissance",
    "Déménagement prévu",
    "Comprendre ma batterie virtuelle",
    "Ma cagnotte Boost",
    "Mensualisation",
    "Relevé de compteur",
    "Installation de panneaux solaires",
    "Réclamation sur un prélèvement",
    "Ajouter un site",
    "Heures creuses",
    "Résiliation",
)
NOTES = (
    "",
    "",
    "Client rappelé, question réglée.",
    "Explications données, facture comprise.",
    "Devis envoyé par e-mail.",
    "Pas de réponse, message laissé.",
    "À rappeler après la relève.",
)
CHANNELS = (("web", 0.6), ("whatsapp", 0.25), ("telegram", 0.07), ("messenger", 0.08))


def _demo_catalogue() -> tuple[list[list[tuple]], list[str]]:
    """The off-peak ranges and resale prices of the demo contracts: the generated ones choose among them."""
    sites = [s for c in seed.demo_customers() for s in c.sites]
    offpeak = [list(s.offpeak) for s in sites]
    unique = [o for i, o in enumerate(offpeak) if o not in offpeak[:i]]
    prices = sorted({s.resale_price for s in sites if s.resale_price})
    return unique, prices


def _ascii(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower().replace(" ", "")


def _weighted(rng: random.Random, choices: Iterable[tuple[T, float]]) -> T:
    x, acc = rng.random(), 0.0
    items = list(choices)
    for value, share in items:
        acc += share
        if x < acc:
            return value
    return items[-1][0]


@dataclass
class _Counter:
    """The next free id of each table (rows are numbered here so that children can point to parents)."""

    next_id: dict[str, int] = field(default_factory=dict)

    def take(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value


def customer_specs(count: int, seed_number: int, today: date, first_index: int = 1) -> list[seed.CustomerSpec]:
    """`count` generated customers (numbers from `first_index`), the same for the same `seed_number`."""
    this_month = date(today.year, today.month, 1)
    rng = random.Random(f"hortense-scale:{seed_number}")
    offpeak_catalogue, prices = _demo_catalogue()
    specs = []
    serial = FIRST_SERIAL + (first_index - 1) * 2
    for index in range(first_index, first_index + count):
        offer = _weighted(rng, OFFER_SHARES)
        city, postcode = rng.choice(CITIES)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        number = f"{NUMBER_PREFIX}{index:06d}"
        address = f"{rng.randint(1, 180)} {rng.choice(STREETS)}"
        company = None
        if offer == OFFER_PRO:
            company = f"{rng.choice(TRADES)} {last} {rng.choice(FORMS)}".strip()
            sites_count = rng.randint(2, 5) if rng.random() < MULTI_SITE_SHARE else 1
            phone = f"+33{rng.choice('12345')}{rng.randint(0, 99_999_999):08d}"
            email = f"contact{index}@{_ascii(last)}-{_ascii(rng.choice(TRADES))}.example.fr"
        else:
            sites_count = 1
            phone = f"+33{rng.choice('67')}{rng.randint(0, 99_999_999):08d}"
            email = f"{_ascii(first)}.{_ascii(last)}{index}@example.fr"
        sites = []
        for k in range(sites_count):
            serial += 1
            months = 0 if rng.random() < NEW_CONTRACT_SHARE else rng.randint(1, 96)
            site_city, site_postcode = (city, postcode) if k == 0 else rng.choice(CITIES)
            monthly = rng.random() < MONTHLY_SHARE[offer]
            if offer == OFFER_PRO:
                kva = rng.choice((12, 18, 24, 36, 42))
                base = int(kva * rng.uniform(40, 90))
            else:
                kva = rng.choice((6, 6, 9, 9, 9, 12))
                base = int(kva * rng.uniform(25, 45))
            prefix = {OFFER_STOCKAGE: "SV", OFFER_BOOST: "BMS", OFFER_PRO: "EVP"}[offer]
            started_year = add_months(this_month, -months).year
            sites.append(
                seed.SiteSpec(
                    contract_number=f"{prefix}-{started_year}-{serial:06d}",
                    offer=offer,
                    pdl=f"{rng.randint(1, 2)}{rng.randint(0, 9_999_999):07d}{serial:06d}",
                    address=address if k == 0 else f"{rng.randint(1, 180)} {rng.choice(STREETS)}",
                    postcode=site_postcode,
                    city=site_city,
                    months_ago_started=months,
                    kva=kva,
                    monthly=monthly,
                    offpeak=rng.choice(offpeak_catalogue),
                    site_label=f"Site de {site_city}" if sites_count > 1 else None,
                    instalment_day=rng.choice((5, 10, 15, 20)) if monthly else None,
                    resale_price=(prices[-1] if kva <= 9 else prices[0]) if offer == OFFER_BOOST else None,
                    base_kwh=base,
                    empty_history=months == 0,
                    history_seed=f"{seed_number}:{serial}",
                )
            )
        specs.append(
            seed.CustomerSpec(
                number=number,
                civility=rng.choice(("Mme", "M.")),
                first=first,
                last=last,
                email=email,
                phone=phone,
                address=address,
                postcode=postcode,
                city=city,
                sites=sites,
                company=company,
            )
        )
    return specs


def kitty_rows(contract_id: int, price: Decimal, injections: list[dict], computed_at: Callable[[date], datetime]):
    """The kitty updates `update_kitties` records for these injections, month after month: kWh × the contract's
    resale price (`kitty_amount`), added to the previous balance."""
    balance = Decimal(0)
    rows = []
    for injection in sorted(injections, key=lambda r: r["month"]):
        amount = kitty_amount(Decimal(injection["kwh"]), price)
        balance += amount
        rows.append(
            dict(
                contract_id=contract_id,
                month=injection["month"],
                kwh=injection["kwh"],
                price_eur_per_kwh=price,
                amount_eur=amount,
                balance_eur=balance,
                computed_at=computed_at(injection["month"]),
            )
        )
    return rows


# --- bulk writing -----------------------------------------------------------------------------------------------


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_FORMAT: dict[type, Callable] = {
    bool: lambda v: "t" if v else "f",
    int: str,
    float: repr,
    Decimal: str,
    date: date.isoformat,
    datetime: datetime.isoformat,  # ISO 8601 with its offset
    time: time.isoformat,
    str: lambda v: v.translate(_ESCAPES),
}


def _copy_value(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    return _COPY_FORMAT[type(value)](value)


class BulkWriter:
    """Rows (dicts with the same keys per table) to a table: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect
        self.postgres = self.dialect.name == "postgresql"
        self.rows_written = 0
        self._processors: dict[tuple[str, str], Callable | None] = {}

    def _processor(self, table: Table, column: str) -> Callable | None:
        key = (table.name, column)
        if key not in self._processors:
            col_type = table.c[column].type
            self._processors[key] = col_type.dialect_impl(self.dialect).bind_processor(self.dialect)
        return self._processors[key]

    def write(self, table: Table, rows: list[dict]) -> None:
        if not rows:
            return
        columns = list(rows[0])
        names = ", ".join(columns)
        if self.postgres:
            buffer = io.StringIO()
            for row in rows:
                buffer.write("\t".join(_copy_value(row[c]) for c in columns))
                buffer.write("\n")
            buffer.seek(0)
            cursor = self.conn.connection.cursor()
            try:
                cursor.copy_expert(f"COPY {table.name} ({names}) FROM STDIN", buffer)
            finally:
                cursor.close()
        else:
            processors = [self._processor(table, c) for c in columns]
            values = [
                tuple(
                    p(row[c]) if p and row[c] is not None else row[c] for c, p in zip(columns, processors, strict=True)
                )
                for row in rows
            ]
            placeholders = ", ".join("?" for _ in columns)
            self.conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({placeholders})", values)
        self.rows_written += len(rows)


# Parents first: COPY checks the foreign keys of every row.
ORDER: tuple[Any, ...] = (
    Customer,
    Contract,
    OffpeakRange,
    MonthlyConsumption,
    BatteryMovement,
    SurplusInjection,
    KittyUpdate,
    Invoice,
    Instalment,
    Advisor,
    AdvisorWorkingHours,
    Appointment,
    Notification,
    CallOutcome,
)


class _Batch:
    """Rows waiting to be written in bulk on one connection, each numbered with the next id of its table."""

    def __init__(self, conn: Connection, ids: _Counter) -> None:
        self.writer, self.ids = BulkWriter(conn), ids
        self.rows: dict[type, list[dict]] = {model: [] for model in ORDER}

    def add(self, model: Any, rows: Iterable[dict]) -> None:
        table = model.__table__.name
        self.rows[model].extend(dict(id=self.ids.take(table), **row) for row in rows)

    def add_one(self, model: Any, **values: Any) -> int:
        """One row; returns its id (for the rows that point to it)."""
        row_id = self.ids.take(model.__table__.name)
        self.rows[model].append(dict(id=row_id, **values))
        return row_id

    def flush(self) -> None:
        for model in ORDER:
            self.writer.write(model.__table__, self.rows[model])
            self.rows[model] = []


@contextmanager
def _batch(engine: Engine, ids: _Counter, report: ScaleReport) -> Iterator[tuple[Connection, _Batch]]:
    """One transaction of bulk writing: what the batch still holds is written at the end, and counted."""
    with engine.begin() as conn:
        batch = _Batch(conn, ids)
        yield conn, batch
        batch.flush()
        report.rows += batch.writer.rows_written


@dataclass
class SeedReport:
    """What a bulk seeding wrote and how long it took, told in one line by `describe` from the subclass's `SUMMARY`
    (a `str.format` template over the fields): the scale seed and the tracker pre-fill report alike."""

    SUMMARY: ClassVar[str] = "in {seconds:.0f} s"
    seconds: float = 0.0

    def describe(self) -> str:
        return self.SUMMARY.format(**vars(self))


@dataclass
class ScaleReport(SeedReport):
    SUMMARY = (
        "{customers} customers, {contracts} contracts, {advisors} advisors, {appointments} calls: "
        "{rows} rows in {seconds:.0f} s"
    )
    customers: int = 0
    contracts: int = 0
    advisors: int = 0
    appointments: int = 0
    rows: int = 0


def _progress(total: int, enabled: bool, unit: str):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover (tqdm is installed with Rasa)
        return None
    return tqdm(total=total, unit=unit, file=sys.stderr, dynamic_ncols=True, mininterval=0.5)


def _next_ids(conn: Connection) -> _Counter:
    counter = _Counter()
    for model in ORDER:
        table = model.__table__
        counter.next_id[table.name] = (conn.execute(select(func.max(table.c.id))).scalar() or 0) + 1
    return counter


def _customer_rows(spec: seed.CustomerSpec, today: date, batch: _Batch) -> tuple[int, list[int]]:
    customer_id = batch.add_one(Customer, **seed.customer_values(spec))
    contract_ids = []
    for site in spec.sites:
        contract_id = batch.add_one(Contract, customer_id=customer_id, **seed.contract_values(site, today))
        contract_ids.append(contract_id)
        batch.add(OffpeakRange, [dict(contract_id=contract_id, **r) for r in seed.offpeak_values(site)])
        history = seed.history_rows(site, contract_id, today)
        for model, rows in history.items():
            batch.add(model, rows)
        if site.offer == OFFER_BOOST and site.resale_price:
            batch.add(
                KittyUpdate,
                kitty_rows(
                    contract_id,
                    Decimal(site.resale_price),
                    history.get(SurplusInjection, []),
                    lambda m: datetime.combine(add_months(m, 1), time(3, 0), tzinfo=timezone.utc),
                ),
            )
    return customer_id, contract_ids


# --- advisors and calls -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CallCustomer:
    customer_id: int
    number: str
    phone: str
    contract_ids: tuple[int, ...]


def _customers_in(conn: Connection) -> list[_CallCustomer]:
    customers, contracts = Customer.__table__, Contract.__table__
    by_customer: dict[int, list[int]] = {}
    for customer_id, contract_id in conn.execute(
        select(contracts.c.customer_id, contracts.c.id).order_by(contracts.c.id)
    ):
        by_customer.setdefault(customer_id, []).append(contract_id)
    return [
        _CallCustomer(i, n, p, tuple(by_customer.get(i, ())))
        for i, n, p in conn.execute(
            select(customers.c.id, customers.c.customer_number, customers.c.phone)
            .where(customers.c.phone.isnot(None))
            .order_by(customers.c.id)
        )
    ]


def _advisor_rows(conn: Connection, count: int, rng: random.Random, now: datetime, batch: _Batch):
    """Advisors up to `count` (the demo ones count), Monday-Friday 9:00-18:00; the same console password."""
    from hortense.appointments.advisors import DEFAULT_WORKING_HOURS, DEMO_PASSWORD, hash_password

    existing = conn.execute(select(func.count()).select_from(Advisor.__table__)).scalar_one()
    password_hash = hash_password(DEMO_PASSWORD)
    for k in range(existing, count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        advisor_id = batch.add_one(
            Advisor,
            name=f"{first} {last}",
            email=f"conseiller{k + 1:03d}@hortense.example.fr",
            is_supervisor=k % 25 == 0,
            password_hash=password_hash,
            active=True,
            failed_logins=0,
            created_at=now - timedelta(days=400),
        )
        batch.add(
            AdvisorWorkingHours,
            [dict(advisor_id=advisor_id, weekday=d, start_time=s, end_time=e) for d, s, e in DEFAULT_WORKING_HOURS],
        )
    return max(0, count - existing)


def _calls(
    conn: Connection,
    customers: list[_CallCustomer],
    customers_total: int,
    calls_per_day: float | None,
    rng: random.Random,
    now: datetime,
    batch: _Batch,
    progress,
) -> int:
    """A year of calls for every advisor who takes calls, and the next weeks' bookings (one booked call per
    customer at most, one per advisor and slot: the partial unique indexes hold)."""
    from hortense.appointments.calendar.phrases import PARIS
    from hortense.appointments.calendar.slots import holiday_name

    advisor_ids = [
        a
        for (a,) in conn.execute(
            select(Advisor.__table__.c.id)
            .where(Advisor.__table__.c.is_supervisor.is_(False))
            .order_by(Advisor.__table__.c.id)
        )
    ]
    today = now.astimezone(PARIS).date()
    working_days = sum(1 for d in range(365) if (today - timedelta(days=d)).weekday() < 5)
    per_day = calls_per_day or min(
        MAX_CALLS_PER_ADVISOR_DAY / 2, CALLS_PER_CUSTOMER_YEAR * customers_total / (working_days * len(advisor_ids))
    )
    booked_pool = list(range(len(customers)))
    rng.shuffle(booked_pool)
    made = 0
    slots = [time(9 + h // 2, 30 * (h % 2)) for h in range(18)]
    for offset in range(-PAST_DAYS, FUTURE_DAYS + 1):
        day = today + timedelta(days=offset)
        if day.weekday() >= 5 or holiday_name(day):
            continue
        for advisor_id in advisor_ids:
            count = sum(rng.random() * MAX_CALLS_PER_ADVISOR_DAY < per_day for _ in range(MAX_CALLS_PER_ADVISOR_DAY))
            for slot in sorted(rng.sample(slots, count)):
                start = datetime.combine(day, slot, tzinfo=PARIS).astimezone(timezone.utc)
                end = start + timedelta(minutes=30)
                past = end <= now
                if past and start < now - timedelta(days=AWAITING_DAYS):
                    status = _weighted(rng, ((STATUS_DONE, 0.8), (STATUS_MISSED, 0.09), (STATUS_CANCELLED, 0.11)))
                elif past:
                    status = STATUS_BOOKED if rng.random() < AWAITING_SHARE else STATUS_DONE
                else:
                    status = STATUS_CANCELLED if rng.random() < 0.08 else STATUS_BOOKED
                if status == STATUS_BOOKED:
                    if not booked_pool:
                        continue
                    who = customers[booked_pool.pop()]
                else:
                    who = customers[rng.randrange(len(customers))]
                channel = _weighted(rng, CHANNELS)
                sender = {
                    "web": f"web-{who.number}",
                    "whatsapp": f"whatsapp:{who.phone}",
                    "telegram": str(rng.randint(10**8, 10**10)),
                    "messenger": str(rng.randint(10**15, 10**16)),
                }[channel]
                created = start - timedelta(hours=rng.randint(3, 24 * 20))
                cancelled = status == STATUS_CANCELLED
                by_advisor = cancelled and rng.random() < 0.3
                appointment_id = batch.add_one(
                    Appointment,
                    customer_id=who.customer_id,
                    contract_id=rng.choice(who.contract_ids) if who.contract_ids else None,
                    advisor_id=advisor_id,
                    start_utc=start,
                    end_utc=end,
                    reason=rng.choice(REASONS),
                    phone=who.phone,
                    channel=channel,
                    sender_id=sender,
                    status=status,
                    cancel_reason=("Conseiller absent" if by_advisor else "Plus nécessaire") if cancelled else None,
                    cancelled_by=("advisor" if by_advisor else "customer") if cancelled else None,
                    created_at=created,
                    updated_at=min(now, end) if status != STATUS_BOOKED else created,
                )
                notifications = [("confirmation", created + timedelta(seconds=5))]
                if not (cancelled and rng.random() < 0.5):
                    notifications.append(("reminder", start - timedelta(days=1)))
                if by_advisor:
                    notifications.append(("cancellation", start - timedelta(hours=rng.randint(2, 48))))
                batch.add(
                    Notification,
                    [
                        dict(
                            appointment_id=appointment_id,
                            kind=kind,
                            channel=channel,
                            sender_id=sender,
                            text=f"Rendez-vous téléphonique le {start.astimezone(PARIS):%d/%m à %Hh%M}.",
                            due_at=due,
                            claimed_at=due if due <= now else None,
                            sent_at=due if due <= now else None,
                            abandoned_at=None,
                            attempts=1 if due <= now else 0,
                            last_error=None,
                            created_at=created,
                            sent_as="text" if due <= now else None,
                            platform_message_id=None,
                            delivery_status=("delivered" if rng.random() < 0.97 else "failed") if due <= now else None,
                            delivery_error=None,
                            delivery_updated_at=due if due <= now else None,
                        )
                        for kind, due in notifications
                    ],
                )
                if status in (STATUS_DONE, STATUS_MISSED):
                    batch.add_one(
                        CallOutcome,
                        appointment_id=appointment_id,
                        advisor_id=advisor_id,
                        outcome=OUTCOME_DONE if status == STATUS_DONE else OUTCOME_MISSED,
                        note=rng.choice(NOTES),
                        rescheduled_to_id=None,
                        created_at=end + timedelta(minutes=rng.randint(1, 90)),
                    )
                made += 1
        batch.flush()
        if progress is not None:
            progress.update(1)
    return made


def settle(engine: Engine, tables: list[str]) -> None:
    """After a bulk load, what autovacuum would soon do: statistics for the planner and, on PostgreSQL, VACUUM
    (the trigram GIN indexes keep freshly copied rows in a pending list that every search reads until then)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in tables:
                conn.exec_driver_sql(f"VACUUM ANALYZE {table}")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


# --- the whole database -----------------------------------------------------------------------------------------


GENERATED = f"{NUMBER_PREFIX}%"


def seed_scale(
    engine: Engine,
    customers: int,
    *,
    seed_number: int = 1,
    advisors: int = ADVISORS,
    calls_per_day: float | None = None,
    today: date | None = None,
    now: datetime | None = None,
    progress: bool = True,
) -> ScaleReport:
    """Demo customers and advisors (if the database is empty), then generated customers up to `customers` in
    all, their contracts and history, `advisors` advisors and their calls (`calls_per_day` per advisor and working
    day, at most MAX_CALLS_PER_ADVISOR_DAY; default: about one a year per customer). Does nothing if generated
    customers are already there. The schema must be migrated first (`hortense db upgrade`)."""
    from hortense.appointments.advisors import seed_advisors
    from hortense.db.session import session_scope

    started = time_mod.monotonic()
    now = now or clock.now()
    today = today or clock.today()
    url = engine.url.render_as_string(hide_password=False)
    with session_scope(url) as session:
        seed.seed_demo(session, today=today)
        seed_advisors(session)
    report = ScaleReport()
    rng = random.Random(f"hortense-scale-calls:{seed_number}")
    with engine.begin() as conn:
        if conn.execute(select(func.count()).where(Customer.__table__.c.customer_number.like(GENERATED))).scalar_one():
            return report
        existing = conn.execute(select(func.count()).select_from(Customer.__table__)).scalar_one()
    to_make = max(0, customers - existing)
    specs = customer_specs(to_make, seed_number, today)
    call_customers: list[_CallCustomer] = []
    bar = _progress(to_make, progress, "customers")
    with engine.begin() as conn:
        ids = _next_ids(conn)
    for start in range(0, len(specs), BATCH):
        with _batch(engine, ids, report) as (conn, batch):
            for spec in specs[start : start + BATCH]:
                customer_id, contract_ids = _customer_rows(spec, today, batch)
                call_customers.append(_CallCustomer(customer_id, spec.number, spec.phone, tuple(contract_ids)))
                report.contracts += len(contract_ids)
        if bar is not None:
            bar.update(min(BATCH, len(specs) - start))
    if bar is not None:
        bar.close()
    report.customers = to_make
    with _batch(engine, ids, report) as (conn, batch):
        report.advisors = _advisor_rows(conn, advisors, rng, now, batch)
    with engine.connect() as conn:
        has_calls = conn.execute(select(func.count()).select_from(Appointment.__table__)).scalar_one() > 0
        if not call_customers and not has_calls:  # nothing generated: a year of calls of the customers there
            call_customers = _customers_in(conn)
    if call_customers and not has_calls:
        days = PAST_DAYS + FUTURE_DAYS + 1
        bar = _progress(days, progress, "days of calls")
        with _batch(engine, ids, report) as (conn, batch):
            total = max(customers, len(call_customers))
            report.appointments = _calls(conn, call_customers, total, calls_per_day, rng, now, batch, bar)
        if bar is not None:
            bar.close()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            for model in ORDER:
                name = model.__table__.name
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT coalesce(max(id), 1) FROM {name}))"
                )
    settle(engine, [model.__table__.name for model in ORDER])
    report.seconds = time_mod.monotonic() - started
    return report
