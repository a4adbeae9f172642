"""Impuestos of each Concepto and of the Comprobante (CFDI40173-40186, 40201-40222, 140226, 140227).

Each mutation rebuilds the concepto's taxes and then `recompute()` rebuilds the Comprobante's Impuestos,
SubTotal and Total from the concepto-level values, so only the rule under test can fail.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from lxml import etree

from tests.conftest import NOW
from tests.xmlhelp import node, q, set_attrs
from timbra.cfdi.document import NS40, parse
from timbra.cfdi.rules import Context, run_rules
from timbra.cfdi.rules import impuestos as rules
from timbra.sat.catalogs import catalogs

C = f"{{{NS40}}}"
NS_CCE20 = "http://www.sat.gob.mx/ComercioExterior20"


# -- helpers -----------------------------------------------------------------------------------------

def q2(value: Decimal, decimals: int = 2) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def tax(base: str, impuesto: str = "002", factor: str = "Tasa", tasa: str | None = "0.160000",
        importe: str | None = None) -> dict[str, str]:
    """Attributes of a Traslado/Retencion; Importe defaults to Base × TasaOCuota rounded to cents."""
    attrs = {"Base": base, "Impuesto": impuesto, "TipoFactor": factor}
    if factor == "Exento":
        return attrs
    if tasa is not None:
        attrs["TasaOCuota"] = tasa
    if importe is None and tasa is not None:
        importe = str(q2(Decimal(base) * Decimal(tasa)))
    if importe is not None:
        attrs["Importe"] = importe
    return attrs


def exento(base: str, impuesto: str = "002") -> dict[str, str]:
    return {"Base": base, "Impuesto": impuesto, "TipoFactor": "Exento"}


def concepto(root: etree._Element, n: int) -> etree._Element:
    return node(root, f"cfdi:Conceptos/cfdi:Concepto[{n}]")


def set_taxes(c: etree._Element, traslados=(), retenciones=(), *, empty: bool = False) -> None:
    """Replace a concepto's Impuestos node (Traslados before Retenciones, as the schema orders them)."""
    old = c.find(q("Impuestos"))
    if old is not None:
        c.remove(old)
    if not traslados and not retenciones and not empty:
        return
    imp = etree.Element(q("Impuestos"))
    c.insert(0, imp)
    if traslados:
        ts = etree.SubElement(imp, q("Traslados"))
        for attrs in traslados:
            etree.SubElement(ts, q("Traslado"), attrs)
    if retenciones:
        rs = etree.SubElement(imp, q("Retenciones"))
        for attrs in retenciones:
            etree.SubElement(rs, q("Retencion"), attrs)


def recompute(root: etree._Element, decimals: int = 2) -> None:
    """Rebuild Comprobante/Impuestos, SubTotal, Descuento and Total from the conceptos, with Decimal,
    rounding to the currency's `decimals`."""
    def rounded(value: Decimal) -> Decimal:
        return q2(value, decimals)

    subtotal = descuento = Decimal(0)
    tras: dict[tuple, list] = {}   # (Impuesto, TipoFactor, tasa) -> [tasa text, sum Base, sum Importe]
    rets: dict[str, Decimal] = {}
    for c in root.iterfind(f"{C}Conceptos/{C}Concepto"):
        subtotal += Decimal(c.get("Importe"))
        descuento += Decimal(c.get("Descuento", "0"))
        for t in c.iterfind(f"{C}Impuestos/{C}Traslados/{C}Traslado"):
            factor = t.get("TipoFactor")
            tasa = None if factor == "Exento" or t.get("TasaOCuota") is None else Decimal(t.get("TasaOCuota"))
            g = tras.setdefault((t.get("Impuesto"), factor, tasa), [t.get("TasaOCuota"), Decimal(0), Decimal(0)])
            g[1] += Decimal(t.get("Base"))
            if t.get("Importe") is not None:
                g[2] += Decimal(t.get("Importe"))
        for r in c.iterfind(f"{C}Impuestos/{C}Retenciones/{C}Retencion"):
            rets[r.get("Impuesto")] = rets.get(r.get("Impuesto"), Decimal(0)) + Decimal(r.get("Importe"))
    old = root.find(q("Impuestos"))
    if old is not None:
        root.remove(old)
    total_tras = total_ret = Decimal(0)
    if tras or rets:
        imp = etree.Element(q("Impuestos"))
        root.find(q("Conceptos")).addnext(imp)
        if rets:
            rs = etree.SubElement(imp, q("Retenciones"))
            for impuesto, importe in rets.items():
                etree.SubElement(rs, q("Retencion"), {"Impuesto": impuesto, "Importe": str(rounded(importe))})
                total_ret += rounded(importe)
            imp.set("TotalImpuestosRetenidos", str(total_ret))
        if tras:
            ts = etree.SubElement(imp, q("Traslados"))
            any_tasa = False
            for (impuesto, factor, _tasa), (tasa_text, base, importe) in tras.items():
                attrs = {"Base": str(rounded(base)), "Impuesto": impuesto, "TipoFactor": factor}
                if factor != "Exento":
                    any_tasa = True
                    if tasa_text is not None:
                        attrs["TasaOCuota"] = tasa_text
                    attrs["Importe"] = str(rounded(importe))
                    total_tras += rounded(importe)
                etree.SubElement(ts, q("Traslado"), attrs)
            if any_tasa:
                imp.set("TotalImpuestosTrasladados", str(total_tras))
    root.set("SubTotal", str(rounded(subtotal)))
    if descuento:
        root.set("Descuento", str(rounded(descuento)))
    root.set("Total", str(rounded(subtotal) - rounded(descuento) + total_tras - total_ret))


def fix_total(root: etree._Element) -> None:
    """Total from the attributes as written (after a test changed a summary total on purpose)."""
    imp = root.find(q("Impuestos"))
    tras = Decimal(imp.get("TotalImpuestosTrasladados", "0")) if imp is not None else Decimal(0)
    ret = Decimal(imp.get("TotalImpuestosRetenidos", "0")) if imp is not None else Decimal(0)
    total = Decimal(root.get("SubTotal")) - Decimal(root.get("Descuento", "0")) + tras - ret
    root.set("Total", str(q2(total)))


def summary_node(root: etree._Element, path: str) -> etree._Element:
    return node(root, f"cfdi:Impuestos/{path}")


def with_taxes(n: int, traslados=(), retenciones=(), *, objeto: str | None = None, then=None):
    """A mutate function: concepto n gets these taxes (and ObjetoImp), totals are recomputed, then `then`."""
    def mutate(root):
        c = concepto(root, n)
        set_taxes(c, traslados, retenciones)
        if objeto is not None:
            c.set("ObjetoImp", objeto)
        recompute(root)
        if then is not None:
            then(root)
    return mutate


def nodes(findings, code: str) -> list[str]:
    return [f.node for f in findings if f.code == code]


def run_rule(fn, xml: bytes) -> list:
    """Run one rule on a document without the schema (for values the schema would already reject)."""
    ctx = Context(doc=parse(xml), catalogs=catalogs(), now=NOW)
    return run_rules(ctx, only=[fn])


T1 = "Conceptos/Concepto[1]/Impuestos/Traslados/Traslado[1]"
R1 = "Conceptos/Concepto[1]/Impuestos/Retenciones/Retencion[1]"
# Importes of the sample's conceptos: 15390.30, 750.00, 2051.38 (2.5 × 820.55)


def test_helpers_keep_the_sample_valid(make_xml, findings):
    # recompute() on an untouched sample gives back the same valid document
    assert findings(make_xml(lambda root: recompute(root))) == []


# -- Concepto: Impuestos ------------------------------------------------------------------------------

