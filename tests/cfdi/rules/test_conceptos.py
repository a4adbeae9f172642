"""Concepto rules (timbra/cfdi/rules/conceptos.py) and the catalog codes of the Concepto, ACuentaTerceros and
Parte attributes (claves.py).

The sample invoice has 3 conceptos (Ingreso, MXN, IVA 16%):
  1: 43232408, Cantidad 1,   ValorUnitario 15390.30, Importe 15390.30
  2: 84111506, Cantidad 3,   ValorUnitario 250.00,   Importe 750.00
  3: 81111500, Cantidad 2.5, ValorUnitario 820.55,   Importe 2051.38
Mutations that change amounts call `recompute` so that only the rule under test can fail.
"""
from __future__ import annotations

import math
import random
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from lxml import etree

from tests.xmlhelp import money, node, q
from timbra.cfdi.rules import conceptos
from timbra.cfdi.rules.conceptos import NOMBRE_EXTRANJERO_INTERMEDIACION, importe_limits, required_complements

CENT = Decimal("0.01")
ORDER = ["Impuestos", "ACuentaTerceros", "InformacionAduanera", "CuentaPredial", "ComplementoConcepto", "Parte"]
C1 = "cfdi:Conceptos/cfdi:Concepto[1]"
C2 = "cfdi:Conceptos/cfdi:Concepto[2]"
C3 = "cfdi:Conceptos/cfdi:Concepto[3]"
PEDIMENTO_OK = "26  47  3420  6000001"  # 2026 (the tests' NOW), aduana 47, patente 3420, number 000001
NS_LEYENDAS = "http://www.sat.gob.mx/leyendasFiscales"
NS_IEDU = "http://www.sat.gob.mx/iedu"
NS_CCE20 = "http://www.sat.gob.mx/ComercioExterior20"


def recompute(root: etree._Element) -> None:
    """Recompute concepto taxes, the Comprobante's Impuestos and its totals from the conceptos' Importe,
    Descuento and Impuestos, as the sample does."""
    subtotal = Decimal(0)
    descuento = Decimal(0)
    totals: dict[tuple[str, str, str], list[Decimal]] = {}
    for c in root.iter(q("Concepto")):
        importe = Decimal(c.get("Importe"))
        desc = Decimal(c.get("Descuento", "0"))
        subtotal += importe
        descuento += desc
        for t in c.iterfind(f"{q('Impuestos')}/{q('Traslados')}/{q('Traslado')}"):
            base = importe - desc
            tax = (base * Decimal(t.get("TasaOCuota"))).quantize(CENT, rounding=ROUND_HALF_UP)
            t.set("Base", money(base))
            t.set("Importe", money(tax))
            acc = totals.setdefault((t.get("Impuesto"), t.get("TipoFactor"), t.get("TasaOCuota")),
                                   [Decimal(0), Decimal(0)])
            acc[0] += base
            acc[1] += tax
    imp = root.find(q("Impuestos"))
    if imp is not None:
        root.remove(imp)
    total_tax = sum((v[1] for v in totals.values()), Decimal(0))
    if totals:
        imp = etree.Element(q("Impuestos"))
        imp.set("TotalImpuestosTrasladados", money(total_tax))
        ts = etree.SubElement(imp, q("Traslados"))
        for (impuesto, factor, tasa), (base, tax) in totals.items():
            etree.SubElement(ts, q("Traslado"), Base=money(base), Impuesto=impuesto, TipoFactor=factor,
                             TasaOCuota=tasa, Importe=money(tax))
        root.find(q("Conceptos")).addnext(imp)
    root.set("SubTotal", money(subtotal))
    if descuento:
        root.set("Descuento", money(descuento))
    elif "Descuento" in root.attrib:
        del root.attrib["Descuento"]
    root.set("Total", money(subtotal - descuento + total_tax))


def add(concepto: etree._Element, local: str, **attrs: str) -> etree._Element:
    """A child of a Concepto in the position SAT's schema wants."""
    el = etree.Element(q(local), **attrs)
    rank = ORDER.index(local)
    after = None
    for child in concepto:
        if etree.QName(child).localname in ORDER and ORDER.index(etree.QName(child).localname) <= rank:
            after = child
    if after is None:
        concepto.insert(0, el)
    else:
        after.addnext(el)
    return el


def drop_impuestos(concepto: etree._Element, objeto_imp: str | None = None) -> None:
    concepto.remove(concepto.find(q("Impuestos")))
    if objeto_imp is not None:
        concepto.set("ObjetoImp", objeto_imp)


def nodes(findings_list, code: str) -> list[str]:
    return [f.node for f in findings_list if f.code == code]


