"""Dispatch by node (issue #17): a complement's rules (their module's NODE) run only on a document that has an
element of that complement's namespace, wherever it sits; the other rules run on every document, in order."""
from lxml import etree

from tests.conftest import NOW
from timbra.cfdi.document import parse
from timbra.cfdi.rules import REGISTRY, Context, node_of, rule, rules_for, run_rules
from timbra.cfdi.rules.complementos import cartaporte31, nomina12, pagos20
from timbra.sat.catalogs import catalogs

NODES = {cartaporte31.NS, nomina12.NS, pagos20.NS}


def _run(xml: bytes) -> Context:
    ctx = Context(doc=parse(xml), catalogs=catalogs(), now=NOW)
    run_rules(ctx)
    return ctx


def test_every_rule_of_a_complement_module_is_gated_by_its_namespace():
    gated = {r.fn.__module__ for r in rules_for("4.0") if node_of(r) is not None}
    assert gated == {m.__name__ for m in (cartaporte31, nomina12, pagos20)}
    assert {node_of(r) for r in rules_for("4.0")} == NODES | {None}


def test_an_invoice_runs_no_complement_rule(make_xml, monkeypatch):
    import timbra.cfdi.rules as rules

    called = []

    def spy(r):
        def fn(ctx):
            called.append(r.name)

        fn.__module__ = r.fn.__module__  # where the real rule lives: its module's NODE gates it
        return rules.Rule(r.codes, fn, r.version, None)

    monkeypatch.setattr(rules, "REGISTRY", [spy(r) if node_of(r) else r for r in REGISTRY])
    ctx = _run(make_xml())
    assert called == [] and ctx.findings == []
    ctx = _run(make_xml(lambda root: etree.SubElement(
        etree.SubElement(root, "{http://www.sat.gob.mx/cfd/4}Complemento"), f"{{{pagos20.NS}}}Pagos")))
    assert called and all(".pagos20." in name for name in called)


def test_a_complement_node_anywhere_runs_its_rules(make_xml):
    """A Nómina misplaced in a ComplementoConcepto is still checked (NOM30), so the gate looks at the whole tree."""
    def misplaced(root):
        concepto = root.find("{http://www.sat.gob.mx/cfd/4}Conceptos/{http://www.sat.gob.mx/cfd/4}Concepto")
        cc = etree.SubElement(concepto, "{http://www.sat.gob.mx/cfd/4}ComplementoConcepto")
        etree.SubElement(cc, f"{{{nomina12.NS}}}Nomina", Version="1.2")

    codes = [f.code for f in _run(make_xml(misplaced)).findings]
    assert "NOM30" in codes


def test_the_plan_follows_the_registry(make_xml, monkeypatch):
    import timbra.cfdi.rules as rules

    monkeypatch.setattr(rules, "REGISTRY", list(REGISTRY))

    @rule("CFDI40999")
    def added(ctx):
        ctx.fail("CFDI40999", "Comprobante", detail="added")

    assert [f.detail for f in _run(make_xml()).findings] == ["added"]
