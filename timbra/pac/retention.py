"""Retention: the stamped XML older than TIMBRA_RETENTION_MONTHS is purged by the worker, in small batches.

Off by default (0 keeps everything) and never sooner than SAT's 3 months (settings refuse less). Only XML
SAT has already received is purged, and never while its cancellation is still waiting on SAT or the
receptor; the CFDI's row (the report's data, status, acuses, events) stays, and asking for its XML answers
410 T230 instead of the document.
"""
from __future__ import annotations

import calendar
import logging
from datetime import datetime, timedelta

from timbra.clock import SYSTEM, Clock
from timbra.store import repo
from timbra.store.db import Database

log = logging.getLogger(__name__)

EVERY = timedelta(hours=1)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the last day when that month is shorter)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


class Retention:
    """An outbox-worker runner: at most once an hour, purge what is due, `limit` CFDI per transaction."""

    def __init__(self, db: Database, months: int, clock: Clock = SYSTEM) -> None:
        self.db = db
        self.months = months
        self.clock = clock
        self._next: datetime | None = None

    def run_once(self, limit: int = 50) -> int:
        """Purge one batch when due; returns how many XML were purged (the worker drains while > 0)."""
        if not self.months:
            return 0
        now = self.clock.now()
        if self._next is not None and now < self._next:
            return 0
        with self.db.session() as s:
            purged = repo.purge_xml_before(s, months_before(now, self.months), max(limit, 1) * 10)
        if purged:
            log.info("retención: %d XML depurados (más de %d meses)", purged, self.months)
        else:
            self._next = now + EVERY  # nothing left: look again in an hour
        return purged