def test_cfdi40173_concepto_impuestos_vacio(make_xml, findings):
    def mutate(root):
        set_taxes(concepto(root, 2), empty=True)
        recompute(root)
    fs = findings(make_xml(mutate))
    assert [f.code for f in fs] == ["CFDI40173"]
    assert fs[0].node == "Conceptos/Concepto[2]/Impuestos"


def test_cfdi40173_concepto_solo_retenciones_pasa(make_xml, codes):
    xml = make_xml(with_taxes(2, retenciones=[tax("750.00", tasa="0.106667")]))
    assert codes(xml) == []


# -- Concepto: Traslado ------------------------------------------------------------------------------

def test_cfdi40174_traslado_base_cero(make_xml):
    # The schema already rejects Base 0 (minInclusive 0.000001); the rule still guards it.
    xml = make_xml(with_taxes(1, [tax("0", importe="0.00")]), seal=False)
    fs = run_rule(rules.concepto_traslados, xml)
    assert [(f.code, f.node, f.value) for f in fs] == [("CFDI40174", f"{T1}@Base", "0")]


def test_cfdi40174_traslado_base_minima_pasa(make_xml, codes):
    xml = make_xml(with_taxes(1, [tax("0.000001", importe="0.00")]))
    assert codes(xml) == []
    assert run_rule(rules.concepto_traslados, xml) == []


def test_cfdi40175_traslado_impuesto_fuera_de_catalogo(make_xml, findings):
    fs = findings(make_xml(with_taxes(1, [tax("15390.30", impuesto="004")])))
    assert [(f.code, f.node) for f in fs if f.code == "CFDI40175"] == [("CFDI40175", f"{T1}@Impuesto")]
    assert "CFDI40179" not in [f.code for f in fs]  # one finding for the one mistake


def test_cfdi40175_traslado_ieps_pasa(make_xml, codes):
    assert codes(make_xml(with_taxes(1, [tax("15390.30", impuesto="003", tasa="0.080000")]))) == []


def test_cfdi40176_traslado_tipofactor_fuera_de_catalogo(make_xml, findings):
    fs = findings(make_xml(with_taxes(1, [tax("15390.30", factor="Tasas")])))
    assert [(f.code, f.node) for f in fs if f.code == "CFDI40176"] == [("CFDI40176", f"{T1}@TipoFactor")]


def test_cfdi40176_traslado_tipofactor_cuota_pasa(make_xml, codes):
    assert codes(make_xml(with_taxes(1, [tax("100", impuesto="003", factor="Cuota", tasa="6.450000")]))) == []


def test_cfdi40177_exento_con_tasa_e_importe(make_xml, findings):
    attrs = {**exento("15390.30"), "TasaOCuota": "0.000000", "Importe": "0.00"}
    fs = findings(make_xml(with_taxes(1, [attrs])))
    assert [(f.code, f.node) for f in fs] == [("CFDI40177", f"{T1}@TipoFactor")]
    assert "TasaOCuota e Importe" in fs[0].detail


def test_cfdi40177_exento_solo_base_pasa(make_xml, codes):
    assert codes(make_xml(with_taxes(1, [exento("15390.30")]))) == []


def test_cfdi40178_tasa_sin_importe(make_xml, findings):
    fs = findings(make_xml(with_taxes(3, [{"Base": "2051.38", "Impuesto": "002", "TipoFactor": "Tasa",
                                           "TasaOCuota": "0.160000"}])))
    assert [(f.code, f.node) for f in fs] == [
        ("CFDI40178", "Conceptos/Concepto[3]/Impuestos/Traslados/Traslado[1]@TipoFactor")]
    assert "Importe" in fs[0].detail


def test_cfdi40178_cuota_sin_tasaocuota(make_xml, findings):
    fs = findings(make_xml(with_taxes(1, [{"Base": "100", "Impuesto": "003", "TipoFactor": "Cuota",
                                          "Importe": "645.00"}])))
    assert ("CFDI40178", f"{T1}@TipoFactor") in [(f.code, f.node) for f in fs]


def test_cfdi40178_cuota_completa_pasa(make_xml, codes):
    assert codes(make_xml(with_taxes(1, [tax("100", impuesto="003", factor="Cuota", tasa="6.450000")]))) == []


def test_cfdi40179_iva_tasa_fuera_de_catalogo(make_xml, findings):
    fs = findings(make_xml(with_taxes(1, [tax("15390.30", tasa="0.150000")])))
    assert [(f.code, f.node) for f in fs] == [
        ("CFDI40179", f"{T1}@TasaOCuota"),
        ("CFDI40219", "Impuestos/Traslados/Traslado[1]@TasaOCuota"),  # the summary repeats the rate
    ]
    assert fs[0].value == "0.150000"
    assert "0.160000" in fs[0].expected


def test_cfdi40179_isr_no_se_traslada(make_xml, findings):
    fs = findings(make_xml(with_taxes(1, [tax("15390.30", impuesto="001", tasa="0.100000")])))
    assert ("CFDI40179", f"{T1}@TasaOCuota") in [(f.code, f.node) for f in fs]


def test_cfdi40179_ieps_cuota_sobre_el_maximo(make_xml, findings):
    fs = findings(make_xml(with_taxes(1, [tax("10", impuesto="003", factor="Cuota", tasa="72.160501")])))
    assert ("CFDI40179", f"{T1}@TasaOCuota") in [(f.code, f.node) for f in fs]
    assert fs[0].expected == "0.000000 .. 72.160500"


def test_cfdi40179_tasa_de_ieps_como_iva(make_xml, findings):
    # 0.265 is a fixed IEPS Tasa in c_TasaOCuota, not an IVA one: the Impuesto must match the row
    fs = findings(make_xml(with_taxes(1, [tax("15390.30", impuesto="002", tasa="0.265000")])))
    assert ("CFDI40179", f"{T1}@TasaOCuota") in [(f.code, f.node) for f in fs]


def test_cfdi40179_valores_limite_pasan(make_xml, codes):
    # the Cuota range's maximum, IVA 8% (crédito del 50%, fronteriza) written with 2 decimals, IEPS 26.5%
    xml = make_xml(with_taxes(1, [tax("10", impuesto="003", factor="Cuota", tasa="72.160500"),
                                  tax("15390.30", tasa="0.08")]))
    assert codes(xml) == []
    assert codes(make_xml(with_taxes(2, [tax("750.00", impuesto="003", tasa="0.265000")]))) == []


def test_cfdi40180_traslado_importe_sobre_el_limite(make_xml, findings):
    # 15390.30 × 0.16: limits (15390.295 × 0.16 = 2462.4472 -> 2462.44) .. (15390.305 × 0.16 = 2462.4488 -> 2462.45)
    fs = findings(make_xml(with_taxes(1, [tax("15390.30", importe="2462.46")])))
    assert [(f.code, f.node, f.value, f.expected) for f in fs] == [
        ("CFDI40180", f"{T1}@Importe", "2462.46", "2462.44 .. 2462.45")]


def test_cfdi40180_traslado_importe_bajo_el_limite(make_xml, findings):
    fs = findings(make_xml(with_taxes(1, [tax("15390.30", importe="2462.43")])))
    assert [(f.code, f.node) for f in fs] == [("CFDI40180", f"{T1}@Importe")]


def test_cfdi40180_traslado_importe_with_a_base_of_one(make_xml, findings):
    # Base 1.00 × 0.16: limits 0.15 .. 0.17 (0.995 × 0.16 = 0.1592, 1.005 × 0.16 = 0.1608); 0.18 is out
    fs = findings(make_xml(with_taxes(1, [tax("1.00", importe="0.18")])))
    assert [(f.code, f.node, f.value) for f in fs if f.code == "CFDI40180"] == [("CFDI40180", f"{T1}@Importe", "0.18")]


