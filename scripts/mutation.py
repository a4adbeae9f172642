"""Mutation testing of the validator's rules (timbra/cfdi/rules): are the rules proven right by their tests?

For one rule module at a time this makes small semantic changes (mutants) and runs only that module's tests
against each one; a mutant the tests do not notice (it "survives") is a case no test covers.

    python scripts/mutation.py [-j 2] [--timeout 120] [module ...]      # all modules without arguments
    python scripts/mutation.py --report                                  # only rewrite docs/mutation.md

A module is named as in `MODULES` (comprobante, complementos/nomina12...). The mutations (AST-based):

- compare: a comparison flipped at its boundary or negated (`<` ↔ `<=`, `>` ↔ `>=`, `==` ↔ `!=`, `in` ↔
  `not in`, `is` ↔ `is not`);
- boolop: `and` ↔ `or`, and each operand of an `and`/`or` dropped (a condition left out);
- not: a negation dropped;
- const: an integer constant ±1 (`[0]` becomes `[1]` and `[-1]`, a limit moves by one);
- first: a `for` loop or a comprehension that only sees the first element of what it walks;
- call: `any` ↔ `all`, `min` ↔ `max`;
- return: a function that returns at once (a rule that never fires, a helper that answers None).

Text only shown to a person (the `detail=` of a finding) is not mutated. Each mutant runs in a child
process forked from one that already imported timbra and the tests (so a mutant costs its tests' run, not
the imports): the child swaps the module's code for the mutated code (re-registering its rules in place)
and runs `pytest -x -q -p no:randomly` on the module's test files, with a timeout (a mutant that hangs is
killed, and counts as killed). Results are cached in .mutation-cache/ by the hash of the module's source,
the mutant and the test files, so a second run only runs what changed. Mutants that cannot change what
the rules answer are listed in scripts/mutation_equivalent.toml with the reason.

The summary is kept in docs/mutation.json (the first measurement of each module stays as "before") and
written out as docs/mutation.md.
"""
from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import importlib
import json
import os
import signal
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "timbra" / "cfdi" / "rules"
TESTS = ROOT / "tests" / "cfdi" / "rules"
CACHE = ROOT / ".mutation-cache"
SUMMARY = ROOT / "docs" / "mutation.json"
REPORT = ROOT / "docs" / "mutation.md"
EQUIVALENT = ROOT / "scripts" / "mutation_equivalent.toml"
VERSION = "1"  # part of every cache key: bump when the mutations or the way they run change

# rule module -> the test files that must prove it right
MODULES: dict[str, list[str]] = {
    "comprobante": ["test_comprobante.py", "test_padron_rules.py"],
    "conceptos": ["test_conceptos.py", "test_padron_rules.py"],
    "impuestos": ["test_impuestos.py", "test_padron_rules.py"],
    "emisor": ["test_emisor.py", "test_padron_rules.py"],
    "receptor": ["test_receptor.py", "test_regimen_receptor.py", "test_padron_rules.py"],
    "informacion_global": ["test_informacion_global.py"],
    "cfdi_relacionados": ["test_cfdi_relacionados.py"],
    "claves": ["test_comprobante.py", "test_conceptos.py", "test_impuestos.py", "test_receptor.py",
               "test_emisor.py", "complementos/test_pagos20.py", "complementos/test_nomina12.py",
               "complementos/test_cartaporte31.py"],
    "complementos/pagos20": ["complementos/test_pagos20.py"],
    "complementos/nomina12": ["complementos/test_nomina12.py"],
    "complementos/cartaporte31": ["complementos/test_cartaporte31.py"],
}
# What every module's tests also depend on (part of the cache key).
SHARED_TEST_FILES = [ROOT / "tests" / "conftest.py", ROOT / "tests" / "xmlhelp.py",
                     *sorted((TESTS / "complementos").glob("*_builder.py"))]

FLIP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
        ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
SWAP_CALL = {"any": "all", "all": "any", "min": "max", "max": "min"}


# -- the mutants -----------------------------------------------------------------------------------------

