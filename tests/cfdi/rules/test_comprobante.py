"""CFDI40101-CFDI40129: the attributes of the Comprobante node."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from lxml import etree

from tests.xmlhelp import NSMAP, money, node, q, set_attrs

CENT = Decimal("0.01")
NS_IMPLOCAL = "http://www.sat.gob.mx/implocal"
NS_CCE20 = "http://www.sat.gob.mx/ComercioExterior20"


def recompute(root: etree._Element, descuentos: dict[int, str] | None = None) -> None:
    """Put Descuento on conceptos (1-based index -> amount) and recompute every dependent amount:
    IVA 16% on Importe - Descuento, the Comprobante's Traslado, totals, SubTotal, Descuento and Total."""
    descuentos = descuentos or {}
    subtotal = desc_total = base_total = iva_total = Decimal(0)
    for i, c in enumerate(root.findall("cfdi:Conceptos/cfdi:Concepto", NSMAP), start=1):
        importe = Decimal(c.get("Importe"))
        if i in descuentos:
            c.set("Descuento", descuentos[i])
        desc = Decimal(c.get("Descuento", "0"))
        subtotal += importe
        desc_total += desc
        t = c.find("cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado", NSMAP)
        if t is not None:
            base = importe - desc
            iva = (base * Decimal("0.16")).quantize(CENT, rounding=ROUND_HALF_UP)
            t.set("Base", str(base))
            t.set("Importe", money(iva))
            base_total += base
            iva_total += iva
    imp = root.find("cfdi:Impuestos", NSMAP)
    if imp is not None:
        imp.set("TotalImpuestosTrasladados", money(iva_total))
        t = imp.find("cfdi:Traslados/cfdi:Traslado", NSMAP)
        t.set("Base", money(base_total))
        t.set("Importe", money(iva_total))
    root.set("SubTotal", money(subtotal))
    if any(c.get("Descuento") is not None for c in root.iter(q("Concepto"))):
        root.set("Descuento", money(desc_total))
    root.set("Total", money(subtotal - desc_total + iva_total))


def set_total(root: etree._Element, delta: str = "0") -> None:
    """Total = SubTotal - Descuento + TotalImpuestosTrasladados (as written) + delta."""
    imp = root.find("cfdi:Impuestos", NSMAP)
    tras = Decimal(imp.get("TotalImpuestosTrasladados", "0")) if imp is not None else Decimal(0)
    total = Decimal(root.get("SubTotal")) - Decimal(root.get("Descuento", "0")) + tras + Decimal(delta)
    root.set("Total", money(total))


def to_traslado(root: etree._Element, moneda: str = "MXN") -> None:
    """A valid Traslado (T): conceptos not subject to tax, no Impuestos, SubTotal and Total 0, no
    FormaPago/MetodoPago."""
    for c in root.iter(q("Concepto")):
        c.set("ObjetoImp", "01")
        c.remove(c.find(q("Impuestos")))
    root.remove(root.find(q("Impuestos")))
    for a in ("FormaPago", "MetodoPago"):
        del root.attrib[a]
    node(root, "cfdi:Receptor").set("UsoCFDI", "S01")
    root.set("TipoDeComprobante", "T")
    root.set("Moneda", moneda)
    root.set("SubTotal", "0")
    root.set("Total", "0")


def only(findings_list, code):
    return [f for f in findings_list if f.code == code]


# -- CFDI40101 Fecha ---------------------------------------------------------------------------------
def test_cfdi40101_fecha_with_surrounding_space(make_xml, findings):
    xml = make_xml(lambda r: r.set("Fecha", r.get("Fecha") + " "))
    got = findings(xml)
    assert [f.code for f in got] == ["CFDI40101"]
    assert got[0].node == "Comprobante@Fecha"
    assert got[0].value.endswith(" ")


def test_cfdi40101_fecha_leading_space(make_xml, codes):
    assert codes(make_xml(lambda r: r.set("Fecha", " " + r.get("Fecha")))) == ["CFDI40101"]


