"""Complemento para recepción de pagos 2.0 (Pagos20): SAT's matrix CRP20101-CRP20279.

- The Comprobante that carries it (CRP20101-CRP20123): tipo P, Exportacion 01, Moneda XXX, SubTotal and
  Total 0, no FormaPago/MetodoPago/CondicionesDePago/Descuento/TipoCambio, one Concepto 84111506/ACT/"Pago"
  with zero amounts, ObjetoImp 01 and no Impuestos.
- Pago (CRP20212-CRP20235, CRP20217, CRP20276): currency and exchange rate, Monto, the bank accounts each
  c_FormaPago admits (and their patterns), the payment chain (TipoCadPago, CertPago, CadPago, SelloPago),
  and Monto against the ImpPagado of its documents.
- DoctoRelacionado (CRP20236-CRP20248, CRP20278, CRP20279): EquivalenciaDR, saldo anterior/pagado/insoluto,
  ObjetoImpDR against its ImpuestosDR; ImpuestosDR (CRP20252-CRP20261): factor, c_TasaOCuota and the
  ImporteDR limits of impuestos.py (LimInf truncated, LimSup rounded up, from the decimals of BaseDR).
- ImpuestosP (CRP20263-CRP20274) and Totales (CRP20201-CRP20211, CRP20264, CRP20267, CRP20273).

The catalog codes (ObjetoImpDR CRP20245, ImpuestoDR CRP20250/CRP20256, TipoFactorDR CRP20251/CRP20257,
ImpuestoP CRP20262/CRP20270) are checked by claves.py, registered below.

Readings of the matrix where SAT's text leaves room (timbra's choices):
- Amounts of a DoctoRelacionado are in MonedaDR; the Pago's are in MonedaP. A document's amount in the
  payment's currency is amount / EquivalenciaDR (EquivalenciaDR is "units of MonedaDR per unit of MonedaP";
  a document in the payment's currency is taken at 1 whatever it states, CRP20238 reports that).
- ImpuestosP (CRP20265, CRP20268, CRP20269, CRP20274): the sum of the documents' converted amounts rounded
  half up to the decimals of MonedaP; timbra also accepts any value between the sums of the per-document
  truncated and rounded-up conversions (an ERP that rounds each document first). With documents in the
  payment's currency whose amounts have no more decimals than the currency, that is plain equality.
- Totales (CRP20201-CRP20211): sum of (amount × TipoCambioP) over the Pagos, rounded half up to 2 decimals.
  An attribute of Totales that is missing while its group exists is CRP20264 (retenciones), CRP20267
  (bases of IVA) or CRP20273 (IVA amounts): the matrix asks for "at least one of" them; timbra asks for the
  one of each group that exists, since without it the total of that group is not stated anywhere.
- TipoCambioP with MonedaP MXN (CRP20215) and EquivalenciaDR with MonedaDR = MonedaP (CRP20238) must be
  the value "1" as written: the matrix says "el valor 1" and PACs reject "1.000000" and an omitted one.
- Monto against ImpPagado: when every document is in MonedaP, sum(ImpPagado) <= Monto (CRP20217, no
  margins). When some document is in another currency and sum(ImpPagado / EquivalenciaDR) > Monto, Monto
  must be >= the sum of the documents' lower limits (CRP20276):
      LimInf = (ImpPagado - 10^-dImpPagado / 2) / (EquivalenciaDR + 10^-dEquivalenciaDR / 2), truncated
      LimSup = (ImpPagado + 10^-dImpPagado / 2) / (EquivalenciaDR - 10^-dEquivalenciaDR / 2), rounded up
  to the decimals of MonedaP, with dEquivalenciaDR = 10 for a document in the payment's currency
  (CRP20277). Monto above the sum of the upper limits cannot fail there: that is the case of a sum <= Monto.
- CRP20220: the limit is c_TipoDeComprobante's valor_maximo for P, compared with Monto × TipoCambioP.

With the padrón (`ctx.padron`, timbra.sat.padron; without one these rules do not run):
- CRP20216: a TipoCambioP outside c_Moneda's porcentaje_variacion around SAT's reference rate of MonedaP for
  the FechaPago needs a Confirmacion; decided only when the padrón knows that rate.
- CRP20222: an RfcEmisorCtaOrd other than XEXX010101000 is in l_RFC.

Not here (timbra.cfdi.rules.not_applicable says why): CRP20249/CRP20255 (the schema's minInclusive),
CRP20275 and CRP20277 (limits, see above), CRP20999.
"""
from __future__ import annotations

import decimal
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Decimal
from functools import lru_cache

from lxml import etree

from timbra.cfdi.amounts import quantum, round_half_up
from timbra.cfdi.document import NS_PAGOS20
from timbra.cfdi.rfc import RFC_GENERICO_EXTRANJERO
from timbra.cfdi.rules import (
    Context,
    decimals_of,
    exists_iff,
    for_each,
    rule,
    to_decimal,
    when,
)
from timbra.cfdi.rules.claves import catalog_codes
from timbra.cfdi.rules.comprobante import limites_tipo_cambio
from timbra.cfdi.rules.emisor import no_inscrito
from timbra.cfdi.rules.facts import Tax, read_tax
from timbra.cfdi.rules.impuestos import (
    EXENTO,
    IEPS,
    IMPUESTO_NAMES,
    ISR,
    IVA,
    ONE,
    TASA_O_CUOTA,
    ZERO,
    _describe,
    _fmt,
    _name,
    _tasa_check,
    _tasa_key,
    check_rate_and_amount,
)

NS = NS_PAGOS20
# Every rule of this module is about Pagos: it runs only where the document has them (rules.run_rules).
NODE = NS

catalog_codes(NS, {
    ("DoctoRelacionado", "ObjetoImpDR"): "CRP20245",
    ("RetencionDR", "ImpuestoDR"): "CRP20250",
    ("RetencionDR", "TipoFactorDR"): "CRP20251",
    ("TrasladoDR", "ImpuestoDR"): "CRP20256",
    ("TrasladoDR", "TipoFactorDR"): "CRP20257",
    ("RetencionP", "ImpuestoP"): "CRP20262",
    ("TrasladoP", "ImpuestoP"): "CRP20270",
})

_D = decimal.Context(prec=60, rounding=ROUND_HALF_UP, traps=[decimal.InvalidOperation, decimal.DivisionByZero])
_CACHE = "pagos20"