def test_cfdi40185_retencion_de_iva_a_tasa_cero_pasa(make_xml, codes):
    # c_TasaOCuota: IVA retained is a Rango from 0.000000 to 0.160000, both included
    assert codes(make_xml(with_taxes(1, [tax("15390.30")], [tax("15390.30", tasa="0.000000")]))) == []
    assert codes(make_xml(with_taxes(1, [tax("15390.30")], [tax("15390.30", tasa="0.160000")]))) == []


def test_cfdi40180_traslado_importe_en_los_limites_pasa(make_xml, codes):
    assert codes(make_xml(with_taxes(1, [tax("15390.30", importe="2462.44")]))) == []
    assert codes(make_xml(with_taxes(1, [tax("15390.30", importe="2462.45")]))) == []


def test_cfdi40180_limites_con_seis_decimales(make_xml, findings, codes):
    # Base 100.123456 (6 decimals), Importe with 6 decimals (exact 16.01975296):
    # (100.1234555 × 0.16 = 16.01975288 -> 16.019752) .. (100.1234565 × 0.16 = 16.01975304 -> 16.019754)
    for importe in ("16.019752", "16.019754"):
        assert codes(make_xml(with_taxes(1, [tax("100.123456", importe=importe)]))) == []
    fs = findings(make_xml(with_taxes(1, [tax("100.123456", importe="16.019755")])))
    assert [(f.code, f.expected) for f in fs] == [("CFDI40180", "16.019752 .. 16.019754")]
    fs = findings(make_xml(with_taxes(1, [tax("100.123456", importe="16.019751")])))
    assert [(f.code, f.expected) for f in fs] == [("CFDI40180", "16.019752 .. 16.019754")]


def test_cfdi40180_cuota(make_xml, findings, codes):
    # 10 litros × 6.45 = 64.50; the Base has 0 decimals: (9.5 × 6.45 = 61.275) .. (10.5 × 6.45 = 67.725)
    assert codes(make_xml(with_taxes(1, [tax("10", impuesto="003", factor="Cuota", tasa="6.450000",
                                             importe="67.73")]))) == []
    fs = findings(make_xml(with_taxes(1, [tax("10", impuesto="003", factor="Cuota", tasa="6.450000",
                                              importe="67.74")])))
    assert [(f.code, f.expected) for f in fs] == [("CFDI40180", "61.27 .. 67.73")]


# -- Concepto: Retencion -----------------------------------------------------------------------------

def test_cfdi40181_retencion_base_cero(make_xml):
    xml = make_xml(with_taxes(1, retenciones=[tax("0.0", tasa="0.106667", importe="0.00")]), seal=False)
    fs = run_rule(rules.concepto_retenciones, xml)
    assert [(f.code, f.node) for f in fs] == [("CFDI40181", f"{R1}@Base")]


def test_cfdi40181_retencion_base_minima_pasa(make_xml, codes):
    xml = make_xml(with_taxes(1, retenciones=[tax("0.000001", tasa="0.106667", importe="0.00")]))
    assert codes(xml) == []
    assert run_rule(rules.concepto_retenciones, xml) == []


def test_cfdi40182_retencion_impuesto_fuera_de_catalogo(make_xml, findings):
    fs = findings(make_xml(with_taxes(1, retenciones=[tax("15390.30", impuesto="000", tasa="0.100000")])))
    assert [(f.code, f.node) for f in fs if f.code.startswith("CFDI4018")] == [("CFDI40182", f"{R1}@Impuesto")]


def test_cfdi40182_retencion_isr_pasa(make_xml, codes):
    assert codes(make_xml(with_taxes(1, retenciones=[tax("15390.30", impuesto="001", tasa="0.100000")]))) == []


def test_cfdi40183_retencion_tipofactor_fuera_de_catalogo(make_xml, findings):
    fs = findings(make_xml(with_taxes(1, retenciones=[tax("15390.30", factor="tasa", tasa="0.106667")])))
    assert [(f.code, f.node) for f in fs if f.code.startswith("CFDI4018")] == [("CFDI40183", f"{R1}@TipoFactor")]


def test_cfdi40183_retencion_tipofactor_cuota_pasa(make_xml, codes):
    xml = make_xml(with_taxes(1, retenciones=[tax("100", impuesto="003", factor="Cuota", tasa="6.450000")]))
    assert codes(xml) == []


def test_cfdi40184_retencion_exenta(make_xml, findings):
    attrs = {"Base": "15390.30", "Impuesto": "002", "TipoFactor": "Exento", "TasaOCuota": "0.106667",
             "Importe": "1641.64"}
    fs = findings(make_xml(with_taxes(1, retenciones=[attrs])))
    assert [(f.code, f.node) for f in fs] == [("CFDI40184", f"{R1}@TipoFactor")]


def test_cfdi40184_retencion_tasa_pasa(make_xml, codes):
    assert codes(make_xml(with_taxes(1, retenciones=[tax("15390.30", tasa="0.106667")]))) == []


def test_cfdi40185_retencion_isr_sobre_el_rango(make_xml, findings):
    fs = findings(make_xml(with_taxes(1, retenciones=[tax("15390.30", impuesto="001", tasa="0.350001")])))
    assert [(f.code, f.node, f.expected) for f in fs] == [
        ("CFDI40185", f"{R1}@TasaOCuota", "0.000000 .. 0.350000")]


def test_cfdi40185_retencion_iva_fijo_de_traslado(make_xml, findings):
    # IVA retentions are a range 0 .. 0.16; 0.17 is outside
    fs = findings(make_xml(with_taxes(1, retenciones=[tax("15390.30", tasa="0.170000")])))
    assert [(f.code, f.node) for f in fs] == [("CFDI40185", f"{R1}@TasaOCuota")]


def test_cfdi40185_ieps_tasa_solo_traslado(make_xml, findings):
    # IEPS 3% is only a traslado in c_TasaOCuota (retencion column empty)
    fs = findings(make_xml(with_taxes(1, retenciones=[tax("15390.30", impuesto="003", tasa="0.030000")])))
    assert [(f.code, f.node) for f in fs] == [("CFDI40185", f"{R1}@TasaOCuota")]


def test_cfdi40185_retencion_limites_del_rango_pasan(make_xml, codes):
    assert codes(make_xml(with_taxes(1, retenciones=[tax("15390.30", impuesto="001", tasa="0.350000")]))) == []
    assert codes(make_xml(with_taxes(1, retenciones=[tax("15390.30", tasa="0.160000")]))) == []
    assert codes(make_xml(with_taxes(1, retenciones=[tax("15390.30", impuesto="003", tasa="0.265000")]))) == []


def test_cfdi40186_retencion_importe_fuera_de_limites(make_xml, findings):
    # 15390.30 × 0.106667 = 1641.6371301: limits (15390.295 × 0.106667 -> 1641.63) .. (15390.305 × 0.106667 -> 1641.64)
    fs = findings(make_xml(with_taxes(1, retenciones=[tax("15390.30", tasa="0.106667", importe="1641.65")])))
    assert [(f.code, f.node, f.expected) for f in fs] == [("CFDI40186", f"{R1}@Importe", "1641.63 .. 1641.64")]


def test_cfdi40186_retencion_importe_en_los_limites_pasa(make_xml, codes):
    for importe in ("1641.63", "1641.64"):
        assert codes(make_xml(with_taxes(1, retenciones=[tax("15390.30", tasa="0.106667", importe=importe)]))) == []


# -- Concepto: ObjetoImp 06/07/08 --------------------------------------------------------------------

def test_cfdi140226_objetoimp_06_con_traslado_de_iva(make_xml, findings):
    fs = findings(make_xml(with_taxes(1, [tax("15390.30")], objeto="06")))
    assert [(f.code, f.node, f.value) for f in fs] == [("CFDI140226", f"{T1}@Impuesto", "002")]


