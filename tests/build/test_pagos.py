"""Building a CFDI de pagos (tipo P, Pagos 2.0) from data: every issued document passes timbra's whole
validator (CFDI 4.0 and the complement's matrix), and the derived amounts are SAT's (BaseDR/ImporteDR
proportional to the amount paid, ImpuestosP per currency, Totales in MXN)."""
from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from lxml import etree
from pydantic import ValidationError

from tests.conftest import NOW
from timbra.build.common import BuildError, Emisor
from timbra.build.invoice import Invoice, build
from timbra.build.pagos import PagosInvoice, build_pagos, pagos_json_path
from timbra.cfdi.seal import sign_root

EMISOR = Emisor("EKU9003173C9", "ESCUELA KEMPER URGATE", "601")
RECEPTOR = {"Rfc": "URE180429TM6", "Nombre": "UNIVERSIDAD ROBOTICA ESPAÑOLA", "DomicilioFiscalReceptor": "86991",
            "RegimenFiscalReceptor": "601"}
P = "{http://www.sat.gob.mx/Pagos20}"
UUID_A = "5FB2822E-396D-4725-8521-CDC4BDD20CCF"
UUID_B = "0F3D4A1B-2C5E-4F60-8A7B-9C0D1E2F3A4B"
UUID_C = "7A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D"


def iva(tasa: str | None = "0.16", factor: str = "Tasa") -> dict:
    t = {"ImpuestoDR": "002", "TipoFactorDR": factor}
    if tasa is not None:
        t["TasaOCuotaDR"] = tasa
    return t


def docto(pagado: str, saldo: str | None = None, uuid: str = UUID_A, parcialidad: int = 1,
          traslados: list | None = None, retenciones: list | None = None, **kw) -> dict:
    d = {"IdDocumento": uuid, "Serie": "F", "Folio": "7", "MonedaDR": "MXN", "NumParcialidad": parcialidad,
         "ImpSaldoAnt": saldo or pagado, "ImpPagado": pagado, **kw}
    if traslados or retenciones:
        d["ImpuestosDR"] = {"TrasladosDR": traslados or [], "RetencionesDR": retenciones or []}
    return d


def pago(*doctos: dict, **kw) -> dict:
    return {"FechaPago": "2026-11-23T10:00:00", "FormaDePagoP": "03", "MonedaP": "MXN",
            "DoctoRelacionado": list(doctos), **kw}


def data(*pagos: dict, **kw) -> dict:
    return {"Serie": "P", "Folio": "1", "LugarExpedicion": "06000", "Receptor": dict(RECEPTOR),
            "Pagos": list(pagos), **kw}


@pytest.fixture
def issue(csd, certifier):
    """Build, seal with the emisor's CSD and validate like a stamp: no finding allowed."""

    def run(d: dict) -> etree._Element:
        root = build_pagos(PagosInvoice.model_validate(d), emisor=EMISOR, fecha=NOW)
        sign_root(root, csd)
        xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        got = certifier.validate(xml).findings
        assert got == [], [str(f) for f in got]
        return root

    return run


def one(root: etree._Element, path: str) -> dict:
    found = root.findall(path)
    assert len(found) == 1, f"{len(found)} nodes at {path}"
    return dict(found[0].attrib)


def all_(root: etree._Element, path: str) -> list[dict]:
    return [dict(e.attrib) for e in root.iterfind(path)]


PAGO = f"{{*}}Complemento/{P}Pagos/{P}Pago"
TOTALES = f"{{*}}Complemento/{P}Pagos/{P}Totales"
DOCTO = f"{PAGO}/{P}DoctoRelacionado"
TRASLADO_DR = f"{P}ImpuestosDR/{P}TrasladosDR/{P}TrasladoDR"
RETENCION_DR = f"{P}ImpuestosDR/{P}RetencionesDR/{P}RetencionDR"


