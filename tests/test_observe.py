"""tests/observe.py: a rule that crashes fails the test that made it crash, whatever the test filters."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CRASHING = '''
import pytest
from tests.conftest import NOW
from timbra.cfdi.document import parse
from timbra.cfdi.rules import REGISTRY, Context, Rule, run_rules
from timbra.sat.catalogs import catalogs


def _mine(monkeypatch):
    def fragile(ctx):
        raise KeyError("Impuestos")

    monkeypatch.setattr("timbra.cfdi.rules.REGISTRY", [*REGISTRY, Rule(("CFDI40101",), fragile, "4.0")])
    ctx = Context(doc=parse(DOC), catalogs=catalogs(), now=NOW)
    return [f for f in run_rules(ctx) if f.code == "CFDI40101"]  # the filter hides the CFDI40999


def test_filters_the_crash_away(monkeypatch):
    assert _mine(monkeypatch) == []


@pytest.mark.rule_crash
def test_crashes_on_purpose(monkeypatch):
    assert _mine(monkeypatch) == []
'''


def test_a_rule_crash_fails_the_test_unless_it_is_marked(tmp_path, make_xml):
    doc = make_xml()
    test = tmp_path / "test_crash.py"
    test.write_text(CRASHING + f"\nDOC = {doc!r}\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                          "-p", "tests.observe", "--rootdir", str(tmp_path), str(test)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "1 failed, 1 passed" in out
    assert "FAILED test_crash.py::test_filters_the_crash_away" in out
    assert "test_crash.fragile crashed (CFDI40999)" in out and "KeyError: 'Impuestos'" in out
