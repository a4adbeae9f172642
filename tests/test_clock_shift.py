"""Date bombs (issue #15): a few clock-sensitive tests run here with the clock ten years ahead, in a
subprocess (tests/conftest.py moves it with time-machine when TIMBRA_TEST_SHIFT_YEARS is set), so the way
`make test-future` runs the whole clock-sensitive set cannot rot. Credits that expire, a CFDI's cancellation
deadlines and a REST package's dates all read the clock."""
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUBSET = ["tests/test_cli_accounts.py::test_distributor_tree_credits_and_balances[sqlite]",
          "tests/cfdi/test_cancelable.py",
          "tests/api/test_rest.py::test_admin_creates_a_distributor_and_sells_it_packages"]


def test_clock_sensitive_tests_pass_ten_years_ahead():
    env = {**os.environ, "TIMBRA_TEST_SHIFT_YEARS": "10"}
    run = subprocess.run([sys.executable, "-m", "pytest", "-o", "addopts=", "-p", "no:randomly",
                          "-p", "no:cacheprovider", *SUBSET], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    ahead = datetime.now(timezone.utc).year + 10
    assert f"TIMBRA_TEST_SHIFT_YEARS=10: the clock reads {ahead}-" in out or \
        f"TIMBRA_TEST_SHIFT_YEARS=10: the clock reads {ahead + 1}-" in out, out  # (a New Year's Eve run)
    assert " passed" in out and "failed" not in out and "skipped" not in out


def test_a_process_a_shifted_test_starts_reads_the_same_moved_clock():
    """A server or CLI a test starts in a subprocess (tests/api/test_e2e.py) moves with the tests."""
    env = {**os.environ, "TIMBRA_TEST_SHIFT_YEARS": "10", "PYTHONPATH": str(ROOT / "tests" / "shift")}
    code = "import time; from datetime import date; print(date.today().year, time.gmtime().tm_year)"
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    ahead = datetime.now(timezone.utc).year + 10
    assert run.stdout.split() in ([str(ahead)] * 2, [str(ahead + 1)] * 2), run.stdout + run.stderr
