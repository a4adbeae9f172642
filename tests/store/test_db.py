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
