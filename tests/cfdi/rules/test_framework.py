"""The rule framework: a rule that crashes is reported as CFDI40999 and the other rules still run; the helpers
rules use for their scope (when, given, for_each) and for SAT's "exists if and only if" (exists_iff,
child_exists_iff)."""
import pytest

from tests.conftest import NOW
from timbra.cfdi.document import parse
from timbra.cfdi.rules import (
    REGISTRY,
    Context,
    Rule,
    child_exists_iff,
    exists_iff,
    for_each,
    given,
    rule,
    run_rules,
    when,
)
from timbra.sat.catalogs import catalogs


@pytest.mark.rule_crash
def test_a_crashing_rule_becomes_cfdi40999_and_the_others_still_report(make_xml, findings, monkeypatch):
    def broken(ctx):
        raise ZeroDivisionError

    monkeypatch.setattr("timbra.cfdi.rules.REGISTRY", [*REGISTRY, Rule(("CFDI40999",), broken, "4.0")])
    xml = make_xml(lambda root: root.set("Exportacion", "99"))
    got = findings(xml)
    assert sorted(f.code for f in got) == ["CFDI40123", "CFDI40999"]
    crash = next(f for f in got if f.code == "CFDI40999")
    assert "broken" in crash.detail and "ZeroDivisionError" in crash.detail


# -- rule helpers: scopes and "exists if and only if" ----------------------------------------------------

def _ctx(make_xml) -> Context:
    return Context(doc=parse(make_xml()), catalogs=catalogs(), now=NOW)


def _got(ctx: Context) -> list[tuple[str, str, str | None, str | None]]:
    return [(f.code, f.node, f.value, f.detail) for f in ctx.findings]


@pytest.mark.rule_crash
def test_scoped_rules_keep_their_name_and_docstring_and_a_crash_names_them(make_xml, findings, monkeypatch):
    def conceptos(ctx):
        return ctx.doc.conceptos

    @for_each(conceptos)
    def por_concepto(ctx, c):
        """Docstring."""
        raise ZeroDivisionError

    rule_ = Rule(("CFDI40999",), por_concepto, "4.0")
    assert (rule_.name, por_concepto.__doc__) == (f"{__name__}.por_concepto", "Docstring.")
    monkeypatch.setattr("timbra.cfdi.rules.REGISTRY", [*REGISTRY, rule_])
    crash = [f for f in findings(make_xml()) if f.code == "CFDI40999"]
    assert len(crash) == 1 and "por_concepto" in crash[0].detail


def test_when_runs_the_rule_only_when_the_scope_is_present(make_xml):
    seen = []

    @when(lambda ctx: ctx.cache.get("present"))
    def check(ctx):
        seen.append(ctx)

    ctx = _ctx(make_xml)
    check(ctx)
    assert seen == []
    ctx.cache["present"] = [1]
    check(ctx)
    assert seen == [ctx]


def test_given_hands_the_rule_what_was_found_and_skips_none(make_xml):
    seen = []

    @given(lambda ctx: ctx.cache.get("found"))
    def check(ctx, found):
        seen.append(found)

    ctx = _ctx(make_xml)
    check(ctx)
    ctx.cache["found"] = ""  # found, though falsy: only None means absent
    check(ctx)
    assert seen == [""]


def test_for_each_runs_the_rule_once_per_item(make_xml):
    ctx = _ctx(make_xml)
    seen = []

    @for_each(lambda ctx: ctx.doc.conceptos)
    def check(ctx, c):
        seen.append(c)

    check(ctx)
    assert seen == ctx.doc.conceptos and len(seen) == 3


def test_exists_iff_reports_an_attribute_absent_when_required_and_present_when_not(make_xml):
    ctx = _ctx(make_xml)
    root = ctx.root
    assert exists_iff(ctx, "CP139", root, "Folio", "F-1", True, missing="falta", present="sobra") is False
    assert exists_iff(ctx, "CP139", root, "Nada", None, False, missing="falta", present="sobra") is False
    assert ctx.findings == []
    assert exists_iff(ctx, "CP139", root, "Nada", None, True, missing="falta", present="sobra") is True
    assert exists_iff(ctx, "CP139", root, "Folio", "F-1", False, missing="falta", present="sobra") is True
    assert exists_iff(ctx, "CP121", root, "Serie", "A", False, code_present="CP122", missing="falta",
                      present="sobra") is True
    assert _got(ctx) == [("CP139", "Comprobante@Nada", None, "falta"), ("CP139", "Comprobante@Folio", "F-1", "sobra"),
                         ("CP122", "Comprobante@Serie", "A", "sobra")]


def test_child_exists_iff_names_the_missing_node_path_and_the_node_found(make_xml):
    ctx = _ctx(make_xml)
    conceptos = ctx.doc.child("Conceptos")
    first = ctx.doc.conceptos[0]
    assert child_exists_iff(ctx, "CP181", conceptos, "Concepto", first, True, missing="falta", present="sobra") is False
    assert child_exists_iff(ctx, "CP181", first, "Parte", None, False, missing="falta", present="sobra") is False
    assert ctx.findings == []
    assert child_exists_iff(ctx, "CP181", first, "Parte", None, True, missing="falta", present="sobra",
                            missing_value="014", value="no") is True
    assert child_exists_iff(ctx, "CP180", conceptos, "Concepto", first, False, code_present="CP181",
                            missing="falta", present="sobra", value="019") is True
    assert _got(ctx) == [("CP181", "Conceptos/Concepto[1]/Parte", "014", "falta"),
                         ("CP181", "Conceptos/Concepto[1]", "019", "sobra")]


def test_run_rules_looks_for_a_shared_scope_once_per_document(make_xml, monkeypatch):
    monkeypatch.setattr("timbra.cfdi.rules.REGISTRY", list(REGISTRY))
    calls, seen = [], []

    def conceptos(ctx):
        calls.append(ctx)
        return ctx.doc.conceptos

    @rule("CFDI40999")
    @for_each(conceptos)
    def each(ctx, c):
        seen.append(("each", c.get("ClaveProdServ")))

    @rule("CFDI40999")
    @given(conceptos)
    def all_of_them(ctx, cs):
        seen.append(("given", len(cs)))

    @rule("CFDI40999")
    @when(conceptos)
    def present(ctx):
        seen.append("when")

    ctx = _ctx(make_xml)
    run_rules(ctx)
    assert len(calls) == 1
    assert seen == [*(("each", c.get("ClaveProdServ")) for c in ctx.doc.conceptos), ("given", 3), "when"]