@dataclass
class Mutant:
    id: str        # stable across edits elsewhere in the module: "function: kind `before` → `after`[ #n]"
    kind: str
    line: int
    index: int     # the node's position in ast.walk order
    variant: int   # which change of that node
    lines: tuple[int, int] = (0, 0)  # the source lines a test must run for the change to matter
    in_function: bool = True         # False: module level, run at import only (every test of the module runs)


def _src(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 70 else text[:67] + "..."


def _parents(tree: ast.AST) -> dict[int, tuple[ast.AST, str]]:
    out: dict[int, tuple[ast.AST, str]] = {}
    for parent in ast.walk(tree):
        for name, value in ast.iter_fields(parent):
            if isinstance(value, list):
                for child in value:
                    if isinstance(child, ast.AST):
                        out[id(child)] = (parent, name)
            elif isinstance(value, ast.AST):
                out[id(value)] = (parent, name)
    return out


def _skipped(tree: ast.AST) -> set[int]:
    """Nodes not mutated: what a finding's `detail=` says, docstrings, annotations."""
    skip: set[int] = set()
    for n in ast.walk(tree):
        roots: list[ast.AST] = []
        if isinstance(n, ast.Call):
            roots += [k.value for k in n.keywords if k.arg == "detail"]
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            roots += [a.annotation for a in [*n.args.args, *n.args.kwonlyargs] if a.annotation] + (
                [n.returns] if n.returns else [])
        if isinstance(n, ast.AnnAssign):
            roots.append(n.annotation)
        for r in roots:
            skip.update(id(x) for x in ast.walk(r))
    return skip


def _qualnames(tree: ast.AST) -> dict[int, str]:
    names: dict[int, str] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            p = prefix
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                p = f"{prefix}.{child.name}" if prefix else child.name
            for n in ast.walk(child) if not isinstance(child, (ast.FunctionDef, ast.ClassDef)) else [child]:
                names.setdefault(id(n), p or "<module>")
            visit(child, p)

    visit(tree, "")
    return names


def _default(node: ast.BoolOp) -> bool:
    """`x or ''`, `x or 0`, `x or []`: a default value, not a condition (not mutated)."""
    last = node.values[-1]
    return isinstance(node.op, ast.Or) and (
        isinstance(last, ast.Constant) or (isinstance(last, (ast.List, ast.Tuple, ast.Dict, ast.Set)) and not (
            getattr(last, "elts", None) or getattr(last, "keys", None))))


def _span(node: ast.AST) -> tuple[int, int]:
    """The lines whose execution makes the mutation of `node` matter."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        body = node.body
        doc = 1 if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) else 0
        node = body[doc]
    elif isinstance(node, (ast.For, ast.comprehension)):
        node = node.iter
    return node.lineno, node.end_lineno or node.lineno


def _changes(node: ast.AST) -> list[tuple[str, str]]:
    """(kind, after) of each mutation of `node` (after: the changed source, for the mutant's id)."""
    out: list[tuple[str, str]] = []
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in FLIP:
                m = copy.deepcopy(node)
                m.ops[i] = FLIP[type(op)]()
                out.append(("compare", _src(m)))
    elif isinstance(node, ast.BoolOp) and not _default(node):
        other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        out.append(("boolop", _src(ast.BoolOp(other, node.values))))
        for i in range(len(node.values)):
            rest = node.values[:i] + node.values[i + 1:]
            out.append(("boolop", _src(rest[0] if len(rest) == 1 else ast.BoolOp(node.op, rest))))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        out.append(("not", _src(node.operand)))
    elif (isinstance(node, ast.Constant) and type(node.value) is int):
        out += [("const", str(node.value + 1)), ("const", str(node.value - 1))]
    elif isinstance(node, (ast.For, ast.comprehension)):
        out.append(("first", f"first of {_src(node.iter)}"))
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in SWAP_CALL:
        out.append(("call", SWAP_CALL[node.func.id]))
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        out.append(("return", "return at once"))
    return out


def mutants(source: str) -> list[Mutant]:
    tree = ast.parse(source)
    skip, names = _skipped(tree), _qualnames(tree)
    in_function: set[int] = set()
    for f in ast.walk(tree):
        if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)):
            in_function.update(id(x) for x in ast.walk(f) if x is not f)
            in_function.add(id(f))
    out: list[Mutant] = []
    seen: dict[str, int] = {}
    for index, node in enumerate(ast.walk(tree)):
        if id(node) in skip:
            continue
        for variant, (kind, after) in enumerate(_changes(node)):
            before = node.name if isinstance(node, ast.FunctionDef) else (
                _src(node.iter) if isinstance(node, (ast.For, ast.comprehension)) else _src(node))
            base = f"{names.get(id(node), '<module>')}: {kind} `{before}` → `{after}`"
            seen[base] = seen.get(base, 0) + 1
            mid = base if seen[base] == 1 else f"{base} #{seen[base]}"
            span = _span(node)
            out.append(Mutant(mid, kind, span[0], index, variant, span, id(node) in in_function))
    return out