def test_one_invoice_paid_in_full_with_iva16(issue):
    root = issue(data(pago(docto("11600.00", traslados=[iva()]))))
    assert {k: root.get(k) for k in ("TipoDeComprobante", "SubTotal", "Moneda", "Total", "Exportacion")} == {
        "TipoDeComprobante": "P", "SubTotal": "0", "Moneda": "XXX", "Total": "0", "Exportacion": "01"}
    assert root.get("FormaPago") is None and root.get("MetodoPago") is None
    assert one(root, "{*}Receptor")["UsoCFDI"] == "CP01"
    assert one(root, "{*}Conceptos/{*}Concepto") == {
        "ClaveProdServ": "84111506", "Cantidad": "1", "ClaveUnidad": "ACT", "Descripcion": "Pago",
        "ValorUnitario": "0", "Importe": "0", "ObjetoImp": "01"}
    p = one(root, PAGO)
    assert (p["MonedaP"], p["TipoCambioP"], p["Monto"], p["FechaPago"]) == ("MXN", "1", "11600.00",
                                                                              "2026-11-23T10:00:00")
    d = one(root, DOCTO)
    assert (d["EquivalenciaDR"], d["ImpSaldoAnt"], d["ImpPagado"], d["ImpSaldoInsoluto"], d["ObjetoImpDR"]) == (
        "1", "11600.00", "11600.00", "0.00", "02")
    t = one(root, f"{DOCTO}/{TRASLADO_DR}")
    assert (t["BaseDR"], t["TasaOCuotaDR"], t["ImporteDR"]) == ("10000.00", "0.160000", "1600.00")
    tp = one(root, f"{PAGO}/{P}ImpuestosP/{P}TrasladosP/{P}TrasladoP")
    assert (tp["BaseP"], tp["TasaOCuotaP"], tp["ImporteP"]) == ("10000.00", "0.160000", "1600.00")
    assert one(root, TOTALES) == {"TotalTrasladosBaseIVA16": "10000.00", "TotalTrasladosImpuestoIVA16": "1600.00",
                                  "MontoTotalPagos": "11600.00"}


def test_partial_payment_second_parcialidad_rounds_like_sat(issue):
    # 1000.00 / 1.16 = 862.0689... -> 862.07; 862.07 x 0.16 = 137.9312 -> 137.93
    root = issue(data(pago(docto("1000", saldo="5800", parcialidad=2, traslados=[iva()]),
                           FechaPago="2026-11-20")))
    d = one(root, DOCTO)
    assert (d["NumParcialidad"], d["ImpSaldoAnt"], d["ImpPagado"], d["ImpSaldoInsoluto"]) == (
        "2", "5800.00", "1000.00", "4800.00")
    t = one(root, f"{DOCTO}/{TRASLADO_DR}")
    assert (t["BaseDR"], t["ImporteDR"]) == ("862.07", "137.93")
    p = one(root, PAGO)
    assert (p["Monto"], p["FechaPago"]) == ("1000.00", "2026-11-20T12:00:00")  # date only: noon (SAT's guide)
    assert one(root, TOTALES)["TotalTrasladosImpuestoIVA16"] == "137.93"


def test_one_payment_of_three_invoices_at_16_0_and_exento(issue):
    root = issue(data(pago(
        docto("2320.00", uuid=UUID_A, traslados=[iva()]),
        docto("500.00", uuid=UUID_B, traslados=[iva("0")]),
        docto("300.00", uuid=UUID_C, traslados=[iva(None, "Exento")]))))
    assert one(root, PAGO)["Monto"] == "3120.00"
    bases = [t["BaseDR"] for t in all_(root, f"{DOCTO}/{TRASLADO_DR}")]
    assert bases == ["2000.00", "500.00", "300.00"]
    exento = all_(root, f"{DOCTO}/{TRASLADO_DR}")[2]
    assert "TasaOCuotaDR" not in exento and "ImporteDR" not in exento
    groups = [(t["TipoFactorP"], t.get("TasaOCuotaP"), t["BaseP"], t.get("ImporteP"))
              for t in all_(root, f"{PAGO}/{P}ImpuestosP/{P}TrasladosP/{P}TrasladoP")]
    assert groups == [("Tasa", "0.160000", "2000.00", "320.00"), ("Tasa", "0.000000", "500.00", "0.00"),
                      ("Exento", None, "300.00", None)]
    assert one(root, TOTALES) == {
        "TotalTrasladosBaseIVA16": "2000.00", "TotalTrasladosImpuestoIVA16": "320.00",
        "TotalTrasladosBaseIVA0": "500.00", "TotalTrasladosImpuestoIVA0": "0.00",
        "TotalTrasladosBaseIVAExento": "300.00", "MontoTotalPagos": "3120.00"}


