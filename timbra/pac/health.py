"""What the PAC admin watches: the work waiting in the outbox (deliveries to SAT, cancellations to send and to
follow), how far behind SAT's acknowledgments are, and the errors clients got in the last hour by code.

Errors are counted in memory by the process that answered them (`ErrorLog.record`, called by the API's and
the portal's error handlers): with several processes each counts its own, and a restart starts over.
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

WINDOW = timedelta(hours=1)
MAX_REMEMBERED = 100_000


class ErrorLog:
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
    failing: int
    oldest_age: timedelta | None


@dataclass(frozen=True)
class Report:
    backlog: list[Backlog] = field(default_factory=list)
    stamps_last_hour: int = 0
    acuses_last_hour: int = 0
    sat_lag_p50: timedelta | None = None    # stamp to SAT's acuse, over the last hour's acuses
    sat_lag_max: timedelta | None = None
    errors_last_hour: list[tuple[str, int]] = field(default_factory=list)

    @property
    def queue_length(self) -> int:
        return sum(b.pending for b in self.backlog)


class Health:
    def __init__(self, db: Database, errors: ErrorLog, clock: Clock = SYSTEM) -> None:
        self.db = db
        self.errors = errors
        self.clock = clock

    def report(self, who: Principal) -> Report:
        if not who.is_admin:
            raise error("T102")
        now = self.clock.now()
        since = now - WINDOW
        with self.db.reader() as s:
            backlog = [Backlog(k, n, failing, (now - oldest) if oldest else None)
                       for k, n, failing, oldest in repo.outbox_backlog(s, now)]
            delays = sorted(repo.acuse_delays(s, since))
            stamps = repo.stamps_since(s, since)
        return Report(backlog, stamps, len(delays), delays[len(delays) // 2] if delays else None,
                      delays[-1] if delays else None, self.errors.last_hour())
