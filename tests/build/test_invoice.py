"""Building a CFDI from data: every issued document passes timbra's whole validator, and the numbers are
SAT's (importes, bases, taxes grouped by rate, totals rounded per currency)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree
from pydantic import ValidationError

from tests.conftest import NOW, X
from timbra.build.invoice import BuildError, Emisor, Invoice, build, json_path
from timbra.cfdi.seal import sign_root

EMISOR = Emisor("EKU9003173C9", "ESCUELA KEMPER URGATE", "601")
RECEPTOR = {"Rfc": "URE180429TM6", "Nombre": "UNIVERSIDAD ROBOTICA ESPAÑOLA", "DomicilioFiscalReceptor": "86991",
            "RegimenFiscalReceptor": "601", "UsoCFDI": "G03"}
IVA16 = {"Traslados": [{"Impuesto": "002", "TipoFactor": "Tasa", "TasaOCuota": "0.16"}]}


def concepto(valor="100", cantidad="1", **kw):
    return {"ClaveProdServ": "43232408", "Cantidad": cantidad, "ClaveUnidad": "E48", "Descripcion": "Licencia",
            "ValorUnitario": valor, **kw}


def data(*conceptos, **kw):
    return {"Serie": "F", "Folio": "7", "FormaPago": "03", "MetodoPago": "PUE", "LugarExpedicion": "06000",
            "Receptor": dict(RECEPTOR), "Conceptos": list(conceptos), **kw}


@pytest.fixture
def issue(csd, certifier):
    """Build, seal with the emisor's CSD and validate like a stamp: no finding allowed."""

    def run(d: dict) -> etree._Element:
        root = build(Invoice.model_validate(d), emisor=EMISOR, fecha=NOW)
        sign_root(root, csd)
        xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        got = certifier.validate(xml).findings
        assert got == [], [str(f) for f in got]
        return root

    return run


def attrs(root, path):
    return dict(X(root, path).attrib)


def test_one_rate_with_rounding(issue):
    root = issue(data(concepto("33.335", "3", Impuestos=IVA16), concepto("0.10", "7", Impuestos=IVA16)))
    # 3 x 33.335 = 100.005 -> 100.01; 7 x 0.10 = 0.70; IVA 16.0016 -> 16.00, 0.112 -> 0.11
    assert [c.get("Importe") for c in root.iterfind(".//{*}Concepto")] == ["100.01", "0.70"]
    t = attrs(root, "cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado")
    assert (t["Base"], t["TasaOCuota"], t["Importe"]) == ("100.71", "0.160000", "16.11")
    assert (root.get("SubTotal"), root.get("Total")) == ("100.71", "116.82")
    assert X(root, "cfdi:Impuestos").get("TotalImpuestosTrasladados") == "16.11"


def test_several_rates_exento_and_discounts(issue):
    exento = {"Traslados": [{"Impuesto": "002", "TipoFactor": "Exento"}]}
    tasa0 = {"Traslados": [{"Impuesto": "002", "TipoFactor": "Tasa", "TasaOCuota": "0"}]}
    root = issue(data(concepto("1000", Descuento="100", Impuestos=IVA16), concepto("50", "2", Impuestos=tasa0),
                      concepto("80", Impuestos=exento), concepto("10", "3", Descuento="5", Impuestos=IVA16)))
    groups = [dict(t.attrib) for t in root.iterfind("{*}Impuestos/{*}Traslados/{*}Traslado")]
    assert [(g["TipoFactor"], g.get("TasaOCuota"), g["Base"], g.get("Importe")) for g in groups] == [
        ("Tasa", "0.160000", "925.00", "148.00"), ("Tasa", "0.000000", "100.00", "0.00"),
        ("Exento", None, "80.00", None)]
    assert (root.get("SubTotal"), root.get("Descuento"), root.get("Total")) == ("1210.00", "105.00", "1253.00")


def test_retenciones_de_honorarios(issue):
    honorarios = {"Traslados": [{"Impuesto": "002", "TipoFactor": "Tasa", "TasaOCuota": "0.16"}],
                  "Retenciones": [{"Impuesto": "001", "TipoFactor": "Tasa", "TasaOCuota": "0.10"},
                                  {"Impuesto": "002", "TipoFactor": "Tasa", "TasaOCuota": "0.106667"}]}
    root = issue(data(concepto("10000", Impuestos=honorarios)))
    imp = X(root, "cfdi:Impuestos")
    assert (imp.get("TotalImpuestosRetenidos"), imp.get("TotalImpuestosTrasladados")) == ("2066.67", "1600.00")
    assert [r.get("Impuesto") for r in imp.iterfind("{*}Retenciones/{*}Retencion")] == ["001", "002"]
    assert root.get("Total") == "9533.33"