def test_payment_in_usd_of_an_invoice_in_mxn(issue):
    # EquivalenciaDR: MXN per USD. 11600 MXN / 17.25 = 672.4637... USD -> Monto 672.46.
    root = issue(data(pago(docto("11600.00", traslados=[iva()], EquivalenciaDR="17.25"),
                           MonedaP="USD", TipoCambioP="17.2500", NumOperacion="A-123",
                           CtaOrdenante="012180001234567891", CtaBeneficiario="1234567890")))
    p = one(root, PAGO)
    assert (p["MonedaP"], p["TipoCambioP"], p["Monto"], p["NumOperacion"]) == ("USD", "17.25", "672.46", "A-123")
    d = one(root, DOCTO)
    assert (d["MonedaDR"], d["EquivalenciaDR"], d["ImpPagado"]) == ("MXN", "17.25", "11600.00")
    t = one(root, f"{DOCTO}/{TRASLADO_DR}")
    assert (t["BaseDR"], t["ImporteDR"]) == ("10000.00", "1600.00")  # in MonedaDR
    tp = one(root, f"{PAGO}/{P}ImpuestosP/{P}TrasladosP/{P}TrasladoP")
    assert (tp["BaseP"], tp["ImporteP"]) == ("579.71", "92.75")  # 10000 / 17.25, 1600 / 17.25 in USD
    # Totales in MXN: 672.46 x 17.25 = 11599.935 -> 11599.94; 579.71 x 17.25 = 9999.9975 -> 10000.00
    assert one(root, TOTALES) == {"TotalTrasladosBaseIVA16": "10000.00", "TotalTrasladosImpuestoIVA16": "1599.94",
                                  "MontoTotalPagos": "11599.94"}


def test_payment_of_honorarios_with_retenciones(issue):
    # The invoice: Base 10000, IVA 1600, ISR retenido 1000, IVA retenido 1066.67 -> Total 9533.33.
    # Paid in full: BaseDR = 9533.33 / (1 + 0.16 - 0.10 - 0.106667) = 10000.0035 -> 10000.00.
    root = issue(data(pago(docto(
        "9533.33", traslados=[iva()],
        retenciones=[{"ImpuestoDR": "001", "TipoFactorDR": "Tasa", "TasaOCuotaDR": "0.10"},
                     {"ImpuestoDR": "002", "TipoFactorDR": "Tasa", "TasaOCuotaDR": "0.106667"}]))))
    rets = [(r["ImpuestoDR"], r["BaseDR"], r["ImporteDR"]) for r in all_(root, f"{DOCTO}/{RETENCION_DR}")]
    assert rets == [("001", "10000.00", "1000.00"), ("002", "10000.00", "1066.67")]
    rets_p = all_(root, f"{PAGO}/{P}ImpuestosP/{P}RetencionesP/{P}RetencionP")
    assert [(r["ImpuestoP"], r["ImporteP"]) for r in rets_p] == [("001", "1000.00"), ("002", "1066.67")]
    assert one(root, TOTALES) == {
        "TotalRetencionesIVA": "1066.67", "TotalRetencionesISR": "1000.00", "TotalTrasladosBaseIVA16": "10000.00",
        "TotalTrasladosImpuestoIVA16": "1600.00", "MontoTotalPagos": "9533.33"}


def test_two_payments_and_a_document_not_subject_to_tax(issue):
    """Totales add the Pagos in MXN; an ObjetoImpDR 01 document carries no ImpuestosDR; Monto sent is kept."""
    root = issue(data(
        pago(docto("1160.00", traslados=[iva()]), docto("1000.00", uuid=UUID_B), Monto="2200.00"),
        pago(docto("116.00", saldo="116.00", uuid=UUID_C, MonedaDR="USD", traslados=[iva()]),
             MonedaP="USD", TipoCambioP="20", FormaDePagoP="02")))
    pagos = all_(root, PAGO)
    assert [(p["Monto"], p["TipoCambioP"]) for p in pagos] == [("2200.00", "1"), ("116.00", "20")]
    assert root.findall(f"{DOCTO}")[1].find(f"{P}ImpuestosDR") is None
    assert root.findall(f"{DOCTO}")[1].get("ObjetoImpDR") == "01"
    # 2200 + 116 x 20; IVA 160 + 16 x 20
    assert one(root, TOTALES) == {"TotalTrasladosBaseIVA16": "3000.00", "TotalTrasladosImpuestoIVA16": "480.00",
                                  "MontoTotalPagos": "4520.00"}