# c_FormaPago keys that admit the ordering account (RfcEmisorCtaOrd, CtaOrdenante) and the beneficiary's.
FORMAS_CTA_ORDENANTE = frozenset({"02", "03", "04", "05", "06", "28", "29"})
FORMAS_CTA_BENEFICIARIO = frozenset({"02", "03", "04", "05", "28", "29"})

# Totales: the attribute of each retained tax, and of each IVA traslado (Impuesto, TipoFactor, TasaOCuota).
TOTAL_RETENCIONES = {IVA: ("TotalRetencionesIVA", "CRP20201"), ISR: ("TotalRetencionesISR", "CRP20202"),
                     IEPS: ("TotalRetencionesIEPS", "CRP20203")}
TOTAL_TRASLADOS = {
    (IVA, "Tasa", Decimal("0.16")): (("TotalTrasladosBaseIVA16", "CRP20204"),
                                     ("TotalTrasladosImpuestoIVA16", "CRP20205")),
    (IVA, "Tasa", Decimal("0.08")): (("TotalTrasladosBaseIVA8", "CRP20206"),
                                     ("TotalTrasladosImpuestoIVA8", "CRP20207")),
    (IVA, "Tasa", ZERO): (("TotalTrasladosBaseIVA0", "CRP20208"), ("TotalTrasladosImpuestoIVA0", "CRP20209")),
    (IVA, EXENTO, None): (("TotalTrasladosBaseIVAExento", "CRP20210"), None),
}


# -- reading the complement once per document --------------------------------------------------------

@dataclass(slots=True)
class Docto:
    el: etree._Element
    moneda: str
    same_currency: bool  # MonedaDR == MonedaP
    equivalencia_text: str | None
    objeto: str | None
    impuestos: etree._Element | None
    traslados: list[Tax]
    retenciones: list[Tax]


@dataclass(slots=True)
class Pago:
    el: etree._Element
    moneda: str
    tipo_cambio: Decimal | None  # TipoCambioP, or 1 for MXN without one; None when it cannot be known
    monto_text: str | None
    monto: Decimal | None
    doctos: list[Docto]
    impuestos: etree._Element | None
    traslados: list[Tax]
    retenciones: list[Tax]


@dataclass(slots=True)
class PagosNode:
    el: etree._Element
    totales: etree._Element | None
    pagos: list[Pago] = field(default_factory=list)


def _taxes(node: etree._Element | None, suffix: str) -> tuple[list[Tax], list[Tax]]:
    """(traslados, retenciones) of an ImpuestosDR or ImpuestosP element."""
    tras: list[Tax] = []
    rets: list[Tax] = []
    if node is None:
        return tras, rets
    for group in node:
        if group.tag == f"{{{NS}}}Traslados{suffix}":
            tras = [read_tax(t, suffix) for t in group if t.tag == f"{{{NS}}}Traslado{suffix}"]
        elif group.tag == f"{{{NS}}}Retenciones{suffix}":
            rets = [read_tax(r, suffix) for r in group if r.tag == f"{{{NS}}}Retencion{suffix}"]
    return tras, rets


def _child(el: etree._Element, local: str) -> etree._Element | None:
    return el.find(f"{{{NS}}}{local}")


def _read_docto(el: etree._Element, moneda_p: str) -> Docto:
    imp = _child(el, "ImpuestosDR")
    tras, rets = _taxes(imp, "DR")
    moneda = el.get("MonedaDR", "")
    return Docto(el, moneda, moneda == moneda_p, el.get("EquivalenciaDR"), el.get("ObjetoImpDR"), imp, tras, rets)


def _read_pago(el: etree._Element) -> Pago:
    moneda = el.get("MonedaP", "")
    tc = to_decimal(el.get("TipoCambioP"))
    if tc is None and moneda == "MXN":
        tc = ONE
    monto_text = el.get("Monto")
    imp = _child(el, "ImpuestosP")
    tras, rets = _taxes(imp, "P")
    doctos = [_read_docto(d, moneda) for d in el.iterfind(f"{{{NS}}}DoctoRelacionado")]
    return Pago(el, moneda, tc, monto_text, to_decimal(monto_text), doctos, imp, tras, rets)


def pagos(ctx: Context) -> list[PagosNode]:
    """The Pagos 2.0 complements of the document, read once (empty, at once, when there is none)."""
    got = ctx.cache.get(_CACHE)
    if got is None:
        got = []
        if NS in ctx.complement_namespaces:
            for el in ctx.complements(NS):
                if etree.QName(el).localname != "Pagos":
                    continue
                node = PagosNode(el, _child(el, "Totales"))
                node.pagos = [_read_pago(p) for p in el.iterfind(f"{{{NS}}}Pago")]
                got.append(node)
        ctx.cache[_CACHE] = got
    return got  # type: ignore[return-value]


def _all_pagos(ctx: Context) -> list[Pago]:
    return [p for node in pagos(ctx) for p in node.pagos]


# -- amounts -----------------------------------------------------------------------------------------


def _half(text: str | None, decimals: int | None = None) -> Decimal:
    """Half a unit of the last decimal a number is written with (or of `decimals`)."""
    return quantum(decimals_of(text) if decimals is None else decimals) / 2


def _decimals(ctx: Context, moneda: str) -> int | None:
    return ctx.catalogs.moneda_decimals(moneda)


def _equivalencia(d: Docto) -> Decimal | None:
    """EquivalenciaDR as a divisor: 1 for a document in the payment's currency (whatever is written there:
    CRP20238 reports anything but "1", and the amounts are not converted twice), else its value, or None
    when it is missing (CRP20237 says it)."""
    if d.same_currency:
        return ONE
    eq = to_decimal(d.equivalencia_text)
    return eq if eq is not None and eq > 0 else None


def _convert(value: Decimal, eq: Decimal) -> Decimal:
    return value if eq == ONE else _D.divide(value, eq)


@dataclass(slots=True)
class _Sum:
    """A sum of converted amounts, with the bounds an ERP that rounds each part first can reach."""
    exact: Decimal = ZERO
    low: Decimal = ZERO
    high: Decimal = ZERO
    count: int = 0

    def add(self, value: Decimal, decimals: int) -> None:
        self.exact = _D.add(self.exact, value)
        self.low = _D.add(self.low, round_half_up(value, decimals, ROUND_DOWN))
        self.high = _D.add(self.high, round_half_up(value, decimals, ROUND_CEILING))
        self.count += 1

    def accepts(self, value: Decimal, decimals: int) -> bool:
        return value == round_half_up(self.exact, decimals) or self.low <= value <= self.high


