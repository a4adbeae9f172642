"""What the sandbox SAT reads from a CFDI for its cancellation rules (no database: the document alone), and
that a delivered CFDI's facts decide its EsCancelable."""
from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree

from tests.conftest import NOW
from tests.gateway.sandbox import CON, EMISOR, RECEPTOR, SIN, THURSDAY, priced
from tests.xmlhelp import NS_CP, NS_NOMINA, q
from timbra.cfdi.document import NS_PAGOS20, parse
from timbra.clock import MEXICO_CITY
from timbra.gateway.sandbox_facts import DEFAULT_FACTS, Facts, facts_of, relations_of

U1, U2, U3 = ("11111111-2222-3333-4444-00000000000" + str(i) for i in (1, 2, 3))


def complemento(root: etree._Element) -> etree._Element:
    found = root.find(q("Complemento"))
    return found if found is not None else etree.SubElement(root, q("Complemento"))


def with_nomina(root: etree._Element) -> None:
    etree.SubElement(complemento(root), q("Nomina", NS_NOMINA), Version="1.2")


def with_informacion_global(root: etree._Element) -> None:
    root.insert(0, etree.Element(q("InformacionGlobal"), Periodicidad="04", Meses="11", **{"Año": "2026"}))


def carrying(clave: str):
    def mutate(root: etree._Element) -> None:
        cp = etree.SubElement(complemento(root), q("CartaPorte", NS_CP), Version="3.1")
        mercancias = etree.SubElement(cp, q("Mercancias", NS_CP))
        for c in ("78101800", clave):
            etree.SubElement(mercancias, q("Mercancia", NS_CP), BienesTransp=c)
        root.set("TipoDeComprobante", "T")
    return mutate


def in_dollars(root: etree._Element) -> None:
    root.set("Moneda", "USD")
    root.set("TipoCambio", "17.5")


def related(root: etree._Element) -> None:
    for tipo, uuids in (("01", (U1, U2.lower())), ("04", (U3,))):
        group = etree.Element(q("CfdiRelacionados"), TipoRelacion=tipo)
        for u in uuids:
            etree.SubElement(group, q("CfdiRelacionado"), UUID=u)
        root.insert(0, group)
    pagos = etree.SubElement(complemento(root), q("Pagos", NS_PAGOS20), Version="2.0")
    for uuids in ((U1,), (U1, U3)):  # two Pago nodes; U1 paid twice counts once
        pago = etree.SubElement(pagos, q("Pago", NS_PAGOS20))
        for u in uuids:
            etree.SubElement(pago, q("DoctoRelacionado", NS_PAGOS20), IdDocumento=u)


@pytest.mark.parametrize("mutate, expected", [
    (None, {}),
    (with_nomina, {"nomina": True}),
    (with_informacion_global, {"informacion_global": True}),
    (carrying("15101514"), {"tipo_de_comprobante": "T", "carta_porte_hidrocarburos": True}),
    (carrying("15101506"), {"tipo_de_comprobante": "T"}),
    (in_dollars, {"tipo_cambio": Decimal("17.5")}),
])
def test_facts_of_a_cfdi(mutate, expected, make_xml):
    got = facts_of(parse(make_xml(mutate, seal=False)))
    base = {"tipo_de_comprobante": "I", "tipo_cambio": Decimal(1), "fecha_emision": NOW, "nomina": False,
            "informacion_global": False, "carta_porte_hidrocarburos": False}
    assert got == Facts(**(base | expected))


def test_fecha_is_the_local_time_of_lugar_expedicion(make_xml):
    doc = parse(make_xml(lugar_expedicion="22000", seal=False))  # Tijuana: Fecha 10:00 there is NOW
    assert doc.get("Fecha") == "2026-11-24T10:00:00"
    assert facts_of(doc).fecha_emision == NOW
    assert facts_of(doc).fecha_emision.astimezone(MEXICO_CITY).hour == 12


def test_defaults_for_a_cfdi_recorded_before_the_facts():
    assert Facts("I", Decimal(1), None, False, False, False) == DEFAULT_FACTS


def test_relations_of_a_cfdi(make_xml):
    assert relations_of(parse(make_xml(related, seal=False))) == {
        (U1, "01"), (U2, "01"), (U3, "04"), (U1, "pago"), (U3, "pago")}
    assert relations_of(parse(make_xml(seal=False))) == set()


@pytest.mark.parametrize("mutate, es_cancelable", [
    (None, SIN),          # 870.00 MXN
    (in_dollars, CON),    # 870.00 USD × 17.5
])
def test_tipo_cambio_counts_for_the_1000_limit(mutate, es_cancelable, sat_side):
    def both(root: etree._Element) -> None:
        priced("750.00")(root)
        if mutate:
            mutate(root)

    stamp = sat_side.issue(both, conceptos=1)
    sat_side.move_to(THURSDAY)
    status = sat_side.gateway.status(stamp.uuid, EMISOR, RECEPTOR, "870")
    assert (status.estado, status.es_cancelable) == ("Vigente", es_cancelable)