def test_invoice_with_two_bases_sends_its_total_and_bases(issue):
    """The paid CFDI: 1000 at IVA 16 % and 500 at 0 %, Total 1660; 1000.00 of it is paid now."""
    lines = [dict(iva(), Base="1000"), dict(iva("0"), Base="500")]
    root = issue(data(pago(docto("1000.00", saldo="1660.00", traslados=lines, Total="1660.00"))))
    # 1000 x 1000 / 1660 = 602.409... -> 602.41 (IVA 96.39); 500 x 1000 / 1660 = 301.204... -> 301.20
    assert [(t["BaseDR"], t["ImporteDR"]) for t in all_(root, f"{DOCTO}/{TRASLADO_DR}")] == [
        ("602.41", "96.39"), ("301.20", "0.00")]
    assert one(root, DOCTO)["ImpSaldoInsoluto"] == "660.00"
    assert one(root, TOTALES) == {
        "TotalTrasladosBaseIVA16": "602.41", "TotalTrasladosImpuestoIVA16": "96.39",
        "TotalTrasladosBaseIVA0": "301.20", "TotalTrasladosImpuestoIVA0": "0.00", "MontoTotalPagos": "1000.00"}


# -- documents with several bases: apportioned line by line, or refused; never a false amount ------------

MIXED = [iva(), iva("0"), iva(None, "Exento")]


@pytest.mark.parametrize("traslados,line,words", [
    (MIXED, 1, ("IVA Tasa 0.160000", "IVA Tasa 0.000000")),
    ([iva(), iva(None, "Exento")], 1, ("IVA Exento",)),
    ([{"ImpuestoDR": "003", "TipoFactorDR": "Tasa", "TasaOCuotaDR": "0.08"}, iva()], 1, ("IEPS", "LIVA")),
])
def test_lines_that_cannot_share_one_base_are_refused_without_bases(traslados, line, words):
    """IVA 16 %, 0 % and Exento lines of one document belong to different conceptos: one base deduced from
    ImpPagado would give each line the same BaseDR and report more IVA than the invoice has. IEPS with IVA:
    IVA's base includes the IEPS. Refused (T131) with the Base to send, in Spanish and English."""
    with pytest.raises(BuildError) as err:
        _build(data(pago(docto("1160.00", traslados=traslados))))
    assert err.value.path == f"Pagos[0].DoctoRelacionado[0].ImpuestosDR.TrasladosDR[{line}].Base"
    assert all(w in err.value.message for w in words) and "Base" in err.value.message
    assert err.value.message_en and "Base" in err.value.message_en and "ImpPagado" in err.value.message_en


def test_lines_with_their_bases_get_distinct_base_dr(issue):
    """The paid CFDI: 1000 at 16 %, 500 at 0 %, 300 exento, Total 1960; 980.00 (half) paid now."""
    lines = [dict(iva(), Base="1000"), dict(iva("0"), Base="500"), dict(iva(None, "Exento"), Base="300")]
    root = issue(data(pago(docto("980.00", saldo="1960.00", traslados=lines, Total="1960.00"))))
    assert [(t["BaseDR"], t.get("ImporteDR")) for t in all_(root, f"{DOCTO}/{TRASLADO_DR}")] == [
        ("500.00", "80.00"), ("250.00", "0.00"), ("150.00", None)]


def _paid_invoice(*conceptos) -> etree._Element:
    from tests.build.test_invoice import RECEPTOR as INVOICE_RECEPTOR
    from tests.build.test_invoice import concepto
    from tests.build.test_invoice import data as invoice_data

    taxes = {"16": iva_concepto("0.16"), "0": iva_concepto("0"), "E": {"Traslados": [
        {"Impuesto": "002", "TipoFactor": "Exento"}]}}
    d = invoice_data(*(concepto(v, Impuestos=taxes[k]) for v, k in conceptos), MetodoPago="PPD", FormaPago="99",
                     Receptor=dict(INVOICE_RECEPTOR))
    return build(Invoice.model_validate(d), emisor=EMISOR, fecha=NOW)


def iva_concepto(tasa: str) -> dict:
    return {"Traslados": [{"Impuesto": "002", "TipoFactor": "Tasa", "TasaOCuota": tasa}]}


