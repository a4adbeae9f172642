"""SAT's Anexo 20 matrices as small rules, one module per node.

A rule is a function `check(ctx)` registered with the SAT codes it can report:

    @rule("CFDI40104")
    def forma_pago_catalogo(ctx: Context) -> None:
        ...
        ctx.fail("CFDI40104", ctx.root, "FormaPago", value=v)

The text of each finding is SAT's own (from the matrix file); the rule adds the node path, the value
found and, where it computes one, the value expected, so an ERP programmer sees where and why.
Every rule runs and every finding is reported: validation never stops at the first problem.

Helpers for the shapes the matrices repeat:
- a rule's scope, below `@rule`: `@when(present)` runs it only when a complement is in the document,
  `@given(find)` hands it what `find(ctx)` found (the Carta Porte) and `@for_each(scope)` runs it once per
  item (each Nómina, each Pago);
- SAT's "X existe si y sólo si <condición>": `exists_iff` for an attribute, `child_exists_iff` for a node.

A complement's module declares its namespace, `NODE = "http://www.sat.gob.mx/nomina12"`: its rules then run
only on documents that have an element of that namespace (checked once per document), so an invoice does
not pay for the Carta Porte, Nómina and Pagos matrices. A rule that must report the complement's absence
(e.g. a tipo N without Nómina) belongs in a module without NODE.
"""
from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from lxml import etree

# The rules' amounts come from one module; re-exported because every rule module reads them from here.
from timbra.cfdi.amounts import decimals_of as decimals_of
from timbra.cfdi.amounts import to_decimal as to_decimal
from timbra.cfdi.document import Document, cached, path_of
from timbra.cfdi.rules.facts import Conceptos, Totales
from timbra.codes import finding
from timbra.errors import Finding, NotEvaluated
from timbra.sat.catalogs import Catalogs
from timbra.sat.padron import Padron

log = logging.getLogger(__name__)

RuleFn = Callable[["Context"], None]
T = TypeVar("T")


@dataclass(frozen=True)
class Scope:
    """Where a rule decorated with when/given/for_each applies: `find(ctx)` and how `fn` (the undecorated
    rule) takes what it found. run_rules asks `find` once per document for all the rules that share it."""

    kind: str  # "when", "given" or "for_each"
    find: Callable[[Context], Any]
    fn: Callable[..., None]


@dataclass(frozen=True)
class Rule:
    codes: tuple[str, ...]
    fn: RuleFn
    version: str
    scope: Scope | None = None

    @property
    def name(self) -> str:
        return f"{self.fn.__module__}.{self.fn.__name__}"


REGISTRY: list[Rule] = []


def rule(*codes: str, version: str = "4.0") -> Callable[[RuleFn], RuleFn]:
    """Register a rule for CFDI `version` that may report `codes`."""

    def deco(fn: RuleFn) -> RuleFn:
        REGISTRY.append(Rule(codes, fn, version, getattr(fn, "__rule_scope__", None)))
        return fn

    return deco


@dataclass
class Context:
    """What a rule sees: the document, the catalogs, the time of the check, and where findings go."""

    doc: Document
    catalogs: Catalogs
    now: datetime
    findings: list[Finding] = field(default_factory=list)
    # Per-document values a rule module computes once and shares between its rules (key: module-level name).
    cache: dict[str, object] = field(default_factory=dict)
    # SAT's lists (l_RFC, l_LCO, Confirmacion keys...); None: the rules that need them do not run.
    padron: Padron | None = None
    # What could not be checked, and why (see `not_evaluated`).
    skipped: list[NotEvaluated] = field(default_factory=list)

    def not_evaluated(self, what: str, reason: str, reason_en: str) -> None:
        """Say that the checks of `what` did not run on this document (once per `what`)."""
        if all(n.what != what for n in self.skipped):
            self.skipped.append(NotEvaluated(what, reason, reason_en))

    @property
    def root(self) -> etree._Element:
        return self.doc.root

    def q(self, local: str) -> str:
        return self.doc.q(local)

    def fail(
        self,
        code: str,
        node: etree._Element | str | None,
        attr: str | None = None,
        *,
        value: object = None,
        expected: object = None,
        detail: str | None = None,
    ) -> None:
        if isinstance(node, str):
            path = f"{node}@{attr}" if attr else node
        elif node is None:
            path = attr or ""
        else:
            path = path_of(node, attr)
        self.findings.append(finding(
            code, path, detail=detail,
            value=None if value is None else str(value),
            expected=None if expected is None else str(expected),
        ))

    # -- shared facts, computed once per document ----------------------------------------------------
    @cached
    def tipo(self) -> str:
        return self.root.get("TipoDeComprobante", "")

    @cached
    def moneda(self) -> str:
        return self.root.get("Moneda", "")

    @cached
    def currency_decimals(self) -> int:
        """Decimals of the Moneda per c_Moneda (2 when the Moneda is unknown; CFDI40113 reports it)."""
        d = self.catalogs.moneda_decimals(self.moneda)
        return 2 if d is None else d

    @cached
    def conceptos(self) -> Conceptos:
        """Each Concepto's amounts and taxes, read once for every rule (facts.py)."""
        return Conceptos(self.doc)

    @cached
    def totales(self) -> Totales:
        """The Comprobante's SubTotal, Descuento and Total and its Impuestos' totals, read once (facts.py)."""
        return Totales(self.doc)

    @cached
    def complement_namespaces(self) -> set[str]:
        return self.doc.complement_namespaces()

    def complements(self, namespace: str) -> list[etree._Element]:
        """The complement elements (children of cfdi:Complemento) in `namespace`, in document order."""
        return [c for c in self.doc.complementos if etree.QName(c).namespace == namespace]