def one(findings_list, code: str):
    got = [f for f in findings_list if f.code == code]
    assert len(got) == 1, findings_list
    return got[0]


@pytest.fixture
def patch_clave(monkeypatch, certifier, request):
    """patch_clave("43232408", ComplementoQueDebeIncluir="...") changes that row of c_ClaveProdServ."""
    request.node.add_marker("injected_catalog")  # what it checks is not in SAT's shipped rows
    cats = certifier.catalogs
    original = cats.clave_prod_serv

    def patch(clave: str, **columns: str) -> None:
        row = dict(original(clave) or {"c_ClaveProdServ": clave})
        row.update(columns)

        def fake(code: str):
            return row if code == clave else original(code)

        monkeypatch.setattr(cats, "clave_prod_serv", fake)

    return patch


# -- catalog codes (claves.py) ----------------------------------------------------------------------
def test_cfdi40162_clave_prod_serv_fuera_del_catalogo(make_xml, codes, findings):
    xml = make_xml(lambda r: node(r, C2).set("ClaveProdServ", "99999999"))
    assert codes(xml) == ["CFDI40162"]
    assert one(findings(xml), "CFDI40162").node == "Conceptos/Concepto[2]@ClaveProdServ"


def test_cfdi40162_clave_generica_del_catalogo_pasa(make_xml, codes):
    assert codes(make_xml(lambda r: node(r, C2).set("ClaveProdServ", "01010101"))) == []


def test_cfdi40165_clave_unidad_fuera_del_catalogo(make_xml, codes, findings):
    xml = make_xml(lambda r: node(r, C3).set("ClaveUnidad", "ZZ9"))
    assert codes(xml) == ["CFDI40165"]
    assert one(findings(xml), "CFDI40165").node == "Conceptos/Concepto[3]@ClaveUnidad"


def test_cfdi40165_clave_unidad_del_catalogo_pasa(make_xml, codes):
    assert codes(make_xml(lambda r: node(r, C3).set("ClaveUnidad", "ACT"))) == []


def test_cfdi40170_objeto_imp_fuera_del_catalogo(make_xml, codes, findings):
    xml = make_xml(lambda r: node(r, C1).set("ObjetoImp", "09"))
    assert codes(xml) == ["CFDI40170"]
    assert one(findings(xml), "CFDI40170").node == "Conceptos/Concepto[1]@ObjetoImp"


def test_cfdi40170_objeto_imp_08_la_ultima_clave_pasa(make_xml, codes):
    def mutate(r):
        drop_impuestos(node(r, C1), "08")
        recompute(r)

    assert codes(make_xml(mutate)) == []


def test_cfdi40191_regimen_a_cuenta_de_terceros_fuera_del_catalogo(make_xml, codes, findings):
    def mutate(r):
        add(node(r, C1), "ACuentaTerceros", RfcACuentaTerceros="XIA190128J61", NombreACuentaTerceros="XENON INDUSTRIAL",
            RegimenFiscalACuentaTerceros="600", DomicilioFiscalACuentaTerceros="76028")

    xml = make_xml(mutate)
    assert codes(xml) == ["CFDI40191"]
    assert one(findings(xml), "CFDI40191").node == "Conceptos/Concepto[1]/ACuentaTerceros@RegimenFiscalACuentaTerceros"


def test_cfdi40191_regimen_a_cuenta_de_terceros_del_catalogo_pasa(make_xml, codes):
    def mutate(r):
        add(node(r, C1), "ACuentaTerceros", RfcACuentaTerceros="XIA190128J61", NombreACuentaTerceros="XENON INDUSTRIAL",
            RegimenFiscalACuentaTerceros="630", DomicilioFiscalACuentaTerceros="76028")

    assert codes(make_xml(mutate)) == []


def test_cfdi40196_clave_prod_serv_de_parte_fuera_del_catalogo(make_xml, codes, findings):
    def mutate(r):
        add(node(r, C1), "Parte", ClaveProdServ="99999999", Cantidad="1", Descripcion="Manual impreso")

    xml = make_xml(mutate)
    assert codes(xml) == ["CFDI40196"]
    assert one(findings(xml), "CFDI40196").node == "Conceptos/Concepto[1]/Parte[1]@ClaveProdServ"


def test_cfdi40196_clave_prod_serv_de_parte_del_catalogo_pasa(make_xml, codes):
    def mutate(r):
        add(node(r, C1), "Parte", ClaveProdServ="43232408", Cantidad="1", Descripcion="Módulo de nómina")

    assert codes(make_xml(mutate)) == []


