"""Health, readiness and the PAC-wide figures the metrics endpoint publishes (no customer's data), and the
portal admin's report of the system.

Liveness (/healthz) says the process answers; readiness (/readyz) says it can do its work: the database
answers and the outbox (deliveries to SAT, cancellations) is not falling behind. The admin's page adds how
far behind SAT's acknowledgments are and the errors clients got in the last hour by code: those are counted
in memory by the process that answered them (`ErrorLog.record`, from the API's and the portal's error
handlers); with several processes each counts its own, and a restart starts over (the cumulative counter
across processes is /metrics' timbra_errors).
"""
from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from timbra.clock import SYSTEM, Clock
from timbra.codes import error
from timbra.pac.accounts import Principal
from timbra.store import repo
from timbra.store.db import Database

# An outbox row older than this means the worker is not keeping up (or not running): not ready.
OUTBOX_LAG_LIMIT = timedelta(minutes=5)
WINDOW = timedelta(hours=1)  # the admin report's "last hour"
MAX_REMEMBERED = 100_000


class ErrorLog:
    """The error codes answered in the last hour by this process."""

    def __init__(self, clock: Clock = SYSTEM) -> None:
        self.clock = clock
        self._seen: deque[tuple[datetime, str]] = deque(maxlen=MAX_REMEMBERED)
        self._lock = threading.Lock()

    def record(self, code: str) -> None:
        with self._lock:
            self._seen.append((self.clock.now(), code))

    def last_hour(self) -> list[tuple[str, int]]:
        since = self.clock.now() - WINDOW
        with self._lock:
            while self._seen and self._seen[0][0] < since:
                self._seen.popleft()
            counts = Counter(code for _, code in self._seen)
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


@dataclass(frozen=True)
class Backlog:
    kind: str
    pending: int
    oldest_seconds: float


@dataclass(frozen=True)
class Readiness:
    database: bool
    outbox: list[Backlog] = field(default_factory=list)
    error: str | None = None

    @property
    def ready(self) -> bool:
        return self.database and all(b.oldest_seconds <= OUTBOX_LAG_LIMIT.total_seconds() for b in self.outbox)

    def as_dict(self) -> dict:
        out = {"status": "ok" if self.ready else "unavailable", "database": "ok" if self.database else "down",
               "outbox": [{"kind": b.kind, "pending": b.pending, "oldest_seconds": round(b.oldest_seconds, 1)}
                          for b in self.outbox],
               "outbox_lag_limit_seconds": OUTBOX_LAG_LIMIT.total_seconds()}
        if self.error:
            out["error"] = self.error
        return out


@dataclass(frozen=True)
class Figures:
    credits_sold: int
    stamps: int
    cfdis_by_status: dict[str, int]
    outbox: list[Backlog]


@dataclass(frozen=True)
class AdminBacklog:
    kind: str
    pending: int
    failing: int
    oldest_age: timedelta | None


@dataclass(frozen=True)
class Report:
    """What the portal's admin page shows."""

    backlog: list[AdminBacklog] = field(default_factory=list)
    stamps_last_hour: int = 0
    acuses_last_hour: int = 0
    sat_lag_p50: timedelta | None = None    # stamp to SAT's acuse, over the last hour's acuses
    sat_lag_max: timedelta | None = None
    errors_last_hour: list[tuple[str, int]] = field(default_factory=list)

    @property
    def queue_length(self) -> int:
        return sum(b.pending for b in self.backlog)


class Health:
    def __init__(self, db: Database, clock: Clock = SYSTEM, errors: ErrorLog | None = None) -> None:
        self.db = db
        self.clock = clock
        self.errors = errors or ErrorLog(clock)

    def report(self, who: Principal) -> Report:
        """The PAC admin's view: the outbox by kind (failing rows too), SAT's lag and the last hour's errors."""
        if not who.is_admin:
            raise error("T102")
        now = self.clock.now()
        since = now - WINDOW
        with self.db.reader() as s:
            failing = repo.outbox_failing(s)
            backlog = [AdminBacklog(k, n, failing.get(k, 0), (now - oldest) if oldest else None)
                       for k, n, oldest in repo.outbox_backlog(s, now)]
            delays = sorted(repo.acuse_delays(s, since))
            stamps = repo.stamps_since(s, since)
        return Report(backlog, stamps, len(delays), delays[len(delays) // 2] if delays else None,
                      delays[-1] if delays else None, self.errors.last_hour())

    def readiness(self) -> Readiness:
        try:
            with self.db.reader() as s:
                repo.ping(s)
                backlog = self._backlog(s)
        except Exception as exc:  # noqa: BLE001 - any failure to reach the database is "not ready"
            return Readiness(False, error=type(exc).__name__)
        return Readiness(True, backlog)

    def figures(self) -> Figures:
        with self.db.reader() as s:
            sold, stamps = repo.credit_totals(s)
            return Figures(sold, stamps, repo.cfdi_counts(s), self._backlog(s))

    def _backlog(self, s) -> list[Backlog]:
        now = self.clock.now()
        return [Backlog(kind, n, max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
                for kind, n, oldest in repo.outbox_backlog(s, now)]
