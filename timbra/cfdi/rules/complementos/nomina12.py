"""Complemento de Nómina 1.2 (revisión D) — SAT's matrix, codes NOM1-NOM108.

Every rule returns at once when the CFDI carries no nomina12:Nomina (NOM30 looks for a Nomina anywhere,
which lxml answers without walking the tree when the document has no element of that name).

- The Comprobante, its Emisor, Receptor and its single Concepto (NOM1-NOM8, NOM11-NOM29) as SAT fixes
  them for a payroll CFDI; NOM30: the Nomina only as a child of cfdi:Complemento.
- The Nomina's totals against its nodes (NOM31, NOM36-NOM40), Percepciones (NOM69-NOM87, NOM89, NOM90),
  Deducciones (NOM91-NOM96), OtrosPagos (NOM98-NOM103, NOM105-NOM108); the Emisor's RegistroPatronal and
  EntidadSNCF (NOM42-NOM44, NOM48-NOM50); the Receptor's dates, seniority, régimen, bank account, state
  and subcontracting (NOM33-NOM35, NOM53-NOM55, NOM57, NOM58, NOM62-NOM66, NOM68).
- Catalog values (NOM32, NOM47, NOM51, NOM52, NOM56, NOM59-NOM61, NOM66, NOM76, NOM88, NOM93, NOM97,
  NOM104) are reported by claves.py with these codes (registered below); NOM66's "país MEX" half is here.
- Not here (timbra/cfdi/rules/not_applicable.py): the SNCF mark of SAT's list of RFCs (NOM45, NOM46),
  what the XSD already requires (NOM10) and SAT's catch-all NOM109.

Readings of the matrix:
- The person kind comes from the RFC's length (12 moral, 13 física), as the matrix says.
- A CFDI may hold more than one Nomina (ordinaria and extraordinaria together): each is checked on its own,
  and the Concepto's ValorUnitario, Importe and Descuento (NOM20-NOM22) against the sum of their totals.
- An absent total counts as zero where the matrix compares amounts (NOM22: no Descuento and no
  TotalDeducciones agree); a total that must exist and does not is reported with no value.
- NOM55: the years, months and days from FechaInicioRelLaboral to FechaFinalPago, as a calendar counts
  them (months added with the day clamped to the month's end); counting FechaFinalPago as a day worked
  (one day more) is accepted too, as NOM54 counts it for weeks.
- NOM13 reports a second Concepto; a Concepto's child nodes get their own codes (NOM24-NOM29).
- NOM103: the year before FechaPago's is always accepted; FechaPago's own year when the pay period
  (FechaFinalPago) or FechaPago falls in December.
- NOM105: as its description says, an OtroPago 002 registered together with a 007 or 008 is reported too.
- NOM66 and the other catalogs: membership only, as claves.py checks every catalog (no vigencia dates).
- Amounts are t_ImporteMXN (two decimals, enforced by the XSD), so sums are exact Decimals; NOM108's
  limit (15.63 × NumDiasPagados) is rounded up to cents.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

from lxml import etree

from timbra.cfdi.document import path_of
from timbra.cfdi.periods import elapsed
from timbra.cfdi.rfc import FISICA, MORAL, RFC_GENERICO_NACIONAL, persona_de_rfc
from timbra.cfdi.rules import (
    Context,
    child_exists_iff,
    exists_iff,
    for_each,
    rule,
    to_decimal,
    when,
)
from timbra.cfdi.rules.claves import catalog_codes
from timbra.cfdi.rules.emisor import no_inscrito
from timbra.sat.catalogs import collapse

NS = "http://www.sat.gob.mx/nomina12"
# Every rule of this module is about the Nómina: it runs only where the document has one (rules.run_rules).
NODE = NS
NOMINA_TAG = f"{{{NS}}}Nomina"
_KEY = "nomina12.nominas"

ZERO = Decimal(0)
CENT = Decimal("0.01")
SUBSIDIO_TOPE_MENSUAL = Decimal("475.00")
SUBSIDIO_FACTOR_DIARIO = Decimal("15.63")
DIAS_MES = Decimal(31)

CLAVE_PROD_SERV = "84111505"
CLAVE_UNIDAD = "ACT"
DESCRIPCION = "Pago de nómina"
OBJETO_IMP = "01"
REGIMEN_RECEPTOR = "605"
USO_CFDI = "CN01"

SEPARACION = frozenset({"022", "023", "025"})
JUBILACION = frozenset({"039", "044"})
NO_SUELDOS = SEPARACION | JUBILACION
CONTRATOS_CON_REGISTRO = frozenset(f"{n:02d}" for n in range(1, 9))  # 01-08
CONTRATOS_SIN_REGISTRO = frozenset({"09", "10", "99"})
REGIMENES_ASALARIADOS = frozenset({"02", "03", "04"})
SUBSIDIO, ISR_AJUSTADO, SUBSIDIO_NO_CORRESPONDIA = "002", "007", "008"
LONGITUDES_CUENTA = (10, 11, 16, 18)
CLABE = 18

catalog_codes(NS, {
    ("Nomina", "TipoNomina"): "NOM32",
    ("EntidadSNCF", "OrigenRecurso"): "NOM47",
    ("Receptor", "TipoContrato"): "NOM51",
    ("Receptor", "TipoJornada"): "NOM52",
    ("Receptor", "TipoRegimen"): "NOM56",
    ("Receptor", "RiesgoPuesto"): "NOM59",
    ("Receptor", "PeriodicidadPago"): "NOM60",
    ("Receptor", "Banco"): "NOM61",
    ("Receptor", "ClaveEntFed"): "NOM66",
    ("Percepcion", "TipoPercepcion"): "NOM76",
    ("HorasExtra", "TipoHoras"): "NOM88",
    ("Deduccion", "TipoDeduccion"): "NOM93",
    ("OtroPago", "TipoOtroPago"): "NOM97",
    ("Incapacidad", "TipoIncapacidad"): "NOM104",
})


# -- reading the complement ---------------------------------------------------------------------------

def _t(local: str) -> str:
    return f"{{{NS}}}{local}"


@dataclass(slots=True, eq=False)
class Percepcion:
    el: etree._Element
    tipo: str
    acciones: etree._Element | None
    horas_extra: list[etree._Element]


@dataclass(slots=True, eq=False)
class Deduccion:
    el: etree._Element
    tipo: str


@dataclass(slots=True, eq=False)
class OtroPago:
    el: etree._Element
    tipo: str
    subsidio: etree._Element | None
    compensacion: etree._Element | None


@dataclass(slots=True, eq=False)
class Nomina:
    """One nomina12:Nomina and the nodes the rules read, found in one pass over its children (the rules then
    share it instead of searching the tree forty times)."""

    el: etree._Element
    emisor: etree._Element | None = None
    entidad_sncf: etree._Element | None = None
    receptor: etree._Element | None = None
    subcontratacion: list[etree._Element] = field(default_factory=list)
    percepciones: etree._Element | None = None
    percepcion: list[Percepcion] = field(default_factory=list)
    jubilacion: etree._Element | None = None
    separacion: etree._Element | None = None
    deducciones: etree._Element | None = None
    deduccion: list[Deduccion] = field(default_factory=list)
    otros_pagos: etree._Element | None = None
    otro_pago: list[OtroPago] = field(default_factory=list)
    incapacidades: etree._Element | None = None
    incapacidad: list[etree._Element] = field(default_factory=list)

    def get(self, attr: str) -> str | None:
        return self.el.get(attr)


_T = {local: _t(local) for local in (
    "Emisor", "EntidadSNCF", "Receptor", "SubContratacion", "Percepciones", "Percepcion", "AccionesOTitulos",
    "HorasExtra", "JubilacionPensionRetiro", "SeparacionIndemnizacion", "Deducciones", "Deduccion", "OtrosPagos",
    "OtroPago", "SubsidioAlEmpleo", "CompensacionSaldosAFavor", "Incapacidades", "Incapacidad")}


def _first(el: etree._Element, local: str) -> etree._Element | None:
    # iterchildren(tag) stays in C; find() parses an ElementPath expression on every call.
    return next(el.iterchildren(_T[local]), None)


def _read(el: etree._Element) -> Nomina:
    n = Nomina(el)
    for child in el.iterchildren(etree.Element):
        tag = child.tag
        if tag == _T["Emisor"]:
            n.emisor, n.entidad_sncf = child, _first(child, "EntidadSNCF")
        elif tag == _T["Receptor"]:
            n.receptor, n.subcontratacion = child, list(child.iterchildren(_T["SubContratacion"]))
        elif tag == _T["Percepciones"]:
            n.percepciones = child
            for p in child.iterchildren(etree.Element):
                if p.tag == _T["Percepcion"]:
                    n.percepcion.append(Percepcion(p, _tipo(p, "TipoPercepcion"), _first(p, "AccionesOTitulos"),
                                                   list(p.iterchildren(_T["HorasExtra"]))))
                elif p.tag == _T["JubilacionPensionRetiro"]:
                    n.jubilacion = p
                elif p.tag == _T["SeparacionIndemnizacion"]:
                    n.separacion = p
        elif tag == _T["Deducciones"]:
            n.deducciones = child
            n.deduccion = [Deduccion(d, _tipo(d, "TipoDeduccion")) for d in child.iterchildren(_T["Deduccion"])]
        elif tag == _T["OtrosPagos"]:
            n.otros_pagos = child
            n.otro_pago = [OtroPago(o, _tipo(o, "TipoOtroPago"), _first(o, "SubsidioAlEmpleo"),
                                    _first(o, "CompensacionSaldosAFavor"))
                           for o in child.iterchildren(_T["OtroPago"])]
        elif tag == _T["Incapacidades"]:
            n.incapacidades, n.incapacidad = child, list(child.iterchildren(_T["Incapacidad"]))
    return n


def _nominas(ctx: Context) -> list[Nomina]:
    """The document's nomina12:Nomina complements (children of cfdi:Complemento), read once per document."""
    got = ctx.cache.get(_KEY)
    if got is None:
        got = ctx.cache[_KEY] = [_read(c) for c in ctx.complements(NS) if c.tag == NOMINA_TAG]
    return got  # type: ignore[return-value]