def test_cfdi140226_objetoimp_08_con_retencion_de_ieps(make_xml, findings):
    fs = findings(make_xml(with_taxes(2, retenciones=[tax("750.00", tasa="0.106667"),
                                                      tax("750.00", impuesto="003", tasa="0.080000")],
                                      objeto="08")))
    assert [(f.code, f.node) for f in fs] == [
        ("CFDI140226", "Conceptos/Concepto[2]/Impuestos/Retenciones/Retencion[1]@Impuesto"),
        ("CFDI140226", "Conceptos/Concepto[2]/Impuestos/Retenciones/Retencion[2]@Impuesto"),
    ]


def test_cfdi140226_objetoimp_06_solo_isr_pasa(make_xml, codes):
    xml = make_xml(with_taxes(1, retenciones=[tax("15390.30", impuesto="001", tasa="0.012500")], objeto="06"))
    assert codes(xml) == []


def test_cfdi140227_objetoimp_07_con_iva(make_xml, findings):
    fs = findings(make_xml(with_taxes(1, [tax("15390.30", impuesto="003", tasa="0.080000")],
                                      [tax("15390.30", tasa="0.106667")], objeto="07")))
    assert [(f.code, f.node) for f in fs] == [("CFDI140227", f"{R1}@Impuesto")]


def test_cfdi140227_objetoimp_07_sin_traslado_de_ieps(make_xml, findings):
    fs = findings(make_xml(with_taxes(1, retenciones=[tax("15390.30", impuesto="001", tasa="0.100000")],
                                      objeto="07")))
    assert [(f.code, f.node) for f in fs] == [("CFDI140227", "Conceptos/Concepto[1]@ObjetoImp")]


def test_cfdi140227_objetoimp_07_con_iva_trasladado_tras_el_ieps(make_xml, findings):
    fs = findings(make_xml(with_taxes(1, [tax("15390.30", impuesto="003", tasa="0.080000"), tax("15390.30")],
                                      objeto="07")))
    assert [(f.code, f.node) for f in fs] == [
        ("CFDI140227", "Conceptos/Concepto[1]/Impuestos/Traslados/Traslado[2]@Impuesto")]


def test_cfdi140227_objetoimp_07_con_el_ieps_en_segundo_lugar(make_xml, findings):
    fs = findings(make_xml(with_taxes(1, [tax("15390.30"), tax("15390.30", impuesto="003", tasa="0.080000")],
                                      objeto="07")))
    assert [(f.code, f.node) for f in fs] == [
        ("CFDI140227", "Conceptos/Concepto[1]/Impuestos/Traslados/Traslado[1]@Impuesto")]


def test_cfdi140227_objetoimp_07_con_ieps_pasa(make_xml, codes):
    xml = make_xml(with_taxes(1, [tax("15390.30", impuesto="003", tasa="0.080000")],
                              [tax("15390.30", impuesto="001", tasa="0.100000"),
                               tax("15390.30", impuesto="003", tasa="0.080000")], objeto="07"))
    assert codes(xml) == []


# -- Comprobante: Impuestos --------------------------------------------------------------------------

def _traslado(root: etree._Element) -> None:
    """A Comprobante de Traslado: amounts 0, no FormaPago/MetodoPago, conceptos not subject to tax."""
    root.set("TipoDeComprobante", "T")
    for a in ("FormaPago", "MetodoPago"):
        root.attrib.pop(a, None)
    for c in root.iterfind(f"{C}Conceptos/{C}Concepto"):
        c.set("ValorUnitario", "0")
        c.set("Importe", "0.00")
        c.set("ObjetoImp", "01")
        set_taxes(c)
    recompute(root)
    root.set("Total", "0")
    root.set("SubTotal", "0")
    r = root.find(q("Receptor"))
    r.set("Rfc", root.find(q("Emisor")).get("Rfc"))
    r.set("Nombre", root.find(q("Emisor")).get("Nombre"))
    r.set("UsoCFDI", "S01")


def test_cfdi40201_traslado_con_impuestos(make_xml, findings):
    def mutate(root):
        _traslado(root)
        imp = etree.Element(q("Impuestos"), TotalImpuestosTrasladados="0.00")
        root.find(q("Conceptos")).addnext(imp)
        etree.SubElement(etree.SubElement(imp, q("Traslados")), q("Traslado"), Base="0.01", Impuesto="002",
                         TipoFactor="Tasa", TasaOCuota="0.000000", Importe="0.00")
    fs = findings(make_xml(mutate))
    assert [(f.code, f.node, f.value) for f in fs] == [
        ("CFDI40201", "Impuestos", "T"),
        ("CFDI40215", "Impuestos/Traslados/Traslado[1]@Base", "0.01"),  # no concepto has that traslado
    ]


def test_cfdi40201_traslado_sin_impuestos_pasa(make_xml, codes):
    assert codes(make_xml(_traslado)) == []


def _retencion_isr(root: etree._Element) -> None:
    """Concepto 1 also retains ISR 10% (1539.03) and IVA 2/3 (1641.64): TotalImpuestosRetenidos 3180.67."""
    set_taxes(concepto(root, 1), [tax("15390.30")],
              [tax("15390.30", impuesto="001", tasa="0.100000"), tax("15390.30", tasa="0.106667")])
    recompute(root)


def _set(path: str, attr: str, value: str | None, *, total: bool = True):
    def mutate(root):
        _retencion_isr(root)
        set_attrs(node(root, f"cfdi:Impuestos{path}"), **{attr: value})
        if total:
            fix_total(root)
    return mutate


def test_cfdi40210_cfdi40220_the_second_retencion_and_traslado_of_the_summary(make_xml, findings):
    """Two retained taxes and two IVA rates in the summary: the second of each is checked for decimals."""
    def mutate(root):
        c = concepto(root, 1)
        set_taxes(c, [tax("10000.00"), tax("5390.30", tasa="0.080000")],
                  [tax("15390.30", "001", tasa="0.100000"), tax("15390.30", "002", tasa="0.106667")])
        recompute(root)
        imp = node(root, "cfdi:Impuestos")
        node(imp, "cfdi:Retenciones/cfdi:Retencion[2]").set("Importe", "1641.630")
        node(imp, "cfdi:Traslados/cfdi:Traslado[2]").set("Importe", "431.220")

    got = [(f.code, f.node) for f in findings(make_xml(mutate)) if f.code in ("CFDI40210", "CFDI40220")]
    assert got == [("CFDI40210", "Impuestos/Retenciones/Retencion[2]@Importe"),
                   ("CFDI40220", "Impuestos/Traslados/Traslado[2]@Importe")]


def test_a_summary_traslado_of_an_unknown_tipo_factor_is_not_judged_for_its_rate(make_xml, findings):
    def mutate(root):
        node(root, "cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado").set("TipoFactor", "Otro")

    got = [f for f in findings(make_xml(mutate)) if f.node.startswith("Impuestos/Traslados/Traslado[1]@")]
    assert [f.code for f in got if f.code in ("CFDI40219", "CFDI40221", "CFDI40222")] == []


def test_cfdi40211_the_second_retained_tax_missing_from_the_summary(make_xml, findings):
    def mutate(root):
        set_taxes(concepto(root, 1), [tax("15390.30")],
                  [tax("15390.30", "001", tasa="0.100000"), tax("15390.30", "002", tasa="0.106667")])
        recompute(root)
        iva = node(root, "cfdi:Impuestos/cfdi:Retenciones/cfdi:Retencion[2]")
        assert iva.get("Impuesto") == "002"
        iva.getparent().remove(iva)

    got = [(f.code, f.node, f.expected) for f in findings(make_xml(mutate)) if f.code == "CFDI40211"]
    assert got == [("CFDI40211", "Impuestos/Retenciones", "1641.64")]


