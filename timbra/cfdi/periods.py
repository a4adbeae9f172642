"""Calendar arithmetic on dates, as SAT's Nómina matrix counts periods (Antigüedad: NOM54, NOM55).

Shared by the rule that checks an Antigüedad and the builder that writes one."""
from __future__ import annotations

import calendar
from datetime import date


def add_months(d: date, months: int) -> date:
    """`d` plus `months` calendar months; a day the month has not is its last (01-31 + 1 month: 02-28)."""
    year, month0 = divmod(d.month - 1 + months, 12)
    year += d.year
    return date(year, month0 + 1, min(d.day, calendar.monthrange(year, month0 + 1)[1]))


def elapsed(start: date, end: date) -> tuple[int, int]:
    """(whole months, days) from `start` to `end` as a calendar counts them (2019-06-03 to 2026-11-15:
    89 months and 12 days); `start` <= `end`."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if add_months(start, months) > end:
        months -= 1
    return months, (end - add_months(start, months)).days
