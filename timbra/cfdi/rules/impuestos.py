"""Impuestos: the taxes of each Concepto and the Comprobante's summary of them (CFDI 4.0).

- Concepto level (CFDI40173-40186, CFDI140226, CFDI140227): what a Traslado/Retencion must carry, its
  TasaOCuota against c_TasaOCuota, and its Importe between SAT's lower and upper limits:
      LimInf = (Base - 10^-dBase / 2) × TasaOCuota, truncated to the decimals of Importe
      LimSup = (Base + 10^-dBase / 2) × TasaOCuota, rounded up to the decimals of Importe
  (dBase: decimals Base is written with; the same for a Cuota).
- Comprobante level (CFDI40201-40221): the summary groups the concepto-level Traslados by
  (Impuesto, TipoFactor, TasaOCuota) and the Retenciones by Impuesto; each amount is the sum of the
  conceptos' amounts rounded (half up) to the decimals of the Moneda. Exento traslados carry Base only.
- CFDI40222: no Comercio Exterior complement when Exportacion is 01 or 03.

The catalog codes of these nodes (CFDI40175, 40176, 40182, 40183, 40207, 40217) are checked by
claves.py. CFDI140224/140225 need the Retención mark of SAT's list of RFC (l_RFC) and are not here.

Amounts are Decimal, computed in a local 60-digit context (a Base of 18 integer digits and 6 decimals
times a 6-decimal TasaOCuota does not fit the default 28 digits).
"""
from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Decimal
from functools import lru_cache

from lxml import etree

from timbra.cfdi.amounts import quantum, round_half_up
from timbra.cfdi.document import COMERCIO_EXTERIOR, children_of, first_child
from timbra.cfdi.rules import Context, decimals_of, rule, to_decimal
from timbra.cfdi.rules.facts import Tax, read_tax
from timbra.sat.catalogs import Catalogs

_D = decimal.Context(prec=60, rounding=ROUND_HALF_UP, traps=[decimal.InvalidOperation])
ZERO = Decimal(0)
ONE = Decimal(1)

ISR, IVA, IEPS = "001", "002", "003"
IMPUESTO_NAMES = {ISR: "ISR", IVA: "IVA", IEPS: "IEPS"}
EXENTO = "Exento"
TASA_O_CUOTA = ("Tasa", "Cuota")


def _name(impuesto: str | None) -> str:
    return IMPUESTO_NAMES.get(impuesto or "", repr(impuesto))


