"""Delivery to SAT through the outbox, on SQLite and PostgreSQL: once, retried with backoff, never lost,
never taken by two workers at once."""
from __future__ import annotations

import hashlib
import logging
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.gateway.sandbox import empty_sandbox, sat_credential
from tests.gateway.test_sandbox import forged_sello_sat
from timbra.cfdi.document import parse
from timbra.cfdi.tfd import MEXICO_CITY
from timbra.gateway.sandbox import Receipt, SandboxGateway
from timbra.pac.delivery import Delivery, Worker, backoff
from timbra.pac.stamping import Stamp
from timbra.store.db import Database
from timbra.store.models import Account, Cfdi, CfdiXml, Outbox, SatAcuse


class CountingGateway:
    """The sandbox, counting deliveries per UUID; `delivered` is set after each answer."""

    def __init__(self, inner: SandboxGateway) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self.delivered = threading.Event()
        self._lock = threading.Lock()

    @property
    def unavailable(self) -> bool:
        return self.inner.unavailable

    @unavailable.setter
    def unavailable(self, value: bool) -> None:
        self.inner.unavailable = value

    def deliver(self, xml: bytes) -> Receipt:
        with self._lock:
            self.calls[parse(xml).uuid] += 1
        receipt = self.inner.deliver(xml)
        self.delivered.set()
        return receipt


@pytest.fixture(scope="module")
def sat(sandbox_ca):
    return sat_credential(sandbox_ca)


@pytest.fixture
def gateway(db, clock, pac, trust, sat) -> CountingGateway:
    empty_sandbox(db.engine)
    return CountingGateway(SandboxGateway(db.engine, clock=clock, pac_certificates=[pac.certificate], signer=sat,
                                          trust=trust))


@pytest.fixture
def delivery(db, gateway, clock) -> Delivery:
    return Delivery(db, gateway, clock)


@pytest.fixture
def account_id(db) -> int:
    with db.session() as s:
        a = Account(kind="emisor", name="Escuela Kemper Urgate", created_at=NOW)
        s.add(a)
        s.flush()
        return a.id


def enqueue(db: Database, stamp: Stamp, account_id: int, now: datetime, *, xml: bytes | None = None) -> None:
    """What the stamp service writes in one transaction: the Cfdi, its XML and the "deliver" outbox row."""
    doc = stamp.doc
    stamped = datetime.fromisoformat(stamp.fecha_timbrado).replace(tzinfo=MEXICO_CITY).astimezone(timezone.utc)
    with db.session() as s:
        s.add(Cfdi(uuid=stamp.uuid, account_id=account_id, version=doc.version,
                   rfc_emisor=doc.emisor.get("Rfc"), rfc_receptor=doc.receptor.get("Rfc"),
                   nombre_receptor=doc.receptor.get("Nombre", ""), serie=doc.get("Serie", ""),
                   folio=doc.get("Folio", ""), tipo=doc.get("TipoDeComprobante"), fecha=doc.get("Fecha"),
                   fecha_timbrado=stamped, total=Decimal(doc.get("Total")), moneda=doc.get("Moneda"),
                   no_certificado_sat=stamp.timbre.no_certificado_sat, sello_sat=stamp.timbre.sello_sat,
                   sello_digest=stamp.sello_digest, document_digest=hashlib.sha256(doc.raw).hexdigest()))
        s.flush()
        s.add(CfdiXml(uuid=stamp.uuid, xml=stamp.xml if xml is None else xml))
        s.add(Outbox(kind="deliver", ref=stamp.uuid, attempts=0, next_attempt_at=now, created_at=now))


@pytest.fixture
def stamped(db, certifier, make_xml, account_id, clock):
    def make(folio: str = "1", *, tamper=None) -> Stamp:
        stamp = certifier.stamp(make_xml(folio=folio))
        enqueue(db, stamp, account_id, clock.now(), xml=None if tamper is None else tamper(stamp.xml))
        return stamp

    return make


def outbox_rows(db, uuid: str) -> list[Outbox]:
    with db.reader() as s:
        return list(s.scalars(select(Outbox).where(Outbox.ref == uuid).order_by(Outbox.id)))


def cfdi_row(db, uuid: str) -> Cfdi:
    with db.reader() as s:
        return s.get(Cfdi, uuid)


def acuse_row(db, uuid: str) -> SatAcuse | None:
    with db.reader() as s:
        return s.get(SatAcuse, uuid)


