"""Pagos 2.0 rules (timbra/cfdi/rules/complementos/pagos20.py), CRP20101-CRP20279.

Every case starts from the valid tipo P document of pagos20_builder (one MXN payment of two MXN invoices,
one with IVA 16 %), or from a valid variant of it, changes one thing and seals it."""
from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from tests.cfdi.rules.complementos.pagos20_builder import Docto, Pago, Tax, iva16, pagos_root
from tests.conftest import DATA, NOW
from tests.xmlhelp import NSMAP, node, q, set_attrs, setting
from timbra.cfdi.document import NS_PAGOS20, parse
from timbra.cfdi.rules import Context, run_rules
from timbra.cfdi.seal import sign_root
from timbra.pac.stamping import Certifier
from timbra.sat.catalogs import catalogs
from timbra.sat.padron import Contribuyente, MemoryPadron

PAGO = "Complemento/Pagos/Pago[1]"
DR1 = f"{PAGO}/DoctoRelacionado[1]"
DR2 = f"{PAGO}/DoctoRelacionado[2]"
TOTALES = "Complemento/Pagos/Totales"
TRAS_DR1 = f"{DR1}/ImpuestosDR/TrasladosDR/TrasladoDR[1]"
RET_DR1 = f"{DR1}/ImpuestosDR/RetencionesDR/RetencionDR[1]"
TRAS_P = f"{PAGO}/ImpuestosP/TrasladosP/TrasladoP"
RET_P = f"{PAGO}/ImpuestosP/RetencionesP/RetencionP"


def crp(findings) -> list[tuple[str, str, str | None]]:
    """(code, node, value) of the Pagos 2.0 findings only."""
    return [(f.code, f.node, f.value) for f in findings if f.code.startswith("CRP")]


@pytest.fixture
def make_pago(csd):
    """make_pago(mutate=None, *, pagos=None) -> sealed bytes of a tipo P document."""

    def build(mutate: Callable[[etree._Element], object] | None = None, *, pagos: list[Pago] | None = None) -> bytes:
        root = pagos_root(csd, NOW, pagos)
        if mutate is not None:
            mutate(root)
        sign_root(root, csd)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    return build


def both(*mutations: Callable[[etree._Element], None]) -> Callable[[etree._Element], None]:
    def mutate(root: etree._Element) -> None:
        for m in mutations:
            m(root)

    return mutate


def remove(path: str) -> Callable[[etree._Element], None]:
    def mutate(root: etree._Element) -> None:
        el = node(root, path)
        el.getparent().remove(el)

    return mutate


def duplicate(path: str) -> Callable[[etree._Element], None]:
    def mutate(root: etree._Element) -> None:
        el = node(root, path)
        el.addnext(copy.deepcopy(el))

    return mutate


def add_child(path: str, tag: str, index: int | None = None, **attrs: str) -> Callable[[etree._Element], None]:
    def mutate(root: etree._Element) -> None:
        parent = node(root, path)
        el = set_attrs(etree.Element(tag), **attrs)
        if index is None:
            parent.append(el)
        else:
            parent.insert(index, el)

    return mutate


X_PAGO = "cfdi:Complemento/pago20:Pagos/pago20:Pago"
X_DR1 = f"{X_PAGO}/pago20:DoctoRelacionado[1]"
X_DR2 = f"{X_PAGO}/pago20:DoctoRelacionado[2]"
X_TRAS_DR1 = f"{X_DR1}/pago20:ImpuestosDR/pago20:TrasladosDR/pago20:TrasladoDR"
X_RET_DR1 = f"{X_DR1}/pago20:ImpuestosDR/pago20:RetencionesDR/pago20:RetencionDR"
X_TRAS_P = f"{X_PAGO}/pago20:ImpuestosP/pago20:TrasladosP/pago20:TrasladoP"
X_RET_P = f"{X_PAGO}/pago20:ImpuestosP/pago20:RetencionesP/pago20:RetencionP"
X_TOTALES = "cfdi:Complemento/pago20:Pagos/pago20:Totales"
X_CONCEPTO = "cfdi:Conceptos/cfdi:Concepto"
SEGUNDO = "0F3D4A1B-2C5E-4F60-8A7B-9C0D1E2F3A4B"
ISR_10 = Tax("001", "Tasa", "0.100000", "5000.00", "500.00")
IEPS_8 = Tax("003", "Tasa", "0.080000", "5000.00", "400.00")


# -- valid variants ---------------------------------------------------------------------------------------

def iva_retenido() -> list[Pago]:
    """The default payment whose first invoice also has IVA retained (2/3 of 16 %)."""
    return [Pago([Docto(traslados=[iva16("5000.00", "800.00")],
                        retenciones=[Tax("002", "Tasa", "0.106667", "5000.00", "533.33")]),
                  Docto(id=SEGUNDO, saldo_ant="1000.00", pagado="1000.00", objeto="01")])]


def one_docto(*, objeto: str = "02", traslados=(), retenciones=()) -> list[Pago]:
    return [Pago([Docto(objeto=objeto, traslados=list(traslados), retenciones=list(retenciones))])]


def exentos() -> list[Pago]:
    return one_docto(traslados=[Tax("002", "Exento", None, "5800.00", None)])


def en_dolares(monto: str | None = None, equivalencia: str = "20.000000") -> list[Pago]:
    """A USD payment (TipoCambioP 20) of one MXN invoice with IVA 16 %."""
    return [Pago([Docto(equivalencia=equivalencia, traslados=[iva16("5000.00", "800.00")])],
                 moneda="USD", tipo_cambio="20.000000", monto=monto)]


def mixto(monto: str | None = None) -> list[Pago]:
    """A USD payment of a USD invoice (580.00) and an EUR one (1000.00 EUR at 0.92 EUR per USD)."""
    return [Pago([Docto(moneda="USD", equivalencia="1", saldo_ant="580.00", pagado="580.00", objeto="01"),
                  Docto(id=SEGUNDO, moneda="EUR", equivalencia="0.920000", saldo_ant="1000.00", pagado="1000.00",
                        objeto="01")],
                 moneda="USD", tipo_cambio="18.500000", monto=monto)]


def variado() -> list[Pago]:
    """Everything at once: an MXN payment with every IVA rate and retained ISR and IVA, a USD payment of a
    USD and an EUR invoice (mixed currencies, CRP20277's case) with IEPS, bank accounts and a SPEI chain."""
    mxn = Pago([
        Docto(saldo_ant="23200.00", pagado="11600.00",
              traslados=[iva16("10000.00", "1600.00")],
              retenciones=[Tax("001", "Tasa", "0.100000", "10000.00", "1000.00"),
                           Tax("002", "Tasa", "0.106667", "10000.00", "1066.67")]),
        Docto(id=SEGUNDO, parcialidad="2", saldo_ant="5400.00", pagado="5400.00",
              traslados=[Tax("002", "Tasa", "0.080000", "2000.00", "160.00"),
                         Tax("002", "Tasa", "0.000000", "1000.00", "0.00"),
                         Tax("002", "Exento", None, "2240.00", None)]),
    ], forma="03", attrs={"RfcEmisorCtaOrd": "BBA830831LJ2", "CtaOrdenante": "012345678901234567",
                          "RfcEmisorCtaBen": "BNM840515VB1", "CtaBeneficiario": "1234567890",
                          "NumOperacion": "SPEI-0001", "TipoCadPago": "01", "CertPago": "QUJD",
                          "CadPago": "||1|SPEI|", "SelloPago": "QUJD"})
    usd = Pago([
        Docto(id="A1B2C3D4-0000-4000-8000-000000000001", moneda="USD", equivalencia="1", saldo_ant="580.00",
              pagado="580.00", traslados=[iva16("500.00", "80.00")]),
        Docto(id="A1B2C3D4-0000-4000-8000-000000000002", moneda="EUR", equivalencia="0.920000",
              saldo_ant="1000.00", pagado="1000.00",
              traslados=[Tax("003", "Tasa", "0.080000", "925.93", "74.07")]),
    ], moneda="USD", tipo_cambio="18.500000", forma="04",
        attrs={"RfcEmisorCtaOrd": "XEXX010101000", "NomBancoOrdExt": "BANK OF AMERICA",
               "CtaOrdenante": "4111111111111111"})
    return [mxn, usd]