def test_the_paid_cfdi_gives_each_line_its_base(issue):
    """When the caller has the paid CFDI (timbra has it when it stamped it), each line's Base and the Total
    come from it: BaseDR per line by the fraction paid, ImporteDR never above the invoice's IVA."""
    from timbra.build.pagos import related_uuids, with_related

    invoice = _paid_invoice(("600", "16"), ("400", "16"), ("500", "0"), ("300", "E"))  # Total 1960.00
    iva_invoice = Decimal(invoice.find("{*}Impuestos").get("TotalImpuestosTrasladados"))
    d = PagosInvoice.model_validate(data(pago(docto("980.00", saldo="1960.00", uuid=UUID_A.lower(),
                                                    traslados=MIXED))))
    assert related_uuids(d) == {UUID_A}
    filled = with_related(d, {UUID_A: invoice})
    assert d.Pagos[0].DoctoRelacionado[0].Total is None  # the caller's data is left as it was
    docto_filled = filled.Pagos[0].DoctoRelacionado[0]
    assert docto_filled.Total == Decimal("1960.00")
    assert [t.Base for t in docto_filled.ImpuestosDR.TrasladosDR] == [Decimal("1000.00"), Decimal("500.00"),
                                                                      Decimal("300.00")]
    root = issue(filled.model_dump(exclude_none=True))
    got = [(t["BaseDR"], t.get("ImporteDR")) for t in all_(root, f"{DOCTO}/{TRASLADO_DR}")]
    assert got == [("500.00", "80.00"), ("250.00", "0.00"), ("150.00", None)]
    assert sum(Decimal(i) for _, i in got if i) <= iva_invoice == Decimal("160.00")
    # the rest of it, later: the two payments add up to the invoice's bases and IVA
    rest = with_related(PagosInvoice.model_validate(data(pago(docto(
        "980.00", saldo="980.00", parcialidad=2, traslados=MIXED)))), {UUID_A: invoice})
    again = [(t["BaseDR"], t.get("ImporteDR")) for t in all_(issue(rest.model_dump(exclude_none=True)),
                                                                f"{DOCTO}/{TRASLADO_DR}")]
    assert again == got
    assert satcfdi_dr(invoice, "1960.00", "980.00") == satcfdi_dr(invoice, "980.00", "980.00") == got


def test_parcialidades_add_up_to_the_paid_cfdi_exactly(issue):
    """Three payments of an invoice with odd amounts: each payment's BaseDR/ImporteDR are the invoice's
    amounts × the fraction paid so far less those × the fraction paid before, so the parcialidades add up to
    the invoice's bases and IVA exactly (ImporteDR × rate alone would report 53.35 of IVA for an invoice with
    53.34). satcfdi apportions the same way and agrees line by line."""
    from timbra.build.pagos import with_related

    invoice = _paid_invoice(("333.33", "16"), ("111.11", "0"), ("77.77", "E"), ("0.07", "16"))
    assert invoice.get("Total") == "575.62"
    saldo, paid = Decimal("575.62"), []
    for n, pagado in enumerate(("100.00", "123.45", "352.17"), start=1):
        d = with_related(PagosInvoice.model_validate(data(pago(docto(
            pagado, saldo=str(saldo), parcialidad=n, traslados=MIXED)))), {UUID_A: invoice})
        root = issue(d.model_dump(exclude_none=True))
        got = [(t["BaseDR"], t.get("ImporteDR")) for t in all_(root, f"{DOCTO}/{TRASLADO_DR}")]
        assert got == satcfdi_dr(invoice, str(saldo), pagado)
        paid.append(got)
        saldo -= Decimal(pagado)
    assert paid[2] == [("203.98", "32.63"), ("67.98", "0.00"), ("47.58", None)]
    sums = [sum(Decimal(p[line][0]) for p in paid) for line in range(3)]
    assert sums == [Decimal("333.40"), Decimal("111.11"), Decimal("77.77")]
    assert sum(Decimal(p[0][1]) for p in paid) == Decimal(
        invoice.find("{*}Impuestos").get("TotalImpuestosTrasladados")) == Decimal("53.34")


