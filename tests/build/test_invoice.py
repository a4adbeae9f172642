"""Building a CFDI from data: every issued document passes timbra's whole validator, and the numbers are
SAT's (importes, bases, taxes grouped by rate, totals rounded per currency)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree
from pydantic import ValidationError

from tests.conftest import NOW
from tests.xmlhelp import attrs_at, node
from timbra.build.common import BuildError, Emisor
from timbra.build.invoice import Invoice, build, json_path
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


def test_one_rate_with_rounding(issue):
    root = issue(data(concepto("33.335", "3", Impuestos=IVA16), concepto("0.10", "7", Impuestos=IVA16)))
    # 3 x 33.335 = 100.005 -> 100.01; 7 x 0.10 = 0.70; IVA 16.0016 -> 16.00, 0.112 -> 0.11
    assert [c.get("Importe") for c in root.iterfind(".//{*}Concepto")] == ["100.01", "0.70"]
    t = attrs_at(root, "cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado")
    assert (t["Base"], t["TasaOCuota"], t["Importe"]) == ("100.71", "0.160000", "16.11")
    assert (root.get("SubTotal"), root.get("Total")) == ("100.71", "116.82")
    assert node(root, "cfdi:Impuestos").get("TotalImpuestosTrasladados") == "16.11"


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
    imp = node(root, "cfdi:Impuestos")
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
    assert attrs_at(root, "cfdi:InformacionGlobal") == {"Periodicidad": "01", "Meses": "11", "Año": "2026"}


def test_no_objeto_de_impuesto(issue):
    root = issue(data(concepto("250")))
    assert node(root, "cfdi:Conceptos/cfdi:Concepto").get("ObjetoImp") == "01"
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


# -- IVA's base when IEPS is trasladado (LIVA arts. 12 and 18) ----------------------------------------------
# The law, not satcfdi: satcfdi's cfdi40.Concepto computes every traslado on Importe - Descuento (IVA on a
# base without the IEPS) unless each Base is given, so the amounts below are computed by hand from the law;
# satcfdi is then given the same bases and must agree on every Importe and total (an independent check of
# the rest of the arithmetic).

def ieps(tasa="0.265000", factor="Tasa", **kw):
    t = {"Impuesto": "003", "TipoFactor": factor, **kw}
    if tasa is not None:
        t["TasaOCuota"] = tasa
    return t


def iva_t(tasa="0.160000", **kw):
    return {"Impuesto": "002", "TipoFactor": "Tasa", "TasaOCuota": tasa, **kw}


def concept_taxes(root, i=0):
    c = root.findall(".//{*}Conceptos/{*}Concepto")[i]
    return [(t.get("Impuesto"), t.get("TipoFactor"), t.get("Base"), t.get("Importe"))
            for t in c.iterfind("{*}Impuestos/*/*")]


def satcfdi_agrees(d: dict, root) -> None:
    """satcfdi, given the concepto tax bases timbra wrote, computes the same tax importes and totals."""
    from satcfdi.create.cfd import cfdi40

    conceptos = []
    for c, concepto_el in zip(d["Conceptos"], root.iterfind(".//{*}Conceptos/{*}Concepto"), strict=True):
        written = {(t.getparent().tag.rsplit("}")[1], i): t for i, t in enumerate(concepto_el.iterfind("{*}Impuestos/*/*"))}
        tras, rets = [], []
        for (group, _), t in written.items():
            kw = dict(impuesto=t.get("Impuesto"), tipo_factor=t.get("TipoFactor"), base=Decimal(t.get("Base")))
            if t.get("TasaOCuota") is not None:
                kw["tasa_o_cuota"] = Decimal(t.get("TasaOCuota"))
            if t.get("TipoFactor") == "Cuota":  # satcfdi takes a Cuota's Importe as the cuota itself
                kw["importe"] = Decimal(t.get("Importe"))
            (tras if group == "Traslados" else rets).append(
                cfdi40.Traslado(**kw) if group == "Traslados" else cfdi40.Retencion(**kw))
        conceptos.append(cfdi40.Concepto(
            clave_prod_serv=c["ClaveProdServ"], cantidad=Decimal(c["Cantidad"]), clave_unidad=c["ClaveUnidad"],
            descripcion=c["Descripcion"], valor_unitario=Decimal(c["ValorUnitario"]),
            descuento=Decimal(c["Descuento"]) if "Descuento" in c else None,
            impuestos=cfdi40.Impuestos(traslados=tras or None, retenciones=rets or None)))
    r = d["Receptor"]
    other = cfdi40.Comprobante(
        emisor=cfdi40.Emisor(rfc=EMISOR.rfc, nombre=EMISOR.nombre, regimen_fiscal=EMISOR.regimen_fiscal),
        lugar_expedicion=d["LugarExpedicion"], conceptos=conceptos, fecha=NOW.replace(tzinfo=None),
        receptor=cfdi40.Receptor(rfc=r["Rfc"], nombre=r["Nombre"], regimen_fiscal_receptor=r["RegimenFiscalReceptor"],
                                 domicilio_fiscal_receptor=r["DomicilioFiscalReceptor"], uso_cfdi=r["UsoCFDI"]))
    for mine, theirs in zip(root.iterfind(".//{*}Conceptos/{*}Concepto"), other["Conceptos"], strict=True):
        ours = [Decimal(t.get("Importe")) for t in mine.iterfind("{*}Impuestos/*/*") if t.get("Importe")]
        got = [t["Importe"] for k in ("Traslados", "Retenciones") for t in (theirs["Impuestos"] or {}).get(k) or []
               if t["Importe"] is not None]
        assert sorted(ours) == sorted(got)
    assert Decimal(root.get("SubTotal")) == other["SubTotal"] and Decimal(root.get("Total")) == other["Total"]
    imp = node(root, "cfdi:Impuestos")
    for attr in ("TotalImpuestosTrasladados", "TotalImpuestosRetenidos"):
        assert (imp.get(attr) and Decimal(imp.get(attr))) == other["Impuestos"].get(attr)


def test_iva_base_includes_the_ieps_trasladado(issue):
    """Beer at IEPS 26.5 %: 1000.00 - 100.00 descuento = 900.00; IEPS 238.50; IVA on 900.00 + 238.50 =
    1138.50 -> 182.16 (LIVA art. 12: the IEPS forms part of the value). The ERP lists IVA first."""
    d = data(concepto("1000", Descuento="100", Impuestos={"Traslados": [iva_t(), ieps()]}))
    root = issue(d)
    assert concept_taxes(root) == [("002", "Tasa", "1138.50", "182.16"), ("003", "Tasa", "900.00", "238.50")]
    groups = [(t.get("Impuesto"), t.get("Base"), t.get("Importe"))
              for t in root.iterfind("{*}Impuestos/{*}Traslados/{*}Traslado")]
    assert groups == [("002", "1138.50", "182.16"), ("003", "900.00", "238.50")]
    assert (root.get("SubTotal"), root.get("Descuento"), root.get("Total")) == ("1000.00", "100.00", "1320.66")
    assert node(root, "cfdi:Impuestos").get("TotalImpuestosTrasladados") == "420.66"
    satcfdi_agrees(d, root)


def test_ieps_cuota_needs_its_base_in_units_and_adds_to_iva(issue):
    """A flavoured drink: 10 litros at 20.00; IEPS cuota 1.6451 per litro on Base 10 (litros) = 16.45;
    IVA on 200.00 + 16.45 = 216.45 -> 34.63."""
    without = data(concepto("20", "10", Impuestos={"Traslados": [ieps("1.645100", "Cuota"), iva_t()]}))
    with pytest.raises(BuildError) as err:
        build(Invoice.model_validate(without), emisor=EMISOR, fecha=NOW)
    assert err.value.path == "Conceptos[0].Impuestos.Traslados[0].Base" and "unidades" in err.value.message
    assert "units" in err.value.message_en
    d = data(concepto("20", "10", Impuestos={"Traslados": [ieps("1.645100", "Cuota", Base="10"), iva_t()]}))
    root = issue(d)
    assert concept_taxes(root) == [("003", "Cuota", "10.00", "16.45"), ("002", "Tasa", "216.45", "34.63")]
    assert root.get("Total") == "251.08"
    satcfdi_agrees(d, root)


def test_retenciones_bases_iva_with_ieps_isr_without(issue):
    """Snacks at IEPS 8 % with IVA and ISR retained: IEPS 80.00 on 1000.00; IVA trasladado and retenido on
    1080.00 (172.80 and 2/3 of it, 115.20); ISR retenido on 1000.00 (100.00); an IEPS Exento adds nothing."""
    imp = {"Traslados": [ieps("0.080000"), iva_t()],
           "Retenciones": [{"Impuesto": "001", "TipoFactor": "Tasa", "TasaOCuota": "0.10"},
                           {"Impuesto": "002", "TipoFactor": "Tasa", "TasaOCuota": "0.106667"}]}
    exento = {"Traslados": [ieps(None, "Exento"), iva_t()]}
    d = data(concepto("1000", Impuestos=imp), concepto("50", Impuestos=exento))
    root = issue(d)
    assert concept_taxes(root, 0) == [("003", "Tasa", "1000.00", "80.00"), ("002", "Tasa", "1080.00", "172.80"),
                                      ("001", "Tasa", "1000.00", "100.00"), ("002", "Tasa", "1080.00", "115.20")]
    assert concept_taxes(root, 1) == [("003", "Exento", "50.00", None), ("002", "Tasa", "50.00", "8.00")]
    assert root.get("Total") == "1095.60"  # 1050 + 80 + 172.80 + 8 - 100 - 115.20
    satcfdi_agrees(d, root)


def test_an_explicit_base_wins(issue):
    """The ERP states a Base: it is used as written (up to 6 decimals, the currency's when fewer)."""
    d = data(concepto("1000", Impuestos={"Traslados": [iva_t(Base="500")]}),
             concepto("200", Impuestos={"Traslados": [ieps("0.080000"), iva_t(Base="123.456")]}))
    root = issue(d)
    assert concept_taxes(root, 0) == [("002", "Tasa", "500.00", "80.00")]
    assert concept_taxes(root, 1) == [("003", "Tasa", "200.00", "16.00"), ("002", "Tasa", "123.456", "19.75")]
    summary = [t.get("Base") for t in root.iterfind("{*}Impuestos/{*}Traslados/{*}Traslado")]
    assert summary == ["623.46", "200.00"]  # 500 + 123.456, rounded to the Moneda's decimals
    satcfdi_agrees(d, root)


@pytest.mark.parametrize("base", ["0", "-5", "abc", "1.1234567"])
def test_an_explicit_base_must_be_a_positive_decimal(base):
    with pytest.raises(ValidationError) as exc:
        Invoice.model_validate(data(concepto("10", Impuestos={"Traslados": [iva_t(Base=base)]})))
    assert {".".join(str(p) for p in e["loc"]) for e in exc.value.errors()} == {
        "Conceptos.0.Impuestos.Traslados.0.Base"}
