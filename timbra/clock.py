"""One injectable clock: every "now" in timbra comes from here, so tests can fix time."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo

# SAT's time: FechaTimbrado, SAT's deadlines and the days of its calendar are Mexico City time.
MEXICO_CITY = ZoneInfo("America/Mexico_City")


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime (UTC)."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FixedClock:
    """A clock that stands still until moved; for tests and reproducible demos."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(timezone.utc)

    def now(self) -> datetime:
        return self._at

    def advance(self, **delta: float) -> None:
        self._at += timedelta(**delta)


SYSTEM = SystemClock()
