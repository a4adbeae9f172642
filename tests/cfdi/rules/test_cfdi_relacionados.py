"""CFDI40137: CfdiRelacionados TipoRelacion (a catalog value, checked by claves.py)."""
from __future__ import annotations

import pytest
from lxml import etree

from tests.xmlhelp import node
from timbra.cfdi.document import NS40

UUIDS = ["5FB2822E-396D-4725-8521-CDC4BDD20CCF", "A39DA66B-52CA-49E3-879B-5C05185B0EF7"]


def relacionados(*tipos: str):
    def mut(root: etree._Element) -> None:
        at = root.index(node(root, "cfdi:Emisor"))
        for i, tipo in enumerate(tipos):
            rel = etree.Element(f"{{{NS40}}}CfdiRelacionados")
            rel.set("TipoRelacion", tipo)
            etree.SubElement(rel, f"{{{NS40}}}CfdiRelacionado").set("UUID", UUIDS[i % len(UUIDS)])
            root.insert(at + i, rel)

    return mut


def test_cfdi40137_tipo_relacion_catalog(make_xml, findings):
    got = findings(make_xml(relacionados("10")))
    assert [f.code for f in got] == ["CFDI40137"]
    assert got[0].node == "CfdiRelacionados[1]@TipoRelacion"
    assert got[0].value == "10"


# catCFDI.xsd still lists CFDI 3.3's 08 and 09; CFDI 4.0's c_TipoRelacion is 01-07
@pytest.mark.parametrize("tipo", ["08", "09"])
def test_cfdi40137_cfdi33_only_tipo_relacion(make_xml, codes, tipo):
    assert codes(make_xml(relacionados(tipo))) == ["CFDI40137"]


def test_cfdi40137_second_node_is_named(make_xml, findings):
    got = findings(make_xml(relacionados("04", "00")))
    assert [f.code for f in got] == ["CFDI40137"]
    assert got[0].node == "CfdiRelacionados[2]@TipoRelacion"


def test_cfdi40137_tipos_relacion_passes(make_xml, codes):
    assert codes(make_xml(relacionados("04", "07"))) == []