# -- CFDI40163: complements required by c_ClaveProdServ ------------------------------------------------
def _leyendas(root: etree._Element) -> None:
    comp = root.find(q("Complemento"))
    if comp is None:
        comp = etree.SubElement(root, q("Complemento"))
    ley = etree.SubElement(comp, f"{{{NS_LEYENDAS}}}LeyendasFiscales", nsmap={"leyendasFisc": NS_LEYENDAS})
    ley.set("version", "1.0")
    etree.SubElement(ley, f"{{{NS_LEYENDAS}}}Leyenda", textoLeyenda="Operación de prueba")


def test_cfdi40163_falta_el_complemento_que_exige_la_clave(make_xml, findings, patch_clave):
    patch_clave("43232408", ComplementoQueDebeIncluir="Leyendas Fiscales")
    got = findings(make_xml())
    assert [f.code for f in got] == ["CFDI40163"]
    f = got[0]
    assert f.node == "Conceptos/Concepto[1]@ClaveProdServ"
    assert f.value == "43232408" and f.expected == "Leyendas Fiscales"
    assert NS_LEYENDAS in f.detail


def test_cfdi40163_con_el_complemento_exigido_pasa(make_xml, codes, patch_clave):
    patch_clave("43232408", ComplementoQueDebeIncluir="Leyendas Fiscales")
    assert codes(make_xml(_leyendas)) == []


def test_cfdi40163_complemento_de_concepto_en_complemento_concepto(make_xml, codes, findings, patch_clave):
    patch_clave("84111506", ComplementoQueDebeIncluir="Instituciones Educativas Privadas")
    assert nodes(findings(make_xml()), "CFDI40163") == ["Conceptos/Concepto[2]@ClaveProdServ"]

    def mutate(r):
        cc = add(node(r, C2), "ComplementoConcepto")
        etree.SubElement(cc, f"{{{NS_IEDU}}}instEducativas", nsmap={"iedu": NS_IEDU}, version="1.0",
                         nombreAlumno="ANA LOPEZ", CURP="LOAA100101MDFPNNA9", nivelEducativo="Primaria",
                         autRVOE="1234")

    assert codes(make_xml(mutate)) == []


def test_cfdi40163_espacio_de_nombres_en_el_catalogo(make_xml, codes, patch_clave):
    patch_clave("43232408", ComplementoQueDebeIncluir=NS_LEYENDAS)
    assert codes(make_xml()) == ["CFDI40163"]
    assert codes(make_xml(_leyendas)) == []


def test_cfdi40163_varios_complementos_exigidos_todos(make_xml, findings, patch_clave):
    patch_clave("43232408", ComplementoQueDebeIncluir="Leyendas fiscales, Vehículo usado")
    got = [f for f in findings(make_xml(_leyendas)) if f.code == "CFDI40163"]
    assert [f.expected for f in got] == ["Vehículo usado"]


def test_cfdi40163_nombre_desconocido_o_vacio_no_se_verifica(make_xml, codes, patch_clave):
    patch_clave("43232408", ComplementoQueDebeIncluir="Complemento que el SAT aún no publica")
    assert codes(make_xml()) == []
    patch_clave("43232408", ComplementoQueDebeIncluir="")
    assert codes(make_xml()) == []


def test_cfdi40163_nombres_del_catalogo():
    got = dict(required_complements("Complemento Concepto Vehículo Usado; Venta de Vehiculos"))
    assert got == {"Complemento Concepto Vehículo Usado": frozenset({"http://www.sat.gob.mx/vehiculousado"}),
                   "Venta de Vehiculos": frozenset({"http://www.sat.gob.mx/ventavehiculos"})}
    assert required_complements("No") == [] and required_complements(None) == []
    assert required_complements("Algo nuevo") == [("Algo nuevo", None)]


# -- CFDI40164: taxes required by c_ClaveProdServ ------------------------------------------------------
def test_cfdi40164_clave_que_exige_iva_sin_iva(make_xml, findings):
    # 84121603 (cambio de divisas) has IncluirIVATrasladado = Sí in our c_ClaveProdServ.
    def mutate(r):
        c = node(r, C1)
        c.set("ClaveProdServ", "84121603")
        drop_impuestos(c, "01")
        recompute(r)

    got = findings(make_xml(mutate))
    assert [f.code for f in got] == ["CFDI40164"]
    assert got[0].node == "Conceptos/Concepto[1]@ClaveProdServ"
    assert got[0].expected == "Traslado de IVA (002)"


def test_cfdi40164_clave_que_exige_iva_con_iva_pasa(make_xml, codes):
    assert codes(make_xml(lambda r: node(r, C1).set("ClaveProdServ", "84121603"))) == []