def _dos_retenciones(then):
    def mutate(root):
        set_taxes(concepto(root, 1), [tax("15390.30")],
                  [tax("15390.30", "001", tasa="0.100000"), tax("15390.30", "002", tasa="0.106667")])
        recompute(root)
        then(node(root, "cfdi:Impuestos"))
    return mutate


def test_cfdi40211_missing_retained_tax_is_reported_whatever_else_is_missing(make_xml, findings):
    """CFDI40209 (no Retenciones and no total) silences CFDI40211's missing taxes; either half alone does not."""
    def sin_iva_ni_total(imp):
        rets = node(imp, "cfdi:Retenciones")
        rets.remove(node(rets, "cfdi:Retencion[2]"))
        del imp.attrib["TotalImpuestosRetenidos"]

    def sin_retenciones(imp):
        imp.remove(node(imp, "cfdi:Retenciones"))

    for then in (sin_iva_ni_total, sin_retenciones):
        got = [f.code for f in findings(make_xml(_dos_retenciones(then)))]
        assert "CFDI40211" in got and "CFDI40209" not in got


def test_cfdi40215_an_exento_traslado_in_the_summary_of_conceptos_without_traslados(make_xml, findings):
    def mutate(root):
        for n in (1, 2, 3):
            c = concepto(root, n)
            set_taxes(c, [], [tax(c.get("Importe"), "001", tasa="0.100000")])
        recompute(root)
        imp = node(root, "cfdi:Impuestos")
        etree.SubElement(etree.SubElement(imp, q("Traslados")), q("Traslado"), exento("100.00"))

    got = [(f.code, f.node) for f in findings(make_xml(mutate)) if f.code in ("CFDI40215", "CFDI40216")]
    assert got == [("CFDI40215", "Impuestos/Traslados/Traslado[1]@Base")]


def test_a_comment_before_the_impuestos_of_a_concepto_changes_nothing(make_xml, codes):
    assert codes(make_xml(lambda r: concepto(r, 1).insert(0, etree.Comment(" nota ")))) == []


def test_cfdi40185_the_second_retencion_of_a_concepto(make_xml, findings):
    xml = make_xml(with_taxes(1, [tax("15390.30")], [tax("15390.30", "001", tasa="0.100000"),
                                                     tax("15390.30", "002", tasa="0.200000")]))
    got = [(f.code, f.node) for f in findings(xml) if f.code == "CFDI40185"]
    assert got == [("CFDI40185", "Conceptos/Concepto[1]/Impuestos/Retenciones/Retencion[2]@TasaOCuota")]


def test_cfdi40215_an_exento_concepto_first_does_not_make_every_traslado_exento(make_xml, findings):
    def then(root):
        for t in node(root, "cfdi:Impuestos").iterfind(f"{q('Traslados')}/{q('Traslado')}"):
            if t.get("TipoFactor") == "Exento":
                t.set("Base", "15390.31")

    fs = findings(make_xml(with_taxes(1, [exento("15390.30")], then=then)))
    assert [(f.code, f.value) for f in fs if f.code in ("CFDI40215", "CFDI40216")] == [("CFDI40215", "15390.31")]


def test_cfdi40209_retenciones_without_any_summary(make_xml, codes):
    def mutate(root):
        set_taxes(concepto(root, 1), [], [tax("15390.30", "001", tasa="0.100000")])
        for n in (2, 3):
            set_taxes(concepto(root, n))
            concepto(root, n).set("ObjetoImp", "01")
        recompute(root)
        root.remove(node(root, "cfdi:Impuestos"))
        fix_total(root)

    got = codes(make_xml(mutate))
    assert "CFDI40209" in got and "CFDI40999" not in got


def test_cfdi40212_with_an_exento_first_concepto(make_xml, codes):
    def then(root):
        del node(root, "cfdi:Impuestos").attrib["TotalImpuestosTrasladados"]
        fix_total(root)

    assert "CFDI40212" in codes(make_xml(with_taxes(1, [exento("15390.30")], then=then)))


def test_retencion_isr_base_es_valido(make_xml, codes):
    assert codes(make_xml(_retencion_isr)) == []


def test_cfdi40202_total_retenidos_con_tres_decimales(make_xml, findings):
    fs = findings(make_xml(_set("", "TotalImpuestosRetenidos", "3180.670")))
    assert [(f.code, f.node, f.expected) for f in fs] == [
        ("CFDI40202", "Impuestos@TotalImpuestosRetenidos", "hasta 2 decimales")]


def test_cfdi40202_total_retenidos_con_un_decimal_pasa(make_xml, codes):
    assert codes(make_xml(_set("", "TotalImpuestosRetenidos", "3180.67"))) == []

    def un_decimal(root):  # ISR 1539.0 (its limits with one decimal are 1539.0 .. 1539.1), written so everywhere
        set_taxes(concepto(root, 1), [tax("15390.30")], [tax("15390.30", impuesto="001", tasa="0.100000",
                                                              importe="1539.0")])
        recompute(root)
        node(root, "cfdi:Impuestos").set("TotalImpuestosRetenidos", "1539.0")
        node(root, "cfdi:Impuestos/cfdi:Retenciones/cfdi:Retencion").set("Importe", "1539.0")
    assert codes(make_xml(un_decimal)) == []


def test_cfdi40203_total_retenidos_distinto_de_la_suma(make_xml, findings):
    fs = findings(make_xml(_set("", "TotalImpuestosRetenidos", "3180.68")))
    assert [(f.code, f.node, f.expected) for f in fs] == [
        ("CFDI40203", "Impuestos@TotalImpuestosRetenidos", "3180.67")]


def test_cfdi40203_total_retenidos_igual_con_otra_escritura_pasa(make_xml, codes):
    assert codes(make_xml(_set("", "TotalImpuestosRetenidos", "3180.670"))) == ["CFDI40202"]  # equal, 3 decimals
    assert codes(make_xml(_set("", "TotalImpuestosRetenidos", "3180.67"))) == []


def test_cfdi40204_total_trasladados_con_tres_decimales(make_xml, findings):
    fs = findings(make_xml(_set("", "TotalImpuestosTrasladados", "2910.670")))
    assert [(f.code, f.node) for f in fs] == [("CFDI40204", "Impuestos@TotalImpuestosTrasladados")]


def _jpy(then=None):
    """The sample in yen (c_Moneda: 0 decimals): the summary is 2911 (2910.67 rounded), Total 21103."""
    def mutate(root):
        root.set("Moneda", "JPY")
        root.set("TipoCambio", "0.11")
        recompute(root, decimals=0)
        if then is not None:
            then(node(root, "cfdi:Impuestos"))
    return mutate


def test_cfdi40204_total_trasladados_en_moneda_sin_decimales(make_xml, findings):
    fs = findings(make_xml(_jpy(lambda imp: imp.set("TotalImpuestosTrasladados", "2911.00"))))
    assert [(f.code, f.node, f.expected) for f in fs] == [
        ("CFDI40204", "Impuestos@TotalImpuestosTrasladados", "hasta 0 decimales")]


def test_cfdi40204_moneda_sin_decimales_pasa(make_xml, codes):
    assert codes(make_xml(_jpy())) == []


def test_cfdi40205_total_trasladados_distinto_de_la_suma(make_xml, findings):
    def mutate(root):
        node(root, "cfdi:Impuestos").set("TotalImpuestosTrasladados", "2910.66")  # 2462.45 + 120.00 + 328.22
        fix_total(root)
    fs = findings(make_xml(mutate))
    assert [(f.code, f.node, f.value, f.expected) for f in fs] == [
        ("CFDI40205", "Impuestos@TotalImpuestosTrasladados", "2910.66", "2910.67")]


def test_cfdi40205_total_trasladados_de_varios_grupos_pasa(make_xml, codes):
    def mutate(root):
        set_taxes(concepto(root, 2), [tax("750.00", tasa="0.080000"), tax("750.00", impuesto="003", tasa="0.265000")])
        recompute(root)
    assert codes(make_xml(mutate)) == []