def satcfdi_dr(invoice: etree._Element, saldo: str, pagado: str) -> list[tuple[str, str | None]]:
    """satcfdi's own apportioning (create.compute.make_impuestos_dr_parcial) of the invoice's concepto taxes
    for a payment: the independent implementation's (BaseDR, ImporteDR) per line, as text."""
    from satcfdi.create.compute import make_impuestos_dr_parcial, rounder

    def dec(v):
        return None if v is None else Decimal(v)

    conceptos = [{"Impuestos": {"Traslados": [
        {"Base": dec(t.get("Base")), "Impuesto": t.get("Impuesto"), "TipoFactor": t.get("TipoFactor"),
         "TasaOCuota": dec(t.get("TasaOCuota")), "Importe": dec(t.get("Importe"))}
        for t in c.iterfind("{*}Impuestos/{*}Traslados/{*}Traslado")]}}
        for c in invoice.iterfind("{*}Conceptos/{*}Concepto")]
    got = make_impuestos_dr_parcial(conceptos, Decimal(saldo), Decimal(pagado), Decimal(invoice.get("Total")),
                                    rounder("MXN"))
    return [(f"{t['BaseDR']:.2f}", None if t["ImporteDR"] is None else f"{t['ImporteDR']:.2f}")
            for t in got["TrasladosDR"]]


def test_the_paid_cfdi_refuses_lines_it_does_not_have():
    from timbra.build.pagos import related_uuids, with_related

    invoice = _paid_invoice(("1000", "16"))
    d = PagosInvoice.model_validate(data(pago(docto("1160.00", traslados=[iva(), iva("0")]))))
    with pytest.raises(BuildError) as err:
        with_related(d, {UUID_A: invoice})
    assert err.value.path == "Pagos[0].DoctoRelacionado[0].ImpuestosDR.TrasladosDR[1]"
    assert "IVA Tasa 0.000000" in err.value.message and "has no traslado" in err.value.message_en
    too_much = PagosInvoice.model_validate(data(pago(docto("1160.00", saldo="2000.00", traslados=[iva()]))))
    with pytest.raises(BuildError) as err:
        with_related(too_much, {UUID_A: invoice})
    assert err.value.path == "Pagos[0].DoctoRelacionado[0].ImpSaldoAnt"
    # another currency than the paid CFDI's, or Bases already sent: the data is used as sent
    usd = PagosInvoice.model_validate(data(pago(docto("100.00", MonedaDR="USD", EquivalenciaDR="0.05",
                                                      traslados=[iva()]))))
    assert with_related(usd, {UUID_A: invoice}) == usd
    sent = PagosInvoice.model_validate(data(pago(docto("1160.00", traslados=[dict(iva(), Base="1000")],
                                                       Total="1160.00"))))
    assert related_uuids(sent) == set() and with_related(sent, {UUID_A: invoice}) == sent


# -- data errors name the JSON field --------------------------------------------------------------------

def _build(d: dict):
    return build_pagos(PagosInvoice.model_validate(d), emisor=EMISOR, fecha=NOW)


def test_structure_errors_have_the_json_location():
    bad = data(pago(docto("100", traslados=[iva("0.16", "Porcentaje")]), Descuento="1"))
    bad["Receptor"]["UsoCFDI"] = "G03"
    with pytest.raises(ValidationError) as exc:
        PagosInvoice.model_validate(bad)
    locs = {".".join(str(p) for p in e["loc"]) for e in exc.value.errors()}
    assert {"Pagos.0.DoctoRelacionado.0.ImpuestosDR.TrasladosDR.0.TipoFactorDR", "Pagos.0.Descuento",
            "Receptor.UsoCFDI"} <= locs
    with pytest.raises(ValidationError) as exc:
        PagosInvoice.model_validate(data(pago(docto("100", NumParcialidad=0)), Pagos=[]))
    assert {".".join(str(p) for p in e["loc"]) for e in exc.value.errors()} == {"Pagos"}