def apply(source: str, m: Mutant) -> ast.Module:
    tree = ast.parse(source)
    node = list(ast.walk(tree))[m.index]
    parents = _parents(tree)

    def replace(new: ast.AST) -> None:
        parent, field = parents[id(node)]
        value = getattr(parent, field)
        if isinstance(value, list):
            value[value.index(node)] = new
        else:
            setattr(parent, field, new)

    if isinstance(node, ast.Compare):
        flippable = [i for i, op in enumerate(node.ops) if type(op) in FLIP]
        i = flippable[m.variant]
        node.ops[i] = FLIP[type(node.ops[i])]()
    elif isinstance(node, ast.BoolOp):
        if m.variant == 0:
            node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        else:
            rest = node.values[:m.variant - 1] + node.values[m.variant:]
            replace(rest[0] if len(rest) == 1 else ast.BoolOp(node.op, rest))
    elif isinstance(node, ast.UnaryOp):
        replace(node.operand)
    elif isinstance(node, ast.Constant):
        node.value = node.value + (1 if m.variant == 0 else -1)
    elif isinstance(node, (ast.For, ast.comprehension)):
        node.iter = ast.Call(ast.Attribute(ast.Call(ast.Name("__import__", ast.Load()), [ast.Constant("itertools")],
                                                    []), "islice", ast.Load()), [node.iter, ast.Constant(1)], [])
    elif isinstance(node, ast.Call):
        node.func = ast.Name(SWAP_CALL[node.func.id], ast.Load())
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        body = node.body
        doc = 1 if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) else 0
        node.body = body[:doc] + [ast.Return(None)] + body[doc:]
    return ast.fix_missing_locations(tree)


# -- running -----------------------------------------------------------------------------------------------

def module_path(name: str) -> Path:
    return RULES / f"{name}.py"


def module_name(name: str) -> str:
    return "timbra.cfdi.rules." + name.replace("/", ".")


def test_files(name: str) -> list[Path]:
    return [TESTS / t for t in MODULES[name]]


def tests_hash(name: str) -> str:
    h = hashlib.sha256()
    for f in [*test_files(name), *SHARED_TEST_FILES]:
        h.update(f.read_bytes())
    return h.hexdigest()


def cache_key(name: str, mid: str) -> str:
    """The module's source and the mutant (a result also records the tests it was measured with)."""
    h = hashlib.sha256(VERSION.encode())
    h.update(module_path(name).read_bytes())
    h.update(mid.encode())
    return h.hexdigest()