def test_cfdi40101_fecha_at_midnight_passes(make_xml, codes):
    # 2026-11-24T00:00:00 in Mexico City is 12 hours before NOW: the pattern's lowest time of day.
    assert codes(make_xml(lambda r: r.set("Fecha", "2026-11-24T00:00:00"))) == []


# -- CFDI40103 / CFDI40105 / CFDI40125 FormaPago and MetodoPago -------------------------------------
def test_traslado_base_document_is_valid(make_xml, codes):
    assert codes(make_xml(to_traslado)) == []


def test_cfdi40103_forma_pago_in_traslado(make_xml, findings):
    def mut(r):
        to_traslado(r)
        r.set("FormaPago", "01")

    got = findings(make_xml(mut))
    assert [f.code for f in got] == ["CFDI40103"]
    assert got[0].node == "Comprobante@FormaPago"
    assert got[0].value == "01"


def test_cfdi40103_forma_pago_in_ingreso_passes(make_xml, codes):
    assert "CFDI40103" not in codes(make_xml(lambda r: r.set("FormaPago", "01")))


def test_cfdi40104_forma_pago_catalog(make_xml, findings):
    got = findings(make_xml(lambda r: r.set("FormaPago", "98")))
    assert [f.code for f in got] == ["CFDI40104"]
    assert got[0].node == "Comprobante@FormaPago"


def test_cfdi40104_forma_pago_30_passes(make_xml, codes):
    assert codes(make_xml(lambda r: r.set("FormaPago", "30"))) == []


def test_cfdi40105_ppd_with_forma_pago_03(make_xml, findings):
    got = findings(make_xml(lambda r: r.set("MetodoPago", "PPD")))
    assert [f.code for f in got] == ["CFDI40105"]
    assert got[0].node == "Comprobante@FormaPago"
    assert (got[0].value, got[0].expected) == ("03", "99")


def test_cfdi40105_ppd_in_a_traslado(make_xml, codes):
    """A Traslado has no FormaPago (CFDI40103) nor MetodoPago (CFDI40125): PPD without FormaPago is only
    CFDI40125's; PPD with a FormaPago other than 99 is CFDI40105's too."""
    def ppd(forma_pago):
        def mut(r):
            to_traslado(r)
            r.set("MetodoPago", "PPD")
            if forma_pago is not None:
                r.set("FormaPago", forma_pago)
        return mut

    assert codes(make_xml(ppd(None))) == ["CFDI40125"]
    assert sorted(codes(make_xml(ppd("03")))) == ["CFDI40103", "CFDI40105", "CFDI40125"]
    assert sorted(codes(make_xml(ppd("99")))) == ["CFDI40103", "CFDI40125"]


def test_cfdi40105_ppd_without_forma_pago(make_xml, findings):
    def mut(r):
        r.set("MetodoPago", "PPD")
        del r.attrib["FormaPago"]

    got = findings(make_xml(mut))
    assert [f.code for f in got] == ["CFDI40105"]
    assert got[0].node == "Comprobante@FormaPago" and got[0].value is None


def test_cfdi40105_ppd_with_99_passes(make_xml, codes):
    def mut(r):
        r.set("MetodoPago", "PPD")
        r.set("FormaPago", "99")

    assert codes(make_xml(mut)) == []


def test_cfdi40125_metodo_pago_in_traslado(make_xml, findings):
    def mut(r):
        to_traslado(r)
        r.set("MetodoPago", "PUE")

    got = findings(make_xml(mut))
    assert [f.code for f in got] == ["CFDI40125"]
    assert got[0].node == "Comprobante@MetodoPago"


def test_cfdi40124_metodo_pago_catalog(make_xml, findings):
    got = findings(make_xml(lambda r: r.set("MetodoPago", "PPX")))
    assert [f.code for f in got] == ["CFDI40124"]
    assert got[0].node == "Comprobante@MetodoPago"


