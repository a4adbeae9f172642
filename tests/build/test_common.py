"""timbra.build.common: the one XML-path-to-JSON-path walker, driven by each kind's tables, and the shared
pieces the three builders write the Comprobante with."""
from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from tests.conftest import NOW
from timbra.build import invoice, nomina, pagos
from timbra.build.common import BuildError, Emisor, JsonPaths, element, fmt_shortest

KINDS = {"factura": invoice.json_path, "pagos": pagos.pagos_json_path, "nomina": nomina.json_path}


# Each row: the kind, a finding's XML node path, and the JSON path the ERP sent it as. Every table entry
# of every kind (lists, skipped elements, containers, scalars, renames, computed) and each kind's own
# pre-rules (nómina's single Concepto and Comprobante amounts, pagos' Comprobante nodes) appear at least once.
@pytest.mark.parametrize(("kind", "node", "expected"), [
    # factura: lists (0-based), skipped containers, scalar lists, the Año rename, unreadable paths as they are
    ("factura", "Comprobante/Conceptos/Concepto[2]@Importe", "Conceptos[1].Importe"),
    ("factura", "Conceptos/Concepto@Cantidad", "Conceptos[0].Cantidad"),
    ("factura", "Conceptos/Concepto[1]/Impuestos/Retenciones/Retencion[2]@Base",
     "Conceptos[0].Impuestos.Retenciones[1].Base"),
    ("factura", "Conceptos/Concepto[1]/Impuestos/Traslados", "Conceptos[0].Impuestos"),
    ("factura", "Conceptos/Concepto[4]/InformacionAduanera[2]@NumeroPedimento",
     "Conceptos[3].InformacionAduanera[1]"),
    ("factura", "Conceptos/Concepto[1]/CuentaPredial[1]@Numero", "Conceptos[0].CuentaPredial[0]"),
    ("factura", "Conceptos/Concepto[1]/ACuentaTerceros@RfcACuentaTerceros",
     "Conceptos[0].ACuentaTerceros.RfcACuentaTerceros"),
    ("factura", "CfdiRelacionados[1]/CfdiRelacionado[3]@UUID", "CfdiRelacionados[0].UUIDs[2]"),
    ("factura", "CfdiRelacionados[2]@TipoRelacion", "CfdiRelacionados[1].TipoRelacion"),
    ("factura", "InformacionGlobal@Año", "InformacionGlobal.Anio"),
    ("factura", "@LugarExpedicion", "LugarExpedicion"),
    ("factura", "Conceptos/Concepto[x]@Importe", "Conceptos/Concepto[x]@Importe"),
    # pagos: the complement's lists and wrappers; the Comprobante's nodes go to the factura's walker
    ("pagos", "Complemento/Pagos/Pago[3]@Monto", "Pagos[2].Monto"),
    ("pagos", "Complemento/Pagos/Pago[1]/DoctoRelacionado[2]/ImpuestosDR/TrasladosDR/TrasladoDR[3]@BaseDR",
     "Pagos[0].DoctoRelacionado[1].ImpuestosDR.TrasladosDR[2].BaseDR"),
    ("pagos", "Complemento/Pagos/Pago[1]/ImpuestosP/RetencionesP/RetencionP[1]@ImporteP",
     "Pagos[0].ImpuestosP.RetencionesP[0].ImporteP"),
    ("pagos", "Complemento/Pagos@Version", "Version"),
    ("pagos", "CfdiRelacionados[1]/CfdiRelacionado[1]@UUID", "CfdiRelacionados[0].UUIDs[0]"),
    ("pagos", "Conceptos/Concepto[1]@ClaveProdServ", "Conceptos[0].ClaveProdServ"),
    # nómina: containers named when the path ends on them, computed totals, the Antigüedad rename, the
    # single Concepto and the Comprobante's amounts (pre-rules), the Comprobante's other nodes
    ("nomina", "Comprobante/Complemento/Nomina/Percepciones/Percepcion[3]@ImporteGravado",
     "Nomina.Percepciones[2].ImporteGravado"),
    ("nomina", "Complemento/Nomina/Percepciones@TotalGravado", "Nomina.Percepciones"),
    ("nomina", "Complemento/Nomina/OtrosPagos/OtroPago[2]/CompensacionSaldosAFavor@Año",
     "Nomina.OtrosPagos[1].CompensacionSaldosAFavor.Año"),
    ("nomina", "Complemento/Nomina/Incapacidades", "Nomina.Incapacidades"),
    ("nomina", "Complemento/Nomina@TotalPercepciones", "Nomina"),
    ("nomina", "Complemento/Nomina@Version", "Nomina"),
    ("nomina", "Complemento/Nomina@FechaPago", "Nomina.FechaPago"),
    ("nomina", "Complemento/Nomina/Percepciones/SeparacionIndemnizacion@TotalPagado",
     "Nomina.SeparacionIndemnizacion"),
    ("nomina", "Complemento/Nomina/Receptor@Antigüedad", "Nomina.Receptor.FechaInicioRelLaboral"),
    ("nomina", "Comprobante/Conceptos/Concepto[1]@ValorUnitario", "Nomina"),
    ("nomina", "@SubTotal", "Nomina"),
    ("nomina", "@Fecha", "Fecha"),
    ("nomina", "CfdiRelacionados[1]/CfdiRelacionado[2]@UUID", "CfdiRelacionados[0].UUIDs[1]"),
])
def test_json_path_of_each_kind(kind, node, expected):
    assert KINDS[kind](node) == expected


