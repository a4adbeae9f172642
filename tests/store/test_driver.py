"""store.driver: the stamp path's statements run by SQLite's driver send exactly what SQLAlchemy sends, store
what it stores and fail as it fails; Sessions and PostgreSQL still go through SQLAlchemy."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.exc import IntegrityError

from timbra.store import driver, repo
from timbra.store.db import Database
from timbra.store.models import Account, Cfdi, CfdiXml, IdempotencyKey, Outbox, Package

NOW = datetime(2026, 12, 3, 18, 30, 15, 123456, tzinfo=timezone.utc)
STAMPED = datetime(2026, 12, 3, 12, 30, 14, tzinfo=timezone(timedelta(hours=-6)))  # an offset other than UTC


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    d = Database(f"sqlite:///{(tmp_path / 'timbra.db').as_posix()}")
    d.upgrade()
    with d.session() as s:
        s.add(Account(id=7, kind="emisor", name="Escuela Kemper Urgate", created_at=NOW))
        s.flush()
        s.add(Package(account_id=7, size=10, used=0, activation=NOW - timedelta(days=1), expiry=None, created_at=NOW))
    yield d
    d.dispose()


def cfdi_row(uuid: str = "11111111-2222-4333-8444-555555555555") -> dict:
    return dict(uuid=uuid, account_id=7, version="4.0", rfc_emisor="EKU9003173C9", rfc_receptor="XAXX010101000",
                nombre_receptor="PÚBLICO EN GENERAL ñ", serie="A", folio="123", tipo="I", fecha="2026-12-03T12:00:00",
                fecha_timbrado=STAMPED, total=Decimal("1234.560000"), moneda="MXN", status="vigente",
                sat_status="pendiente", no_certificado_sat="30001000000500003456", sello_sat="c2VsbG8=",
                sello_digest="a" * 64, document_digest="b" * 64)


# every statement the stamp path hands to the driver, with values of every kind it binds
STATEMENTS = [
    (insert(Cfdi.__table__), cfdi_row()),
    (insert(CfdiXml.__table__), {"uuid": "u", "xml": b"<cfdi:Comprobante \xc3\xb1/>", "blob": None}),
    (insert(Outbox.__table__), {"kind": "deliver", "ref": "u", "attempts": 0, "next_attempt_at": NOW,
                                "created_at": NOW}),
    (insert(IdempotencyKey.__table__), {"account_id": 7, "key": "pedido-1", "document_digest": "b" * 64,
                                        "uuid": "u", "created_at": NOW}),
    (repo._SPEND_ONE, {"b_account": 7, "b_now": NOW}),
    (repo._AVAILABLE, {"b_account": 7, "b_now": NOW}),
    (repo._FACTS, {"b_account": 7, "b_rfc": "EKU9003173C9", "b_digest": "b" * 64, "b_sello": None, "b_key": "k"}),
]


@pytest.mark.parametrize(("statement", "params"), STATEMENTS,
                         ids=["cfdi", "cfdi_xml", "outbox", "idempotency_key", "spend_one", "available", "stamp_facts"])
def test_the_driver_is_given_what_sqlalchemy_sends(sqlite_db: Database, statement, params: dict):
    sent: list[tuple[str, tuple]] = []

    def capture(conn, cursor, sql, parameters, context, executemany):  # noqa: ANN001, ARG001
        sent.append((sql, tuple(parameters)))

    event.listen(sqlite_db.engine, "before_cursor_execute", capture)
    try:
        with sqlite_db.engine.connect() as c:
            try:
                result = c.execute(statement, params)
                if result.returns_rows:
                    result.all()
            except IntegrityError:  # only what was sent matters (the XML's and the key's CFDI do not exist)
                pass
            c.rollback()
    finally:
        event.remove(sqlite_db.engine, "before_cursor_execute", capture)
    sql, args = driver.prepared(statement, sqlite_db.engine.dialect, params)
    assert sent == [(sql, tuple(args))]


def test_a_stamp_written_by_the_driver_reads_back_as_written(sqlite_db: Database):
    row = cfdi_row()
    with sqlite_db.write() as c:
        left = repo.save_stamp_and_spend(c, row, b"<x>\xc3\xb1</x>", "pedido-1", NOW)
    assert left == 9
    with sqlite_db.reader() as s:
        stored = s.scalar(select(Cfdi))
        assert stored is not None
        for column, value in row.items():
            assert getattr(stored, column) == value, column
        assert stored.fecha_timbrado.utcoffset() == timedelta(0)  # kept as the UTC instant
        assert repo.cfdi_xml(s, 7, row["uuid"]) == b"<x>\xc3\xb1</x>"
        outbox = s.scalar(select(Outbox))
        assert outbox is not None and outbox.next_attempt_at == NOW and outbox.ref == row["uuid"]
        key = repo.idempotency(s, 7, "pedido-1")
        assert key is not None and key.uuid == row["uuid"] and key.created_at == NOW
    with sqlite_db.read() as c:
        facts = repo.stamp_facts(c, 7, "EKU9003173C9", row["document_digest"], row["sello_digest"], "pedido-1")
    assert facts.by_document == row["uuid"] and facts.by_sello == (row["uuid"], 7)
    assert facts.by_key == (row["uuid"], row["document_digest"]) and not facts.rfc_held


def test_a_driver_error_is_sqlalchemys(sqlite_db: Database):
    with sqlite_db.write() as c:
        repo.save_stamp(c, cfdi_row(), b"<x/>", None, NOW)
    twin = cfdi_row("99999999-2222-4333-8444-555555555555")  # another UUID, the same Sello
    with pytest.raises(IntegrityError) as exc, sqlite_db.write() as c:
        repo.save_stamp(c, twin, b"<x/>", None, NOW)
    assert isinstance(exc.value.orig, sqlite3.IntegrityError)
    with sqlite_db.reader() as s:  # the failed transaction left nothing
        assert s.scalar(select(Cfdi.uuid).where(Cfdi.uuid == twin["uuid"])) is None


def test_a_column_left_to_its_default_is_refused(sqlite_db: Database):
    """Outbox.attempts has a Python-side default SQLAlchemy would fill in; the driver would not: refused."""
    with pytest.raises(ValueError, match="default"), sqlite_db.write() as c:
        driver.execute(c, insert(Outbox.__table__), {"kind": "deliver", "ref": "u", "next_attempt_at": NOW,
                                                      "created_at": NOW})


def test_sessions_go_through_sqlalchemy(sqlite_db: Database):
    seen: list[str] = []
    event.listen(sqlite_db.engine, "before_cursor_execute",
                 lambda conn, cursor, sql, *rest: seen.append(sql))  # noqa: ARG005
    with sqlite_db.reader() as s:
        assert repo.available(s, 7, NOW) == 10
    assert len(seen) == 1  # SQLAlchemy executed it
    with sqlite_db.read() as c:
        assert repo.available(c, 7, NOW) == 10
    assert len(seen) == 1  # the driver did