# -- CFDI40107 / CFDI40112 decimals of the currency -------------------------------------------------
def test_cfdi40107_subtotal_three_decimals_in_mxn(make_xml, findings):
    got = findings(make_xml(lambda r: r.set("SubTotal", r.get("SubTotal") + "0")))
    assert [f.code for f in got] == ["CFDI40107"]
    assert got[0].node == "Comprobante@SubTotal"
    assert got[0].expected == "hasta 2 decimales"


def test_cfdi40107_subtotal_three_decimals_in_bhd_passes(make_xml, codes):
    def mut(r):
        r.set("Moneda", "BHD")
        r.set("TipoCambio", "49.123456")
        r.set("SubTotal", r.get("SubTotal") + "0")

    assert codes(make_xml(mut)) == []


def test_cfdi40107_subtotal_zero_with_decimals_in_traslado_xxx_passes(make_xml, codes):
    def mut(r):
        to_traslado(r, moneda="XXX")
        r.set("SubTotal", "0.00")

    assert codes(make_xml(mut)) == []


def test_cfdi40107_cfdi40112_only_a_zero_subtotal_of_a_t_or_p_may_carry_decimals(make_xml, findings):
    def traslado_xxx(**attrs):
        def mut(r):
            to_traslado(r, moneda="XXX")
            for k, v in attrs.items():
                r.set(k, v)
        return mut

    def ingreso_xxx(r):
        r.set("Moneda", "XXX")
        r.attrib.pop("TipoCambio", None)
        r.set("SubTotal", "0.00")

    # a non-zero SubTotal with decimals, a Descuento of zero with decimals, an Ingreso's zero SubTotal
    assert [f.node for f in only(findings(make_xml(traslado_xxx(SubTotal="0.01"))), "CFDI40107")] == [
        "Comprobante@SubTotal"]
    assert [f.node for f in only(findings(make_xml(traslado_xxx(Descuento="0.00"))), "CFDI40112")] == [
        "Comprobante@Descuento"]
    assert [f.node for f in only(findings(make_xml(ingreso_xxx)), "CFDI40107")] == ["Comprobante@SubTotal"]


def test_cfdi40107_subtotal_with_decimals_in_jpy(make_xml, findings):
    def mut(r):
        r.set("Moneda", "JPY")
        r.set("TipoCambio", "0.115")

    got = only(findings(make_xml(mut)), "CFDI40107")
    assert len(got) == 1 and got[0].node == "Comprobante@SubTotal"
    assert got[0].expected == "hasta 0 decimales"


def test_cfdi40112_descuento_three_decimals(make_xml, findings):
    def mut(r):
        recompute(r, {2: "10.00"})
        r.set("Descuento", r.get("Descuento") + "0")

    got = findings(make_xml(mut))
    assert [f.code for f in got] == ["CFDI40112"]
    assert got[0].node == "Comprobante@Descuento"


def test_cfdi40112_descuento_three_decimals_in_bhd_passes(make_xml, codes):
    def mut(r):
        recompute(r, {2: "10.00"})
        r.set("Descuento", r.get("Descuento") + "0")
        r.set("Moneda", "BHD")
        r.set("TipoCambio", "49.1")

    assert codes(make_xml(mut)) == []


# -- CFDI40108 / CFDI40109 SubTotal ------------------------------------------------------------------
def test_cfdi40108_subtotal_not_sum_of_importes(make_xml, findings):
    def mut(r):
        r.set("SubTotal", money(Decimal(r.get("SubTotal")) + CENT))
        set_total(r)

    got = findings(make_xml(mut))
    assert [f.code for f in got] == ["CFDI40108"]
    assert got[0].node == "Comprobante@SubTotal"
    assert got[0].expected == "18191.68"