def test_cfdi40206_retenciones_sin_total(make_xml, findings):
    fs = findings(make_xml(_set("", "TotalImpuestosRetenidos", None)))
    assert [(f.code, f.node) for f in fs] == [("CFDI40206", "Impuestos@TotalImpuestosRetenidos")]


def test_cfdi40206_con_total_pasa(make_xml, codes):
    assert codes(make_xml(_set("", "TotalImpuestosRetenidos", "3180.67"))) == []


def test_cfdi40207_retencion_impuesto_fuera_de_catalogo(make_xml, findings):
    fs = findings(make_xml(_set("/cfdi:Retenciones/cfdi:Retencion[1]", "Impuesto", "005", total=False)))
    assert ("CFDI40207", "Impuestos/Retenciones/Retencion[1]@Impuesto") in [(f.code, f.node) for f in fs]


def test_cfdi40207_retencion_impuesto_ieps_pasa(make_xml, codes):
    def mutate(root):
        set_taxes(concepto(root, 1), [tax("15390.30")], [tax("15390.30", impuesto="003", tasa="0.265000")])
        recompute(root)
    assert codes(make_xml(mutate)) == []


def test_cfdi40208_retencion_repetida(make_xml, findings):
    def mutate(root):
        _retencion_isr(root)
        rs = node(root, "cfdi:Impuestos/cfdi:Retenciones")
        rs[1].set("Impuesto", "001")  # two ISR, no IVA
    fs = findings(make_xml(mutate))
    assert ("CFDI40208", "Impuestos/Retenciones/Retencion[2]@Impuesto") in [(f.code, f.node) for f in fs]
    assert nodes(fs, "CFDI40208") == ["Impuestos/Retenciones/Retencion[2]@Impuesto"]


def test_cfdi40208_una_por_impuesto_pasa(make_xml, codes):
    def mutate(root):  # ISR retained in two conceptos: one summary line
        set_taxes(concepto(root, 1), [tax("15390.30")], [tax("15390.30", impuesto="001", tasa="0.100000")])
        set_taxes(concepto(root, 2), [tax("750.00")], [tax("750.00", impuesto="001", tasa="0.100000")])
        recompute(root)
        assert len(node(root, "cfdi:Impuestos/cfdi:Retenciones")) == 1
    assert codes(make_xml(mutate)) == []


def test_cfdi40209_conceptos_retienen_sin_total_ni_retenciones(make_xml, findings):
    def mutate(root):
        _retencion_isr(root)
        imp = node(root, "cfdi:Impuestos")
        imp.remove(imp.find(q("Retenciones")))
        del imp.attrib["TotalImpuestosRetenidos"]
        fix_total(root)
    fs = findings(make_xml(mutate))
    assert [(f.code, f.node) for f in fs] == [("CFDI40209", "Impuestos@TotalImpuestosRetenidos")]


def test_cfdi40209_sin_retenciones_en_conceptos_pasa(make_xml, codes):
    # no retention anywhere: neither the node nor the total is needed
    assert codes(make_xml(with_taxes(1, [tax("15390.30")]))) == []


def test_cfdi40210_retencion_importe_con_tres_decimales(make_xml, findings):
    def mutate(root):
        _retencion_isr(root)
        node(root, "cfdi:Impuestos/cfdi:Retenciones/cfdi:Retencion[1]").set("Importe", "1539.030")
    fs = findings(make_xml(mutate))
    assert [(f.code, f.node) for f in fs] == [("CFDI40210", "Impuestos/Retenciones/Retencion[1]@Importe")]


def test_cfdi40210_retencion_importe_con_dos_decimales_pasa(make_xml, codes):
    assert codes(make_xml(_retencion_isr)) == []


def _retencion_redondeo(summary: str):
    """Three conceptos retain IVA with 3-decimal importes (each within its limits):
    1641.636 + 80.001 + 218.816 = 1940.453 -> 1940.45, while the rounded importes add up to 1940.46."""
    def mutate(root):
        set_taxes(concepto(root, 1), [tax("15390.30")], [tax("15390.30", tasa="0.106667", importe="1641.636")])
        set_taxes(concepto(root, 2), [tax("750.00")], [tax("750.00", tasa="0.106667", importe="80.001")])
        set_taxes(concepto(root, 3), [tax("2051.38")], [tax("2051.38", tasa="0.106667", importe="218.816")])
        recompute(root)
        node(root, "cfdi:Impuestos/cfdi:Retenciones/cfdi:Retencion").set("Importe", summary)
        node(root, "cfdi:Impuestos").set("TotalImpuestosRetenidos", summary)
        fix_total(root)
    return mutate


def test_cfdi40211_retencion_suma_de_redondeos(make_xml, findings):
    # the sum of the rounded importes is not what SAT asks for: the rounding of the sum
    fs = findings(make_xml(_retencion_redondeo("1940.46")))
    assert [(f.code, f.node, f.value, f.expected) for f in fs] == [
        ("CFDI40211", "Impuestos/Retenciones/Retencion[1]@Importe", "1940.46", "1940.45")]


def test_cfdi40211_retencion_redondeo_de_la_suma_pasa(make_xml, codes):
    assert codes(make_xml(_retencion_redondeo("1940.45"))) == []


def test_cfdi40211_falta_la_retencion_de_un_impuesto(make_xml, findings):
    def mutate(root):
        _retencion_isr(root)
        rs = node(root, "cfdi:Impuestos/cfdi:Retenciones")
        rs.remove(rs[0])  # the ISR line
        node(root, "cfdi:Impuestos").set("TotalImpuestosRetenidos", "1641.64")
        fix_total(root)
    fs = findings(make_xml(mutate))
    assert [(f.code, f.node, f.expected) for f in fs] == [("CFDI40211", "Impuestos/Retenciones", "1539.03")]


def test_cfdi40212_traslados_sin_total(make_xml, findings):
    def mutate(root):
        del node(root, "cfdi:Impuestos").attrib["TotalImpuestosTrasladados"]
        fix_total(root)
    fs = findings(make_xml(mutate))
    assert ("CFDI40212", "Impuestos@TotalImpuestosTrasladados") in [(f.code, f.node) for f in fs]
    assert [f.code for f in fs if f.code.startswith("CFDI402")] == ["CFDI40212"]


def test_cfdi40212_sin_impuestos_en_el_comprobante(make_xml, findings):
    def mutate(root):
        root.remove(node(root, "cfdi:Impuestos"))
        fix_total(root)
    fs = findings(make_xml(mutate))
    assert ("CFDI40212", "Impuestos@TotalImpuestosTrasladados") in [(f.code, f.node) for f in fs]
    assert "CFDI40221" not in [f.code for f in fs]  # said once


def test_cfdi40212_does_not_hide_a_missing_exento_traslado(make_xml, findings):
    """Without TotalImpuestosTrasladados CFDI40212 speaks for the missing Tasa traslados, not the Exento ones."""
    def then(root):
        imp = node(root, "cfdi:Impuestos")
        del imp.attrib["TotalImpuestosTrasladados"]
        for t in imp.iterfind(f"{q('Traslados')}/{q('Traslado')}"):
            if t.get("TipoFactor") == "Exento":
                t.getparent().remove(t)
        fix_total(root)

    fs = findings(make_xml(with_taxes(2, [exento("750.00")], then=then)))
    assert [(f.code, f.node) for f in fs if f.code.startswith("CFDI402")] == [
        ("CFDI40212", "Impuestos@TotalImpuestosTrasladados"), ("CFDI40215", "Impuestos/Traslados")]