def swap_module(name: str, code: object) -> None:
    """In this (child) process: run `code` as module `name`, its rules taking the place of the old ones."""
    from timbra.cfdi.rules import REGISTRY

    mod = sys.modules[module_name(name)]
    old = dict(mod.__dict__)
    first = next((i for i, r in enumerate(REGISTRY) if r.fn.__module__ == mod.__name__), len(REGISTRY))
    REGISTRY[:] = [r for r in REGISTRY if r.fn.__module__ != mod.__name__]
    before = len(REGISTRY)
    exec(code, mod.__dict__)  # noqa: S102 - the module's own (mutated) source
    new_rules = REGISTRY[before:]
    del REGISTRY[before:]
    REGISTRY[first:first] = new_rules
    # Anything the rules package derived from the registry (a dispatch plan kept per version) is stale now.
    rules_pkg = sys.modules["timbra.cfdi.rules"]
    for cache_name in ("_plans",):
        cache = getattr(rules_pkg, cache_name, None)
        if isinstance(cache, dict):
            cache.clear()
    # Names other modules imported from this one (helpers, constants) point at the new objects too.
    changed = {id(v): mod.__dict__[k] for k, v in old.items() if k in mod.__dict__ and mod.__dict__[k] is not v}
    for other in list(sys.modules.values()):
        if other is mod or not getattr(other, "__name__", "").startswith(("timbra.", "tests.")):
            continue
        for k, v in list(vars(other).items()):
            if id(v) in changed and callable(v):
                setattr(other, k, changed[id(v)])


@dataclass
class Job:
    module: str
    mutant: Mutant | None  # None: the tests on the unmutated module (must pass; records what each test runs)
    code: object | None
    key: str                # the cache file (of the result, or of the lines each test runs)
    tests: set[str] = field(default_factory=set)


class Recorder:
    """A pytest plugin: the lines of one source file each test runs (setup, call and teardown)."""

    def __init__(self, filename: str, module: object) -> None:
        self.filename = filename
        self.module = module
        self.lines: dict[str, list[int]] = {}

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        seen: set[int] = set()
        # The module's memoized functions (lru_cache) run afresh for each test, so that every test that
        # needs them is seen running them.
        for value in vars(self.module).values():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()

        def local(frame, event, arg):
            if event == "line":
                seen.add(frame.f_lineno)
            return local

        def calls(frame, event, arg):
            return local if frame.f_code.co_filename == self.filename else None

        sys.settrace(calls)
        try:
            return (yield)
        finally:
            sys.settrace(None)
            self.lines[item.nodeid] = sorted(seen)


class Select:
    """A pytest plugin: run only the tests named (in their file order)."""

    def __init__(self, nodeids: set[str]) -> None:
        self.nodeids = nodeids

    def pytest_collection_modifyitems(self, config, items):
        items[:] = [i for i in items if i.nodeid in self.nodeids]


def child(job: Job, quiet: bool = True) -> None:
    """The forked child: swap the module (when mutated), run its tests, exit with pytest's status."""
    if quiet:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
    try:
        plugins: list[object] = []
        if job.code is not None:
            swap_module(job.module, job.code)
            plugins.append(Select(job.tests))
        else:
            recorder = Recorder(str(module_path(job.module)), sys.modules[module_name(job.module)])
            plugins.append(recorder)
        status = pytest.main([*map(str, test_files(job.module)), "-x", "-q", "-p", "no:randomly",
                              "-p", "no:cacheprovider", "-o", "addopts=", "--no-header", "-W", "ignore"],
                             plugins=plugins)
        if job.code is None and status == 0:
            Path(job.key).write_text(json.dumps(recorder.lines))
    except BaseException:  # a mutant that breaks the import or the run counts as killed
        status = 99
    os._exit(int(status))


def warm_up() -> None:
    """Import once, before forking, what every child needs: timbra's rules, pytest, the tests, SAT's data."""
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    from timbra.cfdi.rules import rules_for
    from timbra.sat.catalogs import catalogs

    rules_for("4.0")
    catalogs()
    for f in sorted({f for files in MODULES.values() for f in files}):
        importlib.import_module("tests.cfdi.rules." + f.removesuffix(".py").replace("/", "."))
    # The rule tests need no third-party pytest plugin: not loading them saves each child a second.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(1)
    os.dup2(devnull, 1)
    try:
        pytest.main([str(TESTS / "test_emisor.py"), "--collect-only", "-q", "-p", "no:cacheprovider", "-o", "addopts="])
    finally:
        os.dup2(saved, 1)


