"""The catalog codes' rule (claves.catalog_values) remembers a plan per kind of element; the kinds come from
documents (an Addenda holds any element a client writes), so what it remembers must stay bounded."""
from __future__ import annotations

from lxml import etree

from timbra.cfdi.rules import claves

CFDI = "{http://www.sat.gob.mx/cfd/4}"


def with_addenda(xml: bytes, i: int) -> bytes:
    """The sealed document with an Addenda of its own kind of element (the Addenda is outside the cadena:
    the Sello stays valid)."""
    root = etree.fromstring(xml)
    addenda = etree.SubElement(root, f"{CFDI}Addenda")
    etree.SubElement(addenda, f"{{urn:erp:{i}}}Pedido{i}", Numero=str(i))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_documents_with_ever_new_tags_leave_the_caches_bounded(make_xml, codes, monkeypatch):
    monkeypatch.setattr(claves, "CACHE_LIMIT", 40)
    for name in ("_split_cache", "_plans", "_by_tag", "_by_parent"):  # as in a new process
        monkeypatch.setattr(claves, name, {})
    xml = make_xml()
    for i in range(120):
        assert codes(with_addenda(xml, i)) == []
    caches = [claves._split_cache, claves._plans, *claves._by_tag.values(), *claves._by_parent.values()]
    assert max(map(len, caches)) <= 40
    assert 0 < len(claves._split_cache) < 120  # emptied on the way: without the limit it would hold every tag

    # emptied caches are built again as before: a value outside its catalog is still found, once
    bad = make_xml(lambda r: r.find(f"{CFDI}Conceptos/{CFDI}Concepto").set("ClaveUnidad", "XXX"))
    assert codes(with_addenda(bad, 999)) == ["CFDI40165"]
