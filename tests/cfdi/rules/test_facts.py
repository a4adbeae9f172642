"""Context.conceptos (timbra/cfdi/rules/facts.py): each Concepto read once for every rule, as the rules read
it themselves before, including shapes the schema refuses (rules may run on them with `only`)."""
from __future__ import annotations

from decimal import Decimal

from lxml import etree

from tests.conftest import NOW
from tests.xmlhelp import node, q
from timbra.cfdi.document import parse
from timbra.cfdi.rules import Context, conceptos, run_rules
from timbra.sat.catalogs import catalogs

C1 = "cfdi:Conceptos/cfdi:Concepto[1]"
C2 = "cfdi:Conceptos/cfdi:Concepto[2]"


def context(xml: bytes) -> Context:
    return Context(doc=parse(xml), catalogs=catalogs(), now=NOW)


def test_amounts_as_written_and_read(make_xml):
    def mutate(r):
        node(r, C1).set("Importe", "abc")
        node(r, C2).set("Descuento", "10.5")

    facts = context(make_xml(mutate, seal=False)).conceptos
    c1, c2, c3 = facts.items
    assert (c1.importe_text, c1.importe) == ("abc", None)  # unreadable: None next to its text
    assert (c1.cantidad_text, c1.cantidad, c1.valor_text, c1.valor) == ("1", Decimal(1), "15390.30",
                                                                       Decimal("15390.30"))
    assert (c1.descuento_text, c1.descuento) == (None, None)
    assert (c2.descuento_text, c2.descuento) == ("10.5", Decimal("10.5"))
    assert [c.objeto_imp for c in facts.items] == ["02", "02", "02"]
    assert c3.clave == "81111500"
    assert [t.impuesto for t in facts.traslados] == ["002", "002", "002"]
    assert facts.traslados[0].base_text == "15390.30" and facts.retenciones == []


def test_impuestos_not_first_child(make_xml):
    """ObjetoImp 02 needs Impuestos as the concepto's first child element (CFDI40171 otherwise); a comment
    before it does not count. The taxes are still read from the first Impuestos child."""
    def mutate(r):
        c1, c2 = node(r, C1), node(r, C2)
        c1.insert(0, etree.Element(q("InformacionAduanera"), NumeroPedimento="x"))
        c2.insert(0, etree.Comment("nota"))

    xml = make_xml(mutate, seal=False)
    ctx = context(xml)
    c1, c2, c3 = ctx.conceptos.items
    assert c1.impuestos is not None and not c1.impuestos_first and len(c1.traslados) == 1
    assert c2.impuestos_first and c3.impuestos_first
    got = run_rules(context(xml), only=[conceptos.objeto_imp_impuestos])
    assert [(f.code, f.node) for f in got] == [("CFDI40171", "Conceptos/Concepto[1]@ObjetoImp")]


def test_several_traslados_groups_and_no_impuestos(make_xml):
    def mutate(r):
        imp = node(r, f"{C1}/cfdi:Impuestos")
        extra = etree.SubElement(imp, q("Traslados"))
        etree.SubElement(extra, q("Traslado"), Base="1", Impuesto="003", TipoFactor="Exento")
        c2 = node(r, C2)
        c2.remove(node(r, f"{C2}/cfdi:Impuestos"))

    c1, c2, _ = context(make_xml(mutate, seal=False)).conceptos.items
    assert c1.traslados_groups == 2 and [t.impuesto for t in c1.traslados] == ["003"]  # the last group
    assert c2.impuestos is None and not c2.impuestos_first and c2.traslados == [] and c2.traslados_groups == 0


def test_totales_as_written_and_read(make_xml):
    def mutate(r):
        r.set("Total", "x1")
        r.set("Descuento", "0.00")

    t = context(make_xml(mutate, seal=False)).totales
    assert (t.subtotal_text, t.subtotal) == ("18191.68", Decimal("18191.68"))
    assert (t.total_text, t.total) == ("x1", None)  # unreadable: None next to its text
    assert (t.descuento_text, t.descuento) == ("0.00", Decimal(0))
    assert (t.trasladados_text, t.trasladados) == ("2910.67", Decimal("2910.67"))
    assert (t.retenidos_text, t.retenidos) == (None, None)


def test_totales_without_impuestos(make_xml):
    def mutate(r):
        r.remove(node(r, "cfdi:Impuestos"))

    t = context(make_xml(mutate, seal=False)).totales
    assert (t.trasladados_text, t.trasladados, t.retenidos_text, t.retenidos) == (None, None, None, None)
    assert t.descuento_text is None