def _known(values) -> bool:
    return all(v is not None for v in values)


# == Comprobante (CRP20101-CRP20123) ==================================================================

_ABSENT_ROOT = (("CRP20105", "FormaPago"), ("CRP20106", "MetodoPago"), ("CRP20107", "CondicionesDePago"),
                ("CRP20108", "Descuento"), ("CRP20109", "TipoCambio"))


@rule("CRP20101", "CRP20102", "CRP20103", "CRP20104", "CRP20105", "CRP20106", "CRP20107", "CRP20108",
      "CRP20109", "CRP20110")
@when(pagos)
def comprobante_de_pago(ctx: Context) -> None:
    """CRP20101-CRP20110: a CFDI with Pagos is tipo P, Exportacion 01, Moneda XXX, SubTotal and Total 0,
    without FormaPago, MetodoPago, CondicionesDePago, Descuento or TipoCambio."""
    root = ctx.root
    for code, attr, expected in (("CRP20101", "TipoDeComprobante", "P"), ("CRP20102", "Exportacion", "01"),
                                 ("CRP20104", "Moneda", "XXX")):
        value = root.get(attr)
        if value != expected:
            ctx.fail(code, root, attr, value=value, expected=expected,
                     detail=f"un CFDI con el complemento de pagos debe tener {attr} {expected}")
    for code, attr in (("CRP20103", "SubTotal"), ("CRP20110", "Total")):
        value = root.get(attr)
        if to_decimal(value) != ZERO:
            ctx.fail(code, root, attr, value=value, expected="0",
                     detail=f"en un CFDI con el complemento de pagos el {attr} es 0")
    for code, attr in _ABSENT_ROOT:
        value = root.get(attr)
        if value is not None:
            ctx.fail(code, root, attr, value=value,
                     detail=f"un CFDI con el complemento de pagos no lleva {attr}")


_CONCEPTO_VALUES = (("CRP20113", "ClaveProdServ", "84111506"), ("CRP20116", "ClaveUnidad", "ACT"),
                    ("CRP20118", "Descripcion", "Pago"), ("CRP20122", "ObjetoImp", "01"))
_CONCEPTO_NUMBERS = (("CRP20115", "Cantidad", ONE), ("CRP20119", "ValorUnitario", ZERO), ("CRP20120", "Importe", ZERO))
_CONCEPTO_ABSENT = (("CRP20114", "NoIdentificacion"), ("CRP20117", "Unidad"), ("CRP20121", "Descuento"))


@rule("CRP20111", "CRP20112", "CRP20113", "CRP20114", "CRP20115", "CRP20116", "CRP20117", "CRP20118",
      "CRP20119", "CRP20120", "CRP20121", "CRP20122", "CRP20123")
@when(pagos)
def concepto_de_pago(ctx: Context) -> None:
    """CRP20111-CRP20123: one Concepto, ClaveProdServ 84111506, Cantidad 1, ClaveUnidad ACT, Descripcion
    "Pago", ValorUnitario and Importe 0, ObjetoImp 01, without NoIdentificacion, Unidad, Descuento, Impuestos
    or any child node other than ACuentaTerceros."""
    conceptos = ctx.doc.conceptos
    for extra in conceptos[1:]:
        ctx.fail("CRP20111", extra, value=len(conceptos), expected="1",
                 detail=f"el comprobante tiene {len(conceptos)} conceptos; un CFDI de pago lleva uno solo")
    q_impuestos, q_terceros = ctx.q("Impuestos"), ctx.q("ACuentaTerceros")
    for c in conceptos:
        for code, attr, expected in _CONCEPTO_VALUES:
            value = c.get(attr)
            if value != expected:
                ctx.fail(code, c, attr, value=value, expected=expected,
                         detail=f"el concepto de un CFDI de pago debe tener {attr} {expected!r}")
        for code, attr, number in _CONCEPTO_NUMBERS:
            value = c.get(attr)
            if to_decimal(value) != number:
                ctx.fail(code, c, attr, value=value, expected=_fmt(number),
                         detail=f"el concepto de un CFDI de pago debe tener {attr} {number}")
        for code, attr in _CONCEPTO_ABSENT:
            value = c.get(attr)
            if value is not None:
                ctx.fail(code, c, attr, value=value, detail=f"el concepto de un CFDI de pago no lleva {attr}")
        for child in c:
            if not isinstance(child.tag, str) or child.tag == q_terceros:
                continue
            if child.tag == q_impuestos:
                ctx.fail("CRP20123", child, detail="el concepto de un CFDI de pago no lleva Impuestos")
            else:
                ctx.fail("CRP20112", child, value=etree.QName(child).localname,
                         detail="el concepto de un CFDI de pago solo admite el nodo hijo ACuentaTerceros")
    if ctx.doc.impuestos is not None:
        ctx.fail("CRP20123", ctx.doc.impuestos, detail="un CFDI de pago no lleva el nodo Impuestos")


# == Totales (CRP20201-CRP20211, CRP20264, CRP20267, CRP20273) =========================================


TOTALES = (("MontoTotalPagos", "CRP20211"), *TOTAL_RETENCIONES.values(),
           *(a for pair in TOTAL_TRASLADOS.values() for a in pair if a is not None))


def _totales_sums(node: PagosNode) -> dict[str, tuple[Decimal, bool]]:
    """attribute of Totales -> (sum of amount × TipoCambioP over the Pagos, whether any node of it exists)."""
    sums: dict[str, tuple[Decimal, bool]] = {}

    def add(attr_code: tuple[str, str] | None, value: Decimal | None, tc: Decimal) -> None:
        if attr_code is None:
            return
        total, _ = sums.get(attr_code[0], (ZERO, False))
        sums[attr_code[0]] = (total if value is None else _D.add(total, _D.multiply(value, tc)), True)

    for p in node.pagos:
        tc = p.tipo_cambio
        add(("MontoTotalPagos", "CRP20211"), p.monto, tc)
        for r in p.retenciones:
            add(TOTAL_RETENCIONES.get(r.impuesto or ""), r.importe, tc)
        for t in p.traslados:
            base_attr, importe_attr = TOTAL_TRASLADOS.get(_tasa_key(t), (None, None))
            add(base_attr, t.base, tc)
            add(importe_attr, t.importe, tc)
    return sums