# -- rule scopes: the preamble a rule would otherwise write ------------------------------------------------
# The wrapper keeps the rule's name (Rule.name, CFDI40999) and docstring and can be called on its own;
# run_rules uses its Scope instead, so that rules sharing a scope look for it once per document.

def _scoped(fn: Callable[..., None], run: RuleFn, scope: Scope) -> RuleFn:
    wrapper = functools.wraps(fn)(run)
    wrapper.__rule_scope__ = scope  # type: ignore[attr-defined]
    return wrapper


def when(present: Callable[[Context], object]) -> Callable[[RuleFn], RuleFn]:
    """Run the rule only when `present(ctx)` is truthy, e.g. `@when(nominas)`: the CFDI has a Nómina."""

    def deco(fn: RuleFn) -> RuleFn:
        def scoped(ctx: Context) -> None:
            if present(ctx):
                fn(ctx)

        return _scoped(fn, scoped, Scope("when", present, fn))

    return deco


def given(find: Callable[[Context], T | None]) -> Callable[[Callable[[Context, T], None]], RuleFn]:
    """Run the rule as `fn(ctx, found)` with what `find(ctx)` returns, only when that is not None, e.g.
    `@given(carta_porte)`: the rule checks the document's Carta Porte."""

    def deco(fn: Callable[[Context, T], None]) -> RuleFn:
        def scoped(ctx: Context) -> None:
            found = find(ctx)
            if found is not None:
                fn(ctx, found)

        return _scoped(fn, scoped, Scope("given", find, fn))

    return deco


def for_each(scope: Callable[[Context], Sequence[T]]) -> Callable[[Callable[[Context, T], None]], RuleFn]:
    """Run the rule as `fn(ctx, item)` once for each item of `scope(ctx)`, e.g. `@for_each(nominas)`: the
    rule checks each Nómina of the CFDI on its own (and does not run when there is none)."""

    def deco(fn: Callable[[Context, T], None]) -> RuleFn:
        def scoped(ctx: Context) -> None:
            for item in scope(ctx):
                fn(ctx, item)

        return _scoped(fn, scoped, Scope("for_each", scope, fn))

    return deco


# -- "exists if and only if" ------------------------------------------------------------------------------

def exists_iff(
    ctx: Context,
    code: str,
    node: etree._Element | str | None,
    attr: str,
    value: str | None,
    required: bool,
    *,
    missing: str,
    present: str,
    code_present: str | None = None,
) -> bool:
    """SAT's "`attr` existe si y sólo si <condición>" for an attribute of `node`, whose value (as the rule
    reads it: raw or collapsed; None when absent) is `value`. Reports `code` with the `missing` detail when
    it is absent and `required`, or, with the value found and the `present` detail, when it exists and is
    not (`code_present` where SAT gives that half a code of its own). True when it reported."""
    if required:
        if value is None:
            ctx.fail(code, node, attr, detail=missing)
            return True
    elif value is not None:
        ctx.fail(code_present or code, node, attr, value=value, detail=present)
        return True
    return False


