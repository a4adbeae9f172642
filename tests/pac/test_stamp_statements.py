"""How many SQL statements a stamp costs, on SQLite and on PostgreSQL (issue #17): on PostgreSQL each one is
a round trip to the server, so a change that adds one to the stamp path fails here. On PostgreSQL counted
with SQLAlchemy's `before_cursor_execute` event on the engine (BEGIN and COMMIT are not statements SQLAlchemy
executes there: psycopg sends them); on SQLite with the driver's own trace callback, which sees every
statement run on the connection, BEGIN included."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, text

from tests.api.test_e2e import sandbox_csd
from timbra.cfdi.sample import sealed_sample
from timbra.clock import SYSTEM
from timbra.gateway.sandbox_ca import create_sandbox_keys
from timbra.pac.accounts import Principal
from timbra.pac.runtime import Pac
from timbra.settings import Settings

# statements of one stamp's write (step 5), by database and whether an Idempotency-Key came with it
WRITE = {("postgresql", False): 1, ("postgresql", True): 1,
         # BEGIN IMMEDIATE, the CFDI, its XML, the outbox row, [the key], the credit, the balance (the driver's
         # commit() is not traced)
         ("sqlite", False): 7, ("sqlite", True): 8}
# statements of the read before it (step 1: the key, the same bytes, the Emisor's RFC, the 307 look-up): one
# statement, without BEGIN/COMMIT on SQLite (its own snapshot) and in autocommit on PostgreSQL
READ = {("postgresql", False): 1, ("postgresql", True): 1, ("sqlite", False): 1, ("sqlite", True): 1}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("timbra-statements")
    s = Settings(data_dir=folder)
    create_sandbox_keys(s.keys_dir, pac_rfc=s.pac_rfc, password=s.pac_key_password)
    return folder


@pytest.fixture
def pac(data_dir: Path, db_url: str) -> Iterator[Pac]:
    pac = Pac(Settings(data_dir=data_dir, database_url_override=db_url), worker=False)
    try:
        yield pac
    finally:
        pac.stop()


@contextmanager
def counting(pac: Pac) -> Iterator[list[str]]:
    statements: list[str] = []
    if pac.db.dialect == "sqlite":
        def trace(dbapi_conn, _record, _proxy) -> None:  # noqa: ANN001
            dbapi_conn.set_trace_callback(statements.append)

        def untrace(dbapi_conn, _record) -> None:  # noqa: ANN001
            if dbapi_conn is not None:
                dbapi_conn.set_trace_callback(None)

        event.listen(pac.db.engine.pool, "checkout", trace)
        event.listen(pac.db.engine.pool, "checkin", untrace)
        try:
            yield statements
        finally:
            event.remove(pac.db.engine.pool, "checkout", trace)
            event.remove(pac.db.engine.pool, "checkin", untrace)
        return

    def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        statements.append(statement)

    event.listen(pac.db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(pac.db.engine, "before_cursor_execute", count)


@pytest.mark.parametrize("key", [None, "pedido-1"])
def test_statements_per_stamp(pac: Pac, data_dir: Path, key: str | None):
    demo = pac.ensure_demo()
    assert demo is not None
    who = Principal(demo.account_id, "emisor")
    csd = sandbox_csd(data_dir)
    dialect = pac.db.dialect
    pac.stamps.stamp(who, sealed_sample(csd, SYSTEM.now(), folio="calentar"))  # first use: pool, caches

    doc = sealed_sample(csd, SYSTEM.now(), folio="1")
    with counting(pac) as reads:
        signed = pac.stamps.prepare(who, doc, key)
    with counting(pac) as writes:
        result = pac.stamps.finish(signed)
    assert not result.replayed
    assert len(writes) == WRITE[(dialect, key is not None)], writes
    assert len(reads) == READ[(dialect, key is not None)], reads

    # what the one statement wrote: the stamp, its XML, its delivery, its key and one credit
    again = pac.stamps.stamp(who, doc, key)
    assert again.replayed and again.uuid == result.uuid and again.xml == result.xml
    assert again.credits_left == result.credits_left
    assert result.credits_left == demo.credits - 2
    with pac.db.reader() as s:
        outbox = s.execute(text("SELECT count(*) FROM outbox WHERE kind = 'deliver' AND ref = :u"),
                           {"u": result.uuid}).scalar()
        keys = s.execute(text("SELECT count(*) FROM idempotency_keys WHERE uuid = :u"), {"u": result.uuid}).scalar()
        used = s.execute(text("SELECT sum(used) FROM packages WHERE account_id = :a"), {"a": demo.account_id}).scalar()
    assert outbox == 1 and keys == (key is not None) and used == 2


def test_no_credit_left_stores_nothing(pac: Pac, data_dir: Path):
    """The one statement spent nothing (no package left): the fallback answers T104 and the rows the
    statement inserted are rolled back with it."""
    from timbra.errors import TimbraError

    demo = pac.ensure_demo()
    assert demo is not None
    who = Principal(demo.account_id, "emisor")
    with pac.db.session() as s:
        s.execute(text("UPDATE packages SET used = size WHERE account_id = :a"), {"a": demo.account_id})
    doc = sealed_sample(sandbox_csd(data_dir), SYSTEM.now(), folio="sin-credito")
    with pytest.raises(TimbraError) as exc:
        pac.stamps.stamp(who, doc, "sin-credito")
    assert exc.value.code == "T104"
    with pac.db.reader() as s:
        assert s.execute(text("SELECT count(*) FROM cfdis")).scalar() == 0
        assert s.execute(text("SELECT count(*) FROM outbox")).scalar() == 0
        assert s.execute(text("SELECT count(*) FROM idempotency_keys")).scalar() == 0


class _Collected(Exception):
    pass


def test_group_commit_on_the_database(pac: Pac, data_dir: Path):
    """A batch of three writes where the second is a twin of the first (the same UUID): the first attempt,
    without savepoints, fails and is rolled back; the batch runs again in savepoints and the twin fails alone.
    A batch with no failure takes one statement a stamp (PostgreSQL) and no savepoint."""
    from sqlalchemy.exc import IntegrityError

    from timbra.pac.stamping import GroupCommit, _Write

    demo = pac.ensure_demo()
    assert demo is not None
    who = Principal(demo.account_id, "emisor")
    csd = sandbox_csd(data_dir)
    works = []

    class Collect:
        def run(self, work, order=0):  # noqa: ANN001, ANN202, ARG002
            works.append(work)
            raise _Collected

    real, pac.stamps.commits = pac.stamps.commits, Collect()
    try:
        for folio in ("g1", "g2", "g3", "g4"):
            with pytest.raises(_Collected):
                pac.stamps.finish(pac.stamps.prepare(who, sealed_sample(csd, SYSTEM.now(), folio=folio)))
    finally:
        pac.stamps.commits = real
    group = GroupCommit(pac.db)

    batch = [_Write(works[0], 0), _Write(works[0], 0), _Write(works[1], 0)]
    group._commit(batch)
    assert isinstance(batch[1].error, IntegrityError) and batch[1].result is None
    assert batch[0].error is None and batch[2].error is None
    assert batch[2].result == demo.credits - 2  # the balance after both (the twin spent nothing)

    batch = [_Write(works[2], 0), _Write(works[3], 0)]
    with counting(pac) as statements:
        group._commit(batch)
    assert [w.error for w in batch] == [None, None] and batch[1].result == demo.credits - 4
    assert not any("SAVEPOINT" in st.upper() for st in statements), statements
    if pac.db.dialect == "postgresql":
        assert len(statements) == 2, statements
    with pac.db.reader() as s:
        assert s.execute(text("SELECT count(*) FROM cfdis")).scalar() == 4
        assert s.execute(text("SELECT sum(used) FROM packages WHERE account_id = :a"),
                         {"a": demo.account_id}).scalar() == 4