def _text(el: etree._Element | None, attr: str) -> str | None:
    """An attribute with XSD's whitespace collapse, or None when absent."""
    if el is None:
        return None
    v = el.get(attr)
    return None if v is None else collapse(v)


def _tipo(el: etree._Element, attr: str) -> str:
    return _text(el, attr) or ""


def _amount(el: etree._Element | None, attr: str) -> Decimal:
    """An amount attribute; absent (or unreadable, which the XSD rejects first) counts as zero."""
    d = None if el is None else to_decimal(el.get(attr))
    return ZERO if d is None else d


def _sum(elements: Iterable[etree._Element], *attrs: str) -> Decimal:
    return sum((_amount(e, a) for e in elements for a in attrs), ZERO)


def _fmt(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return f"{value.quantize(CENT):f}" if value.as_tuple().exponent >= -2 else f"{value:f}"


def _date(text: str | None) -> date | None:
    try:
        return None if text is None else date.fromisoformat(collapse(text))
    except ValueError:
        return None


def _missing(el: etree._Element, local: str) -> str:
    """The path a missing child element would have."""
    return f"{path_of(el)}/{local}"


# -- the Comprobante ------------------------------------------------------------------------------------

_COMPROBANTE_FIJO = (("NOM1", "Moneda", "MXN"), ("NOM2", "TipoDeComprobante", "N"), ("NOM3", "Exportacion", "01"))


@rule("NOM1", "NOM2", "NOM3")
@when(_nominas)
def comprobante(ctx: Context) -> None:
    """NOM1: Moneda MXN. NOM2: TipoDeComprobante N. NOM3: Exportacion 01 (CFDI con complemento de nómina)."""
    for code, attr, expected in _COMPROBANTE_FIJO:
        value = ctx.root.get(attr)
        if value != expected:
            ctx.fail(code, ctx.root, attr, value=value, expected=expected,
                     detail=f"un CFDI con complemento de nómina debe registrar {attr} {expected}")


@rule("NOM4")
@when(_nominas)
def informacion_global(ctx: Context) -> None:
    """NOM4: el nodo InformacionGlobal no debe existir en un CFDI de nómina."""
    ig = ctx.doc.child("InformacionGlobal")
    if ig is not None:
        ctx.fail("NOM4", ig, detail="un CFDI de nómina no es una factura global: quite InformacionGlobal")


@rule("NOM5", "NOM6")
def emisor_curp(ctx: Context) -> None:
    """NOM5: con un emisor persona moral (RFC de 12) no existe Nomina.Emisor.Curp.
    NOM6: con un emisor persona física (RFC de 13) Nomina.Emisor.Curp debe existir."""
    em = ctx.doc.emisor
    if em is None:
        return
    rfc = collapse(em.get("Rfc") or "")
    persona = persona_de_rfc(rfc)
    for n in _nominas(ctx):
        curp = _text(n.emisor, "Curp")
        if persona == MORAL and curp is not None:
            ctx.fail("NOM5", n.emisor, "Curp", value=curp,
                     detail=f"el emisor {rfc} es persona moral (RFC de 12 posiciones): no registre Curp")
        elif persona == FISICA and curp is None:
            where = n.emisor if n.emisor is not None else _missing(n.el, "Emisor")
            ctx.fail("NOM6", where, "Curp",
                     detail=f"el emisor {rfc} es persona física (RFC de 13 posiciones): registre su CURP")


@rule("NOM7")
@when(_nominas)
def fac_atr_adquirente(ctx: Context) -> None:
    """NOM7: Emisor.FacAtrAdquirente no debe existir en un CFDI de nómina."""
    em = ctx.doc.emisor
    if em is None:
        return
    value = em.get("FacAtrAdquirente")
    if value is not None:
        ctx.fail("NOM7", em, "FacAtrAdquirente", value=value,
                 detail="FacAtrAdquirente no aplica a un CFDI de nómina")


@rule("NOM8", "NOM11", "NOM12")
def receptor(ctx: Context) -> None:
    """NOM8: el Receptor es persona física (Rfc de 13). NOM11: RegimenFiscalReceptor 605, aun con el RFC
    genérico. NOM12: UsoCFDI CN01."""
    rec = ctx.doc.receptor
    if rec is None or not _nominas(ctx):
        return
    rfc = collapse(rec.get("Rfc") or "")
    if persona_de_rfc(rfc) != FISICA:
        ctx.fail("NOM8", rec, "Rfc", value=rfc,
                 detail=f"el Rfc del receptor tiene {len(rfc)} posiciones: el trabajador es persona física (13)")
    for code, attr, expected in (("NOM11", "RegimenFiscalReceptor", REGIMEN_RECEPTOR), ("NOM12", "UsoCFDI", USO_CFDI)):
        value = _text(rec, attr)
        if value != expected:
            ctx.fail(code, rec, attr, value=value, expected=expected,
                     detail=f"en un CFDI de nómina {attr} es {expected}")


# -- the Concepto ---------------------------------------------------------------------------------------

@rule("NOM13")
@when(_nominas)
def un_concepto(ctx: Context) -> None:
    """NOM13: un CFDI de nómina registra un solo Concepto (sus nodos hijo: NOM24-NOM29)."""
    conceptos = ctx.doc.conceptos
    if len(conceptos) != 1:
        ctx.fail("NOM13", conceptos[1] if len(conceptos) > 1 else "Conceptos", value=len(conceptos), expected=1,
                 detail=f"el comprobante registra {len(conceptos)} conceptos; la nómina se expresa en uno solo")


# (code, attribute, fixed value; None: the attribute must not exist)
_CONCEPTO_FIJO = (
    ("NOM14", "ClaveProdServ", CLAVE_PROD_SERV),
    ("NOM15", "NoIdentificacion", None),
    ("NOM16", "Cantidad", "1"),
    ("NOM17", "ClaveUnidad", CLAVE_UNIDAD),
    ("NOM18", "Unidad", None),
    ("NOM19", "Descripcion", DESCRIPCION),
    ("NOM23", "ObjetoImp", OBJETO_IMP),
)


@rule("NOM14", "NOM15", "NOM16", "NOM17", "NOM18", "NOM19", "NOM23")
@when(_nominas)
def concepto_fijo(ctx: Context) -> None:
    """NOM14: ClaveProdServ 84111505. NOM15: sin NoIdentificacion. NOM16: Cantidad "1" sin decimales.
    NOM17: ClaveUnidad ACT. NOM18: sin Unidad. NOM19: Descripcion "Pago de nómina". NOM23: ObjetoImp 01."""
    for c in ctx.doc.conceptos:
        for code, attr, expected in _CONCEPTO_FIJO:
            value = c.get(attr)
            if expected is None:
                if value is not None:
                    ctx.fail(code, c, attr, value=value, detail=f"el concepto de nómina no registra {attr}")
            elif value != expected:
                ctx.fail(code, c, attr, value=value, expected=expected,
                         detail=f"el concepto de nómina registra {attr} \"{expected}\"")


@rule("NOM20", "NOM21", "NOM22")
def concepto_importes(ctx: Context) -> None:
    """NOM20, NOM21: ValorUnitario e Importe del concepto = TotalPercepciones + TotalOtrosPagos.
    NOM22: Descuento del concepto = TotalDeducciones."""
    nominas = _nominas(ctx)
    if not nominas:
        return
    pagado = sum((_amount(n.el, "TotalPercepciones") + _amount(n.el, "TotalOtrosPagos") for n in nominas), ZERO)
    deducido = sum((_amount(n.el, "TotalDeducciones") for n in nominas), ZERO)
    for c in ctx.doc.conceptos:
        for code, attr in (("NOM20", "ValorUnitario"), ("NOM21", "Importe")):
            value = to_decimal(c.get(attr))
            if value is not None and value != pagado:
                ctx.fail(code, c, attr, value=c.get(attr), expected=_fmt(pagado),
                         detail=f"{attr} debe ser TotalPercepciones más TotalOtrosPagos de la nómina ({_fmt(pagado)})")
        text = c.get("Descuento")
        descuento = ZERO if text is None else to_decimal(text)
        if descuento is not None and descuento != deducido:
            ctx.fail("NOM22", c, "Descuento", value=text, expected=_fmt(deducido),
                     detail=f"Descuento debe ser el TotalDeducciones de la nómina ({_fmt(deducido)})")


_CONCEPTO_SIN_HIJOS = (("NOM24", "Impuestos"), ("NOM25", "ACuentaTerceros"), ("NOM26", "InformacionAduanera"),
                       ("NOM27", "CuentaPredial"), ("NOM28", "ComplementoConcepto"), ("NOM29", "Parte"))
_CODIGO_HIJO = {local: code for code, local in _CONCEPTO_SIN_HIJOS}


@rule(*(code for code, _ in _CONCEPTO_SIN_HIJOS))
@when(_nominas)
def concepto_sin_hijos(ctx: Context) -> None:
    """NOM24-NOM29: el concepto de nómina no tiene Impuestos, ACuentaTerceros, InformacionAduanera,
    CuentaPredial, ComplementoConcepto ni Parte."""
    for c in ctx.doc.conceptos:
        for child in c.iterchildren(etree.Element):
            local = etree.QName(child).localname
            code = _CODIGO_HIJO.get(local)
            if code is not None:
                ctx.fail(code, child, detail=f"el concepto de nómina no debe tener el nodo {local}")


@rule("NOM30")
def nomina_en_complemento(ctx: Context) -> None:
    """NOM30: el nodo Nomina se registra como hijo de cfdi:Complemento, nunca en ComplementoConcepto."""
    complemento = ctx.q("Complemento")
    for nom in ctx.root.iter(NOMINA_TAG):
        parent = nom.getparent()
        if parent is None or parent.tag != complemento:
            ctx.fail("NOM30", nom, detail="el complemento de nómina va en cfdi:Complemento del comprobante, "
                                          "no dentro de un concepto")


# -- the Nomina's own attributes -------------------------------------------------------------------------

@rule("NOM31")
@for_each(_nominas)
def nomina_totales(ctx: Context, n: Nomina) -> None:
    """NOM31: la Nomina registra TotalPercepciones o TotalOtrosPagos, o ambos."""
    if n.get("TotalPercepciones") is None and n.get("TotalOtrosPagos") is None:
        ctx.fail("NOM31", n.el, "TotalPercepciones",
                 detail="la nómina no registra TotalPercepciones ni TotalOtrosPagos: registre al menos uno")


@rule("NOM33", "NOM34")
@for_each(_nominas)
def periodicidad(ctx: Context, n: Nomina) -> None:
    """NOM33: una nómina ordinaria (O) no tiene PeriodicidadPago 99.
    NOM34: una nómina extraordinaria (E) tiene PeriodicidadPago 99."""
    periodicidad = _text(n.receptor, "PeriodicidadPago")
    tipo = _text(n.el, "TipoNomina")
    if periodicidad is None:
        return
    if tipo == "O" and periodicidad == "99":
        ctx.fail("NOM33", n.receptor, "PeriodicidadPago", value=periodicidad,
                 detail="una nómina ordinaria (TipoNomina O) no usa la periodicidad 99 (Otra periodicidad)")
    elif tipo == "E" and periodicidad != "99":
        ctx.fail("NOM34", n.receptor, "PeriodicidadPago", value=periodicidad, expected="99",
                 detail="una nómina extraordinaria (TipoNomina E) usa la periodicidad 99 (Otra periodicidad)")


@rule("NOM35")
@for_each(_nominas)
def periodo_de_pago(ctx: Context, n: Nomina) -> None:
    """NOM35: FechaInicialPago es menor o igual que FechaFinalPago."""
    inicial, final = _date(n.get("FechaInicialPago")), _date(n.get("FechaFinalPago"))
    if inicial is not None and final is not None and inicial > final:
        ctx.fail("NOM35", n.el, "FechaInicialPago", value=inicial.isoformat(), expected=f"<= {final.isoformat()}",
                 detail=f"el periodo de pago empieza ({inicial}) después de terminar ({final})")


@rule("NOM36", "NOM37")
@for_each(_nominas)
def total_percepciones(ctx: Context, n: Nomina) -> None:
    """NOM36: sin nodo Percepciones no existe TotalPercepciones.
    NOM37: con Percepciones, TotalPercepciones = TotalSueldos + TotalSeparacionIndemnizacion +
    TotalJubilacionPensionRetiro."""
    text = n.get("TotalPercepciones")
    if n.percepciones is None:
        if text is not None:
            ctx.fail("NOM36", n.el, "TotalPercepciones", value=text,
                     detail="la nómina no tiene nodo Percepciones: no registre TotalPercepciones")
        return
    expected = _sum([n.percepciones], "TotalSueldos", "TotalSeparacionIndemnizacion",
                    "TotalJubilacionPensionRetiro")
    value = to_decimal(text)
    if value is None or value != expected:
        ctx.fail("NOM37", n.el, "TotalPercepciones", value=text, expected=_fmt(expected),
                 detail="TotalPercepciones es la suma de TotalSueldos, TotalSeparacionIndemnizacion y "
                        f"TotalJubilacionPensionRetiro de Percepciones ({_fmt(expected)})")


@rule("NOM38", "NOM39")
@for_each(_nominas)
def total_deducciones(ctx: Context, n: Nomina) -> None:
    """NOM38: sin nodo Deducciones no existe TotalDeducciones.
    NOM39: con Deducciones, TotalDeducciones = TotalOtrasDeducciones + TotalImpuestosRetenidos."""
    text = n.get("TotalDeducciones")
    if n.deducciones is None:
        if text is not None:
            ctx.fail("NOM38", n.el, "TotalDeducciones", value=text,
                     detail="la nómina no tiene nodo Deducciones: no registre TotalDeducciones")
        return
    expected = _sum([n.deducciones], "TotalOtrasDeducciones", "TotalImpuestosRetenidos")
    value = to_decimal(text)
    if value is None or value != expected:
        ctx.fail("NOM39", n.el, "TotalDeducciones", value=text, expected=_fmt(expected),
                 detail="TotalDeducciones es la suma de TotalOtrasDeducciones y TotalImpuestosRetenidos de "
                        f"Deducciones ({_fmt(expected)})")


@rule("NOM40")
@for_each(_nominas)
def total_otros_pagos(ctx: Context, n: Nomina) -> None:
    """NOM40: con nodo OtrosPagos, TotalOtrosPagos existe y es la suma de los Importe de OtroPago."""
    if n.otros_pagos is None:
        return
    expected = _sum((o.el for o in n.otro_pago), "Importe")
    text = n.get("TotalOtrosPagos")
    value = to_decimal(text)
    if value is None or value != expected:
        ctx.fail("NOM40", n.el, "TotalOtrosPagos", value=text, expected=_fmt(expected),
                 detail=f"TotalOtrosPagos es la suma de los Importe de OtroPago ({_fmt(expected)})")


# -- Nomina.Emisor -------------------------------------------------------------------------------------

@rule("NOM42", "NOM43")
@for_each(_nominas)
def registro_patronal(ctx: Context, n: Nomina) -> None:
    """NOM42: con TipoContrato 01 a 08 existe Nomina.Emisor.RegistroPatronal.
    NOM43: con TipoContrato 09, 10 o 99 no existe RegistroPatronal."""
    contrato = _text(n.receptor, "TipoContrato")
    registro = _text(n.emisor, "RegistroPatronal")
    if contrato in CONTRATOS_CON_REGISTRO or contrato in CONTRATOS_SIN_REGISTRO:
        exists_iff(ctx, "NOM42", n.emisor if n.emisor is not None else _missing(n.el, "Emisor"), "RegistroPatronal",
                   registro, contrato in CONTRATOS_CON_REGISTRO, code_present="NOM43",
                   missing=f"con TipoContrato {contrato} (relación laboral subordinada) registre el RegistroPatronal",
                   present=f"con TipoContrato {contrato} no se registra RegistroPatronal")


_CON_REGISTRO_PATRONAL = ("NumSeguridadSocial", "FechaInicioRelLaboral", "Antigüedad", "RiesgoPuesto",
                          "SalarioDiarioIntegrado")


@rule("NOM44")
@for_each(_nominas)
def datos_seguridad_social(ctx: Context, n: Nomina) -> None:
    """NOM44: con RegistroPatronal, el Receptor registra NumSeguridadSocial, FechaInicioRelLaboral, Antigüedad,
    RiesgoPuesto y SalarioDiarioIntegrado (un hallazgo por atributo que falta)."""
    registro = _text(n.emisor, "RegistroPatronal")
    if registro is None or n.receptor is None:
        return
    for attr in _CON_REGISTRO_PATRONAL:
        if n.receptor.get(attr) is None:
            ctx.fail("NOM44", n.receptor, attr,
                     detail=f"el emisor registra RegistroPatronal {registro}: el receptor debe registrar {attr}")


@rule("NOM48", "NOM49", "NOM50")
@for_each(_nominas)
def entidad_sncf(ctx: Context, n: Nomina) -> None:
    """NOM48: con OrigenRecurso IM (ingresos mixtos) existe MontoRecursoPropio. NOM49: con otro origen no existe.
    NOM50: MontoRecursoPropio es menor que TotalPercepciones + TotalOtrosPagos."""
    sncf = n.entidad_sncf
    if sncf is None:
        return
    origen = _text(sncf, "OrigenRecurso")
    monto_text = sncf.get("MontoRecursoPropio")
    exists_iff(ctx, "NOM48", sncf, "MontoRecursoPropio", monto_text, origen == "IM", code_present="NOM49",
               missing="con OrigenRecurso IM (ingresos mixtos) registre MontoRecursoPropio",
               present=f"MontoRecursoPropio sólo se registra con OrigenRecurso IM; el origen es {origen}")
    monto = to_decimal(monto_text)
    limite = _amount(n.el, "TotalPercepciones") + _amount(n.el, "TotalOtrosPagos")
    if monto is not None and monto >= limite:
        ctx.fail("NOM50", sncf, "MontoRecursoPropio", value=monto_text, expected=f"< {_fmt(limite)}",
                 detail="MontoRecursoPropio debe ser menor que TotalPercepciones más TotalOtrosPagos "
                        f"({_fmt(limite)})")


# -- Nomina.Receptor ------------------------------------------------------------------------------------

_ANTIGUEDAD = re.compile(r"P(?:(?P<w>[0-9]+)W|(?:(?P<y>[0-9]+)Y)?(?:(?P<m>[0-9]+)M)?(?P<d>[0-9]+)D)")


def _ymd(months: int, days: int) -> str:
    y, m = divmod(months, 12)
    return f"P{f'{y}Y' if y else ''}{f'{m}M' if m else ''}{days}D"


@rule("NOM53", "NOM54", "NOM55")
@for_each(_nominas)
def antiguedad(ctx: Context, n: Nomina) -> None:
    """NOM53: FechaInicioRelLaboral es menor o igual que FechaFinalPago.
    NOM54: una Antigüedad en semanas (PnW) no pasa de (días de FechaInicioRelLaboral a FechaFinalPago + 1) / 7.
    NOM55: una Antigüedad en años, meses y días (PnYnMnD) es el tiempo de FechaInicioRelLaboral a FechaFinalPago."""
    rec = n.receptor
    inicio = _date(_text(rec, "FechaInicioRelLaboral"))
    final = _date(n.get("FechaFinalPago"))
    if rec is None or inicio is None or final is None:
        return
    if inicio > final:
        ctx.fail("NOM53", rec, "FechaInicioRelLaboral", value=inicio.isoformat(),
                 expected=f"<= {final.isoformat()}",
                 detail=f"la relación laboral empieza ({inicio}) después del fin del periodo de pago ({final})")
        return
    text = _text(rec, "Antigüedad")
    m = _ANTIGUEDAD.fullmatch(text or "")
    if m is None:
        return
    if m["w"] is not None:
        dias = (final - inicio).days + 1
        if int(m["w"]) > dias // 7:
            ctx.fail("NOM54", rec, "Antigüedad", value=text, expected=f"<= P{dias // 7}W",
                     detail=f"de {inicio} a {final} hay {dias} días: a lo más {dias // 7} semanas")
        return
    declared = (int(m["y"] or 0) * 12 + int(m["m"] or 0), int(m["d"]))
    exact = elapsed(inicio, final)
    counting_last_day = elapsed(inicio, final + timedelta(days=1))
    if declared not in (exact, counting_last_day):
        ctx.fail("NOM55", rec, "Antigüedad", value=text, expected=_ymd(*exact),
                 detail=f"de {inicio} a {final} transcurren {_ymd(*exact)} "
                        f"({_ymd(*counting_last_day)} contando el último día)")


@rule("NOM57", "NOM58")
@for_each(_nominas)
def tipo_regimen(ctx: Context, n: Nomina) -> None:
    """NOM57: con TipoContrato 01 a 08, TipoRegimen es 02, 03 o 04.
    NOM58: con TipoContrato 09 o superior, TipoRegimen está entre 05 y 99."""
    contrato, regimen = _text(n.receptor, "TipoContrato"), _text(n.receptor, "TipoRegimen")
    if contrato is None or regimen is None:
        return
    if contrato in CONTRATOS_CON_REGISTRO and regimen not in REGIMENES_ASALARIADOS:
        ctx.fail("NOM57", n.receptor, "TipoRegimen", value=regimen, expected="02, 03, 04",
                 detail=f"con TipoContrato {contrato} el régimen es de sueldos, jubilados o pensionados")
    elif contrato in CONTRATOS_SIN_REGISTRO and not (regimen.isdigit() and 5 <= int(regimen) <= 99):
        ctx.fail("NOM58", n.receptor, "TipoRegimen", value=regimen, expected="05 a 99",
                 detail=f"con TipoContrato {contrato} el régimen no es de sueldos, jubilados ni pensionados")


def clabe_check_digit(first17: str) -> int:
    """The CLABE's control digit: weights 3, 7, 1 over the first 17 digits, each product modulo 10."""
    total = sum(int(d) * (3, 7, 1)[i % 3] % 10 for i, d in enumerate(first17))
    return (10 - total % 10) % 10


@rule("NOM62", "NOM63", "NOM64", "NOM65")
@for_each(_nominas)
def cuenta_bancaria(ctx: Context, n: Nomina) -> None:
    """NOM62: CuentaBancaria tiene 10, 11, 16 o 18 posiciones. NOM63: con una CLABE (18) no existe Banco.
    NOM64: el dígito de control de la CLABE es correcto. NOM65: con 10, 11 o 16 posiciones existe Banco."""
    rec = n.receptor
    cuenta = _text(rec, "CuentaBancaria")
    if rec is None or cuenta is None:
        return
    size = len(cuenta)
    banco = _text(rec, "Banco")
    if size not in LONGITUDES_CUENTA:
        ctx.fail("NOM62", rec, "CuentaBancaria", value=cuenta, expected="10, 11, 16 o 18 posiciones",
                 detail=f"la cuenta tiene {size} posiciones: celular (10), cuenta (11), tarjeta (16) o CLABE (18)")
    elif size == CLABE:
        if banco is not None:
            ctx.fail("NOM63", rec, "Banco", value=banco,
                     detail="con una CLABE (18 posiciones) no se registra Banco: la CLABE ya lo identifica")
        if cuenta.isdigit():
            digit = clabe_check_digit(cuenta[:17])
            if int(cuenta[17]) != digit:
                ctx.fail("NOM64", rec, "CuentaBancaria", value=cuenta, expected=f"{cuenta[:17]}{digit}",
                         detail=f"el dígito de control de la CLABE es {digit}, no {cuenta[17]}")
    elif banco is None:
        ctx.fail("NOM65", rec, "Banco", detail=f"con una cuenta de {size} posiciones (no CLABE) registre el Banco")


@rule("NOM66")
@for_each(_nominas)
def clave_ent_fed(ctx: Context, n: Nomina) -> None:
    """NOM66: ClaveEntFed es una clave de c_Estado del país MEX (la que no está en c_Estado: claves.py)."""
    clave = _text(n.receptor, "ClaveEntFed")
    if clave is None or not ctx.catalogs.has_table("nomina_estados"):
        return
    row = ctx.catalogs.row("nomina_estados", clave, "estado")
    if row is not None and row.get("pais") != "MEX":
        ctx.fail("NOM66", n.receptor, "ClaveEntFed", value=clave,
                 detail=f"{clave} ({row.get('texto', '')}) es un estado de {row.get('pais')}: la entidad "
                        "donde se prestó el servicio es una de México")


@rule("NOM68")
@for_each(_nominas)
def subcontratacion(ctx: Context, n: Nomina) -> None:
    """NOM68: la suma de PorcentajeTiempo de los nodos SubContratacion es 100."""
    subs = n.subcontratacion
    if not subs:
        return
    total = _sum(subs, "PorcentajeTiempo")
    if total != 100:
        ctx.fail("NOM68", subs[0], "PorcentajeTiempo", value=f"{total:f}", expected="100",
                 detail=f"los {len(subs)} nodos SubContratacion suman {total:f}% del tiempo; deben sumar 100%")


# -- Percepciones ---------------------------------------------------------------------------------------

def _con_percepciones(ctx: Context) -> Iterable[tuple[Nomina, etree._Element]]:
    """Each Nomina with a Percepciones node, and that node."""
    for n in _nominas(ctx):
        if n.percepciones is not None:
            yield n, n.percepciones


def _importe(p: Percepcion) -> Decimal:
    return _amount(p.el, "ImporteGravado") + _amount(p.el, "ImporteExento")


@rule("NOM69")
def percepciones_gravado_exento(ctx: Context) -> None:
    """NOM69: TotalSueldos + TotalSeparacionIndemnizacion + TotalJubilacionPensionRetiro = TotalGravado +
    TotalExento."""
    for _, ps in _con_percepciones(ctx):
        totales = _sum([ps], "TotalSueldos", "TotalSeparacionIndemnizacion", "TotalJubilacionPensionRetiro")
        gravado_exento = _sum([ps], "TotalGravado", "TotalExento")
        if totales != gravado_exento:
            ctx.fail("NOM69", ps, value=_fmt(totales), expected=_fmt(gravado_exento),
                     detail=f"TotalSueldos, TotalSeparacionIndemnizacion y TotalJubilacionPensionRetiro suman "
                            f"{_fmt(totales)}; TotalGravado más TotalExento es {_fmt(gravado_exento)}")


# (code, attribute of Percepciones, the TipoPercepcion it sums, description)
_SUBTOTALES = (
    ("NOM70", "TotalSueldos", lambda t: t not in NO_SUELDOS, "distinto de 022, 023, 025, 039 y 044"),
    ("NOM71", "TotalSeparacionIndemnizacion", SEPARACION.__contains__, "022, 023 o 025"),
    ("NOM72", "TotalJubilacionPensionRetiro", JUBILACION.__contains__, "039 o 044"),
)


@rule("NOM70", "NOM71", "NOM72")
def percepciones_subtotales(ctx: Context) -> None:
    """NOM70: TotalSueldos = ImporteGravado + ImporteExento de las percepciones distintas de 022, 023, 025, 039
    y 044. NOM71: TotalSeparacionIndemnizacion, de las 022, 023 y 025. NOM72: TotalJubilacionPensionRetiro,
    de las 039 y 044. (Cuando el total no existe y debe existir: NOM77-NOM79.)"""
    for n, ps in _con_percepciones(ctx):
        for code, attr, applies, which in _SUBTOTALES:
            text = ps.get(attr)
            if text is None:
                continue
            expected = sum((_importe(p) for p in n.percepcion if applies(p.tipo)), ZERO)
            if to_decimal(text) != expected:
                ctx.fail(code, ps, attr, value=text, expected=_fmt(expected),
                         detail=f"{attr} es la suma de ImporteGravado e ImporteExento de las percepciones con "
                                f"TipoPercepcion {which} ({_fmt(expected)})")


@rule("NOM73", "NOM74")
def percepciones_totales(ctx: Context) -> None:
    """NOM73: TotalGravado = suma de ImporteGravado. NOM74: TotalExento = suma de ImporteExento."""
    for n, ps in _con_percepciones(ctx):
        for code, attr, item_attr in (("NOM73", "TotalGravado", "ImporteGravado"),
                                      ("NOM74", "TotalExento", "ImporteExento")):
            expected = _sum((p.el for p in n.percepcion), item_attr)
            text = ps.get(attr)
            if to_decimal(text) != expected:
                ctx.fail(code, ps, attr, value=text, expected=_fmt(expected),
                         detail=f"{attr} es la suma de {item_attr} de los nodos Percepcion ({_fmt(expected)})")


@rule("NOM75")
def percepcion_positiva(ctx: Context) -> None:
    """NOM75: en cada Percepcion, ImporteGravado + ImporteExento es mayor que cero."""
    for n, _ in _con_percepciones(ctx):
        for p in n.percepcion:
            if _importe(p) <= ZERO:
                ctx.fail("NOM75", p.el, "ImporteGravado", value=p.el.get("ImporteGravado"), expected="> 0",
                         detail=f"la percepción {p.tipo} no tiene importe: ImporteGravado "
                                f"{p.el.get('ImporteGravado')} e ImporteExento {p.el.get('ImporteExento')}")


@rule("NOM77", "NOM78", "NOM79")
def percepciones_por_tipo(ctx: Context) -> None:
    """NOM77: con una percepción distinta de 022, 023, 025, 039 y 044 existe TotalSueldos.
    NOM78: con una percepción 022, 023 o 025 existen TotalSeparacionIndemnizacion y SeparacionIndemnizacion.
    NOM79: con una percepción 039 o 044 existen TotalJubilacionPensionRetiro y JubilacionPensionRetiro; sin
    ellas, no existen."""
    for n, ps in _con_percepciones(ctx):
        tipos = [p.tipo for p in n.percepcion]
        sueldo = next((t for t in tipos if t not in NO_SUELDOS), None)
        if sueldo is not None and ps.get("TotalSueldos") is None:
            ctx.fail("NOM77", ps, "TotalSueldos",
                     detail=f"hay una percepción {sueldo} (sueldos): registre TotalSueldos")
        separacion = next((t for t in tipos if t in SEPARACION), None)
        if separacion is not None:
            if ps.get("TotalSeparacionIndemnizacion") is None:
                ctx.fail("NOM78", ps, "TotalSeparacionIndemnizacion",
                         detail=f"hay una percepción {separacion}: registre TotalSeparacionIndemnizacion")
            if n.separacion is None:
                ctx.fail("NOM78", _missing(ps, "SeparacionIndemnizacion"),
                         detail=f"hay una percepción {separacion}: registre el nodo SeparacionIndemnizacion")
        jubilacion = next((t for t in tipos if t in JUBILACION), None)
        exists_iff(ctx, "NOM79", ps, "TotalJubilacionPensionRetiro", ps.get("TotalJubilacionPensionRetiro"),
                   jubilacion is not None,
                   missing=f"hay una percepción {jubilacion}: registre TotalJubilacionPensionRetiro",
                   present="no hay percepciones 039 ni 044: no registre TotalJubilacionPensionRetiro")
        child_exists_iff(ctx, "NOM79", ps, "JubilacionPensionRetiro", n.jubilacion, jubilacion is not None,
                         missing=f"hay una percepción {jubilacion}: registre el nodo JubilacionPensionRetiro",
                         present="no hay percepciones 039 ni 044: no registre el nodo JubilacionPensionRetiro")


# (code, TipoPercepcion, JubilacionPensionRetiro attributes required, forbidden, how it is paid)
_JUBILACION_POR_TIPO = (
    ("NOM80", "039", ("TotalUnaExhibicion",), ("TotalParcialidad", "MontoDiario"), "en una exhibición"),
    ("NOM81", "044", ("TotalParcialidad", "MontoDiario"), ("TotalUnaExhibicion",), "en parcialidades"),
)


@rule("NOM80", "NOM81")
def jubilacion_por_tipo(ctx: Context) -> None:
    """NOM80: con una percepción 039 (una exhibición) existe TotalUnaExhibicion y no existen TotalParcialidad ni
    MontoDiario. NOM81: con una 044 (parcialidades) no existe TotalUnaExhibicion y existen TotalParcialidad y
    MontoDiario. (El nodo JubilacionPensionRetiro que falta: NOM79.)"""
    for n, _ in _con_percepciones(ctx):
        jub = n.jubilacion
        if jub is None:
            continue
        tipos = {p.tipo for p in n.percepcion}
        for code, tipo, required, forbidden, forma in _JUBILACION_POR_TIPO:
            if tipo not in tipos:
                continue
            for attrs, needed in ((required, True), (forbidden, False)):
                for attr in attrs:
                    exists_iff(ctx, code, jub, attr, jub.get(attr), needed,
                               missing=f"hay una percepción {tipo} (jubilación {forma}): registre {attr}",
                               present=f"hay una percepción {tipo} (jubilación {forma}): no registre {attr}")


@rule("NOM82", "NOM83", "NOM84", "NOM85")
def percepcion_hijos(ctx: Context) -> None:
    """NOM82: una percepción 045 tiene AccionesOTitulos; NOM83: otra no lo tiene.
    NOM84: una percepción 019 tiene HorasExtra; NOM85: otra no lo tiene."""
    for n, _ in _con_percepciones(ctx):
        for p in n.percepcion:
            horas = p.horas_extra[0] if p.horas_extra else None
            for required, forbidden, clave, local, child in (("NOM82", "NOM83", "045", "AccionesOTitulos", p.acciones),
                                                             ("NOM84", "NOM85", "019", "HorasExtra", horas)):
                child_exists_iff(ctx, required, p.el, local, child, p.tipo == clave, code_present=forbidden,
                                 value=p.tipo, missing_value=p.tipo,
                                 missing=f"la percepción {clave} debe tener el nodo {local}",
                                 present=f"el nodo {local} sólo se registra en percepciones {clave}; esta es {p.tipo}")


def _importe_monetario(n: Nomina) -> Decimal:
    return _sum(n.incapacidad, "ImporteMonetario")


@rule("NOM86", "NOM87")
def percepcion_incapacidad(ctx: Context) -> None:
    """NOM86: con una percepción 014 (subsidios por incapacidad) existe el nodo Incapacidades.
    NOM87: la suma de ImporteMonetario de las incapacidades es ImporteGravado + ImporteExento de la 014."""
    for n, _ in _con_percepciones(ctx):
        del014 = [p for p in n.percepcion if p.tipo == "014"]
        if not del014:
            continue
        if n.incapacidades is None:
            ctx.fail("NOM86", _missing(n.el, "Incapacidades"), value="014",
                     detail="hay una percepción 014 (subsidio por incapacidad): registre el nodo Incapacidades")
            continue
        importe = sum((_importe(p) for p in del014), ZERO)
        monetario = _importe_monetario(n)
        if importe != monetario:
            ctx.fail("NOM87", del014[0].el, value=_fmt(importe), expected=_fmt(monetario),
                     detail=f"la percepción 014 suma {_fmt(importe)} (ImporteGravado más ImporteExento) y las "
                            f"incapacidades suman {_fmt(monetario)} de ImporteMonetario")


@rule("NOM89", "NOM90")
def jubilacion_forma(ctx: Context) -> None:
    """NOM89: con TotalUnaExhibicion no existen MontoDiario ni TotalParcialidad.
    NOM90: con TotalParcialidad existe MontoDiario y no existe TotalUnaExhibicion."""
    for n, _ in _con_percepciones(ctx):
        jub = n.jubilacion
        if jub is None:
            continue
        una, parcialidad = jub.get("TotalUnaExhibicion"), jub.get("TotalParcialidad")
        if una is not None:
            for attr in ("MontoDiario", "TotalParcialidad"):
                if jub.get(attr) is not None:
                    ctx.fail("NOM89", jub, attr, value=jub.get(attr),
                             detail=f"el pago es en una exhibición (TotalUnaExhibicion): no registre {attr}")
        if parcialidad is not None and jub.get("MontoDiario") is None:
            ctx.fail("NOM90", jub, "MontoDiario",
                     detail="el pago es en parcialidades (TotalParcialidad): registre MontoDiario")
        if parcialidad is not None and una is not None:
            ctx.fail("NOM90", jub, "TotalUnaExhibicion", value=una,
                     detail="el pago es en parcialidades (TotalParcialidad): no registre TotalUnaExhibicion")


# -- Deducciones ----------------------------------------------------------------------------------------

@rule("NOM91", "NOM92")
@for_each(_nominas)
def impuestos_retenidos(ctx: Context, n: Nomina) -> None:
    """NOM91: TotalImpuestosRetenidos = suma de Importe de las deducciones 002 (ISR).
    NOM92: sin deducciones 002 no existe TotalImpuestosRetenidos."""
    ds = n.deducciones
    if ds is None:
        return
    isr = [d.el for d in n.deduccion if d.tipo == "002"]
    text = ds.get("TotalImpuestosRetenidos")
    if not isr:
        if text is not None:
            ctx.fail("NOM92", ds, "TotalImpuestosRetenidos", value=text,
                     detail="no hay deducciones 002 (ISR): no registre TotalImpuestosRetenidos")
        return
    expected = _sum(isr, "Importe")
    if to_decimal(text) != expected:
        ctx.fail("NOM91", ds, "TotalImpuestosRetenidos", value=text, expected=_fmt(expected),
                 detail=f"TotalImpuestosRetenidos es la suma de las deducciones 002 (ISR): {_fmt(expected)}")


@rule("NOM94", "NOM95")
@for_each(_nominas)
def deduccion_incapacidad(ctx: Context, n: Nomina) -> None:
    """NOM94: con una deducción 006 (descuento por incapacidad) existe el nodo Incapacidades.
    NOM95: el Importe de la deducción 006 es la suma de ImporteMonetario de las incapacidades."""
    for d in n.deduccion:
        if d.tipo != "006":
            continue
        if n.incapacidades is None:
            ctx.fail("NOM94", _missing(n.el, "Incapacidades"), value="006",
                     detail="hay una deducción 006 (descuento por incapacidad): registre el nodo Incapacidades")
            break
        monetario = _importe_monetario(n)
        if _amount(d.el, "Importe") != monetario:
            ctx.fail("NOM95", d.el, "Importe", value=d.el.get("Importe"), expected=_fmt(monetario),
                     detail=f"las incapacidades suman {_fmt(monetario)} de ImporteMonetario")


@rule("NOM96")
@for_each(_nominas)
def deduccion_positiva(ctx: Context, n: Nomina) -> None:
    """NOM96: el Importe de cada Deduccion es mayor que cero."""
    for d in n.deduccion:
        if _amount(d.el, "Importe") <= ZERO:
            ctx.fail("NOM96", d.el, "Importe", value=d.el.get("Importe"), expected="> 0",
                     detail=f"la deducción {d.tipo} no tiene importe: una deducción en cero no se registra")


# -- OtrosPagos ------------------------------------------------------------------------------------------

def _otros_pagos(ctx: Context) -> Iterable[tuple[Nomina, OtroPago]]:
    """(Nomina, OtroPago) of every OtroPago."""
    for n in _nominas(ctx):
        for o in n.otro_pago:
            yield n, o


@rule("NOM98", "NOM99")
def otro_pago_hijos(ctx: Context) -> None:
    """NOM98: un OtroPago 004 (saldo a favor) tiene CompensacionSaldosAFavor.
    NOM99: un OtroPago 002 (subsidio para el empleo) tiene SubsidioAlEmpleo."""
    for _, o in _otros_pagos(ctx):
        for code, clave, local, child in (("NOM98", "004", "CompensacionSaldosAFavor", o.compensacion),
                                          ("NOM99", SUBSIDIO, "SubsidioAlEmpleo", o.subsidio)):
            if o.tipo == clave and child is None:
                ctx.fail(code, _missing(o.el, local), value=o.tipo,
                         detail=f"el OtroPago {clave} debe tener el nodo {local}")


@rule("NOM100")
def otro_pago_positivo(ctx: Context) -> None:
    """NOM100: el Importe de un OtroPago distinto de 002 es mayor que cero."""
    for _, o in _otros_pagos(ctx):
        if o.tipo != SUBSIDIO and _amount(o.el, "Importe") <= ZERO:
            ctx.fail("NOM100", o.el, "Importe", value=o.el.get("Importe"), expected="> 0",
                     detail=f"el OtroPago {o.tipo} no tiene importe")


@rule("NOM101", "NOM108")
def subsidio_causado(ctx: Context) -> None:
    """NOM101: con NumDiasPagados de 31 o menos, SubsidioCausado no pasa de 475.00.
    NOM108: con más de 31, no pasa de 15.63 × NumDiasPagados."""
    for n, o in _otros_pagos(ctx):
        sub = o.subsidio
        causado = None if sub is None else to_decimal(sub.get("SubsidioCausado"))
        dias = to_decimal(n.get("NumDiasPagados"))
        if sub is None or causado is None or dias is None:
            continue
        if dias <= DIAS_MES:
            if causado > SUBSIDIO_TOPE_MENSUAL:
                ctx.fail("NOM101", sub, "SubsidioCausado", value=sub.get("SubsidioCausado"),
                         expected=f"<= {SUBSIDIO_TOPE_MENSUAL}",
                         detail=f"con {dias:f} días pagados el subsidio causado no pasa de {SUBSIDIO_TOPE_MENSUAL}")
        else:
            limite = (SUBSIDIO_FACTOR_DIARIO * dias).quantize(CENT, rounding=ROUND_CEILING)
            if causado > limite:
                ctx.fail("NOM108", sub, "SubsidioCausado", value=sub.get("SubsidioCausado"), expected=f"<= {limite}",
                         detail=f"con {dias:f} días pagados el subsidio causado no pasa de "
                                f"{SUBSIDIO_FACTOR_DIARIO} × {dias:f} = {limite}")


@rule("NOM102", "NOM103")
def compensacion_saldos(ctx: Context) -> None:
    """NOM102: SaldoAFavor es mayor o igual que RemanenteSalFav.
    NOM103: Año es el anterior al de FechaPago, o el de FechaPago cuando el periodo de pago es diciembre."""
    for n, o in _otros_pagos(ctx):
        comp = o.compensacion
        if comp is None:
            continue
        saldo, remanente = to_decimal(comp.get("SaldoAFavor")), to_decimal(comp.get("RemanenteSalFav"))
        if saldo is not None and remanente is not None and saldo < remanente:
            ctx.fail("NOM102", comp, "SaldoAFavor", value=comp.get("SaldoAFavor"), expected=f">= {_fmt(remanente)}",
                     detail=f"el remanente ({_fmt(remanente)}) no puede ser mayor que el saldo a favor")
        pago, final = _date(n.get("FechaPago")), _date(n.get("FechaFinalPago"))
        año = _text(comp, "Año")
        if pago is None or año is None or not año.isdigit():
            continue
        allowed = [pago.year - 1]
        if pago.month == 12 or (final is not None and final.month == 12):
            allowed.append(pago.year)
        if int(año) not in allowed:
            ctx.fail("NOM103", comp, "Año", value=año, expected=" o ".join(map(str, allowed)),
                     detail=f"con FechaPago {pago} el saldo a favor es del año {pago.year - 1}"
                            + (f" o de {pago.year} (periodo de diciembre)" if len(allowed) > 1 else ""))


@rule("NOM105", "NOM106")
@for_each(_nominas)
def subsidio_por_regimen(ctx: Context, n: Nomina) -> None:
    """NOM105: con TipoRegimen 02 hay un OtroPago 002 (subsidio para el empleo), salvo que haya uno 007 u 008,
    con los que no se registra. NOM106: con otro TipoRegimen no hay OtroPago 002, 007 ni 008."""
    regimen = _text(n.receptor, "TipoRegimen")
    if regimen is None:
        return
    by_tipo: dict[str, OtroPago] = {}
    for o in n.otro_pago:
        by_tipo.setdefault(o.tipo, o)
    subsidio = by_tipo.get(SUBSIDIO)
    ajuste = by_tipo.get(ISR_AJUSTADO, by_tipo.get(SUBSIDIO_NO_CORRESPONDIA))
    if regimen == "02":
        if subsidio is None and ajuste is None:
            ctx.fail("NOM105", n.receptor, "TipoRegimen", value=regimen,
                     detail="con TipoRegimen 02 (sueldos) registre un OtroPago 002 (subsidio para el empleo), "
                            "aunque su importe sea cero")
        elif subsidio is not None and ajuste is not None:
            ctx.fail("NOM105", subsidio.el, "TipoOtroPago", value=SUBSIDIO,
                     detail=f"el OtroPago 002 no se registra junto con un OtroPago {ajuste.tipo}")
        return
    for clave in (SUBSIDIO, ISR_AJUSTADO, SUBSIDIO_NO_CORRESPONDIA):
        o = by_tipo.get(clave)
        if o is not None:
            ctx.fail("NOM106", o.el, "TipoOtroPago", value=clave,
                     detail=f"el OtroPago {clave} sólo aplica con TipoRegimen 02 (sueldos); el régimen es "
                            f"{regimen}")


@rule("NOM107")
def subsidio_pagado(ctx: Context) -> None:
    """NOM107: el Importe de un OtroPago 002 es menor o igual que su SubsidioCausado."""
    for _, o in _otros_pagos(ctx):
        if o.tipo != SUBSIDIO or o.subsidio is None:
            continue
        causado = to_decimal(o.subsidio.get("SubsidioCausado"))
        importe = to_decimal(o.el.get("Importe"))
        if causado is not None and importe is not None and importe > causado:
            ctx.fail("NOM107", o.el, "Importe", value=o.el.get("Importe"), expected=f"<= {_fmt(causado)}",
                     detail=f"el subsidio entregado no puede pasar del subsidio causado ({_fmt(causado)})")


# -- RFCs in SAT's list (l_RFC, through the padrón) ------------------------------------------------------

@rule("NOM9", "NOM41", "NOM67")
def rfc_en_l_rfc(ctx: Context) -> None:
    """NOM9: el Rfc del receptor de un CFDI de nómina está en l_RFC. NOM41: RfcPatronOrigen también.
    NOM67: el RfcLabora de cada SubContratacion también."""
    nominas = _nominas(ctx)
    if not nominas:
        return
    receptor = ctx.doc.receptor
    # NOM10/NOM11 admit the generic RFC XAXX010101000 (payroll to a deceased worker, with the CURP).
    if (receptor is not None and collapse(receptor.get("Rfc") or "") != RFC_GENERICO_NACIONAL
            and no_inscrito(ctx, receptor.get("Rfc"))):
        ctx.fail("NOM9", receptor, "Rfc", value=receptor.get("Rfc"),
                 detail="el RFC del trabajador no está inscrito (o está cancelado) en el SAT")
    for n in nominas:
        if n.emisor is not None and no_inscrito(ctx, n.emisor.get("RfcPatronOrigen")):
            ctx.fail("NOM41", n.emisor, "RfcPatronOrigen", value=n.emisor.get("RfcPatronOrigen"),
                     detail="el RFC del patrón de origen no está inscrito (o está cancelado) en el SAT")
        for sub in n.subcontratacion:
            if no_inscrito(ctx, sub.get("RfcLabora")):
                ctx.fail("NOM67", sub, "RfcLabora", value=sub.get("RfcLabora"),
                         detail="el RFC de la persona para la que se labora no está inscrito en el SAT")