def test_cfdi40212_solo_exentos_sin_total_pasa(make_xml, codes):
    def mutate(root):
        for n, base in ((1, "15390.30"), (2, "750.00"), (3, "2051.38")):
            set_taxes(concepto(root, n), [exento(base)])
        recompute(root)
        assert node(root, "cfdi:Impuestos").get("TotalImpuestosTrasladados") is None
    assert codes(make_xml(mutate)) == []


def _solo_exentos(then=None):
    def mutate(root):
        for n, base in ((1, "15390.30"), (2, "750.00"), (3, "2051.38")):
            set_taxes(concepto(root, n), [exento(base)])
        recompute(root)
        if then is not None:
            then(node(root, "cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado"))
    return mutate


def test_cfdi40213_exento_con_tasa_en_el_resumen(make_xml, findings):
    fs = findings(make_xml(_solo_exentos(lambda t: t.set("TasaOCuota", "0.000000"))))
    assert [(f.code, f.node) for f in fs] == [("CFDI40213", "Impuestos/Traslados/Traslado[1]@TasaOCuota")]


def test_cfdi40213_exento_con_importe_en_el_resumen(make_xml, findings):
    fs = findings(make_xml(_solo_exentos(lambda t: t.set("Importe", "0.00"))))
    assert [(f.code, f.node) for f in fs] == [("CFDI40213", "Impuestos/Traslados/Traslado[1]@Importe")]


def test_cfdi40213_exento_con_tasa_e_importe_en_el_resumen(make_xml, findings):
    fs = findings(make_xml(_solo_exentos(lambda t: (t.set("TasaOCuota", "0.000000"), t.set("Importe", "0.00")))))
    assert [(f.code, f.node, f.value) for f in fs] == [
        ("CFDI40213", "Impuestos/Traslados/Traslado[1]@TasaOCuota", "0.000000")]


def test_cfdi40215_a_tasa_traslado_no_concepto_has_when_all_are_exento(make_xml, findings):
    """CFDI40216 is for the Base of an Exento traslado when every traslado is Exento; a Tasa traslado of
    the summary that no concepto has is CFDI40215's."""
    def then(t):
        extra = etree.SubElement(t.getparent(), q("Traslado"), tax("100.00"))
        assert extra.get("TipoFactor") == "Tasa"

    fs = findings(make_xml(_solo_exentos(then)))
    assert [(f.code, f.node) for f in fs if f.code in ("CFDI40215", "CFDI40216")] == [
        ("CFDI40215", "Impuestos/Traslados/Traslado[2]@Base")]


def test_cfdi40215_wrong_exento_base_next_to_tasa_traslados(make_xml, findings):
    """CFDI40216 only when every traslado is Exento; with Tasa traslados too, a wrong Exento Base is CFDI40215."""
    def then(root):
        for t in node(root, "cfdi:Impuestos").iterfind(f"{q('Traslados')}/{q('Traslado')}"):
            if t.get("TipoFactor") == "Exento":
                t.set("Base", "750.01")

    fs = findings(make_xml(with_taxes(2, [exento("750.00")], then=then)))
    assert [(f.code, f.value) for f in fs if f.code in ("CFDI40215", "CFDI40216")] == [("CFDI40215", "750.01")]


def test_cfdi40213_exento_solo_base_pasa(make_xml, codes):
    assert codes(make_xml(_solo_exentos())) == []


def test_cfdi40214_traslado_base_con_tres_decimales(make_xml, findings):
    def mutate(root):
        node(root, "cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado").set("Base", "18191.680")
    fs = findings(make_xml(mutate))
    assert [(f.code, f.node) for f in fs] == [("CFDI40214", "Impuestos/Traslados/Traslado[1]@Base")]


def test_cfdi40214_traslado_base_con_dos_decimales_pasa(make_xml, codes):
    def mutate(root):
        assert node(root, "cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado").get("Base") == "18191.68"
    assert codes(make_xml(mutate)) == []


def _bases_seis_decimales(base_resumen: str | None = None, importe_resumen: str | None = None):
    """Bases with 6 decimals: 0.125 + 0.125 + 0.125 + 100.000001 (sum 100.375001 -> 100.38)."""
    def mutate(root):
        set_taxes(concepto(root, 1), [tax("15390.30"), tax("0.125", impuesto="003", tasa="0.080000", importe="0.01")])
        set_taxes(concepto(root, 2), [tax("750.00"), tax("0.125", impuesto="003", tasa="0.080000", importe="0.01")])
        set_taxes(concepto(root, 3), [tax("2051.38"), tax("0.125", impuesto="003", tasa="0.080000", importe="0.01"),
                                      tax("100.000001", impuesto="003", tasa="0.080000", importe="8.000001")])
        recompute(root)
        ieps = node(root, "cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado[2]")
        assert ieps.get("Base") == "100.38" and ieps.get("Importe") == "8.03"
        if base_resumen is not None:
            ieps.set("Base", base_resumen)
        if importe_resumen is not None:
            ieps.set("Importe", importe_resumen)
            node(root, "cfdi:Impuestos").set("TotalImpuestosTrasladados",
                                          str(Decimal("2910.67") + Decimal(importe_resumen)))
            fix_total(root)
    return mutate


def test_cfdi40215_traslado_base_distinta(make_xml, findings):
    fs = findings(make_xml(_bases_seis_decimales(base_resumen="100.37")))
    assert [(f.code, f.node, f.expected) for f in fs] == [
        ("CFDI40215", "Impuestos/Traslados/Traslado[2]@Base", "100.38")]


def test_cfdi40215_traslado_base_redondeo_de_la_suma_pasa(make_xml, codes):
    assert codes(make_xml(_bases_seis_decimales())) == []


def test_cfdi40215_falta_grupo_exento_con_otros_traslados(make_xml, findings):
    def mutate(root):
        set_taxes(concepto(root, 2), [exento("750.00")])
        recompute(root)
        ts = node(root, "cfdi:Impuestos/cfdi:Traslados")
        ts.remove(ts[1])  # the exento line
    fs = findings(make_xml(mutate))
    assert [(f.code, f.node, f.expected) for f in fs] == [("CFDI40215", "Impuestos/Traslados", "750.00")]


def _exentos_tres_decimales(base_resumen: str):
    """Exento bases 15390.295 + 750.00 + 2051.38 = 18191.675 -> 18191.68."""
    def mutate(root):
        for n, base in ((1, "15390.295"), (2, "750.00"), (3, "2051.38")):
            set_taxes(concepto(root, n), [exento(base)])
        recompute(root)
        node(root, "cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado").set("Base", base_resumen)
    return mutate


def test_cfdi40216_solo_exentos_base_distinta(make_xml, findings):
    fs = findings(make_xml(_exentos_tres_decimales("18191.67")))
    assert [(f.code, f.node, f.value, f.expected) for f in fs] == [
        ("CFDI40216", "Impuestos/Traslados/Traslado[1]@Base", "18191.67", "18191.68")]


def test_cfdi40216_solo_exentos_sin_traslados_en_el_resumen(make_xml, findings):
    def mutate(root):
        _solo_exentos()(root)
        root.remove(node(root, "cfdi:Impuestos"))
    fs = findings(make_xml(mutate))
    assert [(f.code, f.node) for f in fs] == [("CFDI40216", "Impuestos")]


def test_cfdi40216_solo_exentos_base_igual_pasa(make_xml, codes):
    assert codes(make_xml(_exentos_tres_decimales("18191.68"))) == []


def test_cfdi40217_traslado_impuesto_fuera_de_catalogo(make_xml, findings):
    def mutate(root):
        node(root, "cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado").set("Impuesto", "IVA")
    fs = findings(make_xml(mutate))
    assert ("CFDI40217", "Impuestos/Traslados/Traslado[1]@Impuesto") in [(f.code, f.node) for f in fs]
    assert "CFDI40219" not in [f.code for f in fs]