def _one_concepto_half_cent(r, subtotal: str) -> None:
    """One concepto with Importe 100.005: SubTotal must be 100.01 (rounded half up)."""
    c = node(r, "cfdi:Conceptos/cfdi:Concepto[1]")
    set_attrs(c, Cantidad="1", ValorUnitario="100.005", Importe="100.005")
    recompute(r)
    r.set("SubTotal", subtotal)
    set_total(r)


def test_cfdi40108_subtotal_rounds_half_up_passes(make_xml, codes):
    assert codes(make_xml(lambda r: _one_concepto_half_cent(r, "100.01"), conceptos=1)) == []


def test_cfdi40108_subtotal_truncated_fails(make_xml, findings):
    got = findings(make_xml(lambda r: _one_concepto_half_cent(r, "100.00"), conceptos=1))
    assert [f.code for f in got] == ["CFDI40108"]
    assert got[0].expected == "100.01"


def test_cfdi40109_subtotal_not_zero_in_traslado(make_xml, findings):
    def mut(r):
        to_traslado(r)
        r.set("SubTotal", "0.01")

    got = findings(make_xml(mut))
    assert sorted(f.code for f in got) == ["CFDI40109", "CFDI40119"]
    f = only(got, "CFDI40109")[0]
    assert f.node == "Comprobante@SubTotal" and f.expected == "0"


def test_cfdi40109_subtotal_zero_with_decimals_in_traslado_passes(make_xml, codes):
    def mut(r):
        to_traslado(r)
        r.set("SubTotal", "0.00")
        r.set("Total", "0.00")

    assert codes(make_xml(mut)) == []


# -- CFDI40110 / CFDI40111 Descuento -----------------------------------------------------------------
def test_cfdi40110_descuento_greater_than_subtotal(make_xml, findings):
    def mut(r):
        recompute(r, {1: "100.00"})
        r.set("Descuento", money(Decimal(r.get("SubTotal")) + CENT))
        set_total(r)

    got = findings(make_xml(mut))
    assert sorted(f.code for f in got) == ["CFDI40110", "CFDI40111"]
    f = only(got, "CFDI40110")[0]
    assert f.node == "Comprobante@Descuento"
    assert f.expected == "<= 18191.68"


def _full_discount(r) -> None:
    """One concepto not subject to tax, discounted completely: Descuento == SubTotal, Total 0."""
    c = node(r, "cfdi:Conceptos/cfdi:Concepto[1]")
    c.set("ObjetoImp", "01")
    c.remove(c.find(q("Impuestos")))
    r.remove(r.find(q("Impuestos")))
    recompute(r, {1: c.get("Importe")})


def test_cfdi40110_descuento_equal_to_subtotal_passes(make_xml, codes):
    assert codes(make_xml(_full_discount, conceptos=1)) == []


def test_cfdi40111_discounts_recomputed_base_is_valid(make_xml, codes):
    assert codes(make_xml(lambda r: recompute(r, {1: "390.30", 3: "0.01"}))) == []


def test_cfdi40111_concepto_descuento_zero_with_comprobante_zero_passes(make_xml, codes):
    xml = make_xml(lambda r: recompute(r, {2: "0.00"}))
    assert b'Descuento="0.00"' in xml
    assert codes(xml) == []


def test_cfdi40111_descuento_missing_in_comprobante(make_xml, findings):
    def mut(r):
        recompute(r, {3: "51.38"})
        del r.attrib["Descuento"]
        set_total(r)

    got = findings(make_xml(mut))
    assert [f.code for f in got] == ["CFDI40111"]
    assert got[0].node == "Comprobante@Descuento"
    assert got[0].value is None and got[0].expected == "51.38"


def test_cfdi40111_descuento_not_sum_of_conceptos(make_xml, findings):
    def mut(r):
        recompute(r, {1: "390.30", 3: "0.01"})
        r.set("Descuento", "390.30")
        set_total(r)

    got = findings(make_xml(mut))
    assert [f.code for f in got] == ["CFDI40111"]
    assert got[0].node == "Comprobante@Descuento"
    assert (got[0].value, got[0].expected) == ("390.30", "390.31")


