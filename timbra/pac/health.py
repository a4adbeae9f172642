"""Health, readiness and the PAC-wide figures the metrics endpoint publishes (no customer's data).

Liveness (/healthz) says the process answers; readiness (/readyz) says it can do its work: the database
answers and the outbox (deliveries to SAT, cancellations) is not falling behind.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from timbra.clock import SYSTEM, Clock
from timbra.store import repo
from timbra.store.db import Database

# An outbox row older than this means the worker is not keeping up (or not running): not ready.
OUTBOX_LAG_LIMIT = timedelta(minutes=5)


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


class Health:
    def __init__(self, db: Database, clock: Clock = SYSTEM) -> None:
        self.db = db
        self.clock = clock

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
