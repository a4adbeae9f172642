"""The database layer on SQLite and PostgreSQL: migrations both ways, UTC times whatever the session zone."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from timbra.store.db import Database, alembic_config
from timbra.store.models import Account


def head(db) -> str:
    return ScriptDirectory.from_config(alembic_config(db)).get_current_head()


def test_migrations_go_down_and_up_again(db):
    assert db.revision() == head(db) >= "0003"
    db.downgrade("base")
    assert db.revision() is None
    assert "accounts" not in sa.inspect(db.engine).get_table_names()
    db.upgrade()
    assert db.revision() == head(db)
    assert {"accounts", "cfdis", "packages", "outbox"} <= set(sa.inspect(db.engine).get_table_names())


def test_times_come_back_aware_utc(db, db_url):
    when = datetime(2026, 11, 24, 12, 0, tzinfo=timezone(timedelta(hours=-6)))
    with db.session() as s:
        s.add(Account(kind="emisor", name="E", created_at=when))
    # a PostgreSQL session in Mexico City's zone must still read UTC (db_url ends with options=-csearch_path...)
    other = Database(db_url + "%20-ctimezone%3DAmerica/Mexico_City" if db.is_postgres else db_url)
    try:
        with other.reader() as s:
            got = s.scalar(sa.select(Account.created_at))
    finally:
        other.dispose()
    assert got == when and got.tzinfo == timezone.utc and got.hour == 18


def test_reader_sees_committed_rows_only(db):
    with db.session() as s:
        s.add(Account(kind="emisor", name="E", created_at=datetime.now(timezone.utc)))
    with db.reader() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Account)) == 1


def test_migration_0003_keeps_existing_repeated_rfcs_as_shared(db):
    """Before 0003 an RFC could be in several accounts: the oldest account stays its owner, the others
    become shared rows (as if the admin had shared it), so the one-owner index can be created."""
    db.downgrade("0002")
    now = datetime(2026, 11, 24, tzinfo=timezone.utc)
    with db.engine.begin() as c:
        for i in (1, 2, 3):
            c.execute(sa.text("INSERT INTO accounts (id, kind, name, active, created_at) "
                              "VALUES (:i, 'emisor', 'E', :t, :now)"), {"i": i, "t": True, "now": now})
        for i, rfc in ((1, "EKU9003173C9"), (2, "EKU9003173C9"), (3, "EKU9003173C9"), (2, "XIA190128J61")):
            c.execute(sa.text("INSERT INTO account_rfcs (account_id, rfc, created_at) VALUES (:i, :rfc, :now)"),
                      {"i": i, "rfc": rfc, "now": now})
    db.upgrade()
    with db.engine.connect() as c:
        got = c.execute(sa.text("SELECT account_id, rfc, shared, nombre FROM account_rfcs "
                                "ORDER BY rfc, account_id")).all()
    assert [tuple(r) for r in got] == [(1, "EKU9003173C9", False, None), (2, "EKU9003173C9", True, None),
                                       (3, "EKU9003173C9", True, None), (2, "XIA190128J61", False, None)]


def test_sqlite_write_lock_taken_elsewhere_is_sqlalchemys_operational_error(tmp_path):
    """SQLite's BEGIN IMMEDIATE, sent on the driver's connection by the engine's begin listener, fails as SQLAlchemy's
    OperationalError when another process holds the write lock past the busy timeout (the API answers it T220, the
    database unavailable), as it did when SQLAlchemy executed the BEGIN itself."""
    import sqlite3

    db = Database(f"sqlite:///{tmp_path / 'locked.db'}")
    try:
        db.upgrade()
        other = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        try:
            with db.engine.connect() as c:
                c.connection.driver_connection.execute("PRAGMA busy_timeout=20")
                try:
                    with c.begin():
                        raise AssertionError("the write lock was free")
                except sa.exc.OperationalError as exc:
                    assert isinstance(exc.orig, sqlite3.OperationalError) and "locked" in str(exc.orig)
            other.execute("ROLLBACK")
            with db.write() as c:  # free again: a writer gets it
                assert c.execute(sa.text("SELECT 1")).scalar() == 1
        finally:
            other.close()
    finally:
        db.dispose()