def test_foreign_currency_with_tipo_cambio(issue):
    root = issue(data(concepto("99.995", Impuestos=IVA16), Moneda="USD", TipoCambio="17.2530"))
    assert (root.get("Moneda"), root.get("TipoCambio"), root.get("SubTotal"), root.get("Total")) == (
        "USD", "17.253", "100.00", "116.00")


def test_publico_en_general_with_informacion_global(issue):
    receptor = {"Rfc": "XAXX010101000", "Nombre": "PUBLICO EN GENERAL", "DomicilioFiscalReceptor": "06000",
                "RegimenFiscalReceptor": "616", "UsoCFDI": "S01"}
    root = issue(data(concepto("500", Impuestos=IVA16), Receptor=receptor,
                      InformacionGlobal={"Periodicidad": "01", "Meses": "11", "Año": 2026}))
    assert attrs(root, "cfdi:InformacionGlobal") == {"Periodicidad": "01", "Meses": "11", "Año": "2026"}


def test_no_objeto_de_impuesto(issue):
    root = issue(data(concepto("250")))
    assert X(root, "cfdi:Conceptos/cfdi:Concepto").get("ObjetoImp") == "01"
    assert root.find("{*}Impuestos") is None and root.get("Total") == "250.00"


def test_data_errors_name_the_json_field():
    with pytest.raises(ValidationError) as exc:
        Invoice.model_validate(data(concepto("10", Impuestos={"Traslados": [
            {"Impuesto": "002", "TipoFactor": "Porcentaje", "TasaOCuota": "0.16"}]}), Descuentito="1"))
    locs = {".".join(str(p) for p in e["loc"]) for e in exc.value.errors()}
    assert "Conceptos.0.Impuestos.Traslados.0.TipoFactor" in locs and "Descuentito" in locs
    with pytest.raises(BuildError) as err:
        build(Invoice.model_validate(data(concepto("10", Descuento="11"))), emisor=EMISOR, fecha=NOW)
    assert err.value.path == "Conceptos[0].Descuento"
    with pytest.raises(BuildError) as err:
        build(Invoice.model_validate(data(concepto("10"), Moneda="USD")), emisor=EMISOR, fecha=NOW)
    assert err.value.path == "TipoCambio"
    with pytest.raises(BuildError) as err:
        build(Invoice.model_validate(data(concepto("10", Impuestos={"Traslados": [
            {"Impuesto": "002", "TipoFactor": "Tasa"}]}))), emisor=EMISOR, fecha=NOW)
    assert err.value.path == "Conceptos[0].Impuestos.Traslados[0].TasaOCuota"


def test_sat_findings_map_back_to_json_fields(certifier, csd):
    """A rule that fails on the built XML points at the JSON field the ERP sent."""
    bad_rate = {"Traslados": [{"Impuesto": "002", "TipoFactor": "Tasa", "TasaOCuota": "0.15"}]}
    root = build(Invoice.model_validate(data(concepto("10"), concepto("20", Impuestos=bad_rate))),
                 emisor=EMISOR, fecha=NOW)
    sign_root(root, csd)
    got = certifier.validate(etree.tostring(root, xml_declaration=True, encoding="UTF-8")).findings
    assert "Conceptos[1].Impuestos.Traslados[0].TasaOCuota" in {json_path(f.node) for f in got}


@pytest.mark.parametrize("node,expected", [
    ("Conceptos/Concepto[3]/Impuestos/Traslados/Traslado[1]@TasaOCuota",
     "Conceptos[2].Impuestos.Traslados[0].TasaOCuota"),
    ("Comprobante@Total", "Total"),
    ("Receptor@UsoCFDI", "Receptor.UsoCFDI"),
    ("InformacionGlobal@Año", "InformacionGlobal.Anio"),
    ("CfdiRelacionados[2]/CfdiRelacionado[1]@UUID", "CfdiRelacionados[1].UUIDs[0]"),
    ("Impuestos/Traslados/Traslado[1]@Importe", "Impuestos.Traslados[0].Importe"),
])
def test_json_path(node, expected):
    assert json_path(node) == expected


def test_decimal_inputs_are_exact():
    inv = Invoice.model_validate(data(concepto(0.1, 3)))
    assert inv.Conceptos[0].ValorUnitario == Decimal("0.1")
