"""The moved clock of a shifted test run (TIMBRA_TEST_SHIFT_YEARS, `make test-future`) in every process it starts.

tests/conftest.py moves the clock of the test process with time-machine and, while it does, puts this folder
first on PYTHONPATH: Python imports `sitecustomize` at start-up, so a server or CLI a test starts in a
subprocess reads the same moved clock as the test that talks to it.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone

# Set in a process whose clock this module (or tests/conftest.py) already moved: never move it twice.
MARK = "TIMBRA_TEST_SHIFTED_PID"


def shifted(years: int) -> datetime:
    """The real time now, `years` ahead (29 February moves to the 28th of a year without one)."""
    now = datetime.now(timezone.utc)
    try:
        return now.replace(year=now.year + years)
    except ValueError:
        return now.replace(year=now.year + years, day=28)


def shift(years: int) -> None:
    """Move this process's clock `years` ahead, once."""
    if not years or os.environ.get(MARK) == str(os.getpid()):
        return
    import time_machine

    time_machine.travel(shifted(years), tick=True).start()
    os.environ[MARK] = str(os.getpid())


if __name__ == "sitecustomize":
    try:
        shift(int(os.environ.get("TIMBRA_TEST_SHIFT_YEARS") or 0))
    except ImportError:  # a Python without time-machine: its clock stays real
        pass