@rule("CRP20201", "CRP20202", "CRP20203", "CRP20204", "CRP20205", "CRP20206", "CRP20207", "CRP20208",
      "CRP20209", "CRP20210", "CRP20211", "CRP20264", "CRP20267", "CRP20273")
def totales(ctx: Context) -> None:
    """CRP20201-CRP20211: each total of Totales is the sum of its Pagos' amounts × TipoCambioP, rounded to
    2 decimals; CRP20264/CRP20267/CRP20273: a retained tax or an IVA traslado needs its total."""
    for node in pagos(ctx):
        tot = node.totales
        if tot is None or not node.pagos or not _known(p.tipo_cambio for p in node.pagos):
            continue  # no TipoCambioP where one is needed: CRP20214 says it
        sums = _totales_sums(node)
        for attr, code in TOTALES:
            total, exists = sums.get(attr, (ZERO, False))
            text = tot.get(attr)
            expected = round_half_up(total, 2)
            if text is None:
                if exists and attr != "MontoTotalPagos":  # MontoTotalPagos: the schema requires it
                    _missing_total(ctx, tot, attr, expected)
                continue
            value = to_decimal(text)
            if value is not None and value != expected:
                ctx.fail(code, tot, attr, value=text, expected=_fmt(expected),
                         detail=(f"{attr} {text} no es {_fmt(expected)}, la suma de los importes de los "
                                 f"Pago multiplicados por su TipoCambioP ({_fmt(total)}) redondeada a 2 decimales"))


def _missing_total(ctx: Context, tot: etree._Element, attr: str, expected: Decimal) -> None:
    if attr.startswith("TotalRetenciones"):
        code, what = "CRP20264", "hay retenciones de ese impuesto en los Pago"
    elif attr.startswith("TotalTrasladosBase"):
        code, what = "CRP20267", "hay traslados de IVA de ese tipo en los Pago"
    else:
        code, what = "CRP20273", "hay traslados de IVA con esa tasa en los Pago"
    ctx.fail(code, tot, attr, expected=_fmt(expected), detail=f"falta {attr}: {what} ({_fmt(expected)} MXN)")


# == Pago (CRP20212-CRP20235) =========================================================================

@rule("CRP20212", "CRP20213", "CRP20214", "CRP20215", "CRP20218", "CRP20219", "CRP20220")
def pago_moneda_y_monto(ctx: Context) -> None:
    """CRP20212-CRP20215, CRP20218-CRP20220: FormaDePagoP is not 99, MonedaP not XXX, TipoCambioP exists
    for a currency other than MXN and is "1" for MXN; Monto is > 0 with the decimals of MonedaP, and a
    Monto above the limit of tipo P (in MXN) needs a Confirmacion."""
    pagos_ = _all_pagos(ctx)
    if not pagos_:
        return
    maximo = _valor_maximo_p(ctx)
    for p in pagos_:
        el = p.el
        if el.get("FormaDePagoP") == "99":
            ctx.fail("CRP20212", el, "FormaDePagoP", value="99",
                     detail="la forma de pago de un pago recibido no puede ser 99 (Por definir)")
        tc_text = el.get("TipoCambioP")
        if p.moneda == "XXX":
            ctx.fail("CRP20213", el, "MonedaP", value="XXX", detail="un pago se recibe en una moneda; XXX no procede")
        elif p.moneda == "MXN":
            if tc_text != "1":
                ctx.fail("CRP20215", el, "TipoCambioP", value=tc_text, expected="1",
                         detail="con MonedaP MXN el TipoCambioP debe registrarse con el valor 1")
        elif tc_text is None:
            ctx.fail("CRP20214", el, "TipoCambioP",
                     detail=f"la MonedaP es {p.moneda}: se debe registrar TipoCambioP (pesos por unidad de {p.moneda})")
        if p.monto is None:
            continue
        if p.monto <= 0:
            ctx.fail("CRP20218", el, "Monto", value=p.monto_text, expected="> 0",
                     detail="el Monto del pago debe ser mayor que cero")
        allowed = _decimals(ctx, p.moneda)
        if allowed is not None and decimals_of(p.monto_text) > allowed:
            ctx.fail("CRP20219", el, "Monto", value=p.monto_text, expected=f"hasta {allowed} decimales",
                     detail=(f"el Monto tiene {decimals_of(p.monto_text)} decimales y la moneda {p.moneda} "
                             f"admite {allowed}"))
        if maximo is not None and p.tipo_cambio is not None and ctx.root.get("Confirmacion") is None:
            pesos = _D.multiply(p.monto, p.tipo_cambio)
            if pesos > maximo:
                ctx.fail("CRP20220", el, "Monto", value=p.monto_text, expected=f"<= {_fmt(maximo)} MXN o Confirmacion",
                         detail=(f"el Monto equivale a {_fmt(pesos)} MXN, más que el límite {_fmt(maximo)} del tipo "
                                 f"de comprobante P: se requiere una clave de Confirmacion"))


def _fecha_pago(ctx: Context, el: etree._Element) -> date:
    """The date of a Pago (FechaPago; the Comprobante's Fecha, or the time of the check, when unreadable)."""
    for text in (el.get("FechaPago"), ctx.root.get("Fecha")):
        try:
            return date.fromisoformat((text or "").strip()[:10])
        except ValueError:
            continue
    return ctx.now.date()


@rule("CRP20216")
def tipo_cambio_confirmacion(ctx: Context) -> None:
    """CRP20216: a TipoCambioP outside c_Moneda's porcentaje_variacion around SAT's reference rate for the
    FechaPago needs a Confirmacion; decided only when the padrón knows that rate."""
    if ctx.padron is None or ctx.root.get("Confirmacion") is not None:
        return
    for p in _all_pagos(ctx):
        tc_text = p.el.get("TipoCambioP")
        if p.moneda in ("MXN", "XXX") or tc_text is None or p.tipo_cambio is None:
            continue
        limites = limites_tipo_cambio(ctx, p.moneda, _fecha_pago(ctx, p.el))
        if limites is None:
            continue
        ref, low, high = limites
        if not low <= p.tipo_cambio <= high:
            ctx.fail("CRP20216", p.el, "TipoCambioP", value=tc_text,
                     expected=f"{_fmt(low)} .. {_fmt(high)} o Confirmacion",
                     detail=(f"el TipoCambioP {tc_text} está fuera del rango de {p.moneda} ({_fmt(low)} a "
                             f"{_fmt(high)}, el tipo de cambio de referencia {_fmt(ref)} ± su porcentaje de "
                             f"variación en c_Moneda): se requiere una clave de Confirmacion del PAC"))