def test_one_walker_reads_any_table():
    """The walker knows no kind: the same node under other tables gives another JSON path."""
    node = "Root/Wrap/Item[2]/Inner@Attr"
    assert JsonPaths(lists={}, skip=frozenset()).walk(node) == "Root.Wrap.Item.Inner.Attr"
    assert JsonPaths(lists={"Item": "Items"}, skip=frozenset({"Root", "Wrap"})).walk(node) == "Items[1].Inner.Attr"
    wrapped = JsonPaths(lists={"Item": "Items"}, skip=frozenset({"Root"}), containers=frozenset({"Wrap"}),
                        computed=frozenset({"Total"}))
    assert wrapped.walk(node) == "Items[1].Inner.Attr"
    assert wrapped.walk("Root/Wrap@Total") == "Wrap"
    assert JsonPaths(lists={"Item": "Items"}, skip=frozenset({"Root", "Wrap"}), scalars=frozenset({("Inner", "Attr")}),
                     renames={"Attr": "A"}).walk(node) == "Items[1].Inner"
    assert JsonPaths(lists={}, skip=frozenset(), renames={"Attr": "A"}, computed=frozenset({"Other"})).walk(node) \
        == "Root.Wrap.Item.Inner.A"
    assert JsonPaths(lists={}, skip=frozenset(), computed=frozenset({"Attr"})).walk(node) == "Root.Wrap.Item.Inner"


def test_every_kind_writes_the_same_header():
    """Version, Serie, Folio and Fecha (in LugarExpedicion's zone) lead the Comprobante's attributes, and
    CfdiRelacionados, Emisor and Receptor are its first children, in every kind."""
    emisor = Emisor("EKU9003173C9", "ESCUELA KEMPER URGATE", "601")
    common = {"Serie": "S", "Folio": "1", "LugarExpedicion": "06000",
              "CfdiRelacionados": [{"TipoRelacion": "04", "UUIDs": ["5FB2822E-396D-4725-8521-CDC4BDD20CCF"]}]}
    receptor = {"Rfc": "xaxx010101000", "Nombre": "PUBLICO EN GENERAL", "DomicilioFiscalReceptor": "06000",
                "RegimenFiscalReceptor": "616", "UsoCFDI": "S01"}
    factura = invoice.build(invoice.Invoice.model_validate({**common, "Receptor": receptor, "Conceptos": [
        {"ClaveProdServ": "01010101", "Cantidad": 1, "ClaveUnidad": "ACT", "Descripcion": "x", "ValorUnitario": 1,
         "ObjetoImp": "01"}]}), emisor=emisor, fecha=NOW)
    pago = pagos.build_pagos(pagos.PagosInvoice.model_validate({**common, "Receptor": {**receptor, "UsoCFDI": "CP01"},
                                                                "Pagos": [{
        "FechaPago": "2026-11-20", "FormaDePagoP": "03", "DoctoRelacionado": [{
            "IdDocumento": "5FB2822E-396D-4725-8521-CDC4BDD20CCF", "MonedaDR": "MXN", "NumParcialidad": 1,
            "ImpSaldoAnt": "10", "ImpPagado": "10"}]}]}), emisor=emisor, fecha=NOW)
    fecha = NOW.astimezone(ZoneInfo("America/Mexico_City")).strftime("%Y-%m-%dT%H:%M:%S")
    for root in (factura, pago):
        assert list(root.attrib.items())[1:5] == [("Version", "4.0"), ("Serie", "S"), ("Folio", "1"), ("Fecha", fecha)]
        assert [etree.QName(c).localname for c in root][:3] == ["CfdiRelacionados", "Emisor", "Receptor"]
        assert root.find("{*}Receptor").get("Rfc") == "XAXX010101000"
        assert root.find("{*}Emisor").attrib == {"Rfc": emisor.rfc, "Nombre": emisor.nombre, "RegimenFiscal": "601"}


def test_an_unknown_lugar_expedicion_is_refused_by_every_kind():
    for build, model in ((invoice.build, invoice.Invoice), (pagos.build_pagos, pagos.PagosInvoice),
                         (nomina.build_nomina, nomina.NominaInvoice)):
        data = model.model_construct(LugarExpedicion="00001", Serie=None, Folio=None, CfdiRelacionados=[])
        with pytest.raises(BuildError) as exc:
            build(data, emisor=Emisor("EKU9003173C9", "X", "601"), fecha=NOW)
        assert exc.value.path == "LugarExpedicion"


def test_element_writes_only_the_attributes_that_have_a_value_in_order():
    el = element(etree.Element("root"), "Concepto", [("b", "2"), ("a", None), ("c", "3")])
    assert list(el.attrib.items()) == [("b", "2"), ("c", "3")]


@pytest.mark.parametrize(("value", "min_decimals", "expected"), [
    ("1.500000", 0, "1.5"), ("100", 0, "100"), ("1E+2", 0, "100"), ("2.5", 2, "2.50"), ("2.12345", 2, "2.12345"),
])
def test_fmt_shortest(value, min_decimals, expected):
    assert fmt_shortest(Decimal(value), min_decimals) == expected