def test_delivered_once(db, delivery, gateway, stamped):
    stamp = stamped("1")
    assert cfdi_row(db, stamp.uuid).sat_status == "pendiente"
    assert delivery.run_once() == 1
    acuse = acuse_row(db, stamp.uuid)
    assert (acuse.status, acuse.code, acuse.received_at) == ("recibido", "1", NOW)
    assert b'CodEstatus="1"' in acuse.xml and stamp.uuid.encode() in acuse.xml
    assert cfdi_row(db, stamp.uuid).sat_status == "recibido"
    [row] = outbox_rows(db, stamp.uuid)
    assert (row.done_at, row.attempts, row.last_error) == (NOW, 1, None)
    assert delivery.run_once() == 0
    assert gateway.calls == Counter({stamp.uuid: 1})
    assert gateway.inner.status(stamp.uuid, "EKU9003173C9", "URE180429TM6", stamp.doc.get("Total")).estado == "Vigente"


def requeue(db, uuid: str, now: datetime) -> None:
    with db.session() as s:  # the same UUID queued again (say, by an operator's "resend")
        s.add(Outbox(kind="deliver", ref=uuid, attempts=0, next_attempt_at=now, created_at=now))


class AnswersDifferently:
    """A gateway that breaks SAT's idempotency: the acuse already stored must still win."""

    def deliver(self, xml: bytes) -> Receipt:
        return Receipt(parse(xml).uuid, "rechazado", "999", "otra respuesta", NOW + timedelta(days=1), b"<otro/>")


def test_redelivery_keeps_the_first_acuse(db, delivery, gateway, stamped, clock):
    stamp = stamped("2")
    delivery.run_once()
    first = acuse_row(db, stamp.uuid)
    clock.advance(hours=1)
    requeue(db, stamp.uuid, clock.now())
    assert delivery.run_once() == 1
    assert gateway.calls[stamp.uuid] == 2
    again = acuse_row(db, stamp.uuid)
    assert (again.xml, again.received_at) == (first.xml, NOW)  # SAT answered with the same acuse
    requeue(db, stamp.uuid, clock.now())
    assert Delivery(db, AnswersDifferently(), clock).run_once() == 1
    kept = acuse_row(db, stamp.uuid)
    assert (kept.status, kept.code, kept.xml) == ("recibido", "1", first.xml)
    assert cfdi_row(db, stamp.uuid).sat_status == "recibido"
    assert [r.done_at for r in outbox_rows(db, stamp.uuid)] == [NOW] + [NOW + timedelta(hours=1)] * 2


def test_tampered_sello_sat_is_rejected(db, delivery, stamped, pac):
    stamp = stamped("3", tamper=lambda xml: forged_sello_sat(xml, pac))
    assert delivery.run_once() == 1
    acuse = acuse_row(db, stamp.uuid)
    assert (acuse.status, acuse.code) == ("rechazado", "505")
    assert cfdi_row(db, stamp.uuid).sat_status == "rechazado"
    [row] = outbox_rows(db, stamp.uuid)
    assert row.done_at == NOW  # SAT answered: a rejection is not retried


def test_backoff_doubles_from_5_seconds_up_to_15_minutes():
    assert [backoff(n).total_seconds() for n in range(1, 11)] == [5, 10, 20, 40, 80, 160, 320, 640, 900, 900]
    assert backoff(10_000) == timedelta(minutes=15)


def test_gateway_down_is_retried_with_backoff(db, delivery, gateway, stamped, clock):
    stamp = stamped("4")
    gateway.unavailable = True
    assert delivery.run_once() == 1
    [row] = outbox_rows(db, stamp.uuid)
    assert row.done_at is None and row.attempts == 1 and "GatewayUnavailable" in row.last_error
    assert row.next_attempt_at == NOW + timedelta(seconds=5)
    assert delivery.run_once() == 0  # not due yet
    clock.advance(seconds=5)
    assert delivery.run_once() == 1
    [row] = outbox_rows(db, stamp.uuid)
    assert (row.attempts, row.next_attempt_at) == (2, NOW + timedelta(seconds=15))
    clock.advance(seconds=9)
    assert delivery.run_once() == 0
    gateway.unavailable = False
    clock.advance(seconds=1)
    assert delivery.run_once() == 1
    [row] = outbox_rows(db, stamp.uuid)
    assert (row.attempts, row.done_at, row.last_error) == (3, NOW + timedelta(seconds=15), None)
    assert cfdi_row(db, stamp.uuid).sat_status == "recibido"
    assert acuse_row(db, stamp.uuid).received_at == NOW + timedelta(seconds=15)


def test_any_error_leaves_the_row_pending(db, delivery, gateway, stamped, clock, caplog):
    stamp = stamped("5")
    with db.session() as s:  # the XML went missing: an error of ours, not SAT's
        s.delete(s.get(CfdiXml, stamp.uuid))
    assert delivery.run_once() == 1
    [row] = outbox_rows(db, stamp.uuid)
    assert row.done_at is None and row.last_error.startswith("LookupError")
    assert row.next_attempt_at == NOW + timedelta(seconds=5)
    assert any(r.levelno == logging.ERROR and stamp.uuid in r.getMessage() for r in caplog.records)
    assert gateway.calls == Counter()