def test_cfdi40164_clave_que_exige_iva_con_iva_tras_ieps_pasa(make_xml, codes):
    """The IVA traslado need not be the concepto's first one."""
    from tests.cfdi.rules.test_impuestos import recompute as recompute_all
    from tests.cfdi.rules.test_impuestos import set_taxes, tax

    def mutate(r):
        c = node(r, C1)
        c.set("ClaveProdServ", "84121603")
        set_taxes(c, [tax(c.get("Importe"), "003", tasa="0.080000"), tax(c.get("Importe"))])
        recompute_all(r)

    assert codes(make_xml(mutate)) == []


def test_cfdi40164_clave_que_exige_ieps_solo_con_iva(make_xml, findings, patch_clave):
    patch_clave("81111500", IncluirIEPSTrasladado="Sí")
    got = findings(make_xml())
    assert [f.code for f in got] == ["CFDI40164"]
    assert got[0].node == "Conceptos/Concepto[3]@ClaveProdServ"
    assert got[0].expected == "Traslado de IEPS (003)"


def test_cfdi40164_opcional_no_exige(make_xml, codes, patch_clave):
    patch_clave("81111500", IncluirIEPSTrasladado="Opcional", IncluirIVATrasladado="0")
    assert codes(make_xml()) == []


# -- CFDI40166: ValorUnitario > 0 ----------------------------------------------------------------------
def _valor_unitario(valor: str):
    def mutate(r):
        c = node(r, C1)
        c.set("ValorUnitario", valor)
        c.set("Importe", "0.00")
        drop_impuestos(c, "01")
        recompute(r)

    return mutate


def test_cfdi40166_valor_unitario_cero_en_ingreso(make_xml, findings):
    got = findings(make_xml(_valor_unitario("0")))
    assert [f.code for f in got] == ["CFDI40166"]
    assert got[0].node == "Conceptos/Concepto[1]@ValorUnitario"
    assert got[0].value == "0"


def test_cfdi40166_valor_unitario_minimo_pasa(make_xml, codes):
    assert codes(make_xml(_valor_unitario("0.000001"))) == []


def test_cfdi40166_valor_unitario_cero_en_traslado_no_aplica(make_xml, findings):
    # A Traslado (T) may carry ValorUnitario 0; the other T rules may complain about this sample, not 40166.
    def mutate(r):
        _valor_unitario("0")(r)
        r.set("TipoDeComprobante", "T")

    got = findings(make_xml(mutate))
    assert "301" not in [f.code for f in got]
    assert not nodes(got, "CFDI40166")


# -- CFDI40167: Importe between SAT's limits -----------------------------------------------------------
def test_importe_limits_of_malformed_numbers_is_none():
    assert importe_limits("x", "250.00", "750.00") is None
    assert importe_limits("3", "x", "750.00") is None
    assert importe_limits("3", "250.00", "x") is None


def test_cfdi40167_limites_formula():
    # (3 - 0.0000005) × (250.00 - 0.005) = 749.9848750025 -> 749.98;
    # (3 + 0.0000005) × (250.00 + 0.005) = 750.0151250025 -> 750.02
    assert importe_limits("3.000000", "250.00", "750.00") == (Decimal("749.98"), Decimal("750.02"))
    # Cantidad without decimals gives half a unit either side.
    assert importe_limits("3", "250.00", "750.00") == (Decimal("624.98"), Decimal("875.02"))
    # The decimals of Importe set the precision of the limits.
    assert importe_limits("3.000000", "250.00", "750.0000") == (Decimal("749.9848"), Decimal("750.0152"))
    # Long amounts (37-digit products, more than the default 28-digit context holds), checked against
    # rational arithmetic.
    c, v = "12345678901234.123457", "987654.321098"
    half = Fraction(1, 2 * 10**6)
    eps = Fraction(1, 10**12)
    lo = (Fraction(c) - half) * (Fraction(v) - half)
    hi = (Fraction(c) + half - eps) * (Fraction(v) + half - eps)
    assert importe_limits(c, v, "1.000000") == (Decimal(math.floor(lo * 10**6)).scaleb(-6),
                                                 Decimal(math.ceil(hi * 10**6)).scaleb(-6))
    assert importe_limits("x", "1", "1") is None


