"""What the test run saw the rules do: the evidence behind docs/validations.md, and no hidden rule crash.

Registered by tests/conftest.py. While the tests run, an observer in the rule engine
(timbra.cfdi.rules.OBSERVER, None in production) records, for every code, whether a test saw a rule report
it on a document and whether a test saw a document pass through the rule that checks it (the rule applied
and did not report it). Only the tests under OBSERVED_TESTS count, so the evidence is the same whether they
run alone or within the whole suite.

- A document checked with catalogs other than SAT's shipped ones (rows a test injects, or a test marked
  `injected_catalog`) is not production evidence: it is recorded apart ("injected").
- A rule that crashes (CFDI40999) fails the test that made it crash, whatever the test does with the
  findings; a test that provokes a crash on purpose says so with `@pytest.mark.rule_crash`.
- When a run covered every test under OBSERVED_TESTS (no selection, no failure), it writes what it saw to
  build/observed-rules.json and fails if it saw less than docs/observed-rules.json, the committed evidence
  the table is generated from (`make validations` regenerates both). Under pytest-xdist (`make test`) each
  worker hands what it saw to the controller, which checks the whole.
"""
from __future__ import annotations

import json
import os
import traceback
from pathlib import Path

import pytest

from timbra.cfdi import rules
from timbra.cfdi.rules.claves import CATALOG_CODES, COMPLEMENT_CODES
from timbra.sat.catalogs import catalogs

ROOT = Path(__file__).resolve().parent.parent
OBSERVED_TESTS = ROOT / "tests" / "cfdi"
COMMITTED = ROOT / "docs" / "observed-rules.json"
FRESH = ROOT / "build" / "observed-rules.json"
PLUGIN = "timbra-observe"


class Seen:
    def __init__(self) -> None:
        self.reported: set[str] = set()
        self.passed: set[str] = set()


def observation(main: Seen, injected: Seen) -> dict[str, list[str]]:
    return {"reported": sorted(main.reported), "passed": sorted(main.passed),
            "injected_reported": sorted(injected.reported - main.reported),
            "injected_passed": sorted(injected.passed - main.passed)}