def test_crashed_claim_is_retried_after_the_lease(db, gateway, stamped, clock):
    stamp = stamped("6")
    crashed = Delivery(db, gateway, clock)
    [job] = crashed.claim(10)  # ... and the process dies before delivering
    other = Delivery(db, gateway, clock)
    assert other.run_once() == 0  # leased
    clock.advance(seconds=59)
    assert other.run_once() == 0
    clock.advance(seconds=1)
    assert other.run_once() == 1
    [row] = outbox_rows(db, stamp.uuid)
    assert (row.attempts, row.done_at) == (2, NOW + timedelta(seconds=60))
    assert cfdi_row(db, stamp.uuid).sat_status == "recibido"
    assert gateway.calls == Counter({stamp.uuid: 1})


def test_a_stale_run_does_not_undo_a_newer_claim(db, gateway, stamped, clock):
    stamp = stamped("7")
    slow = Delivery(db, gateway, clock)
    [stale] = slow.claim(10)
    clock.advance(seconds=60)  # its lease expired: another run claims the row
    fresh = Delivery(db, gateway, clock)
    [job] = fresh.claim(10)
    assert (stale.attempt, job.attempt) == (1, 2)
    gateway.unavailable = True
    assert slow.process(stale) is False  # the stale run fails late: the newer lease stands
    [row] = outbox_rows(db, stamp.uuid)
    assert (row.next_attempt_at, row.last_error) == (NOW + timedelta(seconds=120), None)
    gateway.unavailable = False
    assert fresh.process(job) is True
    assert slow.process(stale) is True  # and finishing late keeps the first acuse and the done row
    [row] = outbox_rows(db, stamp.uuid)
    assert row.done_at == NOW + timedelta(seconds=60)
    assert acuse_row(db, stamp.uuid).status == "recibido"


def test_two_workers_never_deliver_the_same_row(db_url, db, gateway, stamped, clock):
    uuids = {stamped(str(n)).uuid for n in range(24)}
    barrier = threading.Barrier(2)
    processed: list[int] = []
    databases = [Database(db_url), Database(db_url)]  # two processes' worth of connections

    def work(d: Database) -> None:
        delivery = Delivery(d, gateway, clock)
        barrier.wait()
        total = 0
        while (n := delivery.run_once(limit=3)) > 0:
            total += n
        processed.append(total)

    threads = [threading.Thread(target=work, args=(d,)) for d in databases]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for d in databases:
            d.dispose()
    assert gateway.calls == Counter({u: 1 for u in uuids})
    assert sum(processed) == 24
    with db.reader() as s:
        assert s.scalars(select(Outbox.done_at)).all() == [NOW] * 24
        assert set(s.scalars(select(Cfdi.sat_status))) == {"recibido"}


def test_claim_skips_rows_another_claim_holds(db, gateway, stamped, clock):
    """The deterministic half of the test above: on PostgreSQL a claim passes over locked rows at once."""
    if not db.is_postgres:
        pytest.skip("SQLite serializes writers (BEGIN IMMEDIATE): no row is ever locked by another claim")
    held, free = stamped("30").uuid, stamped("31").uuid
    claimed: list[list[str]] = []
    with db.session() as other:  # another worker's claim transaction, still open
        other.scalars(select(Outbox).where(Outbox.ref == held).with_for_update()).all()
        t = threading.Thread(target=lambda: claimed.append([j.uuid for j in Delivery(db, gateway, clock).claim(10)]))
        t.start()
        t.join(30)  # a claim that waited for the lock instead of skipping it would still be running
        assert not t.is_alive() and claimed == [[free]]
    assert [j.uuid for j in Delivery(db, gateway, clock).claim(10)] == [held]


class FlakyRunner:
    """A delivery whose first run fails; `ran` is set after every run."""

    def __init__(self, delivery: Delivery) -> None:
        self.delivery = delivery
        self.runs = 0
        self.ran = threading.Event()

    def run_once(self, limit: int = 50) -> int:
        self.runs += 1
        try:
            if self.runs == 1:
                raise RuntimeError("base de datos caída")
            return self.delivery.run_once(limit)
        finally:
            self.ran.set()


def test_worker_survives_errors_and_delivers_on_wake(db, delivery, gateway, stamped, caplog):
    runner = FlakyRunner(delivery)
    worker = Worker(runner, interval=3600)  # only wake() can start another run during this test
    worker.start()
    try:
        assert runner.ran.wait(30)
        stamp = stamped("8")
        worker.wake()
        assert gateway.delivered.wait(30)
    finally:
        worker.stop()
    assert any(r.exc_info and isinstance(r.exc_info[1], RuntimeError) and "base de datos caída" in str(r.exc_info[1])
               for r in caplog.records)
    assert cfdi_row(db, stamp.uuid).sat_status == "recibido"  # stop() waited for the run in progress
    assert outbox_rows(db, stamp.uuid)[0].done_at == NOW
    assert gateway.calls == Counter({stamp.uuid: 1})