def test_cfdi40111_descuento_without_concepto_descuentos(make_xml, findings):
    def mut(r):
        r.set("Descuento", "0.00")

    got = findings(make_xml(mut))
    assert [f.code for f in got] == ["CFDI40111"]
    assert got[0].node == "Comprobante@Descuento"


def test_cfdi40111_concepto_descuento_in_traslado(make_xml, findings):
    def mut(r):
        to_traslado(r)
        node(r, "cfdi:Conceptos/cfdi:Concepto[2]").set("Descuento", "1.00")

    got = findings(make_xml(mut))
    assert [f.code for f in got] == ["CFDI40111"]
    assert got[0].node == "Conceptos/Concepto[2]@Descuento"


# -- CFDI40113-CFDI40117 Moneda and TipoCambio -------------------------------------------------------
def test_cfdi40113_moneda_catalog(make_xml, findings):
    def mut(r):
        r.set("Moneda", "ZZZ")
        r.set("TipoCambio", "1")

    got = findings(make_xml(mut))
    assert [f.code for f in got] == ["CFDI40113"]
    assert got[0].node == "Comprobante@Moneda"


def test_cfdi40114_tipo_cambio_not_one_in_mxn(make_xml, findings):
    got = findings(make_xml(lambda r: r.set("TipoCambio", "1.01")))
    assert [f.code for f in got] == ["CFDI40114"]
    assert got[0].node == "Comprobante@TipoCambio"
    assert got[0].expected == "1"


@pytest.mark.parametrize("tc", ["1", "1.000000"])
def test_cfdi40114_tipo_cambio_one_in_mxn_passes(make_xml, codes, tc):
    assert codes(make_xml(lambda r: r.set("TipoCambio", tc))) == []


def test_cfdi40115_tipo_cambio_missing_in_usd(make_xml, findings):
    got = findings(make_xml(lambda r: r.set("Moneda", "USD")))
    assert [f.code for f in got] == ["CFDI40115"]
    assert got[0].node == "Comprobante@TipoCambio"


def test_cfdi40115_tipo_cambio_in_usd_passes(make_xml, codes):
    def mut(r):
        r.set("Moneda", "USD")
        r.set("TipoCambio", "17.2543")

    assert codes(make_xml(mut)) == []


def test_cfdi40116_tipo_cambio_in_xxx(make_xml, findings):
    def mut(r):
        to_traslado(r, moneda="XXX")
        r.set("TipoCambio", "1")

    got = findings(make_xml(mut))
    assert [f.code for f in got] == ["CFDI40116"]
    assert got[0].node == "Comprobante@TipoCambio"


def test_cfdi40116_xxx_without_tipo_cambio_passes(make_xml, codes):
    assert codes(make_xml(lambda r: to_traslado(r, moneda="XXX"))) == []


def test_cfdi40117_tipo_cambio_with_sign(make_xml, findings):
    def mut(r):
        r.set("Moneda", "USD")
        r.set("TipoCambio", "+17.25")

    got = findings(make_xml(mut))
    assert [f.code for f in got] == ["CFDI40117"]
    assert got[0].node == "Comprobante@TipoCambio" and got[0].value == "+17.25"


def test_cfdi40117_tipo_cambio_trailing_dot(make_xml, codes):
    def mut(r):
        r.set("Moneda", "USD")
        r.set("TipoCambio", "17.")

    assert codes(make_xml(mut)) == ["CFDI40117"]


def test_cfdi40117_tipo_cambio_six_decimals_passes(make_xml, codes):
    def mut(r):
        r.set("Moneda", "USD")
        r.set("TipoCambio", "17.123456")

    assert codes(make_xml(mut)) == []