@rule("CRP20222")
def rfc_emisor_cta_ord_en_padron(ctx: Context) -> None:
    """CRP20222: an RfcEmisorCtaOrd other than XEXX010101000 is in SAT's list of RFC (l_RFC); decided only
    with a padrón (a permissive one skips the RFCs it does not know)."""
    if ctx.padron is None:
        return
    for p in _all_pagos(ctx):
        rfc = (p.el.get("RfcEmisorCtaOrd") or "").strip()
        if not rfc or rfc == RFC_GENERICO_EXTRANJERO:
            continue
        if no_inscrito(ctx, rfc):
            ctx.fail("CRP20222", p.el, "RfcEmisorCtaOrd", value=rfc,
                     detail=f"el RFC {rfc} del banco ordenante no está en la lista de RFC inscritos del SAT")


def _valor_maximo_p(ctx: Context) -> Decimal | None:
    row = ctx.catalogs.tipo_comprobante("P")
    return None if row is None else to_decimal(str(row.get("valor_maximo") or ""))


_CUENTAS = (("CRP20221", "RfcEmisorCtaOrd", FORMAS_CTA_ORDENANTE), ("CRP20224", "CtaOrdenante", FORMAS_CTA_ORDENANTE),
            ("CRP20227", "RfcEmisorCtaBen", FORMAS_CTA_BENEFICIARIO),
            ("CRP20228", "CtaBeneficiario", FORMAS_CTA_BENEFICIARIO))
_PATRONES = (("CRP20225", "CtaOrdenante", "patron_cuenta_ordenante", FORMAS_CTA_ORDENANTE),
             ("CRP20226", "CtaBeneficiario", "patron_cuenta_beneficiario", FORMAS_CTA_BENEFICIARIO))


@lru_cache(maxsize=64)
def _pattern(text: str) -> re.Pattern[str] | None:
    """A c_FormaPago account pattern, or None when Python cannot read it (99's "\\V*")."""
    try:
        return re.compile(f"(?:{text})")
    except re.error:
        return None


@rule("CRP20221", "CRP20223", "CRP20224", "CRP20225", "CRP20226", "CRP20227", "CRP20228", "CRP20229")
@for_each(_all_pagos)
def pago_cuentas(ctx: Context, p: Pago) -> None:
    """CRP20221-CRP20229: the ordering account (RfcEmisorCtaOrd, CtaOrdenante) exists only with FormaDePagoP
    02, 03, 04, 05, 06, 28 or 29, the beneficiary's (RfcEmisorCtaBen, CtaBeneficiario) only with 02, 03, 04,
    05, 28 or 29, TipoCadPago only with 03; the accounts follow c_FormaPago's patterns; a foreign ordering
    bank (XEXX010101000) needs NomBancoOrdExt."""
    el = p.el
    forma = el.get("FormaDePagoP") or ""
    row = ctx.catalogs.row("cfdi_40_formas_pago", forma)
    for code, attr, formas in _CUENTAS:
        value = el.get(attr)
        if value is not None and forma not in formas:
            ctx.fail(code, el, attr, value=value,
                     detail=(f"con FormaDePagoP {forma} no se registra {attr} "
                             f"(solo con {', '.join(sorted(formas))})"))
    for code, attr, column, formas in _PATRONES:
        value = el.get(attr)
        text = str(row.get(column) or "") if row else ""
        pattern = _pattern(text) if text else None
        if value is not None and forma in formas and pattern is not None and not pattern.fullmatch(value):
            ctx.fail(code, el, attr, value=value, expected=text,
                     detail=f"{attr} no cumple con el patrón {text} de c_FormaPago para la forma de pago {forma}")
    rfc = el.get("RfcEmisorCtaOrd")
    if rfc == RFC_GENERICO_EXTRANJERO and el.get("NomBancoOrdExt") is None:
        ctx.fail("CRP20223", el, "NomBancoOrdExt",
                 detail=f"RfcEmisorCtaOrd es {RFC_GENERICO_EXTRANJERO} (banco extranjero): se debe registrar "
                        "NomBancoOrdExt")
    cadena = el.get("TipoCadPago")
    if cadena is not None and forma != "03":
        ctx.fail("CRP20229", el, "TipoCadPago", value=cadena,
                 detail=f"TipoCadPago solo se registra con FormaDePagoP 03 (transferencia); la forma es {forma}")


_CADENA = (("CertPago", "CRP20230", "CRP20231"), ("CadPago", "CRP20232", "CRP20233"),
           ("SelloPago", "CRP20234", "CRP20235"))


@rule("CRP20230", "CRP20231", "CRP20232", "CRP20233", "CRP20234", "CRP20235")
@for_each(_all_pagos)
def pago_cadena(ctx: Context, p: Pago) -> None:
    """CRP20230-CRP20235: with TipoCadPago, CertPago, CadPago and SelloPago are required; without it,
    none of them may exist."""
    el = p.el
    con_cadena = el.get("TipoCadPago") is not None
    for attr, code_required, code_forbidden in _CADENA:
        value = el.get(attr)
        exists_iff(ctx, code_required, el, attr, value and value[:40], con_cadena, code_present=code_forbidden,
                   missing=f"el pago tiene TipoCadPago: se debe registrar {attr}",
                   present=f"el pago no tiene TipoCadPago: no se registra {attr}")


# == Monto against the ImpPagado of the documents (CRP20217, CRP20276) ================================