def child_exists_iff(
    ctx: Context,
    code: str,
    parent: etree._Element,
    local: str,
    child: etree._Element | None,
    required: bool,
    *,
    missing: str,
    present: str,
    code_present: str | None = None,
    value: object = None,
    missing_value: object = None,
) -> bool:
    """SAT's "el nodo `local` existe si y sólo si <condición>" for a child `child` (None when absent) of
    `parent`. Absent while `required`: `code` on the path the node would have (parent/local), with
    `missing_value` and the `missing` detail. Present while not: `code_present` (else `code`) on the node,
    with `value` and the `present` detail. True when it reported."""
    if required:
        if child is None:
            ctx.fail(code, f"{path_of(parent)}/{local}", value=missing_value, detail=missing)
            return True
    elif child is not None:
        ctx.fail(code_present or code, child, value=value, detail=present)
        return True
    return False


# -- SAT data a rule needs and timbra may not ship ----------------------------------------------------------

@dataclass(frozen=True)
class DataNeed:
    """SAT data a rule needs that timbra's catalogs may lack: while `present(catalogs)` is false, the rule
    cannot report `code` (or the `part` of it named) and the code is "not evaluated" (docs/validations.md)."""

    code: str
    catalog: str  # what is missing, as the table says it: "c_Colonia (tabla ccp_31_colonias)"
    present: Callable[[Catalogs], bool]
    part: str | None = None  # e.g. "la mitad IEPS"; None: the whole code

    def reason(self) -> str:
        what = f"sin evaluar {self.part}" if self.part else "no evaluada"
        return f"{what}: faltan datos del SAT ({self.catalog})"


DATA_NEEDS: list[DataNeed] = []


def needs_data(code: str, catalog: str, present: Callable[[Catalogs], bool], *, part: str | None = None) -> None:
    """Declare that the rule reporting `code` needs `catalog` (see DataNeed); rule modules call it at import."""
    DATA_NEEDS.append(DataNeed(code, catalog, present, part))


def missing_data(cats: Catalogs) -> dict[str, DataNeed]:
    """The codes whose SAT data `cats` lacks: code -> what is missing (whole codes and parts of codes)."""
    _load_rule_modules()
    return {n.code: n for n in DATA_NEEDS if not n.present(cats)}


def rules_for(version: str) -> list[Rule]:
    _load_rule_modules()
    return [r for r in REGISTRY if r.version == version]


def node_of(r: Rule) -> str | None:
    """The namespace a rule's module declares with `NODE = "<namespace>"` (a complement's matrix): the rule
    runs only on a document that has an element of that namespace. None: it runs on every document."""
    module = sys.modules.get(r.fn.__module__)
    node = getattr(module, "NODE", None) if module is not None else None
    return node if isinstance(node, str) else None


# One step of a version's dispatch: the namespace that gates it (None: always) and its rules, in
# registration order (so findings come out in the same order as rule by rule).
Step = tuple[str | None, tuple[Rule, ...]]
_plans: dict[str, tuple[list[Rule], int, list[Step]]] = {}


def _plan(version: str) -> list[Step]:
    """Consecutive rules of the same module gate become one step, decided once per document. Rebuilt when the
    registry changes (a test registering a rule)."""
    _load_rule_modules()
    registry = REGISTRY
    cached = _plans.get(version)
    if cached is not None and cached[0] is registry and cached[1] == len(registry):
        return cached[2]
    steps: list[tuple[str | None, list[Rule]]] = []
    for r in registry:
        if r.version != version:
            continue
        node = node_of(r)
        if steps and steps[-1][0] == node:
            steps[-1][1].append(r)
        else:
            steps.append((node, [r]))
    plan = [(node, tuple(rules)) for node, rules in steps]
    _plans[version] = (registry, len(registry), plan)
    return plan


_loaded = False


def _load_rule_modules() -> None:
    global _loaded
    if _loaded:
        return
    import importlib
    import pkgutil

    # Every module of this package and of its subpackages (rules/complementos/pagos20.py, ...).
    for mod in sorted(pkgutil.walk_packages(__path__, prefix=f"{__name__}."), key=lambda m: m.name):
        importlib.import_module(mod.name)
    _loaded = True