def test_cfdi40167_atajo_del_producto_redondeado_coincide_con_los_limites():
    rnd = random.Random(40167)
    checked = 0
    for _ in range(3000):
        dc, dv, di = rnd.randint(0, 6), rnd.randint(0, 6), rnd.randint(0, 6)
        c = Decimal(rnd.randint(1, 10**8)).scaleb(-dc)
        v = Decimal(rnd.randint(0, 10**9)).scaleb(-dv)
        exact = c * v
        for shift in (-1, 0, 1):
            imp = exact.quantize(Decimal(1).scaleb(-di), rounding=ROUND_HALF_UP) + shift * Decimal(1).scaleb(-di)
            text = f"{imp:.{di}f}"
            if conceptos.product_rounded(c, dc, v, dv, Decimal(text), di):
                lo, hi = importe_limits(f"{c:.{dc}f}", f"{v:.{dv}f}", text)
                assert lo <= Decimal(text) <= hi, (c, v, text)
                checked += 1
    assert checked > 3000  # the fast path took most cases


def _importe(importe: str):
    def mutate(r):
        c = node(r, C2)
        c.set("Cantidad", "3.000000")
        c.set("Importe", importe)
        recompute(r)

    return mutate


@pytest.mark.parametrize("importe", ["750.03", "749.97"])
def test_cfdi40167_importe_fuera_de_limites(make_xml, findings, importe):
    got = findings(make_xml(_importe(importe)))
    assert [f.code for f in got] == ["CFDI40167"]
    assert got[0].node == "Conceptos/Concepto[2]@Importe"
    assert got[0].value == importe
    assert got[0].expected == "749.98 .. 750.02"


@pytest.mark.parametrize("importe", ["750.02", "749.98"])
def test_cfdi40167_importe_en_el_limite_pasa(make_xml, codes, importe):
    assert codes(make_xml(_importe(importe))) == []


# -- CFDI40168 / CFDI40169: Descuento -------------------------------------------------------------------
def _descuento(valor: str, sin_impuestos: bool = False):
    def mutate(r):
        c = node(r, C1)
        c.set("Descuento", valor)
        if sin_impuestos:
            drop_impuestos(c, "01")
        recompute(r)

    return mutate


def test_cfdi40168_descuento_con_mas_decimales_que_importe(make_xml, findings):
    got = findings(make_xml(_descuento("10.000")))
    assert [f.code for f in got] == ["CFDI40168"]
    assert got[0].node == "Conceptos/Concepto[1]@Descuento"
    assert got[0].expected == "hasta 2 decimales"


@pytest.mark.parametrize("valor", ["10.00", "10.5", "10"])
def test_cfdi40168_descuento_hasta_los_decimales_de_importe_pasa(make_xml, codes, valor):
    assert codes(make_xml(_descuento(valor))) == []


def test_cfdi40169_descuento_mayor_que_importe(make_xml, findings):
    got = findings(make_xml(_descuento("15390.31", sin_impuestos=True)))
    assert [f.code for f in got] == ["CFDI40169"]
    assert got[0].node == "Conceptos/Concepto[1]@Descuento"
    assert got[0].expected == "<= 15390.30"


def test_cfdi40169_descuento_igual_a_importe_pasa(make_xml, codes):
    assert codes(make_xml(_descuento("15390.30", sin_impuestos=True))) == []


# -- CFDI40171 / CFDI40172: ObjetoImp against the Impuestos node ----------------------------------------
def test_cfdi40171_objeto_imp_02_sin_impuestos(make_xml, findings):
    def mutate(r):
        drop_impuestos(node(r, C2))
        recompute(r)

    got = findings(make_xml(mutate))
    assert [f.code for f in got] == ["CFDI40171"]
    assert got[0].node == "Conceptos/Concepto[2]@ObjetoImp"


@pytest.mark.parametrize("objeto", ["01", "06", "08"])
def test_cfdi40171_sin_impuestos_con_objeto_imp_que_no_los_exige_pasa(make_xml, codes, objeto):
    def mutate(r):
        drop_impuestos(node(r, C2), objeto)
        recompute(r)

    assert codes(make_xml(mutate)) == []


@pytest.mark.parametrize("objeto", ["01", "03", "04", "05"])
def test_cfdi40172_impuestos_con_objeto_imp_que_los_prohibe(make_xml, findings, objeto):
    got = findings(make_xml(lambda r: node(r, C3).set("ObjetoImp", objeto)))
    assert [f.code for f in got] == ["CFDI40172"]
    assert got[0].node == "Conceptos/Concepto[3]@ObjetoImp"
    assert got[0].value == objeto


def test_cfdi40172_objeto_imp_04_sin_impuestos_pasa(make_xml, codes):
    def mutate(r):
        drop_impuestos(node(r, C3), "04")
        recompute(r)

    assert codes(make_xml(mutate)) == []