def run_jobs(jobs: list[Job], workers: int, timeout: float, on_done, budget: float | None = None) -> None:
    """Run the jobs, `workers` at once; after `budget` seconds start no new one (the rest stay unmeasured)."""
    running: dict[int, tuple[Job, float]] = {}
    queue = list(jobs)
    until = None if budget is None else time.monotonic() + budget
    while queue or running:
        if until is not None and time.monotonic() > until:
            queue.clear()
        while queue and len(running) < workers:
            job = queue.pop(0)
            pid = os.fork()
            if pid == 0:
                os.setpgid(0, 0)
                child(job)
            running[pid] = (job, time.monotonic())
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            time.sleep(0.05)
            now = time.monotonic()
            for p, (job, started) in list(running.items()):
                if now - started > timeout:
                    os.killpg(p, signal.SIGKILL)
                    os.waitpid(p, 0)
                    del running[p]
                    on_done(job, "timeout", now - started)
            continue
        if pid in running:
            job, started = running.pop(pid)
            code = os.waitstatus_to_exitcode(status)
            on_done(job, "survived" if code == 0 else "killed", time.monotonic() - started)


def load_equivalent() -> dict[tuple[str, str], tuple[str, str]]:
    """(module, mutant) -> (kind, reason); kind "equivalent" (no document can tell) or "text" (only the
    words of a finding's detail change: its code, node, value and expected stay)."""
    if not EQUIVALENT.exists():
        return {}
    data = tomllib.loads(EQUIVALENT.read_text(encoding="utf-8"))
    return {(e["module"], e["mutant"]): (e.get("kind", "equivalent"), e["reason"]) for e in data.get("mutant", [])}