def _limits_imp_pagado(d: Docto, pagado_text: str, pagado: Decimal, eq: Decimal,
                       decimals: int) -> tuple[Decimal, Decimal]:
    """A document's ImpPagado in the payment's currency, as the range its rounding allows (CRP20276/20277)."""
    eq_decimals = 10 if d.same_currency else decimals_of(d.equivalencia_text)
    h_pagado, h_eq = _half(pagado_text), _half(None, eq_decimals)
    low = _D.divide(_D.subtract(pagado, h_pagado), _D.add(eq, h_eq))
    # EquivalenciaDR >= 10^-d, so EquivalenciaDR - 10^-d / 2 > 0
    high = _D.divide(_D.add(pagado, h_pagado), _D.subtract(eq, h_eq))
    return round_half_up(low, decimals, ROUND_DOWN), round_half_up(high, decimals, ROUND_CEILING)


@rule("CRP20217", "CRP20276")
@for_each(_all_pagos)
def monto_contra_pagado(ctx: Context, p: Pago) -> None:
    """CRP20217: with every document in MonedaP, sum(ImpPagado) <= Monto. CRP20276: with documents in other
    currencies, when sum(ImpPagado / EquivalenciaDR) > Monto, Monto must be >= the sum of the lower limits."""
    if p.monto is None or not p.doctos:
        return
    pagados = [(d, d.el.get("ImpPagado"), to_decimal(d.el.get("ImpPagado")), _equivalencia(d)) for d in p.doctos]
    if not all(v is not None and eq is not None for _, _, v, eq in pagados):
        return  # an unreadable amount or a missing EquivalenciaDR (CRP20237)
    if all(d.same_currency for d in p.doctos):
        total = ZERO
        for _, _, v, _ in pagados:
            total = _D.add(total, v)
        if total > p.monto:
            ctx.fail("CRP20217", p.el, "Monto", value=p.monto_text, expected=f">= {_fmt(total)}",
                     detail=(f"la suma de los ImpPagado de los documentos relacionados ({_fmt(total)} "
                             f"{p.moneda}) es mayor que el Monto del pago"))
        return
    n = _decimals(ctx, p.moneda)
    n = 2 if n is None else n
    converted = low = high = ZERO
    for d, text, v, eq in pagados:
        converted = _D.add(converted, _convert(v, eq))
        lo, hi = _limits_imp_pagado(d, text, v, eq, n)
        low, high = _D.add(low, lo), _D.add(high, hi)
    if converted <= p.monto or p.monto >= low:
        return
    ctx.fail("CRP20276", p.el, "Monto", value=p.monto_text, expected=f"{_fmt(low)} .. {_fmt(high)}",
             detail=(f"los ImpPagado convertidos a {p.moneda} con su EquivalenciaDR suman {_fmt(converted)}, más "
                     f"que el Monto, y el Monto no llega a la suma de sus límites inferiores ({_fmt(low)})"))


# == DoctoRelacionado (CRP20236-CRP20248, CRP20278, CRP20279) =========================================

_SALDOS = (("ImpSaldoAnt", "CRP20240"), ("ImpPagado", "CRP20242"), ("ImpSaldoInsoluto", "CRP20243"))


@rule("CRP20236", "CRP20237", "CRP20238", "CRP20239", "CRP20240", "CRP20241", "CRP20242", "CRP20243", "CRP20244")
@for_each(_all_pagos)
def docto_moneda_y_saldos(ctx: Context, p: Pago) -> None:
    """CRP20236-CRP20244: MonedaDR is not XXX; EquivalenciaDR exists when MonedaDR differs from MonedaP and is
    "1" when they are equal; ImpSaldoAnt and ImpPagado are > 0; the three amounts have at most the decimals
    of MonedaDR, and ImpSaldoInsoluto = ImpSaldoAnt - ImpPagado >= 0."""
    for d in p.doctos:
        el = d.el
        if d.moneda == "XXX":
            ctx.fail("CRP20236", el, "MonedaDR", value="XXX",
                     detail="el documento relacionado tiene una moneda; XXX no procede")
        if d.same_currency:
            if d.equivalencia_text != "1":
                ctx.fail("CRP20238", el, "EquivalenciaDR", value=d.equivalencia_text, expected="1",
                         detail=(f"MonedaDR y MonedaP son {d.moneda}: EquivalenciaDR debe registrarse con el "
                                 f"valor 1"))
        elif d.equivalencia_text is None:
            ctx.fail("CRP20237", el, "EquivalenciaDR",
                     detail=(f"MonedaDR {d.moneda} es distinta de MonedaP {p.moneda}: se debe registrar "
                             f"EquivalenciaDR (unidades de {d.moneda} por unidad de {p.moneda})"))
        texts = {attr: el.get(attr) for attr, _ in _SALDOS}
        values = {attr: to_decimal(t) for attr, t in texts.items()}
        for code, attr in (("CRP20239", "ImpSaldoAnt"), ("CRP20241", "ImpPagado")):
            if values[attr] is not None and values[attr] <= 0:
                ctx.fail(code, el, attr, value=texts[attr], expected="> 0",
                         detail=f"{attr} debe ser mayor que cero")
        allowed = _decimals(ctx, d.moneda)
        if allowed is not None:
            for attr, code in _SALDOS:
                if texts[attr] is not None and decimals_of(texts[attr]) > allowed:
                    ctx.fail(code, el, attr, value=texts[attr], expected=f"hasta {allowed} decimales",
                             detail=(f"{attr} tiene {decimals_of(texts[attr])} decimales y la moneda "
                                     f"{d.moneda} admite {allowed}"))
        ant, pagado, insoluto = values["ImpSaldoAnt"], values["ImpPagado"], values["ImpSaldoInsoluto"]
        if ant is None or pagado is None or insoluto is None:
            continue
        expected = _D.subtract(ant, pagado)
        if insoluto != expected or insoluto < 0:
            ctx.fail("CRP20244", el, "ImpSaldoInsoluto", value=texts["ImpSaldoInsoluto"], expected=_fmt(expected),
                     detail=(f"ImpSaldoInsoluto debe ser ImpSaldoAnt {texts['ImpSaldoAnt']} menos ImpPagado "
                             f"{texts['ImpPagado']} = {_fmt(expected)}"
                             + ("; un saldo insoluto no puede ser negativo" if expected < 0 else "")))


_SIN_IMPUESTOS_DR = frozenset({"01", "03", "04", "05"})