def test_cfdi40217_traslado_impuesto_ieps_pasa(make_xml, codes):
    assert codes(make_xml(with_taxes(1, [tax("15390.30"), tax("15390.30", impuesto="003", tasa="0.060000")]))) == []


def test_cfdi40218_traslado_repetido(make_xml, findings):
    def mutate(root):
        set_taxes(concepto(root, 1), [tax("15390.30", tasa="0.16")])
        recompute(root)
        # split the one IVA 16% line in two, one written "0.16", the other "0.160000": the same rate
        t1 = node(root, "cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado")
        t1.set("Base", "15390.30")
        t1.set("Importe", "2462.45")
        t1.set("TasaOCuota", "0.16")
        t1.addnext(etree.Element(q("Traslado"), Base="2801.38", Impuesto="002", TipoFactor="Tasa",
                                 TasaOCuota="0.160000", Importe="448.22"))
    fs = findings(make_xml(mutate))
    assert nodes(fs, "CFDI40218") == ["Impuestos/Traslados/Traslado[2]@Impuesto"]


def test_cfdi40218_misma_tasa_distinto_factor_pasa(make_xml, codes):
    # IEPS Tasa 0.080000 and IEPS Cuota 0.080000 are different summary lines
    def mutate(root):
        set_taxes(concepto(root, 1), [tax("15390.30"), tax("15390.30", impuesto="003", tasa="0.080000")])
        set_taxes(concepto(root, 2), [tax("750.00"), tax("10", impuesto="003", factor="Cuota", tasa="0.080000")])
        recompute(root)
        assert len(node(root, "cfdi:Impuestos/cfdi:Traslados")) == 3
    assert codes(make_xml(mutate)) == []


def test_cfdi40219_resumen_tasa_fuera_de_catalogo(make_xml, findings):
    fs = findings(make_xml(with_taxes(1, [tax("15390.30", impuesto="003", tasa="0.200000")])))
    assert ("CFDI40219", "Impuestos/Traslados/Traslado[1]@TasaOCuota") in [(f.code, f.node) for f in fs]


def test_cfdi40219_resumen_sin_tasaocuota(make_xml, findings):
    def mutate(root):
        del node(root, "cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado").attrib["TasaOCuota"]
    fs = findings(make_xml(mutate))
    assert ("CFDI40219", "Impuestos/Traslados/Traslado[1]@TasaOCuota") in [(f.code, f.node) for f in fs]


def test_cfdi40219_resumen_cuota_en_el_rango_pasa(make_xml, codes):
    assert codes(make_xml(with_taxes(1, [tax("15390.30"), tax("3", impuesto="003", factor="Cuota",
                                                               tasa="72.160500")]))) == []


def test_cfdi40220_traslado_importe_con_tres_decimales(make_xml, findings):
    def mutate(root):
        node(root, "cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado").set("Importe", "2910.670")
    fs = findings(make_xml(mutate))
    assert [(f.code, f.node) for f in fs] == [("CFDI40220", "Impuestos/Traslados/Traslado[1]@Importe")]


def test_cfdi40220_traslado_importe_en_moneda_sin_decimales(make_xml, findings):
    fs = findings(make_xml(_jpy(lambda imp: imp.find(f"{C}Traslados/{C}Traslado").set("Importe", "2911.0"))))
    assert [(f.code, f.node) for f in fs] == [("CFDI40220", "Impuestos/Traslados/Traslado[1]@Importe")]


def test_cfdi40221_traslado_importe_distinto(make_xml, findings):
    fs = findings(make_xml(_bases_seis_decimales(importe_resumen="8.02")))
    assert [(f.code, f.node, f.value, f.expected) for f in fs] == [
        ("CFDI40221", "Impuestos/Traslados/Traslado[2]@Importe", "8.02", "8.03")]


def test_cfdi40221_falta_el_grupo(make_xml, findings):
    def mutate(root):
        set_taxes(concepto(root, 2), [tax("750.00", tasa="0.080000")])
        recompute(root)
        ts = node(root, "cfdi:Impuestos/cfdi:Traslados")
        ts.remove(ts[1])
        node(root, "cfdi:Impuestos").set("TotalImpuestosTrasladados", ts[0].get("Importe"))
        fix_total(root)
    fs = findings(make_xml(mutate))
    assert [(f.code, f.node, f.expected) for f in fs] == [("CFDI40221", "Impuestos/Traslados", "60.00")]


def test_cfdi40221_traslado_importe_redondeo_de_la_suma_pasa(make_xml, codes):
    assert codes(make_xml(_bases_seis_decimales(importe_resumen="8.03"))) == []


# -- Comercio Exterior -------------------------------------------------------------------------------

def _comercio_exterior(exportacion: str):
    def mutate(root):
        root.set("Exportacion", exportacion)
        comp = etree.SubElement(root, q("Complemento"))
        cce = etree.SubElement(comp, f"{{{NS_CCE20}}}ComercioExterior", nsmap={"cce20": NS_CCE20},
                               Version="2.0", ClaveDePedimento="A1", CertificadoOrigen="0",
                               TipoCambioUSD="17.50", TotalUSD="100.00")
        mercancias = etree.SubElement(cce, f"{{{NS_CCE20}}}Mercancias")
        etree.SubElement(mercancias, f"{{{NS_CCE20}}}Mercancia", NoIdentificacion="SKU-00001",
                         ValorDolares="100.00")
    return mutate


def test_cfdi40222_comercio_exterior_sin_exportacion(make_xml, findings):
    for clave in ("01", "03"):
        fs = findings(make_xml(_comercio_exterior(clave)))
        assert [(f.code, f.node, f.value) for f in fs] == [("CFDI40222", "Comprobante@Exportacion", clave)]


def test_cfdi40222_comercio_exterior_con_exportacion_definitiva_pasa(make_xml, codes):
    got = codes(make_xml(_comercio_exterior("02")))
    assert "CFDI40222" not in got and "301" not in got


def test_cfdi40222_sin_comercio_exterior_pasa(make_xml, codes):
    assert "CFDI40222" not in codes(make_xml(lambda root: root.set("Exportacion", "03")))


def test_cfdi40220_traslado_importe_con_los_decimales_de_la_moneda_pasa(make_xml, codes):
    def mutate(root):  # IVA 8% on concepto 1: 1231.224 -> 1231.22 in the summary, 2 decimals like MXN
        set_taxes(concepto(root, 1), [tax("15390.30", tasa="0.080000", importe="1231.224")])
        recompute(root)
        assert node(root, "cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado[1]").get("Importe") == "1231.22"
    assert codes(make_xml(mutate)) == []


def test_cfdi40180_atajo_equivale_a_los_limites():
    # the rule first asks |Importe - Base·Tasa| < half·Tasa + q and builds SAT's limits only on failure:
    # both must agree on every Importe around the limits
    import random
    rnd = random.Random(40180)
    for _ in range(3000):
        d_base, d_imp = rnd.randint(0, 6), rnd.randint(0, 6)
        base_text = str(Decimal(rnd.randint(1, 10**9)).scaleb(-d_base))
        tasa = Decimal(rnd.choice(["0", "0.16", "0.080000", "0.106667", "0.0125", "0.35", "1.6", "6.45", "72.1605"]))
        lo, hi = rules._limits(Decimal(base_text), base_text, tasa, "0." + "0" * d_imp if d_imp else "0")
        step = Decimal(1).scaleb(-d_imp)
        for importe in (lo - step, lo, hi, hi + step, (lo + hi) / 2):
            importe = importe.quantize(step, rounding=ROUND_HALF_UP)
            text = f"{importe:f}"
            expected = lo <= importe <= hi
            got = rules._within_limits(Decimal(base_text), base_text, tasa, Decimal(text), text)
            assert got == expected, (base_text, tasa, text, lo, hi)
