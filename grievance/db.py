"""SQLAlchemy: the declarative base, the engine and the session factory. No Flask here."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from sqlalchemy import DateTime, MetaData, Table, TypeDecorator, create_engine, event, make_url
from sqlalchemy.engine import CursorResult, Dialect, Engine, Result
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Every id column is a 32-bit integer: a larger number names no row.
log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_ID = 2**31 - 1
# Pooled PostgreSQL connections are replaced after this long.
POOL_RECYCLE_SECONDS = 300

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every model; constraint names are stable so migrations can name them."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every model maps one table (Core statements use it, as ``Model.__table__.c.x``).
    __table__: ClassVar[Table]


def affected(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed (its result is a cursor result)."""
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted personal data is overwritten with zeros, not left in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # Take the write lock at BEGIN: per-contact processing is serial and never
    # fails half-way on a lock upgrade.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def retry_on_disconnect(work: Callable[[], T]) -> T:
    """Run ``work`` (one whole transaction); once more if the database dropped the pooled
    connection under it (a restart, a failover). Nothing of the failed attempt committed."""
    try:
        return work()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        log.warning("the database dropped a pooled connection; retrying once on a new one")
        return work()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys, secure_delete and immediate transactions."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    # No pre-ping (a round trip before every checkout): connections are recycled before
    # servers or proxies drop idle ones, and a connection found dead mid-use invalidates the
    # pool, its transaction having done nothing (``retry_on_disconnect``).
    kwargs.setdefault("pool_recycle", POOL_RECYCLE_SECONDS)
    parsed = make_url(url)
    pooler = parsed.query.get("pooler")
    if pooler is None:
        # Every query here is short; PostgreSQL's JIT compiler spent more time compiling the
        # queue's counts (about 20 ms) than running them.
        kwargs.setdefault("connect_args", {"options": "-c jit=off"})
        return create_engine(parsed, **kwargs)
    if pooler != "transaction":
        raise ValueError(
            f"DATABASE_URL: pooler={pooler} is not known; use pooler=transaction for a "
            "connection pooler in transaction mode (PgBouncer), or leave it out"
        )
    # Behind a pooler in transaction mode each transaction may run on another server
    # connection: no startup options (PgBouncer refuses them; set jit = off on the
    # database instead, docs/scale.md) and no prepared statements, which live on one.
    kwargs.setdefault("connect_args", {"prepare_threshold": None})
    return create_engine(parsed.difference_update_query(["pooler"]), **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine``; objects stay usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error, always close."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always returned timezone-aware, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use grievance.clock.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def dialect_insert(dialect: str) -> Any:
    """The INSERT construct with ``on_conflict_do_nothing`` for this database."""
    from sqlalchemy.dialects import postgresql, sqlite

    return postgresql.insert if dialect == "postgresql" else sqlite.insert