# -- ACuentaTerceros -----------------------------------------------------------------------------------
def _tercero(rfc: str = "XIA190128J61", nombre: str = "XENON INDUSTRIAL ARTICLES", regimen: str = "601",
             domicilio: str = "76028", concepto: str = C2):
    def mutate(r):
        add(node(r, concepto), "ACuentaTerceros", RfcACuentaTerceros=rfc, NombreACuentaTerceros=nombre,
            RegimenFiscalACuentaTerceros=regimen, DomicilioFiscalACuentaTerceros=domicilio)

    return mutate


def _ext(**kw):
    base = {"rfc": "EXT990101NI1", "nombre": NOMBRE_EXTRANJERO_INTERMEDIACION, "regimen": "616", "domicilio": "06000"}
    base.update(kw)
    return _tercero(**base)


@pytest.mark.parametrize("rfc, quien", [("EKU9003173C9", "Emisor"), ("URE180429TM6", "Receptor")])
def test_cfdi40188_tercero_es_el_emisor_o_el_receptor(make_xml, findings, rfc, quien):
    got = findings(make_xml(_tercero(rfc=rfc)))
    assert [f.code for f in got] == ["CFDI40188"]
    assert got[0].node == "Conceptos/Concepto[2]/ACuentaTerceros@RfcACuentaTerceros"
    assert quien in got[0].detail


def test_cfdi40188_the_second_tercero_is_checked_too(make_xml, findings):
    def two(r):
        _tercero()(r)
        _tercero(rfc="URE180429TM6", concepto=C3)(r)

    got = findings(make_xml(two))
    assert [(f.code, f.node) for f in got] == [
        ("CFDI40188", "Conceptos/Concepto[3]/ACuentaTerceros@RfcACuentaTerceros")]


def test_cfdi40188_tercero_distinto_pasa(make_xml, codes):
    assert codes(make_xml(_tercero())) == []


def test_cfdi140223_ext_con_regimen_distinto_de_616(make_xml, findings):
    got = findings(make_xml(_ext(regimen="601")))
    assert [f.code for f in got] == ["CFDI140223"]
    assert got[0].node == "Conceptos/Concepto[2]/ACuentaTerceros@RegimenFiscalACuentaTerceros"
    assert got[0].expected == "616"


def test_cfdi140223_ext_con_616_pasa(make_xml, codes):
    assert codes(make_xml(_ext())) == []


def test_cfdi140223_otro_rfc_no_exige_616(make_xml, codes):
    assert codes(make_xml(_tercero(regimen="626"))) == []


def test_cfdi40193_ext_con_domicilio_distinto_de_lugar_expedicion(make_xml, findings):
    got = findings(make_xml(_ext(domicilio="06100")))
    assert [f.code for f in got] == ["CFDI40193"]
    assert got[0].node == "Conceptos/Concepto[2]/ACuentaTerceros@DomicilioFiscalACuentaTerceros"
    assert got[0].expected == "06000"


def test_cfdi40193_ext_con_lugar_expedicion_pasa(make_xml, codes):
    assert codes(make_xml(_ext(domicilio="06000"))) == []


def test_cfdi40189_ext_con_otro_nombre(make_xml, findings):
    got = findings(make_xml(_ext(nombre="PLATAFORMA DIGITAL EXTRANJERA")))
    assert [f.code for f in got] == ["CFDI40189"]
    assert got[0].node == "Conceptos/Concepto[2]/ACuentaTerceros@NombreACuentaTerceros"
    assert got[0].expected == NOMBRE_EXTRANJERO_INTERMEDIACION


def test_cfdi40189_ext_nombre_sin_acentos_no_es_el_del_sat(make_xml, codes):
    nombre = NOMBRE_EXTRANJERO_INTERMEDIACION.replace("Ó", "O").replace("É", "E")
    assert codes(make_xml(_ext(nombre=nombre))) == ["CFDI40189"]


# -- InformacionAduanera -------------------------------------------------------------------------------
def _pedimento(numero: str, en_parte: bool = False):
    def mutate(r):
        c = node(r, C1)
        if en_parte:
            p = add(c, "Parte", ClaveProdServ="43232408", Cantidad="1", Descripcion="Licencia importada")
            etree.SubElement(p, q("InformacionAduanera"), NumeroPedimento=numero)
        else:
            add(c, "InformacionAduanera", NumeroPedimento=numero)

    return mutate


BAD_PEDIMENTOS = [
    ("27  47  3420  7000001", "año de validación 27"),   # after 2026
    ("26  03  3420  6000001", "aduana 03"),              # not in c_Aduana
    ("26  47  0001  6000001", "patente 0001"),           # not in c_PatenteAduanal
    ("26  47  3420  6000000", "al menos 000001"),
]