def test_the_base_document_is_valid(make_pago, findings):
    assert findings(make_pago()) == []


@pytest.mark.parametrize("pagos", [iva_retenido, exentos, en_dolares, variado,
                                   lambda: en_dolares(equivalencia="17.5", monto="331.00"),
                                   lambda: one_docto(objeto="07", traslados=[IEPS_8]),
                                   lambda: [Pago([Docto(saldo_ant="1000.00", pagado="1000.00", objeto="01"),
                                                  Docto(id=SEGUNDO, traslados=[iva16("5000.00", "800.00")],
                                                        retenciones=[ISR_10])])],
                                   lambda: [Pago([Docto(equivalencia="18.123457", traslados=[iva16("5000.00", "800.00")])],
                                                 moneda="USD", tipo_cambio="18.123457")],
                                   lambda: [Pago([Docto(saldo_ant="0.58", pagado="0.58", objeto="01")])]],
                         ids=["iva_retenido", "exentos", "en_dolares", "variado", "en_dolares_equivalencia_corta",
                              "solo_ieps_07", "impuestos_en_el_segundo", "tipo_cambio_con_seis_decimales",
                              "monto_menor_a_uno"])
def test_valid_variants(make_pago, findings, pagos):
    assert findings(make_pago(pagos=pagos())) == []


def test_a_missing_equivalencia_dr_is_reported_not_crashed_on(make_pago, findings):
    got = findings(make_pago(pagos=en_dolares(equivalencia=None)))
    assert "CRP20237" in [f.code for f in got] and "CFDI40999" not in [f.code for f in got]


def test_a_traslado_p_with_an_unknown_tipo_factor_is_only_the_catalogs_finding(make_pago, findings):
    got = findings(make_pago(setting(X_TRAS_P, TipoFactorP="Otro")))
    # its own TasaOCuotaP and ImporteP are not judged (the IVA 16 % it no longer matches is missing: that
    # is reported on the payment's TrasladosP)
    assert not [f for f in got if f.node in (f"{TRAS_P}[1]@ImporteP", f"{TRAS_P}[1]@TasaOCuotaP")]


@pytest.mark.parametrize(("base_p", "ok"), [("0.65", False), ("0.66", True), ("0.67", True), ("0.68", True),
                                             ("0.69", False)])
def test_base_p_between_the_sums_of_the_parts_rounded_down_and_up(make_pago, findings, base_p, ok):
    """Two documents in MXN paid in USD at 3 pesos per dollar: each BaseDR 1.00 is 0.3333 USD, so an ERP may
    write 0.66 (parts rounded down), 0.67 (the sum rounded) or 0.68 (parts rounded up), nothing else."""
    doctos = [Docto(id=i, equivalencia="3", saldo_ant="1.16", pagado="1.16", traslados=[iva16("1.00", "0.16")])
              for i in ("5FB2822E-396D-4725-8521-CDC4BDD20CCF", SEGUNDO)]
    pagos = [Pago(doctos, moneda="USD", tipo_cambio="20.000000")]
    got = [(f.code, f.value) for f in findings(make_pago(setting(X_TRAS_P, BaseP=base_p), pagos=pagos))
           if f.code in ("CRP20268", "CRP20269")]
    assert got == ([] if ok else [("CRP20268", base_p)])


def test_crp20220_a_monto_of_exactly_the_maximum_passes(make_pago, findings):
    got = findings(make_pago(setting(X_PAGO, Monto="999999999999999999.999999")))  # c_TipoDeComprobante P's limit
    assert "301" not in [f.code for f in got] and "CRP20220" not in [f.code for f in got]


def test_the_second_tax_of_impuestos_p_is_checked_too(make_pago, findings):
    """Two retained taxes and two IVA rates: the second RetencionP and TrasladoP are checked like the first."""
    pagos = [Pago([Docto(saldo_ant="11600.00", pagado="11600.00",
                         traslados=[iva16("5000.00", "800.00"), Tax("002", "Tasa", "0.080000", "5000.00", "400.00")],
                         retenciones=[ISR_10, Tax("002", "Tasa", "0.106667", "5000.00", "533.33")])])]
    assert findings(make_pago(pagos=pagos)) == []

    def codes_at(mutate, *codes):
        return [(f.code, f.node) for f in findings(make_pago(mutate, pagos=pagos)) if f.code in codes]

    assert codes_at(remove(f"{X_RET_P}[2]"), "CRP20265") == [("CRP20265", f"{PAGO}/ImpuestosP/RetencionesP")]
    assert codes_at(remove(f"{X_TRAS_P}[2]"), "CRP20268") == [("CRP20268", f"{PAGO}/ImpuestosP/TrasladosP")]
    assert codes_at(setting(f"{X_TRAS_P}[2]", BaseP="5000.01"), "CRP20268") == [("CRP20268", f"{TRAS_P}[2]@BaseP")]


def test_a_usd_pago_without_tipo_cambio_p_is_reported_not_crashed_on(make_pago, findings):
    got = [f.code for f in findings(make_pago(setting(X_PAGO, TipoCambioP=None), pagos=en_dolares()))]
    assert "CRP20214" in got and "CFDI40999" not in got


def test_a_comment_in_the_concepto_is_not_a_child_node(make_pago, findings):
    assert findings(make_pago(lambda root: node(root, X_CONCEPTO).append(etree.Comment(" nota ")))) == []


def test_a_document_without_pagos_runs_none_of_these_rules(make_xml, findings):
    assert crp(findings(make_xml())) == []


def test_the_complement_is_read_once_into_a_shared_model(make_pago):
    """One read per document, shared by every rule through ctx.cache."""
    doc = parse(make_pago(pagos=variado()))
    ctx = Context(doc=doc, catalogs=catalogs(), now=NOW)
    run_rules(ctx)
    from timbra.cfdi.rules.complementos import pagos20
    nodes = ctx.cache[pagos20._CACHE]
    assert [len(p.doctos) for p in nodes[0].pagos] == [2, 2]
    assert nodes[0].pagos[1].doctos[1].moneda == "EUR"


# -- each code: a document that breaks it ---------------------------------------------------------------