# -- CFDI40119 Total ---------------------------------------------------------------------------------
def test_cfdi40119_total_off_by_a_cent(make_xml, findings):
    got = findings(make_xml(lambda r: set_total(r, "-0.01")))
    assert [f.code for f in got] == ["CFDI40119"]
    assert got[0].node == "Comprobante@Total"
    assert got[0].expected == "21102.35"
    assert got[0].value == "21102.34"


def test_cfdi40119_total_with_descuento_passes(make_xml, codes):
    def mut(r):
        recompute(r, {1: "0.01"})
        set_total(r)

    assert codes(make_xml(mut)) == []


def _implocal(r, traslados: str, retenciones: str) -> etree._Element:
    comp = etree.SubElement(r, q("Complemento"))
    il = etree.SubElement(comp, f"{{{NS_IMPLOCAL}}}ImpuestosLocales", nsmap={"implocal": NS_IMPLOCAL})
    il.set("version", "1.0")
    il.set("TotaldeRetenciones", retenciones)
    il.set("TotaldeTraslados", traslados)
    rl = etree.SubElement(il, f"{{{NS_IMPLOCAL}}}RetencionesLocales")
    set_attrs(rl, ImpLocRetenido="Cedular", TasadeRetencion="1.00", Importe=retenciones)
    tl = etree.SubElement(il, f"{{{NS_IMPLOCAL}}}TrasladosLocales")
    set_attrs(tl, ImpLocTrasladado="ISH", TasadeTraslado="3.00", Importe=traslados)
    return il


def test_cfdi40119_total_with_implocal_passes(make_xml, codes):
    def mut(r):
        _implocal(r, "545.75", "181.92")  # 3% and 1% of SubTotal 18191.68
        set_total(r, "363.83")

    assert codes(make_xml(mut)) == []


def test_cfdi40119_total_ignores_implocal(make_xml, findings):
    def mut(r):
        _implocal(r, "545.75", "181.92")

    got = findings(make_xml(mut))
    assert [f.code for f in got] == ["CFDI40119"]
    assert got[0].expected == "21466.18"
    assert "TotaldeTraslados locales 545.75" in got[0].detail


def test_cfdi40119_total_rounded_to_currency_decimals(make_xml, findings):
    # Total written with a third decimal that does not round away: 21102.351 != 21102.35.
    got = findings(make_xml(lambda r: r.set("Total", "21102.351")))
    assert [f.code for f in got] == ["CFDI40119"]


# -- CFDI40120 / CFDI40127 Confirmacion --------------------------------------------------------------
def test_cfdi40120_traslado_total_above_maximum_needs_confirmacion(make_xml, findings):
    # c_TipoDeComprobante gives T a valor_maximo of 0.
    def mut(r):
        to_traslado(r)
        r.set("Total", "0.01")

    got = findings(make_xml(mut))
    assert sorted(f.code for f in got) == ["CFDI40119", "CFDI40120"]
    f = only(got, "CFDI40120")[0]
    assert f.node == "Comprobante@Total"
    assert f.expected == "<= 0 o Confirmacion"


def test_cfdi40120_with_confirmacion_passes(make_xml, codes):
    def mut(r):
        to_traslado(r)
        r.set("Total", "0.01")
        r.set("Confirmacion", "ABC12")

    assert codes(make_xml(mut)) == ["CFDI40119"]


def test_cfdi40127_confirmacion_with_total_in_range(make_xml, findings):
    got = findings(make_xml(lambda r: r.set("Confirmacion", "ABC12")))
    assert [f.code for f in got] == ["CFDI40127"]
    assert got[0].node == "Comprobante@Confirmacion"


def test_cfdi40127_confirmacion_in_usd_is_not_decided(make_xml, codes):
    # The TipoCambio could be outside SAT's daily range (CFDI40118): only SAT can tell.
    def mut(r):
        r.set("Moneda", "USD")
        r.set("TipoCambio", "17.25")
        r.set("Confirmacion", "ABC12")

    assert codes(make_xml(mut)) == []