def _fmt(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


# -- c_TasaOCuota ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _TasaRow:
    fijo: bool
    minimo: Decimal
    valor: Decimal
    hasta: str  # vigencia_hasta, "" = in force

    def admits(self, tasa: Decimal) -> bool:
        return tasa == self.valor if self.fijo else self.minimo <= tasa <= self.valor

    def __str__(self) -> str:
        return f"{self.valor:f}" if self.fijo else f"{self.minimo:f} .. {self.valor:f}"


def _impuesto_code(name: str) -> str | None:
    # phpcfdi's table names the tax ("IVA", "IVA Crédito aplicado del 50%", "IEPS", "ISR").
    for prefix, code in (("IEPS", IEPS), ("IVA", IVA), ("ISR", ISR)):
        if name.strip().upper().startswith(prefix):
            return code
    return None


@lru_cache(maxsize=4)
def _tasa_table(cats: Catalogs) -> dict[tuple[str, str, str], tuple[_TasaRow, ...]]:
    """(uso "traslado"/"retencion", Impuesto code, TipoFactor) -> the c_TasaOCuota rows that apply."""
    table: dict[tuple[str, str, str], list[_TasaRow]] = {}
    for r in cats.tasa_cuota_rules:
        code = _impuesto_code(str(r.get("impuesto", "")))
        valor = to_decimal(str(r.get("valor", "")))
        if code is None or valor is None:
            continue
        fijo = str(r.get("tipo", "")).strip().lower() == "fijo"
        minimo = to_decimal(str(r.get("minimo", "")))
        minimo = ZERO if minimo is None else minimo
        row = _TasaRow(fijo, minimo, valor, str(r.get("vigencia_hasta") or ""))
        factor = str(r.get("factor", "")).strip()
        for uso in ("traslado", "retencion"):
            if str(r.get(uso, "")).strip() == "1":
                table.setdefault((uso, code, factor), []).append(row)
    return {k: tuple(v) for k, v in table.items()}


def _tasa_check(ctx: Context, uso: str, impuesto: str | None, factor: str | None,
                tasa: Decimal) -> tuple[bool, str]:
    """Whether c_TasaOCuota admits `tasa` for this Impuesto and TipoFactor; and what it admits.
    Memoized per document: an invoice repeats the same few rates."""
    memo = ctx.cache.get("impuestos.tasa_memo")
    if memo is None:
        memo = ctx.cache["impuestos.tasa_memo"] = {}
    key = (uso, impuesto, factor, tasa)
    got = memo.get(key)
    if got is None:
        small = len(tasa.as_tuple().digits) <= 40 and len(impuesto or "") <= 40 and len(factor or "") <= 40
        admits = _tasa_admits if small else _tasa_admits.__wrapped__  # a hostile value is not remembered
        got = memo[key] = admits(ctx.catalogs, ctx.now.date().isoformat(), uso, impuesto, factor, tasa)
    return got


@lru_cache(maxsize=4096)
def _tasa_admits(cats: Catalogs, today: str, uso: str, impuesto: str | None, factor: str | None,
                 tasa: Decimal) -> tuple[bool, str]:
    """_tasa_check's answer, the same for every document of a day (c_TasaOCuota's rows in force that day)."""
    rows = [r for r in _tasa_table(cats).get((uso, impuesto or "", factor or ""), ())
            if not r.hasta or r.hasta >= today]
    return any(r.admits(tasa) for r in rows), ", ".join(str(r) for r in rows)


# -- the taxes of the conceptos, read once per document (facts.py) ---------------------------------------

def _sum(values) -> Decimal:
    total = ZERO
    for v in values:
        total = _D.add(total, v)
    return total


_HALF = [ONE.scaleb(-d) / 2 for d in range(30)]


def _limits(base: Decimal, base_text: str | None, tasa: Decimal, importe_text: str | None) -> tuple[Decimal, Decimal]:
    """SAT's LimInf and LimSup of a tax Importe."""
    half = _HALF[min(decimals_of(base_text), 29)]
    q = quantum(decimals_of(importe_text))
    lo = _D.multiply(_D.subtract(base, half), tasa).quantize(q, rounding=ROUND_DOWN, context=_D)
    hi = _D.multiply(_D.add(base, half), tasa).quantize(q, rounding=ROUND_CEILING, context=_D)
    return lo, hi


def _within_limits(base: Decimal, base_text: str | None, tasa: Decimal, importe: Decimal,
                   importe_text: str | None) -> bool:
    """LimInf <= Importe <= LimSup without building the limits (the common, valid case).

    Importe is a multiple of q = 10^-dImporte, so Importe >= trunc_q(x) <=> Importe > x - q and
    Importe <= ceil_q(y) <=> Importe < y + q; with x, y = Base·Tasa ∓ half·Tasa (both >= 0 for Base > 0):
    |Importe - Base·Tasa| < half·Tasa + q."""
    half = _HALF[min(decimals_of(base_text), 29)]
    q = quantum(decimals_of(importe_text))
    diff = _D.abs(_D.subtract(importe, _D.multiply(base, tasa)))
    return diff < _D.add(_D.multiply(half, tasa), q)


def check_rate_and_amount(ctx: Context, t: Tax, uso: str, code_tasa: str, code_importe: str, *,
                          suffix: str = "") -> None:
    """c_TasaOCuota admits the TasaOCuota for the Impuesto and TipoFactor (code_tasa), and the Importe is within
    LimInf/LimSup of Base × TasaOCuota (code_importe). `suffix` names the attributes of a complement that
    repeats these rules (Pagos 2.0: TasaOCuotaDR, ImporteDR, BaseDR)."""
    if t.tasa is None:
        return
    ok, admitted = True, ""
    if t.impuesto in IMPUESTO_NAMES:  # else the catalog code (claves.py) says it
        ok, admitted = _tasa_check(ctx, uso, t.impuesto, t.factor, t.tasa)
    if not ok:
        tasa = f"TasaOCuota{suffix}"
        label = "traslado" if uso == "traslado" else "retención"
        ctx.fail(code_tasa, t.el, tasa, value=t.tasa_text, expected=admitted or None,
                 detail=(f"c_TasaOCuota no admite {t.tasa_text} para {label} de {_name(t.impuesto)} "
                         f"con TipoFactor {t.factor}"
                         + (f"; admite {admitted}" if admitted else "; no admite ninguna tasa o cuota")))
    if t.base is None or t.importe is None or t.base <= 0:
        return
    try:
        if _within_limits(t.base, t.base_text, t.tasa, t.importe, t.importe_text):
            return
        lo, hi = _limits(t.base, t.base_text, t.tasa, t.importe_text)
    except ArithmeticError:  # absurdly long numbers the schema let through: nothing sensible to compare
        return
    if not lo <= t.importe <= hi:
        tasa, importe, base = f"TasaOCuota{suffix}", f"Importe{suffix}", f"Base{suffix}"
        ctx.fail(code_importe, t.el, importe, value=t.importe_text, expected=f"{_fmt(lo)} .. {_fmt(hi)}",
                 detail=(f"{importe} {t.importe_text} no está entre {_fmt(lo)} y {_fmt(hi)} "
                         f"({base} {t.base_text} × {tasa} {t.tasa_text}, con la tolerancia de los "
                         f"decimales de {base}"))


# -- Concepto level ----------------------------------------------------------------------------------

@rule("CFDI40173")
def concepto_impuestos_no_vacio(ctx: Context) -> None:
    for f in ctx.conceptos.items:
        if f.impuestos is not None and not f.traslados and not f.retenciones:
            ctx.fail("CFDI40173", f.impuestos,
                     detail="el nodo Impuestos del concepto no tiene Traslados ni Retenciones")


@rule("CFDI40174", "CFDI40177", "CFDI40178", "CFDI40179", "CFDI40180")
def concepto_traslados(ctx: Context) -> None:
    for t in ctx.conceptos.traslados:
        if t.base is not None and t.base <= 0:
            ctx.fail("CFDI40174", t.el, "Base", value=t.base_text, expected="> 0",
                     detail=f"la Base del traslado es {t.base_text}; debe ser mayor que cero")
        if t.factor == EXENTO:
            present = [a for a, v in (("TasaOCuota", t.tasa_text), ("Importe", t.importe_text)) if v is not None]
            if present:
                ctx.fail("CFDI40177", t.el, "TipoFactor", value=t.factor,
                         detail=f"el traslado es Exento pero registra {' e '.join(present)}")
            continue
        if t.factor not in TASA_O_CUOTA:
            continue  # not in c_TipoFactor: CFDI40176
        if t.tasa_text is None or t.importe_text is None:
            missing = [a for a, v in (("TasaOCuota", t.tasa_text), ("Importe", t.importe_text)) if v is None]
            ctx.fail("CFDI40178", t.el, "TipoFactor", value=t.factor,
                     detail=f"el traslado es {t.factor} pero no registra {' ni '.join(missing)}")
        check_rate_and_amount(ctx, t, "traslado", "CFDI40179", "CFDI40180")


@rule("CFDI40181", "CFDI40184", "CFDI40185", "CFDI40186")
def concepto_retenciones(ctx: Context) -> None:
    for r in ctx.conceptos.retenciones:
        if r.base is not None and r.base <= 0:
            ctx.fail("CFDI40181", r.el, "Base", value=r.base_text, expected="> 0",
                     detail=f"la Base de la retención es {r.base_text}; debe ser mayor que cero")
        if r.factor == EXENTO:
            ctx.fail("CFDI40184", r.el, "TipoFactor", value=r.factor, expected="Tasa o Cuota",
                     detail="una retención no puede tener TipoFactor Exento")
            continue
        if r.factor not in TASA_O_CUOTA:
            continue  # not in c_TipoFactor: CFDI40183
        check_rate_and_amount(ctx, r, "retencion", "CFDI40185", "CFDI40186")


@rule("CFDI140226", "CFDI140227")
def objeto_imp_impuestos(ctx: Context) -> None:
    """ObjetoImp 06/08: only ISR (001) may appear; 07: no IVA (002), and an IEPS (003) Traslado is required."""
    for f in ctx.conceptos.items:
        c, objeto, tras, rets = f.el, f.objeto_imp, f.traslados, f.retenciones
        if objeto in ("06", "08"):
            for kind, taxes in (("Traslado", tras), ("Retencion", rets)):
                for t in taxes:
                    if t.impuesto in (IVA, IEPS):
                        ctx.fail("CFDI140226", t.el, "Impuesto", value=t.impuesto,
                                 detail=(f"el concepto tiene ObjetoImp {objeto}: no puede registrar {kind} de "
                                         f"{_name(t.impuesto)}; solo retenciones de ISR (001)"))
        elif objeto == "07":
            for kind, taxes in (("Traslado", tras), ("Retencion", rets)):
                for t in taxes:
                    if t.impuesto == IVA:
                        ctx.fail("CFDI140227", t.el, "Impuesto", value=t.impuesto,
                                 detail=f"el concepto tiene ObjetoImp 07: no puede registrar {kind} de IVA (002)")
            if not any(t.impuesto == IEPS for t in tras):
                ctx.fail("CFDI140227", c, "ObjetoImp", value=objeto,
                         detail="el concepto tiene ObjetoImp 07: debe registrar un Traslado de IEPS (003)")


# -- Comprobante level -------------------------------------------------------------------------------

@dataclass
class Summary:
    impuestos: etree._Element | None
    retenciones_node: etree._Element | None
    traslados_node: etree._Element | None
    retenciones: list[Tax]
    traslados: list[Tax]


def summary(ctx: Context) -> Summary:
    got = ctx.cache.get("impuestos.summary")
    if got is None:
        imp = ctx.doc.impuestos
        rs = ts = None
        rets: list[Tax] = []
        tras: list[Tax] = []
        if imp is not None:
            rs = first_child(imp, ctx.q("Retenciones"))
            ts = first_child(imp, ctx.q("Traslados"))
            if rs is not None:
                rets = [read_tax(e) for e in children_of(rs, ctx.q("Retencion"))]
            if ts is not None:
                tras = [read_tax(e) for e in children_of(ts, ctx.q("Traslado"))]
        got = ctx.cache["impuestos.summary"] = Summary(imp, rs, ts, rets, tras)
    return got  # type: ignore[return-value]


def _where(s: Summary, node: etree._Element | None) -> etree._Element | str:
    """Where to report something missing from the summary: the node, else Impuestos, else its path."""
    if node is not None:
        return node
    return s.impuestos if s.impuestos is not None else "Impuestos"


@rule("CFDI40201")
def impuestos_en_traslado_o_pago(ctx: Context) -> None:
    imp = ctx.doc.impuestos
    if imp is not None and ctx.tipo in ("T", "P"):
        ctx.fail("CFDI40201", imp, value=ctx.tipo,
                 detail=f"un comprobante de tipo {ctx.tipo} no debe incluir el nodo Impuestos")


@rule("CFDI40202", "CFDI40204", "CFDI40210", "CFDI40214", "CFDI40220")
def impuestos_decimales(ctx: Context) -> None:
    s = summary(ctx)
    if s.impuestos is None:
        return
    n = ctx.currency_decimals

    def check(code: str, el: etree._Element, attr: str, text: str | None) -> None:
        if text is not None and decimals_of(text) > n:
            ctx.fail(code, el, attr, value=text, expected=f"hasta {n} decimales",
                     detail=f"{attr} {text} tiene {decimals_of(text)} decimales; la moneda {ctx.moneda} admite {n}")

    totales = ctx.totales
    check("CFDI40202", s.impuestos, "TotalImpuestosRetenidos", totales.retenidos_text)
    check("CFDI40204", s.impuestos, "TotalImpuestosTrasladados", totales.trasladados_text)
    for r in s.retenciones:
        check("CFDI40210", r.el, "Importe", r.importe_text)
    for t in s.traslados:
        check("CFDI40214", t.el, "Base", t.base_text)
        check("CFDI40220", t.el, "Importe", t.importe_text)


@rule("CFDI40203", "CFDI40205")
def impuestos_totales(ctx: Context) -> None:
    s = summary(ctx)
    if s.impuestos is None:
        return
    t = ctx.totales
    for code, attr, text, total, children, child in (
            ("CFDI40203", "TotalImpuestosRetenidos", t.retenidos_text, t.retenidos, s.retenciones, "Retencion"),
            ("CFDI40205", "TotalImpuestosTrasladados", t.trasladados_text, t.trasladados, s.traslados, "Traslado")):
        if total is None:
            continue
        expected = _sum(c.importe for c in children if c.importe is not None)
        if total != expected:
            ctx.fail(code, s.impuestos, attr, value=text, expected=_fmt(expected),
                     detail=f"{attr} {text} no es la suma de los Importe de los nodos {child} ({_fmt(expected)})")


def _retenciones_sin_total(ctx: Context, s: Summary) -> bool:
    """CFDI40209's case: the conceptos retain, the summary has neither Retenciones nor the total."""
    return (bool(ctx.conceptos.retenciones) and s.retenciones_node is None
            and ctx.totales.retenidos_text is None)


def _traslados_sin_total(ctx: Context, s: Summary) -> bool:
    """CFDI40212's case: a concepto has a Tasa/Cuota traslado and TotalImpuestosTrasladados is missing."""
    return (ctx.totales.trasladados_text is None
            and any(t.factor != EXENTO for t in ctx.conceptos.traslados))


@rule("CFDI40206", "CFDI40209", "CFDI40212")
def impuestos_totales_requeridos(ctx: Context) -> None:
    s = summary(ctx)
    if s.retenciones_node is not None and ctx.totales.retenidos_text is None:
        ctx.fail("CFDI40206", s.impuestos, "TotalImpuestosRetenidos",
                 detail="el comprobante tiene Retenciones pero no el atributo TotalImpuestosRetenidos")
    elif _retenciones_sin_total(ctx, s):
        ctx.fail("CFDI40209", _where(s, None), "TotalImpuestosRetenidos",
                 detail="los conceptos registran retenciones pero el comprobante no tiene TotalImpuestosRetenidos")
    if _traslados_sin_total(ctx, s):
        ctx.fail("CFDI40212", _where(s, None), "TotalImpuestosTrasladados",
                 detail="los conceptos registran traslados con TipoFactor Tasa o Cuota pero el comprobante "
                        "no tiene TotalImpuestosTrasladados")


def _tasa_key(t: Tax) -> tuple[str | None, str | None, Decimal | None]:
    """How the summary groups traslados; an Exento one has no TasaOCuota (CFDI40177 reports one that has)."""
    return (t.impuesto, t.factor, None if t.factor == EXENTO else t.tasa)


def _describe(key: tuple[str | None, str | None, Decimal | None]) -> str:
    imp, factor, tasa = key
    return f"{_name(imp)} {factor}" + ("" if tasa is None else f" {tasa:f}")


@rule("CFDI40208", "CFDI40218")
def impuestos_sin_repetir(ctx: Context) -> None:
    s = summary(ctx)
    seen_r: set[str | None] = set()
    for r in s.retenciones:
        if r.impuesto in seen_r:
            ctx.fail("CFDI40208", r.el, "Impuesto", value=r.impuesto,
                     detail=f"hay más de una Retencion de {_name(r.impuesto)} en el resumen del comprobante")
        seen_r.add(r.impuesto)
    seen_t: set[tuple] = set()
    for t in s.traslados:
        key = _tasa_key(t)
        if key in seen_t:
            ctx.fail("CFDI40218", t.el, "Impuesto", value=t.impuesto,
                     detail=f"hay más de un Traslado de {_describe(key)} en el resumen del comprobante")
        seen_t.add(key)


@rule("CFDI40211")
def retenciones_por_impuesto(ctx: Context) -> None:
    s = summary(ctx)
    groups: dict[str | None, Decimal] = {}
    for r in ctx.conceptos.retenciones:
        if r.importe is not None:
            groups[r.impuesto] = _D.add(groups.get(r.impuesto, ZERO), r.importe)
        else:
            groups.setdefault(r.impuesto, ZERO)
    n = ctx.currency_decimals
    found: set[str | None] = set()
    for r in s.retenciones:
        found.add(r.impuesto)
        if r.importe is None:
            continue
        expected = round_half_up(groups.get(r.impuesto, ZERO), n)
        if r.importe != expected:
            ctx.fail("CFDI40211", r.el, "Importe", value=r.importe_text, expected=_fmt(expected),
                     detail=(f"la suma de las retenciones de {_name(r.impuesto)} de los conceptos, redondeada a "
                             f"{n} decimales, es {_fmt(expected)}"))
    if _retenciones_sin_total(ctx, s):
        return  # CFDI40209 says it
    for imp, total in groups.items():
        if imp not in found:
            expected = round_half_up(total, n)
            ctx.fail("CFDI40211", _where(s, s.retenciones_node), None, expected=_fmt(expected),
                     detail=(f"los conceptos retienen {_name(imp)} ({_fmt(expected)}) pero el comprobante no "
                             f"tiene una Retencion de {_name(imp)}"))


@rule("CFDI40213", "CFDI40215", "CFDI40216", "CFDI40219", "CFDI40221")
def traslados_por_impuesto_y_tasa(ctx: Context) -> None:
    s = summary(ctx)
    conceptos = ctx.conceptos.traslados
    # key -> [sum of Base, sum of Importe]
    groups: dict[tuple, list[Decimal]] = {}
    for t in conceptos:
        key = _tasa_key(t)
        g = groups.get(key)
        if g is None:
            g = groups[key] = [ZERO, ZERO]
        if t.base is not None:
            g[0] = _D.add(g[0], t.base)
        if t.importe is not None:
            g[1] = _D.add(g[1], t.importe)
    solo_exentos = bool(conceptos) and all(t.factor == EXENTO for t in conceptos)
    n = ctx.currency_decimals
    found: set[tuple] = set()
    for t in s.traslados:
        key = _tasa_key(t)
        found.add(key)
        base_sum, importe_sum = groups.get(key, (ZERO, ZERO))
        exento = t.factor == EXENTO
        if exento:
            present = [a for a, v in (("TasaOCuota", t.tasa_text), ("Importe", t.importe_text)) if v is not None]
            if present:
                ctx.fail("CFDI40213", t.el, present[0], value=t.el.get(present[0]),
                         detail=(f"un Traslado Exento del resumen solo lleva Base, Impuesto y TipoFactor; "
                                 f"registra {' e '.join(present)}"))
        if t.base is not None:
            expected = round_half_up(base_sum, n)
            if t.base != expected:
                code = "CFDI40216" if exento and solo_exentos else "CFDI40215"
                ctx.fail(code, t.el, "Base", value=t.base_text, expected=_fmt(expected),
                         detail=(f"la suma de las Base de los traslados {_describe(key)} de los conceptos, "
                                 f"redondeada a {n} decimales, es {_fmt(expected)}"))
        if exento or t.factor not in TASA_O_CUOTA:
            continue
        if t.tasa is None:
            ctx.fail("CFDI40219", t.el, "TasaOCuota",
                     detail=f"un Traslado con TipoFactor {t.factor} debe registrar TasaOCuota")
        elif t.impuesto in IMPUESTO_NAMES:  # else CFDI40217 (claves.py) says it
            ok, admitted = _tasa_check(ctx, "traslado", t.impuesto, t.factor, t.tasa)
            if not ok:
                ctx.fail("CFDI40219", t.el, "TasaOCuota", value=t.tasa_text, expected=admitted or None,
                         detail=(f"c_TasaOCuota no admite {t.tasa_text} para traslado de {_name(t.impuesto)} "
                                 f"con TipoFactor {t.factor}"
                                 + (f"; admite {admitted}" if admitted else "; no admite ninguna")))
        expected = round_half_up(importe_sum, n)
        if t.importe is None:
            ctx.fail("CFDI40221", t.el, "Importe", expected=_fmt(expected),
                     detail=f"un Traslado con TipoFactor {t.factor} debe registrar Importe")
        elif t.importe != expected:
            ctx.fail("CFDI40221", t.el, "Importe", value=t.importe_text, expected=_fmt(expected),
                     detail=(f"la suma de los Importe de los traslados {_describe(key)} de los conceptos, "
                             f"redondeada a {n} decimales, es {_fmt(expected)}"))
    skip_tasa = _traslados_sin_total(ctx, s)  # CFDI40212 says it
    for key, (base_sum, importe_sum) in groups.items():
        if key in found:
            continue
        exento = key[1] == EXENTO
        if not exento and skip_tasa:
            continue
        code = ("CFDI40216" if solo_exentos else "CFDI40215") if exento else "CFDI40221"
        what = (f"Base {_fmt(round_half_up(base_sum, n))}" if exento
                else f"Base {_fmt(round_half_up(base_sum, n))}, Importe {_fmt(round_half_up(importe_sum, n))}")
        ctx.fail(code, _where(s, s.traslados_node), None,
                 expected=_fmt(round_half_up(base_sum if exento else importe_sum, n)),
                 detail=(f"los conceptos trasladan {_describe(key)} ({what}) pero el comprobante no tiene "
                         f"un Traslado con ese Impuesto, TipoFactor y TasaOCuota"))


@rule("CFDI40222")
def comercio_exterior_sin_exportacion(ctx: Context) -> None:
    exportacion = ctx.root.get("Exportacion")
    if exportacion in ("01", "03") and ctx.complement_namespaces & COMERCIO_EXTERIOR:
        ctx.fail("CFDI40222", ctx.root, "Exportacion", value=exportacion, expected="02 o 04",
                 detail=(f"el comprobante incluye el complemento de Comercio Exterior, que no procede con "
                         f"Exportacion {exportacion}"))
