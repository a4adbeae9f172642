"""One `Database` per process: the engine, sessions and migrations, for SQLite (one machine) or PostgreSQL.

SQLite is made durable and safe for concurrent writers: WAL with synchronous=FULL (a commit is on disk
before a stamp is answered), a busy timeout, and `BEGIN IMMEDIATE` so two writers never deadlock on a lock
upgrade. PostgreSQL runs at READ COMMITTED; credit spending relies on row locks (see store.repo).
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from timbra.store.blobs import Blobs

MIGRATIONS = Path(__file__).parent / "migrations"





def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001
        dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        # Writers take the write lock up front; readers use WAL snapshots and block nobody; a one-statement
        # read (Database.read) needs no transaction at all: the statement is its own snapshot. Sent on the
        # driver's connection: this runs on every transaction, SQLAlchemy's execution machinery is not needed.
        options = conn.get_execution_options()
        if options.get("timbra_single", False):
            return
        sql = "BEGIN" if options.get("timbra_readonly", False) else "BEGIN IMMEDIATE"
        try:
            conn.connection.driver_connection.execute(sql)
        except sqlite3.Error as exc:  # as SQLAlchemy's own execution wraps it (a locked database: T220)
            raise DBAPIError.instance(sql, None, exc, sqlite3.Error) from exc


class Database:
    def __init__(self, url: str, *, pool_size: int = 20, echo: bool = False, blobs: Blobs | None = None) -> None:
        """`blobs`: the object store holding the stamped XML (None: the cfdi_xml table); sessions carry it
        (`session.info["blobs"]`) so every query in repo.py reads and writes the XML wherever it lives."""
        self.url = make_url(url)
        self.blobs = blobs
        self.dialect = self.url.get_backend_name()
        if self.dialect == "sqlite":
            db = self.url.database
            if db and db != ":memory:":
                Path(db).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(self.url, echo=echo, pool_size=pool_size, max_overflow=10,
                                        connect_args={"check_same_thread": False, "timeout": 30})
            _sqlite_setup(self.engine)
            self._write_lock = _WriteLock(Path(f"{db}.lock") if db and db != ":memory:" else None)
        else:
            # No pre-ping (a round trip per checkout, several per stamp): a connection the server dropped
            # fails one request, and SQLAlchemy then replaces the whole pool; recycle bounds their age.
            self.engine = create_engine(self.url, echo=echo, pool_size=pool_size, max_overflow=10,
                                        pool_recycle=1800)
            self._write_lock = None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, info={"blobs": blobs})

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any exception."""
        with self.write_lock(), self._sessions() as s, s.begin():
            yield s

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """On SQLite, one writer at a time across threads and processes, queued by the kernel.

        SQLite allows one writer; a second one waits in SQLite's busy handler, which sleeps (up to 100 ms a
        try) instead of waking when the lock is free, giving p99s of seconds under load. Queuing writers
        on a lock file wakes the next one at once. PostgreSQL needs nothing: it locks rows."""
        if self._write_lock is None:
            yield
            return
        with self._write_lock:
            yield

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A read-only unit of work. On SQLite it does not take the write lock; on PostgreSQL it runs in
        autocommit (each statement its own snapshot, and no BEGIN/COMMIT round trips on the stamp path)."""
        options = {"timbra_readonly": True} if not self.is_postgres else {"isolation_level": "AUTOCOMMIT"}
        with self._sessions() as s, s.begin():
            s.connection(execution_options=options)
            yield s

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One read statement, on a Core connection: no ORM session, no BEGIN/COMMIT (on SQLite the statement
        is its own WAL snapshot; on PostgreSQL autocommit). The stamp path's one read per stamp uses it: an
        ORM session costs several times the statement on that path."""
        options = {"timbra_single": True} if not self.is_postgres else {"isolation_level": "AUTOCOMMIT"}
        with self.engine.connect() as c:
            c.info["blobs"] = self.blobs
            yield c.execution_options(**options)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """`session()` as a Core connection (the stamp path's writes, which are Core statements): commits on
        success, rolls back on any exception; on SQLite under the write lock and BEGIN IMMEDIATE."""
        with self.write_lock(), self.engine.begin() as c:
            c.info["blobs"] = self.blobs
            yield c

    def upgrade(self, revision: str = "head") -> None:
        """Apply the Alembic migrations (idempotent: a database at head is left as is)."""
        from alembic import command

        command.upgrade(alembic_config(self), revision)

    def downgrade(self, revision: str) -> None:
        from alembic import command

        command.downgrade(alembic_config(self), revision)

    def revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head(self) -> str | None:
        """The newest migration this version of timbra ships."""
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(alembic_config(self)).get_current_head()

    def dispose(self) -> None:
        self.engine.dispose()
        if self._write_lock is not None:
            self._write_lock.close()


class _WriteLock:
    def __init__(self, path: Path | None) -> None:
        self._thread = threading.Lock()
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600) if path is not None else None

    def __enter__(self) -> None:
        self._thread.acquire()
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._thread.release()
                raise

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread.release()

    def close(self) -> None:
        with self._thread:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def alembic_config(db: Database):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = db.engine
    return cfg