@pytest.mark.parametrize("numero, why", BAD_PEDIMENTOS)
def test_cfdi40194_numero_pedimento_invalido(make_xml, findings, numero, why):
    got = findings(make_xml(_pedimento(numero)))
    assert [f.code for f in got] == ["CFDI40194"]
    assert got[0].node == "Conceptos/Concepto[1]/InformacionAduanera[1]@NumeroPedimento"
    assert got[0].value == numero
    assert why in got[0].detail


@pytest.mark.parametrize("numero", [PEDIMENTO_OK, "16  85  9999  6999999", "00  01  0000  0000001"])
def test_cfdi40194_numero_pedimento_valido_pasa(make_xml, codes, numero):
    assert codes(make_xml(_pedimento(numero))) == []


def test_cfdi40194_el_segundo_pedimento_tambien_se_revisa(make_xml, findings):
    def two(r):
        _pedimento(PEDIMENTO_OK)(r)
        _pedimento("26  03  3420  6000001")(r)

    got = findings(make_xml(two))
    assert [(f.code, f.value) for f in got] == [("CFDI40194", "26  03  3420  6000001")]


def test_cfdi40194_varios_problemas_en_un_hallazgo(make_xml, findings):
    got = findings(make_xml(_pedimento("99  03  0001  9000000")))
    assert [f.code for f in got] == ["CFDI40194"]
    for why in ("año de validación 99", "aduana 03", "patente 0001", "al menos 000001"):
        assert why in got[0].detail


@pytest.mark.injected_catalog  # c_NumPedimentoAduana is not in the shipped catalogs
def test_cfdi40194_consecutivo_hasta_la_cantidad_de_c_num_pedimento_aduana(make_xml, codes, findings, monkeypatch):
    monkeypatch.setattr(conceptos, "pedimento_cantidades", lambda cats: {("47", "3420", 26): 5})
    assert codes(make_xml(_pedimento("26  47  3420  6000005"))) == []
    got = findings(make_xml(_pedimento("26  47  3420  6000006")))
    assert [f.code for f in got] == ["CFDI40194"]
    assert "excede la cantidad 5" in got[0].detail


@pytest.mark.parametrize("numero, why", BAD_PEDIMENTOS)
def test_cfdi40199_numero_pedimento_de_parte_invalido(make_xml, findings, numero, why):
    got = findings(make_xml(_pedimento(numero, en_parte=True)))
    assert [f.code for f in got] == ["CFDI40199"]
    assert got[0].node == "Conceptos/Concepto[1]/Parte[1]/InformacionAduanera[1]@NumeroPedimento"
    assert why in got[0].detail


def test_cfdi40197_the_second_parte_is_checked_too(make_xml, findings):
    def partes(r):
        c = node(r, C1)
        add(c, "Parte", ClaveProdServ="43232408", Cantidad="1", Descripcion="Licencia", ValorUnitario="10.00",
            Importe="10.00")
        add(c, "Parte", ClaveProdServ="43232408", Cantidad="1", Descripcion="Soporte", ValorUnitario="0",
            Importe="0.00")

    got = [(f.code, f.node) for f in findings(make_xml(partes))]
    assert got == [("CFDI40197", "Conceptos/Concepto[1]/Parte[2]@ValorUnitario")]


def test_a_comment_before_the_impuestos_of_a_concepto_changes_nothing(make_xml, codes):
    assert codes(make_xml(lambda r: node(r, C1).insert(0, etree.Comment(" nota ")))) == []


def test_cfdi40199_numero_pedimento_de_parte_valido_pasa(make_xml, codes):
    assert codes(make_xml(_pedimento(PEDIMENTO_OK, en_parte=True))) == []


def _comercio_exterior(root: etree._Element) -> None:
    root.set("Exportacion", "02")
    comp = etree.SubElement(root, q("Complemento"))
    cce = etree.SubElement(comp, f"{{{NS_CCE20}}}ComercioExterior", nsmap={"cce20": NS_CCE20}, Version="2.0",
                           ClaveDePedimento="A1", CertificadoOrigen="0", TipoCambioUSD="1", TotalUSD="0.00")
    ms = etree.SubElement(cce, f"{{{NS_CCE20}}}Mercancias")
    etree.SubElement(ms, f"{{{NS_CCE20}}}Mercancia", NoIdentificacion="SKU-00001", ValorDolares="0.00")


