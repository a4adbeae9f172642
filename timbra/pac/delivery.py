"""Delivery to SAT: the outbox worker that forwards every stamped CFDI through the SAT gateway.

The stamp service writes an Outbox row (kind "deliver", ref = UUID) in the transaction that stores the
stamp; this module takes it from there, at least once:

1. claim: in a short transaction, due rows get `attempts + 1` and a lease (`next_attempt_at` pushed
   forward); on PostgreSQL `FOR UPDATE SKIP LOCKED` keeps several `timbra worker` processes off each
   other's rows, on SQLite `BEGIN IMMEDIATE` serializes the claims.
2. deliver: the gateway is called outside any transaction (SAT may be slow; no lock is held meanwhile).
3. finish: in a second transaction the acuse is stored (an acuse already there is kept), the Cfdi's
   sat_status follows it and the row is done. A failure instead records the error and a backoff.

A worker that dies between 1 and 3 loses nothing: its lease expires and another run takes the row again.
Delivering twice is harmless because SAT (and the gateway) answer the same UUID with the same acuse.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from timbra.clock import SYSTEM, Clock
from timbra.gateway import Gateway, GatewayUnavailable, Receipt
from timbra.store import repo
from timbra.store.db import Database

log = logging.getLogger(__name__)

KIND = "deliver"
LEASE = timedelta(seconds=60)
BACKOFF_FIRST_SECONDS = 5
BACKOFF_MAX_SECONDS = 15 * 60
_MAX_ERROR_CHARS = 2000


def backoff(attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: 5 s, 10 s, 20 s, ... never more than 15 minutes."""
    exponent = min(max(attempts, 1) - 1, 20)  # 5 * 2**20 s is far past the cap; bounds the arithmetic
    return timedelta(seconds=min(BACKOFF_FIRST_SECONDS * 2 ** exponent, BACKOFF_MAX_SECONDS))


@dataclass(frozen=True)
class Job:
    """A claimed outbox row. `attempt` (its attempts after the claim) fences late writes from a stale run."""

    outbox_id: int
    ref: str
    attempt: int

    @property
    def uuid(self) -> str:
        return self.ref


def claim(db: Database, kind: str, now: datetime, limit: int, lease: timedelta) -> list[Job]:
    """Lease due rows of `kind` to this run and commit, so no other run takes them until the lease expires."""
    with db.session() as s:
        jobs = []
        for row in repo.due_outbox(s, kind, now, limit, skip_locked=db.is_postgres):
            row.attempts += 1
            row.next_attempt_at = now + lease
            jobs.append(Job(row.id, row.ref, row.attempts))
    return jobs


def record_failure(db: Database, job: Job, exc: Exception, now: datetime) -> None:
    """Record the error and when to try again; a later claim (higher attempts) is left alone."""
    text = f"{type(exc).__name__}: {exc}"[:_MAX_ERROR_CHARS]
    try:
        with db.session() as s:
            repo.retry_outbox(s, job.outbox_id, job.attempt, error=text, at=now + backoff(job.attempt))
    except Exception:  # noqa: BLE001 - the lease still expires, so the row is retried anyway
        log.exception("no se pudo registrar el error del trabajo %s %s", job.outbox_id, job.ref)


class Delivery:
    def __init__(self, db: Database, gateway: Gateway, clock: Clock = SYSTEM, *, lease: timedelta = LEASE) -> None:
        self.db = db
        self.gateway = gateway
        self.clock = clock
        self.lease = lease

    def run_once(self, limit: int = 50) -> int:
        """Claim up to `limit` due rows and deliver each; returns how many were processed."""
        jobs = self.claim(limit)
        for job in jobs:
            self.process(job)
        return len(jobs)

    def claim(self, limit: int) -> list[Job]:
        return claim(self.db, KIND, self.clock.now(), limit, self.lease)

    def process(self, job: Job) -> bool:
        """Deliver one claimed row; True when SAT answered (received or rejected), False to retry later."""
        try:
            receipt = self.gateway.deliver(self._xml(job.uuid))
        except GatewayUnavailable as exc:
            log.warning("SAT no disponible al entregar %s (intento %d): %s", job.uuid, job.attempt, exc)
            self._fail(job, exc)
            return False
        except Exception as exc:  # noqa: BLE001 - any failure leaves the row pending, never lost
            log.exception("error al entregar %s al SAT (intento %d)", job.uuid, job.attempt)
            self._fail(job, exc)
            return False
        try:
            self._finish(job, receipt)
        except Exception as exc:  # noqa: BLE001
            log.exception("error al guardar el acuse de %s", job.uuid)
            self._fail(job, exc)
            return False
        return True

    def _xml(self, uuid: str) -> bytes:
        with self.db.reader() as s:
            xml = repo.stored_xml(s, uuid)
        if xml is None:
            raise LookupError(f"no hay XML guardado para el UUID {uuid}")
        return xml

    def _finish(self, job: Job, receipt: Receipt) -> None:
        with self.db.session() as s:
            repo.record_acuse(s, job.uuid, status=receipt.status, code=receipt.code, message=receipt.message,
                              received_at=receipt.received_at, xml=receipt.xml)
            repo.finish_outbox(s, job.outbox_id, self.clock.now())

    def _fail(self, job: Job, exc: Exception) -> None:
        record_failure(self.db, job, exc, self.clock.now())


class Runner(Protocol):
    def run_once(self, limit: int = 50) -> int: ...


class Runners:
    """Several outbox runners (delivery, cancellations) drained by one worker thread."""

    def __init__(self, *runners: Runner) -> None:
        self.runners = runners

    def run_once(self, limit: int = 50) -> int:
        return sum(r.run_once(limit) for r in self.runners)


class Worker:
    """A daemon thread that drains the delivery outbox, then sleeps until woken or `interval` passes.

    The stamp service calls `wake()` after each commit so a fresh stamp goes to SAT at once; the interval
    catches retries whose backoff has passed and rows other processes left behind."""

    def __init__(self, delivery: Runner, *, interval: float = 0.5, batch: int = 50, linger: float = 0.0) -> None:
        self.delivery = delivery
        self.interval = interval
        self.batch = batch
        # After a wake, wait this long so a burst of stamps is claimed in one batch instead of one
        # transaction each (the stamps are committed already: only the acuse comes a little later).
        self.linger = linger
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="timbra-delivery", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        """Ask the thread to finish its current row and wait for it."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            # Cleared before draining: a wake() that arrives during the drain makes the next wait return.
            self._wake.clear()
            if self.linger:
                self._stop.wait(self.linger)
            try:
                while not self._stop.is_set() and self.delivery.run_once(self.batch) > 0:
                    pass
            except Exception:  # noqa: BLE001 - a failed run (database down, ...) must not end the thread
                log.exception("error en el ciclo de entrega al SAT")
            self._wake.wait(self.interval)