# code, pagos (None: the default), mutate, [(node, value)] of the findings with that code
CASES: list[tuple[str, Callable[[], list[Pago]] | None, Callable | None, list[tuple[str, str | None]]]] = [
    # Comprobante
    ("CRP20101", None, setting(".", TipoDeComprobante="I"), [("Comprobante@TipoDeComprobante", "I")]),
    ("CRP20102", None, setting(".", Exportacion="03"), [("Comprobante@Exportacion", "03")]),
    ("CRP20103", None, setting(".", SubTotal="10.00"), [("Comprobante@SubTotal", "10.00")]),
    ("CRP20104", None, setting(".", Moneda="MXN"), [("Comprobante@Moneda", "MXN")]),
    ("CRP20105", None, setting(".", FormaPago="03"), [("Comprobante@FormaPago", "03")]),
    ("CRP20106", None, setting(".", MetodoPago="PUE"), [("Comprobante@MetodoPago", "PUE")]),
    ("CRP20107", None, setting(".", CondicionesDePago="Contado"), [("Comprobante@CondicionesDePago", "Contado")]),
    ("CRP20108", None, setting(".", Descuento="0"), [("Comprobante@Descuento", "0")]),
    ("CRP20109", None, setting(".", TipoCambio="1"), [("Comprobante@TipoCambio", "1")]),
    ("CRP20110", None, setting(".", Total="1"), [("Comprobante@Total", "1")]),
    # Concepto
    ("CRP20111", None, duplicate(X_CONCEPTO), [("Conceptos/Concepto[2]", "2")]),
    ("CRP20112", None, add_child(X_CONCEPTO, q("CuentaPredial"), Numero="123456"),
     [("Conceptos/Concepto[1]/CuentaPredial[1]", "CuentaPredial")]),
    ("CRP20113", None, setting(X_CONCEPTO, ClaveProdServ="84111505"),
     [("Conceptos/Concepto[1]@ClaveProdServ", "84111505")]),
    ("CRP20114", None, setting(X_CONCEPTO, NoIdentificacion="P-1"),
     [("Conceptos/Concepto[1]@NoIdentificacion", "P-1")]),
    ("CRP20115", None, setting(X_CONCEPTO, Cantidad="2"), [("Conceptos/Concepto[1]@Cantidad", "2")]),
    ("CRP20116", None, setting(X_CONCEPTO, ClaveUnidad="E48"), [("Conceptos/Concepto[1]@ClaveUnidad", "E48")]),
    ("CRP20117", None, setting(X_CONCEPTO, Unidad="Actividad"), [("Conceptos/Concepto[1]@Unidad", "Actividad")]),
    ("CRP20118", None, setting(X_CONCEPTO, Descripcion="Pago de factura"),
     [("Conceptos/Concepto[1]@Descripcion", "Pago de factura")]),
    ("CRP20119", None, setting(X_CONCEPTO, ValorUnitario="1"), [("Conceptos/Concepto[1]@ValorUnitario", "1")]),
    ("CRP20120", None, setting(X_CONCEPTO, Importe="1"), [("Conceptos/Concepto[1]@Importe", "1")]),
    ("CRP20121", None, setting(X_CONCEPTO, Descuento="0"), [("Conceptos/Concepto[1]@Descuento", "0")]),
    ("CRP20122", None, setting(X_CONCEPTO, ObjetoImp="02"), [("Conceptos/Concepto[1]@ObjetoImp", "02")]),
    ("CRP20123", None, lambda root: _concepto_impuestos(root), [("Conceptos/Concepto[1]/Impuestos", None)]),
    ("CRP20123", None, add_child(".", q("Impuestos"), 3), [("Impuestos", None)]),
    # Totales
    ("CRP20201", iva_retenido, setting(X_TOTALES, TotalRetencionesIVA="533.34"),
     [(f"{TOTALES}@TotalRetencionesIVA", "533.34")]),
    ("CRP20202", lambda: one_docto(traslados=[iva16("5000.00", "800.00")],
                                   retenciones=[Tax("001", "Tasa", "0.100000", "5000.00", "500.00")]),
     setting(X_TOTALES, TotalRetencionesISR="50.00"), [(f"{TOTALES}@TotalRetencionesISR", "50.00")]),
    ("CRP20203", lambda: one_docto(traslados=[iva16("5000.00", "800.00")],
                                   retenciones=[Tax("003", "Tasa", "0.265000", "100.00", "26.50")]),
     setting(X_TOTALES, TotalRetencionesIEPS="0.00"), [(f"{TOTALES}@TotalRetencionesIEPS", "0.00")]),
    ("CRP20204", None, setting(X_TOTALES, TotalTrasladosBaseIVA16="5000.01"),
     [(f"{TOTALES}@TotalTrasladosBaseIVA16", "5000.01")]),
    ("CRP20205", None, setting(X_TOTALES, TotalTrasladosImpuestoIVA16="800.10"),
     [(f"{TOTALES}@TotalTrasladosImpuestoIVA16", "800.10")]),
    ("CRP20206", lambda: one_docto(traslados=[Tax("002", "Tasa", "0.080000", "5000.00", "400.00")]),
     setting(X_TOTALES, TotalTrasladosBaseIVA8="500.00"), [(f"{TOTALES}@TotalTrasladosBaseIVA8", "500.00")]),
    ("CRP20207", lambda: one_docto(traslados=[Tax("002", "Tasa", "0.080000", "5000.00", "400.00")]),
     setting(X_TOTALES, TotalTrasladosImpuestoIVA8="40.00"), [(f"{TOTALES}@TotalTrasladosImpuestoIVA8", "40.00")]),
    ("CRP20208", lambda: one_docto(traslados=[Tax("002", "Tasa", "0.000000", "5800.00", "0.00")]),
     setting(X_TOTALES, TotalTrasladosBaseIVA0="5000.00"), [(f"{TOTALES}@TotalTrasladosBaseIVA0", "5000.00")]),
    ("CRP20209", lambda: one_docto(traslados=[Tax("002", "Tasa", "0.000000", "5800.00", "0.00")]),
     setting(X_TOTALES, TotalTrasladosImpuestoIVA0="0.01"), [(f"{TOTALES}@TotalTrasladosImpuestoIVA0", "0.01")]),
    ("CRP20210", exentos, setting(X_TOTALES, TotalTrasladosBaseIVAExento="5000.00"),
     [(f"{TOTALES}@TotalTrasladosBaseIVAExento", "5000.00")]),
    ("CRP20211", None, setting(X_TOTALES, MontoTotalPagos="6800.01"), [(f"{TOTALES}@MontoTotalPagos", "6800.01")]),
    ("CRP20211", en_dolares, setting(X_TOTALES, MontoTotalPagos="290.00"), [(f"{TOTALES}@MontoTotalPagos", "290.00")]),
    ("CRP20264", iva_retenido, setting(X_TOTALES, TotalRetencionesIVA=None),
     [(f"{TOTALES}@TotalRetencionesIVA", None)]),
    ("CRP20267", None, setting(X_TOTALES, TotalTrasladosBaseIVA16=None),
     [(f"{TOTALES}@TotalTrasladosBaseIVA16", None)]),
    ("CRP20267", exentos, setting(X_TOTALES, TotalTrasladosBaseIVAExento=None),
     [(f"{TOTALES}@TotalTrasladosBaseIVAExento", None)]),
    ("CRP20273", None, setting(X_TOTALES, TotalTrasladosImpuestoIVA16=None),
     [(f"{TOTALES}@TotalTrasladosImpuestoIVA16", None)]),
    # Pago
    ("CRP20212", None, setting(X_PAGO, FormaDePagoP="99"), [(f"{PAGO}@FormaDePagoP", "99")]),
    ("CRP20213", None, setting(X_PAGO, MonedaP="XXX"), [(f"{PAGO}@MonedaP", "XXX")]),
    ("CRP20214", None, setting(X_PAGO, MonedaP="USD", TipoCambioP=None), [(f"{PAGO}@TipoCambioP", None)]),
    ("CRP20215", None, setting(X_PAGO, TipoCambioP=None), [(f"{PAGO}@TipoCambioP", None)]),
    ("CRP20215", None, setting(X_PAGO, TipoCambioP="1.000000"), [(f"{PAGO}@TipoCambioP", "1.000000")]),
    ("CRP20217", None, setting(X_PAGO, Monto="6799.99"), [(f"{PAGO}@Monto", "6799.99")]),
    ("CRP20218", None, setting(X_PAGO, Monto="0"), [(f"{PAGO}@Monto", "0")]),
    ("CRP20219", None, setting(X_PAGO, Monto="6800.001"), [(f"{PAGO}@Monto", "6800.001")]),
    ("CRP20220", lambda: en_dolares(monto="99999999999999999.00"), setting(X_TOTALES, MontoTotalPagos="1.00"),
     [(f"{PAGO}@Monto", "99999999999999999.00")]),
    ("CRP20221", None, setting(X_PAGO, FormaDePagoP="01", RfcEmisorCtaOrd="BBA830831LJ2"),
     [(f"{PAGO}@RfcEmisorCtaOrd", "BBA830831LJ2")]),
    ("CRP20223", None, setting(X_PAGO, RfcEmisorCtaOrd="XEXX010101000"), [(f"{PAGO}@NomBancoOrdExt", None)]),
    ("CRP20224", None, setting(X_PAGO, FormaDePagoP="01", CtaOrdenante="1234567890"),
     [(f"{PAGO}@CtaOrdenante", "1234567890")]),
    ("CRP20225", None, setting(X_PAGO, CtaOrdenante="ABCDEFGHIJ"), [(f"{PAGO}@CtaOrdenante", "ABCDEFGHIJ")]),
    ("CRP20226", None, setting(X_PAGO, CtaBeneficiario="12345678901"), [(f"{PAGO}@CtaBeneficiario", "12345678901")]),
    ("CRP20227", None, setting(X_PAGO, FormaDePagoP="06", RfcEmisorCtaBen="BNM840515VB1"),
     [(f"{PAGO}@RfcEmisorCtaBen", "BNM840515VB1")]),
    ("CRP20228", None, setting(X_PAGO, FormaDePagoP="06", CtaBeneficiario="1234567890"),
     [(f"{PAGO}@CtaBeneficiario", "1234567890")]),
    ("CRP20229", None,
     setting(X_PAGO, FormaDePagoP="02", TipoCadPago="01", CertPago="QUJD", CadPago="x", SelloPago="QUJD"),
     [(f"{PAGO}@TipoCadPago", "01")]),
    ("CRP20230", None, setting(X_PAGO, TipoCadPago="01", CadPago="x", SelloPago="QUJD"), [(f"{PAGO}@CertPago", None)]),
    ("CRP20231", None, setting(X_PAGO, CertPago="QUJD"), [(f"{PAGO}@CertPago", "QUJD")]),
    ("CRP20232", None, setting(X_PAGO, TipoCadPago="01", CertPago="QUJD", SelloPago="QUJD"),
     [(f"{PAGO}@CadPago", None)]),
    ("CRP20233", None, setting(X_PAGO, CadPago="||1|SPEI|"), [(f"{PAGO}@CadPago", "||1|SPEI|")]),
    ("CRP20234", None, setting(X_PAGO, TipoCadPago="01", CertPago="QUJD", CadPago="x"), [(f"{PAGO}@SelloPago", None)]),
    ("CRP20235", None, setting(X_PAGO, SelloPago="QUJD"), [(f"{PAGO}@SelloPago", "QUJD")]),
    ("CRP20276", lambda: en_dolares(monto="289.00"), None, [(f"{PAGO}@Monto", "289.00")]),
    # 5800 MXN / 17.5 = 331.43 USD; with EquivalenciaDR's one decimal the lower limit is 5799.995 / 17.55 = 330.48
    ("CRP20276", lambda: en_dolares(equivalencia="17.5", monto="330.47"), None, [(f"{PAGO}@Monto", "330.47")]),
    # 580.00 + 1000.00 / 0.92 = 1666.9565 USD; lower limits 579.99 (the USD invoice's EquivalenciaDR 1 counts with
    # 10 decimals, CRP20277) + 999.995 / 0.9200005 = 1086.95: 1666.94 passes, 1666.93 does not
    ("CRP20276", lambda: mixto("1666.93"), None, [(f"{PAGO}@Monto", "1666.93")]),
    # DoctoRelacionado
    ("CRP20236", None, setting(X_DR2, MonedaDR="XXX"), [(f"{DR2}@MonedaDR", "XXX")]),
    ("CRP20237", None, setting(X_DR2, MonedaDR="USD", EquivalenciaDR=None), [(f"{DR2}@EquivalenciaDR", None)]),
    ("CRP20238", None, setting(X_DR2, EquivalenciaDR="1.00"), [(f"{DR2}@EquivalenciaDR", "1.00")]),
    ("CRP20238", None, setting(X_DR2, EquivalenciaDR=None), [(f"{DR2}@EquivalenciaDR", None)]),
    ("CRP20239", None, setting(X_DR2, ImpSaldoAnt="0", ImpPagado="0.01", ImpSaldoInsoluto="0"),
     [(f"{DR2}@ImpSaldoAnt", "0")]),
    ("CRP20240", None, setting(X_DR2, ImpSaldoAnt="1000.001", ImpSaldoInsoluto="0.001"),
     [(f"{DR2}@ImpSaldoAnt", "1000.001")]),
    ("CRP20241", None, setting(X_DR2, ImpPagado="0", ImpSaldoInsoluto="1000.00"), [(f"{DR2}@ImpPagado", "0")]),
    ("CRP20242", None, setting(X_DR2, ImpPagado="999.999", ImpSaldoInsoluto="0.001"),
     [(f"{DR2}@ImpPagado", "999.999")]),
    ("CRP20243", None, setting(X_DR2, ImpSaldoInsoluto="0.000"), [(f"{DR2}@ImpSaldoInsoluto", "0.000")]),
    ("CRP20244", None, setting(X_DR2, ImpSaldoInsoluto="1.00"), [(f"{DR2}@ImpSaldoInsoluto", "1.00")]),
    ("CRP20244", None, setting(X_DR2, ImpSaldoAnt="999.00"), [(f"{DR2}@ImpSaldoInsoluto", "0.00")]),
    ("CRP20246", None, setting(X_DR2, ObjetoImpDR="02"), [(f"{DR2}@ObjetoImpDR", "02")]),
    ("CRP20247", None, setting(X_DR1, ObjetoImpDR="01"), [(f"{DR1}/ImpuestosDR", "01")]),
    ("CRP20247", None, setting(X_DR1, ObjetoImpDR="05"), [(f"{DR1}/ImpuestosDR", "05")]),
    ("CRP20248", None, remove(f"{X_DR1}/pago20:ImpuestosDR/pago20:TrasladosDR"), [(f"{DR1}/ImpuestosDR", None)]),
    ("CRP20278", None, setting(X_DR1, ObjetoImpDR="06"), [(f"{TRAS_DR1}@ImpuestoDR", "002")]),
    ("CRP20278", lambda: one_docto(objeto="06", traslados=[iva16("5000.00", "800.00")], retenciones=[ISR_10]), None,
     [(f"{TRAS_DR1}@ImpuestoDR", "002")]),
    ("CRP20278", lambda: one_docto(objeto="08", retenciones=[ISR_10, Tax("003", "Tasa", "0.265000", "100.00", "26.50")]),
     None, [(f"{DR1}/ImpuestosDR/RetencionesDR/RetencionDR[2]@ImpuestoDR", "003")]),
    ("CRP20266", exentos, setting(X_TRAS_P, TasaOCuotaP="0.000000", ImporteP="0.00"),
     [(f"{TRAS_P}[1]@TasaOCuotaP", "0.000000")]),
    ("CRP20278", lambda: one_docto(objeto="08", retenciones=[Tax("003", "Tasa", "0.265000", "100.00", "26.50")]), None,
     [(f"{RET_DR1}@ImpuestoDR", "003")]),
    ("CRP20279", None, setting(X_DR1, ObjetoImpDR="07"),
     [(f"{TRAS_DR1}@ImpuestoDR", "002"), (f"{DR1}@ObjetoImpDR", "07")]),
    # 07 wants a TrasladoDR of IEPS: a retained IEPS is not one (nor is an ISR traslado next to it)
    ("CRP20279", lambda: one_docto(objeto="07", retenciones=[Tax("003", "Tasa", "0.265000", "100.00", "26.50")]),
     None, [(f"{DR1}@ObjetoImpDR", "07")]),
    ("CRP20279", lambda: one_docto(objeto="07", traslados=[IEPS_8], retenciones=[ISR_10]), None, []),
    ("CRP20279", lambda: one_docto(objeto="07", traslados=[IEPS_8, iva16("5000.00", "800.00")]), None,
     [(f"{DR1}/ImpuestosDR/TrasladosDR/TrasladoDR[2]@ImpuestoDR", "002")]),
    ("CRP20279", lambda: one_docto(objeto="07", traslados=[iva16("5000.00", "800.00"), IEPS_8]), None,
     [(f"{TRAS_DR1}@ImpuestoDR", "002")]),
    # ImpuestosDR
    ("CRP20252", lambda: one_docto(traslados=[iva16("5000.00", "800.00")],
                                   retenciones=[Tax("002", "Exento", "0.000000", "5000.00", "0.00")]),
     None, [(f"{RET_DR1}@TipoFactorDR", "Exento")]),
    ("CRP20253", iva_retenido, setting(X_RET_DR1, TasaOCuotaDR="0.200000"),
     [(f"{RET_DR1}@TasaOCuotaDR", "0.200000")]),
    ("CRP20254", iva_retenido, setting(X_RET_DR1, ImporteDR="533.35"),
     [(f"{RET_DR1}@ImporteDR", "533.35")]),
    ("CRP20258", lambda: one_docto(traslados=[Tax("002", "Exento", None, "5800.00", "0.00")]), None,
     [(f"{TRAS_DR1}@TipoFactorDR", "Exento")]),
    ("CRP20259", None, setting(X_TRAS_DR1, ImporteDR=None), [(f"{TRAS_DR1}@TipoFactorDR", "Tasa")]),
    ("CRP20259", None, setting(X_TRAS_DR1, TasaOCuotaDR=None), [(f"{TRAS_DR1}@TipoFactorDR", "Tasa")]),
    ("CRP20260", None, setting(X_TRAS_DR1, TasaOCuotaDR="0.150000"),
     [(f"{TRAS_DR1}@TasaOCuotaDR", "0.150000")]),
    ("CRP20260", lambda: one_docto(traslados=[Tax("001", "Tasa", "0.100000", "5000.00", "500.00")]), None,
     [(f"{TRAS_DR1}@TasaOCuotaDR", "0.100000")]),
    ("CRP20261", None, setting(X_TRAS_DR1, ImporteDR="800.02"), [(f"{TRAS_DR1}@ImporteDR", "800.02")]),
    # ImpuestosP
    ("CRP20263", iva_retenido, duplicate(X_RET_P), [(f"{RET_P}[2]@ImpuestoP", "002")]),
    ("CRP20265", iva_retenido, setting(X_RET_P, ImporteP="533.00"), [(f"{RET_P}[1]@ImporteP", "533.00")]),
    ("CRP20265", iva_retenido, remove(f"{X_PAGO}/pago20:ImpuestosP/pago20:RetencionesP"),
     [(f"{PAGO}/ImpuestosP", None)]),
    ("CRP20266", exentos, setting(X_TRAS_P, ImporteP="0.00"), [(f"{TRAS_P}[1]@ImporteP", "0.00")]),
    ("CRP20268", None, setting(X_TRAS_P, BaseP="5000.01"), [(f"{TRAS_P}[1]@BaseP", "5000.01")]),
    ("CRP20268", None, remove(f"{X_PAGO}/pago20:ImpuestosP"), [(PAGO, None)]),
    ("CRP20269", exentos, setting(X_TRAS_P, BaseP="5000.00"), [(f"{TRAS_P}[1]@BaseP", "5000.00")]),
    ("CRP20271", None, duplicate(X_TRAS_P), [(f"{TRAS_P}[2]@ImpuestoP", "002")]),
    ("CRP20272", None, setting(X_TRAS_P, TasaOCuotaP="0.150000"),
     [(f"{TRAS_P}[1]@TasaOCuotaP", "0.150000")]),
    ("CRP20272", None, setting(X_TRAS_P, TasaOCuotaP=None), [(f"{TRAS_P}[1]@TasaOCuotaP", None)]),
    ("CRP20274", None, setting(X_TRAS_P, ImporteP="800.01"), [(f"{TRAS_P}[1]@ImporteP", "800.01")]),
    ("CRP20274", None, setting(X_TRAS_P, ImporteP=None), [(f"{TRAS_P}[1]@ImporteP", None)]),
    ("CRP20274", None, remove(f"{X_PAGO}/pago20:ImpuestosP"), [(PAGO, None)]),
    ("CRP20269", exentos, remove(f"{X_PAGO}/pago20:ImpuestosP"), [(PAGO, None)]),
    # catalogs (claves.py, with this matrix's codes)
    ("CRP20245", None, setting(X_DR2, ObjetoImpDR="09"), [(f"{DR2}@ObjetoImpDR", "09")]),
    ("CRP20250", iva_retenido, setting(X_RET_DR1, ImpuestoDR="004"),
     [(f"{RET_DR1}@ImpuestoDR", "004")]),
    ("CRP20251", iva_retenido, setting(X_RET_DR1, TipoFactorDR="Otro"),
     [(f"{RET_DR1}@TipoFactorDR", "Otro")]),
    ("CRP20256", None, setting(X_TRAS_DR1, ImpuestoDR="004"), [(f"{TRAS_DR1}@ImpuestoDR", "004")]),
    ("CRP20257", None, setting(X_TRAS_DR1, TipoFactorDR="Otro"),
     [(f"{TRAS_DR1}@TipoFactorDR", "Otro")]),
    ("CRP20262", iva_retenido, setting(X_RET_P, ImpuestoP="004"), [(f"{RET_P}[1]@ImpuestoP", "004")]),
    ("CRP20270", None, setting(X_TRAS_P, ImpuestoP="004"), [(f"{TRAS_P}[1]@ImpuestoP", "004")]),
]