@pytest.mark.parametrize("en_parte, code, node", [
    (False, "CFDI40195", "Conceptos/Concepto[1]/InformacionAduanera[1]@NumeroPedimento"),
    (True, "CFDI40200", "Conceptos/Concepto[1]/Parte[1]/InformacionAduanera[1]@NumeroPedimento"),
])
def test_cfdi40195_cfdi40200_pedimento_con_comercio_exterior(make_xml, findings, en_parte, code, node):
    def mutate(r):
        _pedimento(PEDIMENTO_OK, en_parte)(r)
        _comercio_exterior(r)

    got = findings(make_xml(mutate))
    assert "301" not in [f.code for f in got], got  # the complement is schema-valid: the rules ran
    assert nodes(got, code) == [node]
    assert not nodes(got, "CFDI40194") and not nodes(got, "CFDI40199")


def test_cfdi40195_comercio_exterior_sin_pedimento_pasa(make_xml, findings):
    got = findings(make_xml(_comercio_exterior))
    assert "301" not in [f.code for f in got], got
    assert not nodes(got, "CFDI40195") and not nodes(got, "CFDI40200")


def test_cfdi40195_pedimento_sin_comercio_exterior_pasa(make_xml, codes):
    assert codes(make_xml(_pedimento(PEDIMENTO_OK))) == []


# -- Parte ---------------------------------------------------------------------------------------------
def _parte(**attrs: str):
    def mutate(r):
        add(node(r, C3), "Parte", ClaveProdServ="81111500", Descripcion="Horas de soporte", **attrs)

    return mutate


def test_cfdi40197_parte_valor_unitario_cero(make_xml, findings):
    got = findings(make_xml(_parte(Cantidad="1", ValorUnitario="0")))
    assert [f.code for f in got] == ["CFDI40197"]
    assert got[0].node == "Conceptos/Concepto[3]/Parte[1]@ValorUnitario"


def test_cfdi40197_parte_valor_unitario_minimo_pasa(make_xml, codes):
    assert codes(make_xml(_parte(Cantidad="1", ValorUnitario="0.000001"))) == []


@pytest.mark.parametrize("importe", ["20.03", "19.97"])
def test_cfdi40198_parte_importe_fuera_de_limites(make_xml, findings, importe):
    # (2 ∓ 0.0000005) × (10.00 ∓ 0.005): 19.98 .. 20.02
    got = findings(make_xml(_parte(Cantidad="2.000000", ValorUnitario="10.00", Importe=importe)))
    assert [f.code for f in got] == ["CFDI40198"]
    assert got[0].node == "Conceptos/Concepto[3]/Parte[1]@Importe"
    assert got[0].expected == "19.98 .. 20.02"


@pytest.mark.parametrize("importe", ["20.02", "19.98", "20.00"])
def test_cfdi40198_parte_importe_en_el_limite_pasa(make_xml, codes, importe):
    assert codes(make_xml(_parte(Cantidad="2.000000", ValorUnitario="10.00", Importe=importe))) == []


def test_cfdi40198_parte_sin_valor_unitario_no_se_verifica(make_xml, codes):
    assert codes(make_xml(_parte(Cantidad="2", Importe="999.99"))) == []


# -- many conceptos: every finding, each on its own node -------------------------------------------------
def test_todos_los_hallazgos_en_sus_nodos(make_xml, findings):
    def mutate(r):
        cs = r.find(q("Conceptos")).findall(q("Concepto"))
        cs[4].set("Cantidad", "3.000000")
        cs[4].set("Importe", "751.00")
        cs[10].set("ObjetoImp", "03")
        recompute(r)

    got = findings(make_xml(mutate, conceptos=12))
    assert sorted((f.code, f.node) for f in got) == [
        ("CFDI40167", "Conceptos/Concepto[5]@Importe"),
        ("CFDI40172", "Conceptos/Concepto[11]@ObjetoImp"),
    ]


def test_pedimento_cantidades_reads_c_num_pedimento_aduana():
    """The shipped data lacks c_NumPedimentoAduana (SOURCES.md): its reading is tested with rows made here."""
    class Cats:
        def has_table(self, name):
            return name == "cfdi_40_numeros_pedimento_aduana"

        def rows(self, name):
            return [{"aduana": "1", "patente": "42", "ejercicio": "2025", "cantidad": "7"},
                    {"aduana": "47", "patente": "3420", "ejercicio": "2026", "cantidad": "90"},
                    {"aduana": "47", "patente": "3420", "ejercicio": "2026", "cantidad": "120"},
                    {"aduana": "47", "patente": "3420", "ejercicio": "2026", "cantidad": "100"},
                    {"aduana": "47", "patente": "3420", "ejercicio": "2126", "cantidad": "x"},
                    {"aduana": "48"},
                    {"aduana": "02", "patente": "0001", "ejercicio": "2026", "cantidad": "0"}]

    assert conceptos.pedimento_cantidades(Cats()) == {("01", "0042", 25): 7, ("47", "3420", 26): 120,
                                                      ("02", "0001", 26): 0}
