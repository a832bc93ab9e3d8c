"""Engines and short-lived sessions: one session per unit of work, never a shared module-level one."""

from __future__ import annotations

import random
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hortense.security.files import private_dir, private_file
from hortense.settings import get_settings

# SQLite stores NUMERIC as float; our amounts have at most 5 decimals, well within its precision.
warnings.filterwarnings("ignore", message=r"Dialect sqlite\+pysqlite does \*not\* support Decimal objects")

T = TypeVar("T")
_lock = threading.Lock()
_factories: dict[str, sessionmaker] = {}


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, future=True, connect_args={"check_same_thread": False, "timeout": 30})

        database = engine.url.database
        if database and database != ":memory:":
            private_dir(Path(database).resolve().parent)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # pysqlite's own transaction handling emits no BEGIN before a SAVEPOINT, so releasing a savepoint
            # would commit: let SQLAlchemy issue BEGIN itself (the documented recipe).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            private_file(database)  # customers' data: 0600, whatever the process's umask

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # IMMEDIATE takes the write lock at once (waiting up to the busy timeout): for a retried transaction.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(IMMEDIATE) else "BEGIN")

        return engine
    return create_engine(url, future=True, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _factory(url: str | None) -> sessionmaker:
    """One engine (connection pool) per URL per process, built on first use, never at import."""
    url = url or get_settings().database_url
    with _lock:
        factory = _factories.get(url)
        if factory is None:
            factory = sessionmaker(bind=_make_engine(url), future=True, expire_on_commit=False)
            _factories[url] = factory
        return factory


def get_engine(url: str | None = None) -> Engine:
    return _factory(url).kw["bind"]


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A transaction: committed when the block succeeds, rolled back when it raises."""
    session: Session = _factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# SQLite lets one writer at a time. A transaction that read first and then writes cannot wait for the lock
# (SQLite answers "database is locked" at once rather than risk a deadlock, busy timeout or not): the whole unit
# of work is then run again from the start, after a short random pause, this time taking the write lock first
# (BEGIN IMMEDIATE, which does wait up to the busy timeout), so the retries queue instead of colliding again.
BUSY_RETRIES = 6
IMMEDIATE = "hortense_sqlite_immediate"
_BUSY_MESSAGES = ("database is locked", "database table is locked", "database is busy")


def is_busy(exc: BaseException) -> bool:
    """True for SQLite's "locked/busy" errors, which a retry of the whole transaction resolves."""
    return isinstance(exc, OperationalError) and any(m in str(exc).lower() for m in _BUSY_MESSAGES)


def run_in_transaction(work: Callable[[Session], T], url: str | None = None, retries: int = BUSY_RETRIES) -> T:
    """`work(session)` in one transaction (`session_scope`), retried from the start when SQLite was busy.

    `work` must have no effect outside the database (it may run more than once). Other errors propagate at once.
    """
    for attempt in range(retries + 1):
        try:
            with session_scope(url) as session:
                if attempt:
                    session.connection(execution_options={IMMEDIATE: True})
                return work(session)
        except OperationalError as exc:
            if not is_busy(exc) or attempt == retries:
                raise
            time.sleep(min(0.02 * 2**attempt, 0.5) * random.uniform(0.5, 1.5))  # noqa: S311 - jitter only
    raise AssertionError("unreachable")


def reset_engines() -> None:
    """Dispose of every pooled engine (tests switch databases between cases)."""
    with _lock:
        for factory in _factories.values():
            factory.kw["bind"].dispose()
        _factories.clear()