def measure(names: list[str], workers: int, timeout: float, budget: float | None = None,
            fresh: bool = False) -> dict[str, dict]:
    warm_up()
    CACHE.mkdir(exist_ok=True)
    # 1. The tests on the real code must pass; meanwhile, record which lines of the module each test runs.
    coverage: dict[str, dict[str, list[int]]] = {}
    baseline = [Job(n, None, None, str(CACHE / f"lines-{cache_key(n, tests_hash(n))}.json")) for n in names]

    def base_done(job: Job, status: str, secs: float) -> None:
        print(f"{job.module}: tests on the real code {'pass' if status == 'survived' else 'FAIL'} ({secs:.1f} s)",
              flush=True)

    run_jobs([j for j in baseline if not Path(j.key).exists()], workers, timeout * 10, base_done)
    for j in baseline:
        if Path(j.key).exists():
            coverage[j.module] = json.loads(Path(j.key).read_text())
    # 2. The mutants: each runs the tests that run its lines (-x: the first failure kills it).
    results: dict[str, dict[str, str]] = {n: {} for n in coverage}
    all_mutants: dict[str, list[Mutant]] = {}
    jobs: list[Job] = []
    tests_now = {n: tests_hash(n) for n in coverage}
    listed = load_equivalent()  # a listed equivalent mutant that survived is not run again (--fresh does)
    for n in coverage:
        source = module_path(n).read_text(encoding="utf-8")
        all_mutants[n] = mutants(source)
        for m in all_mutants[n]:
            key = cache_key(n, m.id)
            hit = CACHE / f"{key}.json"
            if m.in_function:
                lo, hi = m.lines
                tests = {t for t, lines in coverage[n].items() if any(lo <= x <= hi for x in lines)}
            else:
                tests = set(coverage[n])
            known = json.loads(hit.read_text()) if hit.exists() else None
            # A killed mutant stays killed while the module does not change (--fresh to check again); a
            # survivor runs again whenever the tests change, unless it is listed as equivalent.
            settled = known and (known["status"] == "killed" or (n, m.id) in listed) and not fresh
            if known and (settled or known.get("tests") == tests_now[n]):
                results[n][m.id] = known["status"]
            elif not tests:
                results[n][m.id] = "survived"  # no test runs that code
            else:
                code = compile(apply(source, m), str(module_path(n)), "exec")
                jobs.append(Job(n, m, code, str(hit), tests))
    # the cheapest first, so that a run cut short has measured the most
    jobs.sort(key=lambda j: len(j.tests))
    total, done, started = len(jobs), 0, time.monotonic()
    print(f"{total} mutants to run ({sum(len(v) for v in results.values())} known)", flush=True)

    def mutant_done(job: Job, status: str, secs: float) -> None:
        nonlocal done
        done += 1
        status = "killed" if status == "timeout" else status
        results[job.module][job.mutant.id] = status
        Path(job.key).write_text(json.dumps({"module": job.module, "mutant": job.mutant.id, "status": status,
                                             "tests": tests_now[job.module]}))
        if status == "survived" or done % 25 == 0:
            print(f"[{done}/{total} {time.monotonic() - started:.0f}s] {job.module}:{job.mutant.line}: {status}: "
                  f"{job.mutant.id}", flush=True)

    run_jobs(jobs, workers, timeout, mutant_done, budget)
    equivalent = load_equivalent()
    summary = json.loads(SUMMARY.read_text()) if SUMMARY.exists() else {}
    for n in names:
        if n not in coverage:
            print(f"{n}: not measured (its tests fail on the real code)", flush=True)
            continue
        unmeasured = [m for m in all_mutants[n] if m.id not in results[n]]
        ms = [m for m in all_mutants[n] if m.id in results[n]]
        surv = [m for m in ms if results[n].get(m.id) == "survived"]
        eq = [m for m in surv if (n, m.id) in equivalent]
        live = [m for m in surv if (n, m.id) not in equivalent]
        text = [m for m in eq if equivalent[(n, m.id)][0] == "text"]
        killed = len(ms) - len(surv)
        counts = {"mutants": len(ms), "killed": killed, "survived": len(live), "equivalent": len(eq) - len(text),
                  "text": len(text), "rate": round(100 * killed / max(1, len(ms) - len(eq)), 1),
                  "unmeasured": len(unmeasured)}
        entry = summary.setdefault(n, {})
        entry.setdefault("before", counts)  # the first measurement (it says when part of it was not run)
        entry["after"] = counts
        entry["survivors"] = [{"line": m.line, "mutant": m.id} for m in live]
        entry["equivalent"] = [{"line": m.line, "mutant": m.id, "kind": equivalent[(n, m.id)][0],
                                "reason": equivalent[(n, m.id)][1]} for m in eq]
        print(f"{n}: {counts}", flush=True)
        if ms and not killed:
            print(f"{n}: WARNING: no mutant was killed: are the mutated rules the ones that run?", flush=True)
    SUMMARY.write_text(json.dumps(summary, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    return summary


def reclassify(summary: dict[str, dict]) -> None:
    """Apply scripts/mutation_equivalent.toml as it is now to the survivors kept in the summary."""
    equivalent = load_equivalent()
    for n, e in summary.items():
        every = [{"line": s["line"], "mutant": s["mutant"]} for s in e["survivors"] + e["equivalent"]]
        e["survivors"] = [s for s in every if (n, s["mutant"]) not in equivalent]
        e["equivalent"] = [{**s, "kind": equivalent[(n, s["mutant"])][0], "reason": equivalent[(n, s["mutant"])][1]}
                           for s in every if (n, s["mutant"]) in equivalent]
        a = e["after"]
        text = sum(1 for s in e["equivalent"] if s["kind"] == "text")
        a.update(survived=len(e["survivors"]), equivalent=len(e["equivalent"]) - text, text=text,
                 rate=round(100 * a["killed"] / max(1, a["killed"] + len(e["survivors"])), 1))
        # An equivalent mutant survives any test: the first measurement counts the same ones out.
        b = e["before"]
        if not b.get("unmeasured"):  # a partial first measurement keeps the rate it had then
            b["rate"] = round(100 * b["killed"] / max(1, b["mutants"] - len(e["equivalent"])), 1)


def write_report() -> None:
    summary = json.loads(SUMMARY.read_text()) if SUMMARY.exists() else {}
    reclassify(summary)
    SUMMARY.write_text(json.dumps(summary, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    lines = [
        "# Mutation testing of the validator's rules",
        "",
        "Generated by `make mutation` (scripts/mutation.py; `make mutation MODULE=complementos/nomina12` for one",
        "module). Each rule module is mutated (flipped comparisons, `and`/`or` swapped, a condition or a",
        "negation dropped, integer constants ±1, loops that only see the first element, `any`/`all` and",
        "`min`/`max` swapped, functions that return at once) and only that module's tests run against each",
        "mutant. A *killed* mutant is one the tests notice; a *surviving* one is a case no test covers.",
        "*Equivalent* mutants cannot change what the rules answer; *text-only* ones change only the words of a",
        "finding's `detail` (its code, node, value and expected stay): scripts/mutation_equivalent.toml lists",
        "both, each with its reason. Rate: killed / (mutants − equivalent − text-only). Target: at least 90 %",
        "for every rule module. A mutant on a line no test runs survives without running.",
        "",
        "*Before* is the first measurement of the module (the tests as they were), *after* the latest.",
        "",
        "Cost: a mutant runs only the tests that execute its lines, forked from a process that already loaded",
        "timbra and the tests: 2-7 s each on a shared 2-core machine with `-j 2`, so a first run of every",
        "module (about 2,700 mutants) takes hours; `--budget SECONDS` stops starting mutants after that long",
        "(the rest show as not run), and the cache (.mutation-cache/) makes the next run start where this one",
        "stopped. A killed mutant is run again only when its module's source changes (or with `--fresh`); a",
        "survivor whenever the module's tests change.",
        "",
        "| module | test files | mutants | killed | survived | equivalent | text-only | rate before | rate after |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for n in MODULES:
        e = summary.get(n)
        tests = ", ".join(MODULES[n]) if len(MODULES[n]) < 4 else f"{len(MODULES[n])} files"
        if e is None:
            lines.append(f"| {n} | {tests} | not measured | | | | | | |")
            continue
        a, b = e["after"], e["before"]
        part = lambda c: f" ({c['unmeasured']} not run)" if c.get("unmeasured") else ""  # noqa: E731
        lines.append(f"| {n} | {tests} | {a['mutants']}{part(a)} | {a['killed']} | {a['survived']} "
                     f"| {a['equivalent']} | {a.get('text', 0)} | {b['rate']} %{part(b)} | {a['rate']} % |")
    for n in MODULES:
        e = summary.get(n)
        if not e:
            continue
        if e["survivors"]:
            lines += ["", f"## Survivors of {n}", "", "| line | mutant |", "| ---: | --- |"]
            lines += [f"| {s['line']} | {s['mutant'].replace('|', '¦')} |" for s in e["survivors"]]
        if e["equivalent"]:
            lines += ["", f"## Equivalent and text-only mutants of {n}", "", "| line | mutant | kind | why |",
                      "| ---: | --- | --- | --- |"]
            lines += [f"| {s['line']} | {s['mutant'].replace('|', '¦')} | {s.get('kind', 'equivalent')} "
                      f"| {s['reason']} |" for s in e["equivalent"]]
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("modules", nargs="*", help=f"rule modules (default: all): {', '.join(MODULES)}")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="mutants run at once")
    ap.add_argument("--timeout", type=float, default=120, help="seconds before a mutant's tests count as hung")
    ap.add_argument("--budget", type=float, help="seconds after which no new mutant starts (the rest: unmeasured)")
    ap.add_argument("--fresh", action="store_true", help="run the killed mutants again too")
    ap.add_argument("--report", action="store_true", help="only rewrite docs/mutation.md from docs/mutation.json")
    ap.add_argument("--list", action="store_true", help="list the mutants of the modules and stop")
    args = ap.parse_args()
    names = args.modules or list(MODULES)
    unknown = [n for n in names if n not in MODULES]
    if unknown:
        ap.error(f"unknown module(s): {', '.join(unknown)}")
    if args.list:
        for n in names:
            for m in mutants(module_path(n).read_text(encoding="utf-8")):
                print(f"{n}:{m.line}: {m.id}")
        return 0
    if not args.report:
        measure(names, args.jobs, args.timeout, args.budget, args.fresh)
    write_report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