@rule("CRP20246", "CRP20247", "CRP20248", "CRP20278", "CRP20279")
@for_each(_all_pagos)
def docto_objeto_impuesto(ctx: Context, p: Pago) -> None:
    """CRP20246-CRP20248, CRP20278, CRP20279: ObjetoImpDR 02 needs ImpuestosDR; 01, 03, 04 and 05 forbid it;
    an ImpuestosDR holds traslados or retenciones; with 06 or 08 no IVA (002) nor IEPS (003), with 07 no IVA
    and a TrasladoDR of IEPS."""
    for d in p.doctos:
        objeto, imp = d.objeto, d.impuestos
        if objeto == "02" and imp is None:
            ctx.fail("CRP20246", d.el, "ObjetoImpDR", value=objeto,
                     detail="el documento es objeto de impuesto (02): debe registrar el nodo ImpuestosDR")
        elif objeto in _SIN_IMPUESTOS_DR and imp is not None:
            ctx.fail("CRP20247", imp, value=objeto,
                     detail=f"con ObjetoImpDR {objeto} no se registra el nodo ImpuestosDR")
        if imp is not None and not d.traslados and not d.retenciones:
            ctx.fail("CRP20248", imp, detail="el nodo ImpuestosDR no tiene TrasladosDR ni RetencionesDR")
        taxes = d.traslados + d.retenciones
        if objeto in ("06", "08"):
            for t in taxes:
                if t.impuesto in (IVA, IEPS):
                    ctx.fail("CRP20278", t.el, "ImpuestoDR", value=t.impuesto,
                             detail=(f"con ObjetoImpDR {objeto} no se registran impuestos de IVA (002) ni IEPS "
                                     f"(003); solo retenciones de ISR (001)"))
        elif objeto == "07":
            for t in taxes:
                if t.impuesto == IVA:
                    ctx.fail("CRP20279", t.el, "ImpuestoDR", value=t.impuesto,
                             detail="con ObjetoImpDR 07 no se registran impuestos de IVA (002)")
            if not any(t.impuesto == IEPS for t in d.traslados):
                ctx.fail("CRP20279", d.el, "ObjetoImpDR", value=objeto,
                         detail="con ObjetoImpDR 07 se debe registrar un TrasladoDR de IEPS (003)")


# == ImpuestosDR (CRP20252-CRP20261) ==================================================================

@rule("CRP20252", "CRP20253", "CRP20254")
@for_each(_all_pagos)
def retenciones_dr(ctx: Context, p: Pago) -> None:
    """CRP20252-CRP20254: a RetencionDR is not Exento, its TasaOCuotaDR is in c_TasaOCuota for its tax and
    factor, and its ImporteDR is within the limits of BaseDR × TasaOCuotaDR."""
    for d in p.doctos:
        for r in d.retenciones:
            if r.factor == EXENTO:
                ctx.fail("CRP20252", r.el, "TipoFactorDR", value=r.factor, expected="Tasa o Cuota",
                         detail="una retención no puede tener TipoFactorDR Exento")
            elif r.factor in TASA_O_CUOTA:
                check_rate_and_amount(ctx, r, "retencion", "CRP20253", "CRP20254", suffix="DR")


@rule("CRP20258", "CRP20259", "CRP20260", "CRP20261")
@for_each(_all_pagos)
def traslados_dr(ctx: Context, p: Pago) -> None:
    """CRP20258-CRP20261: an Exento TrasladoDR has no TasaOCuotaDR nor ImporteDR; a Tasa or Cuota one has
    both, its TasaOCuotaDR in c_TasaOCuota and its ImporteDR within the limits of BaseDR × TasaOCuotaDR."""
    for d in p.doctos:
        for t in d.traslados:
            present = [a for a, v in (("TasaOCuotaDR", t.tasa_text), ("ImporteDR", t.importe_text))
                       if v is not None]
            if t.factor == EXENTO:
                if present:
                    ctx.fail("CRP20258", t.el, "TipoFactorDR", value=t.factor,
                             detail=f"el traslado es Exento pero registra {' e '.join(present)}")
                continue
            if t.factor not in TASA_O_CUOTA:
                continue  # not in c_TipoFactor: CRP20257
            if len(present) < 2:
                missing = [a for a in ("TasaOCuotaDR", "ImporteDR") if a not in present]
                ctx.fail("CRP20259", t.el, "TipoFactorDR", value=t.factor,
                         detail=f"el traslado es {t.factor} pero no registra {' ni '.join(missing)}")
            check_rate_and_amount(ctx, t, "traslado", "CRP20260", "CRP20261", suffix="DR")


# == ImpuestosP (CRP20263, CRP20265, CRP20266, CRP20268, CRP20269, CRP20271, CRP20272, CRP20274) =========

def _conversions(p: Pago) -> list[tuple[Docto, Decimal]] | None:
    """Each document with its EquivalenciaDR divisor, or None when one cannot be known (CRP20237)."""
    out = []
    for d in p.doctos:
        eq = _equivalencia(d)
        if eq is None:
            return None
        out.append((d, eq))
    return out


def _where(p: Pago, group: str) -> etree._Element:
    """Where a missing ImpuestosP entry is reported: its group node, else ImpuestosP, else the Pago."""
    if p.impuestos is not None:
        node = _child(p.impuestos, group)
        return node if node is not None else p.impuestos
    return p.el


@rule("CRP20263", "CRP20265")
@for_each(_all_pagos)
def retenciones_p(ctx: Context, p: Pago) -> None:
    """CRP20263: one RetencionP per ImpuestoP. CRP20265: its ImporteP is the sum of the documents'
    ImporteDR of that tax, in the payment's currency (÷ EquivalenciaDR), rounded to MonedaP's decimals."""
    seen: set[str | None] = set()
    for r in p.retenciones:
        if r.impuesto in seen:
            ctx.fail("CRP20263", r.el, "ImpuestoP", value=r.impuesto,
                     detail=f"hay más de una RetencionP de {_name(r.impuesto)} en el pago")
        seen.add(r.impuesto)
    conv = _conversions(p)
    if conv is None:
        return
    n = _decimals(ctx, p.moneda)
    n = 2 if n is None else n
    groups: dict[str | None, _Sum] = {}
    for d, eq in conv:
        for r in d.retenciones:
            g = groups.setdefault(r.impuesto, _Sum())
            if r.importe is not None:
                g.add(_convert(r.importe, eq), n)
    for r in p.retenciones:
        if r.importe is None:
            continue
        g = groups.get(r.impuesto, _Sum())
        if not g.accepts(r.importe, n):
            expected = round_half_up(g.exact, n)
            ctx.fail("CRP20265", r.el, "ImporteP", value=r.importe_text, expected=_fmt(expected),
                     detail=(f"las retenciones de {_name(r.impuesto)} de los documentos "
                             f"relacionados suman {_fmt(g.exact)} {p.moneda} (ImporteDR ÷ EquivalenciaDR); "
                             f"redondeado a {n} decimales: {_fmt(expected)}"))
    for impuesto, g in groups.items():
        if impuesto not in seen:
            expected = round_half_up(g.exact, n)
            ctx.fail("CRP20265", _where(p, "RetencionesP"), None, expected=_fmt(expected),
                     detail=(f"los documentos relacionados retienen {_name(impuesto)} "
                             f"({_fmt(expected)} {p.moneda}) pero el pago no tiene una RetencionP de ese impuesto"))


