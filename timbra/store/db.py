"""One `Database` per process: the engine, sessions and migrations, for SQLite (one machine) or PostgreSQL.

SQLite is made durable and safe for concurrent writers: WAL with synchronous=FULL (a commit is on disk
before a stamp is answered), a busy timeout, and `BEGIN IMMEDIATE` so two writers never deadlock on a lock
upgrade. PostgreSQL runs at READ COMMITTED; credit spending relies on row locks (see store.repo).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

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
        # Writers take the write lock up front; readers use WAL snapshots and block nobody.
        readonly = conn.get_execution_options().get("timbra_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


class Database:
    def __init__(self, url: str, *, pool_size: int = 20, echo: bool = False) -> None:
        self.url = make_url(url)
        self.dialect = self.url.get_backend_name()
        if self.dialect == "sqlite":
            db = self.url.database
            if db and db != ":memory:":
                Path(db).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(self.url, echo=echo, pool_size=pool_size, max_overflow=10,
                                        connect_args={"check_same_thread": False, "timeout": 30})
            _sqlite_setup(self.engine)
        else:
            self.engine = create_engine(self.url, echo=echo, pool_size=pool_size, max_overflow=10,
                                        pool_pre_ping=True)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any exception."""
        with self._sessions() as s, s.begin():
            yield s

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A read-only unit of work (on SQLite it does not take the write lock)."""
        with self._sessions() as s, s.begin():
            s.connection(execution_options={"timbra_readonly": True})
            yield s

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

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(db: Database):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = db.engine
    return cfg