class RuleObserver:
    """The engine's observer (timbra.cfdi.rules.Observer) and the pytest plugin around it."""

    def __init__(self) -> None:
        self.main = Seen()
        self.injected = Seen()
        self.item: pytest.Item | None = None
        self.counting = False  # the current test is under OBSERVED_TESTS
        self.injected_item = False  # the current test is marked injected_catalog
        self.crashes: list[tuple[str, str]] = []
        self.deselected = False
        self.ran: set[Path] = set()  # the test files pytest-xdist's workers collected
        self.lost_worker = False
        self._complement_codes: dict[str, list[str]] | None = None

    @property
    def complement_codes(self) -> dict[str, list[str]]:
        """namespace -> the complement's catalog codes (registered when the rule modules load)."""
        if self._complement_codes is None:
            rules._load_rule_modules()
            self._complement_codes = {}
            for (ns, _element, _attr), code in COMPLEMENT_CODES.items():
                self._complement_codes.setdefault(ns, []).append(code)
        return self._complement_codes

    # -- the engine's side -------------------------------------------------------------------------
    def observed(self, codes, ran, findings, ctx) -> None:
        if not self.counting:
            return
        seen = self.injected if self.injected_item or ctx.catalogs is not catalogs() else self.main
        reported = {f.code for f in findings}
        seen.reported.update(reported)
        if not ran:
            return
        if len(codes) == len(CATALOG_CODES) and codes[0] in CATALOG_CODES:
            # claves.catalog_values also reports the complements' catalog codes, for the complements present
            codes = [*codes, *(c for ns in ctx.complement_namespaces for c in self.complement_codes.get(ns, ()))]
        seen.passed.update(c for c in codes if c not in reported)

    def crashed(self, rule, exc, ctx) -> None:
        self.crashes.append((rule.name, "".join(traceback.format_exception(exc))))

    # -- pytest's side -----------------------------------------------------------------------------
    def pytest_deselected(self, items) -> None:
        if items:
            self.deselected = True

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item):
        self.item = item
        self.counting = item.path.is_relative_to(OBSERVED_TESTS)
        self.injected_item = item.get_closest_marker("injected_catalog") is not None
        self.crashes = []
        rules.set_observer(self)
        return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item):
        self.injected_item = item.get_closest_marker("injected_catalog") is not None  # fixtures may add it
        result = yield
        self._fail_on_crash(item)
        return result

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item, nextitem):
        result = yield
        try:
            self._fail_on_crash(item)
        finally:
            self.item = None
            self.counting = False
            self.injected_item = False
            rules.set_observer(None)
        return result

    def _fail_on_crash(self, item) -> None:
        crashes, self.crashes = self.crashes, []
        if crashes and item.get_closest_marker("rule_crash") is None:
            text = "\n".join(f"rule {name} crashed (CFDI40999):\n{tb}" for name, tb in crashes)
            pytest.fail(f"{text}\n(a test that makes a rule crash on purpose is marked @pytest.mark.rule_crash)",
                        pytrace=False)

    def pytest_sessionfinish(self, session, exitstatus) -> None:
        if hasattr(session.config, "workerinput"):  # a pytest-xdist worker: what it saw goes to the controller
            session.config.workeroutput[PLUGIN] = {
                "main": [sorted(self.main.reported), sorted(self.main.passed)],
                "injected": [sorted(self.injected.reported), sorted(self.injected.passed)],
                "ran": sorted({str(i.path) for i in session.items}), "deselected": self.deselected}
            return
        if not self._covered_everything(session):
            return
        fresh = observation(self.main, self.injected)
        FRESH.parent.mkdir(exist_ok=True)
        FRESH.write_text(json.dumps(fresh, indent=1) + "\n", encoding="utf-8")
        committed = json.loads(COMMITTED.read_text(encoding="utf-8")) if COMMITTED.exists() else {}
        lost = {k: sorted(set(committed.get(k, ())) - set(fresh[k])) for k in ("reported", "passed")}
        lost = {k: v for k, v in lost.items() if v}
        if lost and not os.environ.get("TIMBRA_OBSERVE_UPDATE"):  # make validations: regenerating on purpose
            self._lost = lost
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        """pytest-xdist's controller: a worker's share of the observations (every worker collects every test
        and runs some of them)."""
        share = getattr(node, "workeroutput", {}).get(PLUGIN)
        if share is None or error is not None:
            self.lost_worker = True
            return
        for seen, (reported, passed) in ((self.main, share["main"]), (self.injected, share["injected"])):
            seen.reported.update(reported)
            seen.passed.update(passed)
        self.ran.update(Path(p) for p in share["ran"])
        self.deselected |= share["deselected"]

    def _covered_everything(self, session) -> bool:
        # make validations (TIMBRA_OBSERVE_UPDATE) writes what a failing run saw too; make stops before the table
        failed = session.testsfailed and not os.environ.get("TIMBRA_OBSERVE_UPDATE")
        if self.deselected or self.lost_worker or failed or session.shouldfail or session.shouldstop:
            return False
        if any("::" in str(a) for a in session.config.args):
            return False
        ran = {Path(i.path) for i in session.items} | self.ran
        wanted = set(OBSERVED_TESTS.rglob("test_*.py"))
        return bool(wanted) and wanted <= ran

    def pytest_terminal_summary(self, terminalreporter) -> None:
        lost = getattr(self, "_lost", None)
        if lost:
            terminalreporter.write_line(
                f"docs/observed-rules.json claims what this run did not see: {lost}; a test that observed these "
                "was removed or changed. Fix the tests, or regenerate: make validations", red=True)


def install(config: pytest.Config) -> None:
    """Register the markers and the observer (tests/conftest.py; `-p tests.observe` elsewhere)."""
    config.addinivalue_line("markers", "rule_crash: the test makes a rule crash (CFDI40999) on purpose")
    config.addinivalue_line("markers", "injected_catalog: the test checks documents with catalog rows it injects, "
                                       "not SAT's shipped catalogs (not production evidence for docs/validations.md)")
    if not config.pluginmanager.has_plugin(PLUGIN):
        config.pluginmanager.register(RuleObserver(), PLUGIN)


def pytest_configure(config: pytest.Config) -> None:
    install(config)
