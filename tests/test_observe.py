"""tests/observe.py: a rule that crashes fails the test that made it crash, whatever the test filters."""
import os
import subprocess
import sys
from pathlib import Path

from lxml import etree

from tests import observe

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


class Recorder:
    def __init__(self) -> None:
        self.ran: set[str] = set()
        self.reported: set[str] = set()

    def observed(self, codes, ran, findings, ctx) -> None:
        if ran:
            self.ran.update(codes)
        self.reported.update(f.code for f in findings)

    def crashed(self, rule, exc, ctx) -> None:
        raise AssertionError(f"{rule.name} crashed: {exc!r}")


def test_the_engine_shows_an_observer_every_rule_module_and_the_seal(make_xml, certifier, monkeypatch):
    """Every rule module (complements too) reaches the observer; the seal's codes are observed too; none is
    installed outside the tests."""
    from tests.cfdi.rules.complementos.cartaporte31_builder import carta_porte
    from tests.cfdi.rules.complementos.nomina12_builder import NominaSpec
    from tests.cfdi.rules.complementos.pagos20_builder import pagos_root
    from tests.conftest import NOW
    from timbra.cfdi import rules
    from timbra.cfdi.rules import REGISTRY, set_observer
    from timbra.cfdi.seal import sign_root

    assert isinstance(rules.OBSERVER, observe.RuleObserver)  # the suite's, while a test runs
    recorder = Recorder()
    previous = set_observer(recorder)
    try:
        pago = pagos_root(certifier.pac, NOW)
        docs = [make_xml(lambda r: r.set("Exportacion", "99")), make_xml(carta_porte("T", "auto")),
                make_xml(carta_porte("I", "maritimo"))]
        for xml in docs:
            certifier.validate(xml)
        certifier.validate(NominaSpec().xml(certifier.pac, NOW, None))
        sign_root(pago, certifier.pac)
        certifier.validate(etree.tostring(pago))
    finally:
        assert set_observer(previous) is recorder
    modules = {r.fn.__module__ for r in REGISTRY if set(r.codes) & recorder.ran}
    assert modules == {r.fn.__module__ for r in REGISTRY}
    assert {"CFDI40102", "CFDI40106", "CFDI40999"} <= recorder.ran
    assert "CFDI40123" in recorder.reported  # Exportacion 99


def test_documents_checked_with_injected_catalog_rows_are_not_production_evidence(make_xml):
    """A Catalogs other than SAT's shipped one (rows a test injects) goes apart from the evidence."""
    from tests.cfdi.rules.complementos.test_cartaporte31 import catalogs_with
    from tests.conftest import NOW
    from timbra.cfdi.document import parse
    from timbra.cfdi.rules import Context, set_observer
    from timbra.sat.catalogs import catalogs

    seen = observe.RuleObserver()
    seen.counting = True
    previous = set_observer(seen)
    try:
        doc = parse(make_xml(lambda r: r.set("Exportacion", "99")))
        run = observe.rules.run_rules
        run(Context(doc=doc, catalogs=catalogs(), now=NOW))
        shipped = observe.observation(seen.main, seen.injected)
        run(Context(doc=doc, catalogs=catalogs_with("x", ["id"], [["1"]]), now=NOW))
    finally:
        set_observer(previous)
    assert "CFDI40123" in shipped["reported"] and "CFDI40101" in shipped["passed"]
    assert observe.observation(seen.main, seen.injected)["reported"] == shipped["reported"]
    assert seen.injected.reported == {"CFDI40123"}


def test_under_pytest_xdist_the_controller_joins_what_each_worker_saw(monkeypatch):
    """`make test` runs the tests in worker processes: each reports its share, the controller checks the
    whole against the committed evidence as a single process would, and a worker lost means no check."""
    from types import SimpleNamespace

    monkeypatch.delenv("TIMBRA_OBSERVE_UPDATE", raising=False)
    files = sorted(str(p) for p in observe.OBSERVED_TESTS.rglob("test_*.py"))
    half = len(files) // 2

    def worker(reported, passed, ran):
        w = observe.RuleObserver()
        w.main.reported.update(reported)
        w.main.passed.update(passed)
        config = SimpleNamespace(workerinput={}, workeroutput={})
        w.pytest_sessionfinish(SimpleNamespace(config=config, items=[SimpleNamespace(path=Path(p)) for p in ran]), 0)
        return SimpleNamespace(workeroutput=config.workeroutput)

    session = SimpleNamespace(config=SimpleNamespace(args=[]), items=[], testsfailed=0, shouldfail=False,
                              shouldstop=False)
    controller = observe.RuleObserver()
    controller.pytest_testnodedown(worker({"CFDI40101"}, {"CFDI40102"}, files[:half]), None)
    assert not controller._covered_everything(session)  # half the files seen so far
    controller.pytest_testnodedown(worker({"CFDI40103"}, {"CFDI40101"}, files[half:]), None)
    assert controller._covered_everything(session)
    assert observe.observation(controller.main, controller.injected)["reported"] == ["CFDI40101", "CFDI40103"]
    assert observe.observation(controller.main, controller.injected)["passed"] == ["CFDI40101", "CFDI40102"]

    controller.pytest_testnodedown(SimpleNamespace(workeroutput={}), "crashed")
    assert not controller._covered_everything(session)