@pytest.mark.parametrize("change,path", [
    (lambda d: d["Pagos"][0]["DoctoRelacionado"][0].update(ImpPagado="200"),
     "Pagos[0].DoctoRelacionado[0].ImpPagado"),
    (lambda d: d["Pagos"][0]["DoctoRelacionado"][0].update(ImpSaldoAnt="116.001"),
     "Pagos[0].DoctoRelacionado[0].ImpSaldoAnt"),
    (lambda d: d["Pagos"][0].update(MonedaP="USD"), "Pagos[0].TipoCambioP"),
    (lambda d: d["Pagos"][0].update(MonedaP="USD", TipoCambioP="20"),
     "Pagos[0].DoctoRelacionado[0].EquivalenciaDR"),
    (lambda d: d["Pagos"][0]["DoctoRelacionado"][0].update(EquivalenciaDR="1.5"),
     "Pagos[0].DoctoRelacionado[0].EquivalenciaDR"),
    (lambda d: d["Pagos"][0].update(Monto="100"), "Pagos[0].Monto"),
    (lambda d: d["Pagos"][0]["DoctoRelacionado"][0].update(ObjetoImpDR="02", ImpuestosDR=None),
     "Pagos[0].DoctoRelacionado[0].ImpuestosDR"),
    (lambda d: d["Pagos"][0]["DoctoRelacionado"][0].update(ObjetoImpDR="01"),
     "Pagos[0].DoctoRelacionado[0].ImpuestosDR"),
    (lambda d: d["Pagos"][0]["DoctoRelacionado"][0]["ImpuestosDR"]["TrasladosDR"].append(
        {"ImpuestoDR": "003", "TipoFactorDR": "Cuota", "TasaOCuotaDR": "1.5"}),
     "Pagos[0].DoctoRelacionado[0].ImpuestosDR.TrasladosDR[1].TipoFactorDR"),
    (lambda d: d["Pagos"][0]["DoctoRelacionado"][0]["ImpuestosDR"]["TrasladosDR"][0].pop("TasaOCuotaDR"),
     "Pagos[0].DoctoRelacionado[0].ImpuestosDR.TrasladosDR[0].TasaOCuotaDR"),
    (lambda d: d.update(LugarExpedicion="00001"), "LugarExpedicion"),
    (lambda d: d["Pagos"][0]["DoctoRelacionado"][0]["ImpuestosDR"]["TrasladosDR"][0].update(Base="100"),
     "Pagos[0].DoctoRelacionado[0].Total"),
    (lambda d: d["Pagos"][0]["DoctoRelacionado"][0].update(Total="116"),
     "Pagos[0].DoctoRelacionado[0].ImpuestosDR.TrasladosDR[0].Base"),
    (lambda d: d["Pagos"][0]["DoctoRelacionado"][0].update(Total="100"), "Pagos[0].DoctoRelacionado[0].Total"),
])
def test_build_errors_name_the_json_field(change, path):
    d = copy.deepcopy(data(pago(docto("116.00", saldo="116.00", traslados=[iva()]))))
    _build(copy.deepcopy(d))  # the unchanged data builds
    change(d)
    with pytest.raises(BuildError) as err:
        _build(d)
    assert err.value.path == path


def test_decimal_inputs_are_exact():
    inv = PagosInvoice.model_validate(data(pago(docto(0.1, saldo=0.3))))
    assert inv.Pagos[0].DoctoRelacionado[0].ImpPagado == Decimal("0.1")


def test_fecha_pago_with_offset_is_written_in_local_time(issue):
    root = issue(data(pago(docto("116.00", traslados=[iva()]), FechaPago="2026-11-23T16:30:00Z")))
    assert one(root, PAGO)["FechaPago"] == "2026-11-23T10:30:00"  # 06000 is Mexico City, UTC-6


def test_sat_findings_map_back_to_json_fields(certifier, csd):
    """A rule that fails on the built XML points at the JSON field the ERP sent."""
    root = _build(data(pago(docto("116.00", uuid=UUID_B), docto("115.00", uuid=UUID_A, traslados=[iva("0.15")]),
                            FormaDePagoP="99")))
    sign_root(root, csd)
    got = certifier.validate(etree.tostring(root, xml_declaration=True, encoding="UTF-8")).findings
    paths = {f.code: pagos_json_path(f.node) for f in got}
    assert paths["CRP20260"] == "Pagos[0].DoctoRelacionado[1].ImpuestosDR.TrasladosDR[0].TasaOCuotaDR"
    assert paths["CRP20212"] == "Pagos[0].FormaDePagoP"


@pytest.mark.parametrize("node,expected", [
    ("Complemento/Pagos/Pago[2]/DoctoRelacionado[3]/ImpuestosDR/RetencionesDR/RetencionDR[1]@ImporteDR",
     "Pagos[1].DoctoRelacionado[2].ImpuestosDR.RetencionesDR[0].ImporteDR"),
    ("Complemento/Pagos/Pago[1]@TipoCambioP", "Pagos[0].TipoCambioP"),
    ("Complemento/Pagos/Pago[1]/ImpuestosP/TrasladosP/TrasladoP[2]@BaseP", "Pagos[0].ImpuestosP.TrasladosP[1].BaseP"),
    ("Complemento/Pagos/Totales@MontoTotalPagos", "Totales.MontoTotalPagos"),
    ("Receptor@Rfc", "Receptor.Rfc"),
])
def test_pagos_json_path(node, expected):
    assert pagos_json_path(node) == expected