def _concepto_impuestos(root: etree._Element) -> None:
    concepto = node(root, X_CONCEPTO)
    imp = etree.SubElement(concepto, q("Impuestos"))
    t = etree.SubElement(etree.SubElement(imp, q("Traslados")), q("Traslado"))
    set_attrs(t, Base="1", Impuesto="002", TipoFactor="Exento")


@pytest.mark.parametrize("code, pagos, mutate, expected", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_code_is_reported_where_it_happens(make_pago, findings, code, pagos, mutate, expected):
    got = findings(make_pago(mutate, pagos=None if pagos is None else pagos()))
    assert not [f for f in got if f.code == "301"], got
    assert [(f.node, f.value) for f in got if f.code == code] == expected


# -- with SAT's lists (the padrón): CRP20216 and CRP20222 -------------------------------------------------

@pytest.fixture
def with_padron(pac, trust, clock):
    """with_padron(padron, xml) -> the findings of validating xml with that padrón."""

    def run(padron, xml: bytes):
        return Certifier(pac=pac, trust=trust, clock=clock, padron=padron).validate(xml).findings

    return run


def padron_usd(rate: str) -> MemoryPadron:
    """A permissive padrón that knows SAT's USD rate for the FechaPago of the builder (2026-11-23)."""
    padron = MemoryPadron(permissive=True)
    padron.register_tipo_cambio("USD", date(2026, 11, 23), Decimal(rate))
    return padron


def test_crp20216_tipo_cambio_p_out_of_range_needs_confirmacion(make_pago, with_padron):
    # 18.50 ± 5 % (c_Moneda's porcentaje_variacion for USD): 17.575 .. 19.425; the payment says 20
    got = [f for f in with_padron(padron_usd("18.50"), make_pago(pagos=en_dolares())) if f.code == "CRP20216"]
    assert [(f.node, f.value, f.expected) for f in got] == [
        (f"{PAGO}@TipoCambioP", "20.000000", "17.575000 .. 19.425000 o Confirmacion")]


def test_crp20216_passes_in_range_with_confirmacion_or_without_a_rate(make_pago, with_padron):
    assert [f for f in with_padron(padron_usd("19.80"), make_pago(pagos=en_dolares())) if f.code == "CRP20216"] == []
    confirmado = make_pago(setting(".", Confirmacion="ECVH1"), pagos=en_dolares())
    assert [f for f in with_padron(padron_usd("18.50"), confirmado) if f.code == "CRP20216"] == []
    assert [f for f in with_padron(MemoryPadron(permissive=True), make_pago(pagos=en_dolares()))
            if f.code == "CRP20216"] == []


@pytest.mark.parametrize(("tc", "fails"), [("17.574999", True), ("17.575000", False), ("19.425000", False),
                                         ("19.425001", True)])
def test_crp20216_at_each_limit_of_the_range(make_pago, with_padron, tc, fails):
    # 18.50 ± 5 %: 17.575000 .. 19.425000, both limits included
    pagos = [Pago([Docto(equivalencia="20.000000", traslados=[iva16("5000.00", "800.00")])], moneda="USD",
                  tipo_cambio=tc)]
    got = [f for f in with_padron(padron_usd("18.50"), make_pago(pagos=pagos)) if f.code == "CRP20216"]
    assert [(f.node, f.value) for f in got] == ([(f"{PAGO}@TipoCambioP", tc)] if fails else [])


def test_crp20216_uses_the_rate_of_the_fecha_pago(make_pago, with_padron):
    """SAT's rate is the one of the payment's date (FechaPago), not of the CFDI's Fecha."""
    padron = MemoryPadron(permissive=True)
    padron.register_tipo_cambio("USD", date(2026, 11, 23), Decimal("18.50"))
    padron.register_tipo_cambio("USD", NOW.date(), Decimal("20.00"))
    got = [f for f in with_padron(padron, make_pago(pagos=en_dolares())) if f.code == "CRP20216"]
    assert [(f.node, f.value) for f in got] == [(f"{PAGO}@TipoCambioP", "20.000000")]


def test_crp20216_checks_every_pago_and_never_mxn(make_pago, with_padron):
    padron = padron_usd("18.50")
    padron.register_tipo_cambio("MXN", date(2026, 11, 23), Decimal("2"))  # a rate SAT never publishes
    pagos = [Pago([Docto(traslados=[iva16("5000.00", "800.00")])]),
             Pago([Docto(id=SEGUNDO, equivalencia="20.000000", traslados=[iva16("5000.00", "800.00")])],
                  moneda="USD", tipo_cambio="20.000000")]
    got = [f for f in with_padron(padron, make_pago(pagos=pagos)) if f.code == "CRP20216"]
    assert [(f.node, f.value) for f in got] == [("Complemento/Pagos/Pago[2]@TipoCambioP", "20.000000")]


def test_crp20222_checks_every_pago(make_pago, with_padron):
    pagos = [Pago([Docto()], attrs={"RfcEmisorCtaOrd": "XEXX010101000", "NomBancoOrdExt": "BANK OF AMERICA"}),
             Pago([Docto(id=SEGUNDO)], attrs={"RfcEmisorCtaOrd": "BBA830831LJ2"})]
    got = [f for f in with_padron(MemoryPadron(), make_pago(pagos=pagos)) if f.code == "CRP20222"]
    assert [(f.node, f.value) for f in got] == [("Complemento/Pagos/Pago[2]@RfcEmisorCtaOrd", "BBA830831LJ2")]


def test_crp20268_a_missing_exento_traslado_p_next_to_tasa_ones(make_pago, findings):
    """CRP20269 is for payments whose traslados are all Exento; with IVA at 16 % too, a missing Exento
    TrasladoP is CRP20268."""
    pagos = one_docto(traslados=[iva16("4000.00", "640.00"), Tax("002", "Exento", None, "1160.00", None)])

    def sin_exento(root):
        for t in root.xpath(X_TRAS_P, namespaces=NSMAP):
            if t.get("TipoFactorP") == "Exento":
                t.getparent().remove(t)

    got = [(f.code, f.expected) for f in findings(make_pago(sin_exento, pagos=pagos))
           if f.code in ("CRP20268", "CRP20269")]
    assert got == [("CRP20268", "1160.00")]


def test_crp20269_only_when_every_traslado_is_exento(make_pago, findings):
    """A wrong BaseP is CRP20269 only on an Exento TrasladoP of a payment whose TrasladosDR are all Exento."""
    def base_p(factor, value):
        def mutate(root):
            for t in root.xpath(X_TRAS_P, namespaces=NSMAP):
                if t.get("TipoFactorP") == factor:
                    t.set("BaseP", value)
        return mutate

    def codes_of(xml):
        return [(f.code, f.value) for f in findings(xml) if f.code in ("CRP20268", "CRP20269")]

    mixto = one_docto(traslados=[iva16("4000.00", "640.00"), Tax("002", "Exento", None, "1160.00", None)])
    assert codes_of(make_pago(base_p("Exento", "1160.01"), pagos=mixto)) == [("CRP20268", "1160.01")]
    assert codes_of(make_pago(base_p("Exento", "5800.01"), pagos=exentos())) == [("CRP20269", "5800.01")]

    def tasa_p(root):  # a TrasladoP at 16 % next to the Exento one, that no TrasladoDR has
        node(root, X_TRAS_P).addnext(set_attrs(etree.Element(q("TrasladoP", NS_PAGOS20)), BaseP="100.00",
                                               ImpuestoP="002", TipoFactorP="Tasa", TasaOCuotaP="0.160000",
                                               ImporteP="16.00"))
    assert ("CRP20268", "100.00") in codes_of(make_pago(tasa_p, pagos=exentos()))
    assert ("CRP20269", "100.00") not in codes_of(make_pago(tasa_p, pagos=exentos()))

    def exento_p(root):  # an Exento TrasladoP in a payment of documents without taxes
        pago = node(root, X_PAGO)
        imp = etree.Element(q("ImpuestosP", NS_PAGOS20))
        etree.SubElement(etree.SubElement(imp, q("TrasladosP", NS_PAGOS20)), q("TrasladoP", NS_PAGOS20),
                         BaseP="100.00", ImpuestoP="002", TipoFactorP="Exento")
        pago.append(imp)
    assert codes_of(make_pago(exento_p, pagos=one_docto(objeto="01"))) == [("CRP20268", "100.00")]


def test_crp20222_rfc_emisor_cta_ord_not_in_l_rfc(make_pago, with_padron):
    xml = make_pago(setting(X_PAGO, RfcEmisorCtaOrd="BBA830831LJ2"))
    got = [f for f in with_padron(MemoryPadron(), xml) if f.code == "CRP20222"]
    assert [(f.node, f.value) for f in got] == [(f"{PAGO}@RfcEmisorCtaOrd", "BBA830831LJ2")]


def test_crp20222_passes_when_registered_foreign_or_unknown_to_a_permissive_padron(make_pago, with_padron):
    registrado = MemoryPadron()
    registrado.register(Contribuyente(rfc="BBA830831LJ2", nombre="BBVA MEXICO"))
    xml = make_pago(setting(X_PAGO, RfcEmisorCtaOrd="BBA830831LJ2"))
    assert [f for f in with_padron(registrado, xml) if f.code == "CRP20222"] == []
    assert [f for f in with_padron(MemoryPadron(permissive=True), xml) if f.code == "CRP20222"] == []
    extranjero = make_pago(setting(X_PAGO, RfcEmisorCtaOrd="XEXX010101000", NomBancoOrdExt="BANK OF AMERICA"))
    assert [f for f in with_padron(MemoryPadron(), extranjero) if f.code == "CRP20222"] == []


def test_every_reported_code_has_a_case():
    from timbra.cfdi.rules import implemented_codes
    from timbra.cfdi.rules.claves import COMPLEMENT_CODES

    mine = {c for c in implemented_codes() if c.startswith("CRP")} | {
        c for (ns, _, _), c in COMPLEMENT_CODES.items() if ns == NS_PAGOS20}
    assert mine == {c[0] for c in CASES} | {"CRP20216", "CRP20222"}


# -- each code: a document near its boundary that passes -------------------------------------------------

PASSES: list[tuple[str, Callable[[], list[Pago]] | None, Callable | None]] = [
    ("CRP20103", None, setting(".", SubTotal="0.00", Total="0.00")),
    ("CRP20110", None, setting(".", SubTotal="0.00", Total="0.00")),
    ("CRP20112", None, add_child(X_CONCEPTO, q("ACuentaTerceros"), RfcACuentaTerceros="URE180429TM6",
                                 NombreACuentaTerceros="UNIVERSIDAD ROBOTICA ESPAÑOLA",
                                 RegimenFiscalACuentaTerceros="601", DomicilioFiscalACuentaTerceros="86991")),
    ("CRP20115", None, setting(X_CONCEPTO, Cantidad="1.00")),
    ("CRP20215", None, setting(X_PAGO, TipoCambioP="1")),
    ("CRP20214", en_dolares, None),
    ("CRP20217", None, setting(X_PAGO, Monto="6800.01")),  # paying more than the documents is allowed
    ("CRP20219", lambda: [Pago([Docto(moneda="CLF", saldo_ant="10.1234", pagado="10.1234", objeto="01")],
                               moneda="CLF", tipo_cambio="39000.123456")], None),
    ("CRP20220", lambda: en_dolares(monto="99999999999999999.00"),
     both(setting(X_TOTALES, MontoTotalPagos="1.00"), setting(".", Confirmacion="ECVH1"))),
    ("CRP20221", None, setting(X_PAGO, FormaDePagoP="28", RfcEmisorCtaOrd="BBA830831LJ2")),
    ("CRP20223", None, setting(X_PAGO, RfcEmisorCtaOrd="XEXX010101000", NomBancoOrdExt="BANK OF AMERICA")),
    ("CRP20225", None, setting(X_PAGO, CtaOrdenante="1234567890")),
    ("CRP20226", None, setting(X_PAGO, CtaBeneficiario="012345678901234567")),
    ("CRP20227", None, setting(X_PAGO, FormaDePagoP="29", RfcEmisorCtaBen="BNM840515VB1")),
    ("CRP20228", None, setting(X_PAGO, FormaDePagoP="05", CtaBeneficiario="1234567890")),
    ("CRP20229", None, setting(X_PAGO, TipoCadPago="01", CertPago="QUJD", CadPago="x", SelloPago="QUJD")),
    ("CRP20230", None, setting(X_PAGO, TipoCadPago="01", CertPago="QUJD", CadPago="x", SelloPago="QUJD")),
    ("CRP20276", lambda: en_dolares(equivalencia="17.5", monto="330.48"), None),
    ("CRP20276", lambda: en_dolares(monto="289.99"), None),
    ("CRP20276", lambda: mixto("1666.94"), None),
    ("CRP20276", lambda: en_dolares(monto="290.01"), None),
    ("CRP20237", en_dolares, None),
    ("CRP20244", None, setting(X_DR2, ImpSaldoInsoluto="0.00")),
    ("CRP20246", lambda: one_docto(objeto="02", retenciones=[ISR_10]), None),
    ("CRP20278", lambda: one_docto(objeto="06", retenciones=[ISR_10]), None),
    ("CRP20279", lambda: one_docto(objeto="07", traslados=[Tax("003", "Tasa", "0.080000", "5000.00", "400.00")],
                                   retenciones=[Tax("001", "Tasa", "0.100000", "5000.00", "500.00")]), None),
    ("CRP20254", iva_retenido, setting(X_RET_DR1, ImporteDR="533.34")),
    ("CRP20261", lambda: one_docto(traslados=[iva16("5000.03", "800.01")]), None),
    ("CRP20261", lambda: one_docto(traslados=[iva16("5000.03", "800.00")]), None),
    ("CRP20260", lambda: one_docto(traslados=[Tax("003", "Cuota", "1.200000", "10.00", "12.00")]), None),
    # ImpuestosP: a value between the per-document truncated and rounded-up conversions is accepted
    ("CRP20274", lambda: [Pago([Docto(equivalencia="17.000000", saldo_ant="116.00", pagado="116.00",
                                      traslados=[iva16("100.00", "16.00")]),
                                Docto(id=SEGUNDO, equivalencia="17.000000", saldo_ant="116.00", pagado="116.00",
                                      traslados=[iva16("100.00", "16.00")])],
                               moneda="USD", tipo_cambio="17.000000")],
     both(setting(X_TRAS_P, ImporteP="1.89"), setting(X_TOTALES, TotalTrasladosImpuestoIVA16="32.13"))),
]


@pytest.mark.parametrize("code, pagos, mutate", PASSES, ids=[f"{c[0]}-{i}" for i, c in enumerate(PASSES)])
def test_a_valid_document_near_the_boundary_passes(make_pago, findings, code, pagos, mutate):
    got = findings(make_pago(mutate, pagos=None if pagos is None else pagos()))
    assert not [f for f in got if f.code == "301"], got
    assert [f for f in got if f.code == code] == []


def test_findings_say_what_was_expected(make_pago, findings):
    got = [f for f in findings(make_pago(setting(X_TRAS_P, ImporteP="800.01"))) if f.code == "CRP20274"]
    assert got[0].expected == "800.00"
    assert "800" in got[0].detail
    got = [f for f in findings(make_pago(pagos=en_dolares(monto="289.00"))) if f.code == "CRP20276"]
    assert got[0].expected == "289.99 .. 290.01"
    got = [f for f in findings(make_pago(setting(X_DR2, ImpSaldoInsoluto="1.00"))) if f.code == "CRP20244"]
    assert got[0].expected == "0.00"


# -- SAT's samples --------------------------------------------------------------------------------------

SAMPLES = DATA / "samples" / "comprobante40"

# What SAT's own samples break, with the evidence in the file. They predate the matrix (Fecha 2021-12-08)
# and pagos20-all is a structure demo (every attribute present, placeholder values).
SAMPLE_FINDINGS = {
    "cfdv40-pagos20.xml": [
        ("CRP20102", "Comprobante@Exportacion", "03"),  # Exportacion="03"; the matrix requires 01
        ("CRP20105", "Comprobante@FormaPago", "02"),  # FormaPago="02" on a tipo P
        # MonedaP="MXN" without TipoCambioP, and MonedaDR = MonedaP without EquivalenciaDR: both must be "1"
        ("CRP20215", "Complemento/Pagos/Pago[1]@TipoCambioP", None),
        ("CRP20215", "Complemento/Pagos/Pago[2]@TipoCambioP", None),
        ("CRP20215", "Complemento/Pagos/Pago[3]@TipoCambioP", None),
        ("CRP20238", "Complemento/Pagos/Pago[1]/DoctoRelacionado[1]@EquivalenciaDR", None),
        ("CRP20238", "Complemento/Pagos/Pago[2]/DoctoRelacionado[1]@EquivalenciaDR", None),
        ("CRP20238", "Complemento/Pagos/Pago[3]/DoctoRelacionado[1]@EquivalenciaDR", None),
    ],
    "cfdv40-pagos20-min.xml": [
        ("CRP20102", "Comprobante@Exportacion", "03"),
        # MontoTotalPagos="15166.65" is the total of cfdv40-pagos20.xml's three Pagos; this one has Monto 6066.66
        ("CRP20211", "Complemento/Pagos/Totales@MontoTotalPagos", "15166.65"),
        ("CRP20215", "Complemento/Pagos/Pago[1]@TipoCambioP", None),
        ("CRP20238", "Complemento/Pagos/Pago[1]/DoctoRelacionado[1]@EquivalenciaDR", None),
        # ImpSaldoAnt 6066.66 - ImpPagado 1.00 is not ImpSaldoInsoluto 0
        ("CRP20244", "Complemento/Pagos/Pago[1]/DoctoRelacionado[1]@ImpSaldoInsoluto", "0"),
    ],
    "cfdv40-pagos20-all.xml": [
        ("CRP20102", "Comprobante@Exportacion", "03"),
        ("CRP20105", "Comprobante@FormaPago", "02"),
        ("CRP20212", "Complemento/Pagos/Pago[1]@FormaDePagoP", "99"),
        ("CRP20218", "Complemento/Pagos/Pago[1]@Monto", "0.00"),
        # FormaDePagoP 99 admits none of the accounts nor the payment chain
        ("CRP20221", "Complemento/Pagos/Pago[1]@RfcEmisorCtaOrd", "AAA010101AAA"),
        ("CRP20224", "Complemento/Pagos/Pago[1]@CtaOrdenante", "3456789012"),
        ("CRP20227", "Complemento/Pagos/Pago[1]@RfcEmisorCtaBen", "BAS600902KL9"),
        ("CRP20228", "Complemento/Pagos/Pago[1]@CtaBeneficiario", "1234567890"),
        ("CRP20229", "Complemento/Pagos/Pago[1]@TipoCadPago", "01"),
        ("CRP20217", "Complemento/Pagos/Pago[1]@Monto", "0.00"),  # ImpPagado 1.00 > Monto 0.00
        ("CRP20238", "Complemento/Pagos/Pago[1]/DoctoRelacionado[1]@EquivalenciaDR", "0.000001"),  # ZWL = ZWL
        ("CRP20239", "Complemento/Pagos/Pago[1]/DoctoRelacionado[1]@ImpSaldoAnt", "0.00"),
        ("CRP20244", "Complemento/Pagos/Pago[1]/DoctoRelacionado[1]@ImpSaldoInsoluto", "1.00"),  # 0.00 - 1.00
        ("CRP20247", "Complemento/Pagos/Pago[1]/DoctoRelacionado[1]/ImpuestosDR", "03"),  # ObjetoImpDR 03 with taxes
        ("CRP20252", f"{RET_DR1}@TipoFactorDR", "Exento"),
        ("CRP20258", f"{TRAS_DR1}@TipoFactorDR", "Exento"),
        # ImporteP 0.00 and BaseP 0.00 against the document's ImporteDR 1.00 and BaseDR 2.00
        ("CRP20265", "Complemento/Pagos/Pago[1]/ImpuestosP/RetencionesP/RetencionP[1]@ImporteP", "0.00"),
        ("CRP20266", "Complemento/Pagos/Pago[1]/ImpuestosP/TrasladosP/TrasladoP[1]@TasaOCuotaP", "0.00"),
        ("CRP20269", "Complemento/Pagos/Pago[1]/ImpuestosP/TrasladosP/TrasladoP[1]@BaseP", "0.00"),
    ],
}


@pytest.mark.parametrize("name", sorted(SAMPLE_FINDINGS))
def test_sat_samples(name):
    doc = parse((SAMPLES / name).read_bytes())
    ctx = Context(doc=doc, catalogs=catalogs(), now=datetime.fromisoformat(doc.get("Fecha")))
    assert crp(run_rules(ctx)) == SAMPLE_FINDINGS[name]


def test_every_sample_with_pagos_is_listed():
    assert {p.name for p in SAMPLES.glob("*.xml") if NS_PAGOS20.encode() in p.read_bytes()} == set(SAMPLE_FINDINGS)


def test_not_applicable_codes_have_reasons_and_no_rule():
    from timbra.cfdi.rules import implemented_codes
    from timbra.cfdi.rules.not_applicable import NOT_APPLICABLE
    from timbra.sat.matrices import matrix

    codes = {r["codigo"] for r in matrix("pagos20")}
    na = {c for c in NOT_APPLICABLE if c in codes}
    assert na == {"CRP20249", "CRP20255", "CRP20275", "CRP20277", "CRP20999"}
    assert not na & implemented_codes()
    assert all(len(NOT_APPLICABLE[c]) > 30 for c in na)


def test_every_code_of_the_matrix_is_covered():
    from timbra.cfdi.coverage import Observed, coverage

    rows = coverage(Observed.load(Path(__file__).parents[4] / "docs" / "observed-rules.json"))["pagos20"]
    assert [r.code for r in rows if not r.ok] == []


def test_a_payment_that_needs_a_confirmacion_passes_the_base_rules(make_pago, findings):
    """CFDI40127 (Confirmacion must be omitted when the Total is in range) does not apply to a tipo P: its
    Total is 0 in XXX, but a payment's Monto or TipoCambioP may need the key (CRP20220, CRP20216)."""
    got = findings(make_pago(both(setting(X_TOTALES, MontoTotalPagos="1.00"), setting(".", Confirmacion="ECVH1")),
                             pagos=en_dolares(monto="99999999999999999.00")))
    assert [f for f in got if f.code in ("CFDI40127", "CRP20220")] == []