# -- CFDI40121 / CFDI40122 / CFDI40123 / CFDI40126 ---------------------------------------------------
def test_cfdi40121_tipo_de_comprobante_catalog(make_xml, findings):
    got = only(findings(make_xml(lambda r: r.set("TipoDeComprobante", "X"))), "CFDI40121")
    assert len(got) == 1 and got[0].node == "Comprobante@TipoDeComprobante"


def test_cfdi40122_exportacion_02_without_comercio_exterior(make_xml, findings):
    got = findings(make_xml(lambda r: r.set("Exportacion", "02")))
    assert [f.code for f in got] == ["CFDI40122"]
    assert got[0].node == "Comprobante@Exportacion"


def test_cfdi40122_exportacion_03_without_comercio_exterior_passes(make_xml, codes):
    assert codes(make_xml(lambda r: r.set("Exportacion", "03"))) == []


def _cce20(r) -> None:
    comp = etree.SubElement(r, q("Complemento"))
    cce = etree.SubElement(comp, f"{{{NS_CCE20}}}ComercioExterior", nsmap={"cce20": NS_CCE20})
    set_attrs(cce, Version="2.0", ClaveDePedimento="A1", CertificadoOrigen="0", TipoCambioUSD="17.25",
              TotalUSD="1054.59")
    ms = etree.SubElement(cce, f"{{{NS_CCE20}}}Mercancias")
    m = etree.SubElement(ms, f"{{{NS_CCE20}}}Mercancia")
    m.set("NoIdentificacion", "SKU-00001")
    m.set("ValorDolares", "1054.59")


def test_cfdi40122_exportacion_02_with_comercio_exterior_20_passes(make_xml, codes):
    def mut(r):
        r.set("Exportacion", "02")
        _cce20(r)

    got = codes(make_xml(mut))
    assert "301" not in got  # the complement is schema-valid, so the rules ran
    assert "CFDI40122" not in got


def test_cfdi40123_exportacion_catalog(make_xml, findings):
    got = findings(make_xml(lambda r: r.set("Exportacion", "05")))
    assert [f.code for f in got] == ["CFDI40123"]
    assert got[0].node == "Comprobante@Exportacion"


def test_cfdi40126_lugar_expedicion_catalog(make_xml, findings):
    got = only(findings(make_xml(lambda r: r.set("LugarExpedicion", "00001"))), "CFDI40126")
    assert len(got) == 1 and got[0].node == "Comprobante@LugarExpedicion"


def test_cfdi40126_lugar_expedicion_other_zone_passes(make_xml, codes):
    # Tijuana (Tiempo del Noroeste): the sample writes the Fecha in that zone.
    assert "CFDI40126" not in codes(make_xml(lugar_expedicion="22000"))


def test_cfdi40119_total_with_retenciones_only(make_xml, codes):
    """A summary without traslados (only retenciones) has no TotalImpuestosTrasladados: the Total adds none."""
    from tests.cfdi.rules.test_impuestos import recompute as recompute_all
    from tests.cfdi.rules.test_impuestos import set_taxes, tax

    def solo_retenciones(r):
        for c in r.iter(q("Concepto")):
            set_taxes(c, [], [tax(c.get("Importe"), "001", tasa="0.100000")])
        recompute_all(r)
        assert r.find(q("Impuestos")).get("TotalImpuestosTrasladados") is None

    assert codes(make_xml(solo_retenciones)) == []


def test_cfdi40127_not_for_a_pagos_cfdi(csd, findings):
    """A Pagos 2.0 CFDI (Total 0 in XXX) may need a Confirmacion for its payments (CRP20216, CRP20220)."""
    from tests.cfdi.rules.complementos.pagos20_builder import pagos_root
    from tests.conftest import NOW
    from timbra.cfdi.seal import sign_root

    root = pagos_root(csd, NOW, None)
    root.set("Confirmacion", "ABC12")
    sign_root(root, csd)
    got = [f.code for f in findings(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))]
    assert "301" not in got and "CFDI40127" not in got