@rule("CRP20266", "CRP20268", "CRP20269", "CRP20271", "CRP20272", "CRP20274")
@for_each(_all_pagos)
def traslados_p(ctx: Context, p: Pago) -> None:
    """CRP20266: an Exento TrasladoP has only BaseP, ImpuestoP and TipoFactorP. CRP20271: one TrasladoP per
    (ImpuestoP, TipoFactorP, TasaOCuotaP). CRP20272: TasaOCuotaP is in c_TasaOCuota. CRP20268/CRP20269 and
    CRP20274: BaseP and ImporteP are the sums of the documents' BaseDR and ImporteDR of the same tax and
    rate in the payment's currency (CRP20269 when every TrasladoDR is Exento)."""
    seen: set[tuple] = set()
    for t in p.traslados:
        key = _tasa_key(t)
        if key in seen:
            ctx.fail("CRP20271", t.el, "ImpuestoP", value=t.impuesto,
                     detail=f"hay más de un TrasladoP de {_describe(key)} en el pago")
        seen.add(key)
        if t.factor == EXENTO:
            present = [a for a, v in (("TasaOCuotaP", t.tasa_text), ("ImporteP", t.importe_text)) if v is not None]
            if present:
                ctx.fail("CRP20266", t.el, present[0], value=t.el.get(present[0]),
                         detail=(f"un TrasladoP Exento solo lleva BaseP, ImpuestoP y TipoFactorP; registra "
                                 f"{' e '.join(present)}"))
        elif t.factor in TASA_O_CUOTA:
            if t.tasa is None:
                ctx.fail("CRP20272", t.el, "TasaOCuotaP",
                         detail=f"un TrasladoP con TipoFactorP {t.factor} debe registrar TasaOCuotaP")
            elif t.impuesto in IMPUESTO_NAMES:  # else CRP20270 (claves.py)
                ok, admitted = _tasa_check(ctx, "traslado", t.impuesto, t.factor, t.tasa)
                if not ok:
                    ctx.fail("CRP20272", t.el, "TasaOCuotaP", value=t.tasa_text, expected=admitted or None,
                             detail=(f"c_TasaOCuota no admite {t.tasa_text} para traslado de "
                                     f"{IMPUESTO_NAMES[t.impuesto]} con TipoFactor {t.factor}"
                                     + (f"; admite {admitted}" if admitted else "; no admite ninguna")))
    _traslados_p_sums(ctx, p, seen)


def _traslados_p_sums(ctx: Context, p: Pago, found: set[tuple]) -> None:
    conv = _conversions(p)
    if conv is None:
        return
    n = _decimals(ctx, p.moneda)
    n = 2 if n is None else n
    groups: dict[tuple, tuple[_Sum, _Sum]] = {}
    solo_exentos = True
    for d, eq in conv:
        for t in d.traslados:
            solo_exentos = solo_exentos and t.factor == EXENTO
            base, importe = groups.setdefault(_tasa_key(t), (_Sum(), _Sum()))
            if t.base is not None:
                base.add(_convert(t.base, eq), n)
            if t.importe is not None:
                importe.add(_convert(t.importe, eq), n)
    for t in p.traslados:
        key = _tasa_key(t)
        base, importe = groups.get(key, (_Sum(), _Sum()))
        exento = t.factor == EXENTO
        if t.base is not None and not base.accepts(t.base, n):
            code = "CRP20269" if exento and solo_exentos and groups else "CRP20268"
            ctx.fail(code, t.el, "BaseP", value=t.base_text, expected=_fmt(round_half_up(base.exact, n)),
                     detail=(f"las BaseDR de los traslados {_describe(key)} de los documentos relacionados suman "
                             f"{_fmt(base.exact)} {p.moneda} (÷ EquivalenciaDR); redondeado a {n} decimales: "
                             f"{_fmt(round_half_up(base.exact, n))}"))
        if exento or t.factor not in TASA_O_CUOTA:
            continue
        expected = round_half_up(importe.exact, n)
        if t.importe is None:
            ctx.fail("CRP20274", t.el, "ImporteP", expected=_fmt(expected),
                     detail=f"un TrasladoP con TipoFactorP {t.factor} debe registrar ImporteP")
        elif not importe.accepts(t.importe, n):
            ctx.fail("CRP20274", t.el, "ImporteP", value=t.importe_text, expected=_fmt(expected),
                     detail=(f"los ImporteDR de los traslados {_describe(key)} de los documentos relacionados suman "
                             f"{_fmt(importe.exact)} {p.moneda} (÷ EquivalenciaDR); redondeado a {n} decimales: "
                             f"{_fmt(expected)}"))
    for key, (base, importe) in groups.items():
        if key in found:
            continue
        exento = key[1] == EXENTO
        where = _where(p, "TrasladosP")
        missing = f"pero el pago no tiene un TrasladoP de {_describe(key)}"
        ctx.fail("CRP20269" if exento and solo_exentos else "CRP20268", where, None,
                 expected=_fmt(round_half_up(base.exact, n)),
                 detail=(f"las BaseDR de los documentos relacionados suman {_fmt(round_half_up(base.exact, n))} "
                         f"{p.moneda} {missing}"))
        if not exento:
            ctx.fail("CRP20274", where, None, expected=_fmt(round_half_up(importe.exact, n)),
                     detail=(f"los ImporteDR de los documentos relacionados suman "
                             f"{_fmt(round_half_up(importe.exact, n))} "
                             f"{p.moneda} {missing}"))