class Observer(Protocol):
    """Watches the rules at work (the test suite's tests/observe.py); production has none (OBSERVER is None)."""

    def observed(self, codes: tuple[str, ...], ran: bool, findings: Sequence[Finding], ctx: Context) -> None:
        """A check that may report `codes` applied to a document (`ran`: its scope was present and it did not
        crash) and reported `findings`."""

    def crashed(self, rule: Rule, exc: BaseException, ctx: Context) -> None:
        """`rule` raised `exc` on a document (reported as CFDI40999)."""


OBSERVER: Observer | None = None


def set_observer(observer: Observer | None) -> Observer | None:
    """Install `observer` (None removes it); returns the previous one."""
    global OBSERVER
    previous, OBSERVER = OBSERVER, observer
    return previous


def run_rules(ctx: Context, only: Sequence[RuleFn] | None = None) -> list[Finding]:
    """Run every rule of the document's version (or `only` those of these functions, e.g. one rule on a
    document the schema would reject); a rule that crashes becomes CFDI40999, never a crash. A complement's
    rules (their module's NODE) run only where the document has that complement's node."""
    found: dict[Callable[[Context], Any], Any] = {}  # scope's find -> what it found in this document
    if ctx.padron is None:
        ctx.not_evaluated("padrón", "sin padrón del SAT: no se revisaron las reglas de sus listas (l_RFC, l_LCO, "
                                    "claves de confirmación, tipos de cambio)",
                          "no SAT padrón: the rules of SAT's lists (l_RFC, l_LCO, confirmation keys, exchange "
                          "rates) were not checked")
    obs = OBSERVER
    if obs is None and only is None:
        return _run_plain(ctx, found)
    crashes = 0
    has = ctx.doc.has_namespace
    for node, rules in _plan(ctx.doc.version):
        if node is not None and not has(node):
            if obs is not None:  # as if they had run: an unscoped one reports nothing, a scoped one finds nothing
                for r in rules:
                    if only is None or r.fn in only:
                        obs.observed(r.codes, r.scope is None, [], ctx)
            continue
        for r in rules:
            if only is not None and r.fn not in only:
                continue
            start = len(ctx.findings)
            ran = True
            try:
                s = r.scope
                if s is None:
                    r.fn(ctx)
                else:
                    got = found[s.find] if s.find in found else found.setdefault(s.find, s.find(ctx))
                    if s.kind == "given":
                        ran = got is not None
                        if ran:
                            s.fn(ctx, got)
                    elif s.kind == "when":
                        ran = bool(got)
                        if ran:
                            s.fn(ctx)
                    else:
                        ran = bool(got)
                        for item in got:
                            s.fn(ctx, item)
            except Exception as exc:  # a bug in one rule must not hide the others nor crash a stamp
                log.exception("rule %s failed", r.name)
                ran = False
                crashes += 1
                ctx.fail("CFDI40999", "Comprobante",
                         detail=f"la regla {r.name} no pudo evaluarse: {type(exc).__name__}")
                if obs is not None:
                    obs.crashed(r, exc, ctx)
            if obs is not None:
                obs.observed(r.codes, ran, ctx.findings[start:], ctx)
    if obs is not None:
        obs.observed(("CFDI40999",), True, [f for f in ctx.findings if f.code == "CFDI40999"] if crashes else [], ctx)
    return ctx.findings


def _run_plain(ctx: Context, found: dict[Callable[[Context], Any], Any]) -> list[Finding]:
    """run_rules without an observer and without `only` (the stamp path): the same rules in the same order,
    the same findings, with less bookkeeping per rule."""
    has = ctx.doc.has_namespace
    for node, rules in _plan(ctx.doc.version):
        if node is not None and not has(node):
            continue
        for r in rules:
            s = r.scope
            try:
                if s is None:
                    r.fn(ctx)
                    continue
                find = s.find
                got = found[find] if find in found else found.setdefault(find, find(ctx))
                kind = s.kind
                if kind == "given":
                    if got is not None:
                        s.fn(ctx, got)
                elif kind == "when":
                    if got:
                        s.fn(ctx)
                else:
                    for item in got:
                        s.fn(ctx, item)
            except Exception as exc:  # a bug in one rule must not hide the others nor crash a stamp
                log.exception("rule %s failed", r.name)
                ctx.fail("CFDI40999", "Comprobante",
                         detail=f"la regla {r.name} no pudo evaluarse: {type(exc).__name__}")
    return ctx.findings


def implemented_codes(version: str = "4.0") -> set[str]:
    return {c for r in rules_for(version) for c in r.codes}
