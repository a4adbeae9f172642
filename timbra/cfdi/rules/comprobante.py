"""SAT's CFDI 4.0 matrix for the attributes of the Comprobante node (CFDI40101-CFDI40129).

Done elsewhere:
- CFDI40102 (Sello) and CFDI40106 (Certificado): timbra.cfdi.seal.
- CFDI40104, 40113, 40121, 40123, 40124, 40126 (catalog values): claves.py.

With the padrón (`ctx.padron`, timbra.sat.padron), which holds what only SAT and the PAC know:
- CFDI40118: a TipoCambio outside c_Moneda's porcentaje_variacion around SAT's reference rate for the
  Moneda needs a Confirmacion; decided only when the padrón knows that rate.
- CFDI40127: a Confirmacion with Total and TipoCambio in range; the TipoCambio is in range for MXN and XXX
  (no rate at all) and, for other currencies, when the padrón knows the reference rate.
- CFDI40128, CFDI40129: the Confirmacion key was given by this PAC to this emisor and no stamped CFDI used
  it (the Certifier spends it when it signs, so two documents cannot both use it).

Amounts are compared with Decimal at the decimals of the currency (c_Moneda "decimales"), rounding
half up as SAT does.

Readings of the matrix's "validacion" column:
- CFDI40105: with MetodoPago PPD an I or E without FormaPago does not "contain 99" either.
- CFDI40111: the whole rule, not only its description: in I/E/N the Comprobante's Descuento exists
  exactly when some concepto has one (even "0.00") and equals the rounded sum; in T/P there is none.
- CFDI40114: TipoCambio "1" or any writing of one ("1.000000").
- CFDI40101, CFDI40117: the pattern applies to the value as written (no surrounding whitespace).
"""
from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal

from lxml import etree

from timbra.cfdi.amounts import round_half_up
from timbra.cfdi.document import NS_PAGOS20
from timbra.cfdi.rules import Context, decimals_of, rule, to_decimal
from timbra.cfdi.rules.emisor import padron_del_emisor
from timbra.sat import vigencias
from timbra.sat.vigencias import comercio_exterior_en_vigor

NS_IMPLOCAL = "http://www.sat.gob.mx/implocal"

# Matrix CFDI40101 and CFDI40117 patterns, applied to the attribute as written.
_FECHA_RE = re.compile(r"(20[1-9][0-9])-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
                       r"T(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9])")
_TIPO_CAMBIO_RE = re.compile(r"[0-9]{1,18}(\.[0-9]{1,6})?")

ZERO = Decimal(0)
_SUMAS_KEY = "comprobante.sumas"
_TIPOS_CON_CONCEPTOS_VALUADOS = frozenset({"I", "E", "N"})
_TIPOS_SIN_FORMA_PAGO = frozenset({"T", "N", "P"})
_TIPOS_SIN_METODO_PAGO = frozenset({"T", "P"})
_TIPOS_SUBTOTAL_CERO = frozenset({"T", "P"})
_MONEDAS_SIN_TIPO_CAMBIO_VARIABLE = frozenset({"MXN", "XXX"})


class _Sumas:
    """What the rules need from the conceptos, read in one pass."""

    __slots__ = ("importe", "descuento", "con_descuento", "primer_descuento", "importe_valido")

    def __init__(self) -> None:
        self.importe = ZERO
        self.descuento = ZERO
        self.con_descuento = 0
        self.primer_descuento: etree._Element | None = None
        self.importe_valido = True  # False when some concepto's Importe cannot be read


def _sumas(ctx: Context) -> _Sumas:
    got = ctx.cache.get(_SUMAS_KEY)
    if got is None:
        got = _Sumas()
        for c in ctx.conceptos.items:
            imp = c.importe
            if imp is None:
                got.importe_valido = False
            else:
                got.importe += imp
            if c.descuento_text is not None:
                got.con_descuento += 1
                if got.primer_descuento is None:
                    got.primer_descuento = c.el
                d = c.descuento
                if d is not None:
                    got.descuento += d
        ctx.cache[_SUMAS_KEY] = got
    return got


def _known_moneda(ctx: Context) -> bool:
    return ctx.catalogs.moneda_decimals(ctx.moneda) is not None


# -- Fecha -------------------------------------------------------------------------------------------
@rule("CFDI40101")
def fecha_patron(ctx: Context) -> None:
    """Fecha as written must match SAT's pattern. The schema checks it after collapsing whitespace, so
    what is left here is a value with surrounding whitespace, which SAT's pattern does not allow (and
    which the Fecha checks of the stamp window could not read)."""
    text = ctx.root.get("Fecha")
    if text is None or _FECHA_RE.fullmatch(text):
        return
    ctx.fail("CFDI40101", ctx.root, "Fecha", value=text, expected="AAAA-MM-DDThh:mm:ss (año 2010-2099)",
             detail=f"la Fecha {text!r} no cumple con el patrón del SAT (sin espacios, sin zona horaria "
                    "ni fracciones de segundo)")


# -- FormaPago / MetodoPago --------------------------------------------------------------------------
@rule("CFDI40103", "CFDI40105")
def forma_pago(ctx: Context) -> None:
    root = ctx.root
    fp = root.get("FormaPago")
    tipo = ctx.tipo
    if fp is not None and tipo in _TIPOS_SIN_FORMA_PAGO:
        ctx.fail("CFDI40103", root, "FormaPago", value=fp,
                 detail=f"el TipoDeComprobante es {tipo}: FormaPago debe omitirse")
    if root.get("MetodoPago") == "PPD" and fp != "99":
        if fp is None and tipo in _TIPOS_SIN_FORMA_PAGO:
            return  # FormaPago cannot exist there (CFDI40103); MetodoPago is CFDI40125's or the complement's
        ctx.fail("CFDI40105", root, "FormaPago", value=fp, expected="99",
                 detail="con MetodoPago PPD (pago en parcialidades o diferido) la FormaPago debe ser 99 "
                        "(Por definir)" + ("; no se registró FormaPago" if fp is None else f", no {fp}"))


@rule("CFDI40125")
def metodo_pago(ctx: Context) -> None:
    mp = ctx.root.get("MetodoPago")
    if mp is not None and ctx.tipo in _TIPOS_SIN_METODO_PAGO:
        ctx.fail("CFDI40125", ctx.root, "MetodoPago", value=mp,
                 detail=f"el TipoDeComprobante es {ctx.tipo}: MetodoPago debe omitirse")


# -- SubTotal / Descuento ----------------------------------------------------------------------------
@rule("CFDI40107", "CFDI40112")
def decimales_moneda(ctx: Context) -> None:
    """SubTotal and Descuento have at most the decimals of the Moneda. An unknown Moneda is CFDI40113
    only. A zero SubTotal in a T or P may carry decimals: CFDI40109 accepts "cero con decimales"."""
    if not _known_moneda(ctx):
        return
    allowed = ctx.currency_decimals
    root = ctx.root
    t = ctx.totales
    for code, attr, text, value in (("CFDI40107", "SubTotal", t.subtotal_text, t.subtotal),
                                    ("CFDI40112", "Descuento", t.descuento_text, t.descuento)):
        if text is None:
            continue
        n = decimals_of(text)
        if n <= allowed:
            continue
        if attr == "SubTotal" and ctx.tipo in _TIPOS_SUBTOTAL_CERO and value == ZERO:
            continue
        ctx.fail(code, root, attr, value=text, expected=f"hasta {allowed} decimales",
                 detail=f"{attr} {text} tiene {n} decimales y la moneda {ctx.moneda} admite {allowed}")


@rule("CFDI40108", "CFDI40109")
def subtotal(ctx: Context) -> None:
    root = ctx.root
    text, value = ctx.totales.subtotal_text, ctx.totales.subtotal
    if value is None:
        return
    tipo = ctx.tipo
    if tipo in _TIPOS_SUBTOTAL_CERO:
        if value != ZERO:
            ctx.fail("CFDI40109", root, "SubTotal", value=text, expected="0",
                     detail=f"el TipoDeComprobante es {tipo}: el SubTotal debe ser 0")
        return
    if tipo not in _TIPOS_CON_CONCEPTOS_VALUADOS:
        return
    s = _sumas(ctx)
    if not s.importe_valido:
        return
    expected = round_half_up(s.importe, ctx.currency_decimals)
    if value != expected:
        n = len(ctx.doc.conceptos)
        ctx.fail("CFDI40108", root, "SubTotal", value=text, expected=str(expected),
                 detail=f"SubTotal {text} no es igual a {expected}, la suma de los Importe de los {n} "
                        f"conceptos ({s.importe}) redondeada a {ctx.currency_decimals} decimales")


@rule("CFDI40110")
def descuento_menor_subtotal(ctx: Context) -> None:
    root = ctx.root
    t = ctx.totales
    text, descuento, sub = t.descuento_text, t.descuento, t.subtotal
    if descuento is None or sub is None:
        return
    if descuento > sub:
        ctx.fail("CFDI40110", root, "Descuento", value=text, expected=f"<= {sub}",
                 detail=f"el Descuento {text} es mayor que el SubTotal {t.subtotal_text}")


@rule("CFDI40111")
def descuento_conceptos(ctx: Context) -> None:
    """In I, E and N the Comprobante's Descuento exists exactly when some concepto has one, and equals
    the rounded sum of theirs; in T and P neither the conceptos nor the Comprobante carry one."""
    root = ctx.root
    text = ctx.totales.descuento_text
    s = _sumas(ctx)
    tipo = ctx.tipo
    if tipo in _TIPOS_SUBTOTAL_CERO:
        if s.primer_descuento is not None:
            c = s.primer_descuento
            ctx.fail("CFDI40111", c, "Descuento", value=c.get("Descuento"),
                     detail=f"el TipoDeComprobante es {tipo} y {s.con_descuento} concepto(s) incluyen "
                            "Descuento; solo I, E o N pueden tenerlo")
        if text is not None:
            ctx.fail("CFDI40111", root, "Descuento", value=text,
                     detail=f"el TipoDeComprobante es {tipo}: el Descuento debe omitirse")
        return
    if tipo not in _TIPOS_CON_CONCEPTOS_VALUADOS:
        return  # an unknown TipoDeComprobante is CFDI40121's
    if s.con_descuento == 0:
        if text is not None:
            ctx.fail("CFDI40111", root, "Descuento", value=text,
                     detail="ningún concepto incluye Descuento: el Descuento del comprobante debe omitirse")
        return
    expected = round_half_up(s.descuento, ctx.currency_decimals)
    if text is None:
        ctx.fail("CFDI40111", root, "Descuento", expected=str(expected),
                 detail=f"{s.con_descuento} concepto(s) incluyen Descuento: el comprobante debe registrar "
                        f"Descuento {expected}, la suma de los descuentos de los conceptos")
        return
    value = ctx.totales.descuento
    if value is not None and value != expected:
        ctx.fail("CFDI40111", root, "Descuento", value=text, expected=str(expected),
                 detail=f"Descuento {text} no es igual a {expected}, la suma de los Descuento de los "
                        f"conceptos ({s.descuento}) redondeada a {ctx.currency_decimals} decimales")


# -- Moneda / TipoCambio -----------------------------------------------------------------------------
@rule("CFDI40114", "CFDI40115", "CFDI40116", "CFDI40117")
def tipo_cambio(ctx: Context) -> None:
    root = ctx.root
    moneda = ctx.moneda
    text = root.get("TipoCambio")
    if text is None:
        if moneda and moneda not in _MONEDAS_SIN_TIPO_CAMBIO_VARIABLE:
            ctx.fail("CFDI40115", root, "TipoCambio",
                     detail=f"la Moneda es {moneda}: se debe registrar el TipoCambio (pesos por unidad de {moneda})")
        return
    if moneda == "XXX":
        ctx.fail("CFDI40116", root, "TipoCambio", value=text,
                 detail="la Moneda es XXX (sin moneda): el TipoCambio debe omitirse")
        return
    if not _TIPO_CAMBIO_RE.fullmatch(text):
        ctx.fail("CFDI40117", root, "TipoCambio", value=text, expected="[0-9]{1,18}(.[0-9]{1,6})?",
                 detail=f"el TipoCambio {text!r} no cumple con el patrón del SAT (dígitos, punto y hasta "
                        "6 decimales, sin signo ni espacios)")
        return
    if moneda == "MXN" and to_decimal(text) != 1:
        ctx.fail("CFDI40114", root, "TipoCambio", value=text, expected="1",
                 detail="la Moneda es MXN: el TipoCambio debe omitirse o ser 1")


# -- Total -------------------------------------------------------------------------------------------
def _impuestos_locales(ctx: Context) -> tuple[Decimal, Decimal] | None:
    """(TotaldeTraslados, TotaldeRetenciones) of the implocal complement, if the document has it."""
    traslados = retenciones = ZERO
    found = False
    for el in ctx.doc.complementos:
        if el.tag == f"{{{NS_IMPLOCAL}}}ImpuestosLocales":
            found = True
            traslados += to_decimal(el.get("TotaldeTraslados")) or ZERO
            retenciones += to_decimal(el.get("TotaldeRetenciones")) or ZERO
    return (traslados, retenciones) if found else None


@rule("CFDI40119")
def total(ctx: Context) -> None:
    """Total = SubTotal - Descuento + TotalImpuestosTrasladados - TotalImpuestosRetenidos, plus the
    implocal complement's TotaldeTraslados - TotaldeRetenciones, rounded to the Moneda's decimals."""
    root = ctx.root
    t = ctx.totales
    text, value, sub = t.total_text, t.total, t.subtotal
    if value is None or sub is None:
        return
    descuento = t.descuento or ZERO
    trasladados = t.trasladados or ZERO
    retenidos = t.retenidos or ZERO
    expected = sub - descuento + trasladados - retenidos
    locales = _impuestos_locales(ctx)
    if locales is not None:
        expected += locales[0] - locales[1]
    expected = round_half_up(expected, ctx.currency_decimals)
    if value != expected:
        formula = (f"SubTotal {sub} - Descuento {descuento} + TotalImpuestosTrasladados {trasladados} "
                   f"- TotalImpuestosRetenidos {retenidos}")
        if locales is not None:
            formula += f" + TotaldeTraslados locales {locales[0]} - TotaldeRetenciones locales {locales[1]}"
        ctx.fail("CFDI40119", root, "Total", value=text, expected=str(expected),
                 detail=f"el Total {text} no es igual a {expected} = {formula}")


# -- Confirmacion ------------------------------------------------------------------------------------
_TC_KEY = "comprobante.tipo_cambio_limites"
_TC_STEP = Decimal("0.000001")  # TipoCambio has up to 6 decimals (CFDI40117)


def _fecha(ctx: Context) -> date:
    """The Comprobante's date (its Fecha as written; the time of the check when it cannot be read)."""
    try:
        return date.fromisoformat((ctx.root.get("Fecha") or "").strip()[:10])
    except ValueError:
        return ctx.now.date()


def tipo_cambio_limites(ctx: Context) -> tuple[Decimal, Decimal, Decimal] | None:
    """(reference rate, lower limit, upper limit) of the TipoCambio: the reference rate of the Moneda for the
    Fecha from the padrón, minus and plus c_Moneda's porcentaje_variacion; the lower limit truncated and the
    upper one rounded up to 6 decimals. None when it cannot be decided (no padrón, no rate, MXN, XXX)."""
    if _TC_KEY in ctx.cache:
        return ctx.cache[_TC_KEY]  # type: ignore[return-value]
    got = None
    if ctx.moneda not in _MONEDAS_SIN_TIPO_CAMBIO_VARIABLE:
        got = limites_tipo_cambio(ctx, ctx.moneda, _fecha(ctx))
    ctx.cache[_TC_KEY] = got
    return got


def limites_tipo_cambio(ctx: Context, moneda: str, fecha: date) -> tuple[Decimal, Decimal, Decimal] | None:
    """(reference rate, lower limit, upper limit) of an exchange rate of `moneda` on `fecha` (the
    Comprobante's TipoCambio, or a Pago's TipoCambioP); None without a padrón, a rate or a percentage."""
    row = ctx.catalogs.moneda(moneda)
    pct = to_decimal(str(row.get("porcentaje_variacion") or "")) if row is not None else None
    if ctx.padron is None or pct is None:
        return None
    ref = ctx.padron.tipo_cambio(moneda, fecha)
    if ref is None:
        return None
    share = pct / 100
    return (ref, (ref * (1 - share)).quantize(_TC_STEP, rounding=ROUND_DOWN),
            (ref * (1 + share)).quantize(_TC_STEP, rounding=ROUND_CEILING))


@rule("CFDI40118")
def tipo_cambio_confirmacion(ctx: Context) -> None:
    """CFDI40118: un TipoCambio fuera del porcentaje de c_Moneda alrededor del tipo de cambio de referencia
    requiere una clave de Confirmacion del PAC."""
    root = ctx.root
    text = root.get("TipoCambio")
    tc = to_decimal(text) if text is not None and _TIPO_CAMBIO_RE.fullmatch(text) else None
    if tc is None or root.get("Confirmacion") is not None:
        return
    limites = tipo_cambio_limites(ctx)
    if limites is None:
        return
    ref, low, high = limites
    if low <= tc <= high:
        return
    ctx.fail("CFDI40118", root, "TipoCambio", value=text, expected=f"{low} .. {high} o Confirmacion",
             detail=f"el TipoCambio {text} está fuera del rango de {ctx.moneda} ({low} a {high}, el tipo de cambio "
                    f"de referencia {ref} ± su porcentaje de variación en c_Moneda): se requiere una clave de "
                    "Confirmacion del PAC")


def _tipo_cambio_en_rango(ctx: Context) -> bool:
    """Whether the TipoCambio is known to be within range (CFDI40127): MXN and XXX always are."""
    if ctx.moneda in _MONEDAS_SIN_TIPO_CAMBIO_VARIABLE:
        return True
    tc = to_decimal(ctx.root.get("TipoCambio"))
    limites = tipo_cambio_limites(ctx)
    return tc is not None and limites is not None and limites[1] <= tc <= limites[2]


@rule("CFDI40128", "CFDI40129")
def confirmacion_padron(ctx: Context) -> None:
    """CFDI40128: la clave de Confirmacion la debe haber dado este PAC al emisor.
    CFDI40129: una clave de Confirmacion no se usa en más de un comprobante."""
    clave = ctx.root.get("Confirmacion")
    got = padron_del_emisor(ctx) if clave is not None else None
    if got is None:
        return
    rfc, padron, _ = got
    if not padron.confirmacion_valida(clave, rfc):
        ctx.fail("CFDI40128", ctx.root, "Confirmacion", value=clave,
                 detail=f"este PAC no dio la clave de confirmación {clave} al emisor {rfc}")
    elif padron.confirmacion_usada(clave):
        ctx.fail("CFDI40129", ctx.root, "Confirmacion", value=clave,
                 detail=f"la clave de confirmación {clave} ya se usó en otro comprobante")


@rule("CFDI40120", "CFDI40127")
def confirmacion(ctx: Context) -> None:
    """A Total above c_TipoDeComprobante's valor_maximo needs a Confirmacion (CFDI40120). A Confirmacion
    must not exist when Total and TipoCambio are within range (CFDI40127): the TipoCambio range needs SAT's
    reference rate, so that is decided for MXN and XXX, which need none, and where the padrón has the rate.

    The limit is compared with the Total in pesos (Total x TipoCambio when there is a TipoCambio)."""
    root = ctx.root
    tipo = ctx.catalogs.tipo_comprobante(ctx.tipo)
    total_value = ctx.totales.total
    if tipo is None or total_value is None:
        return
    maximo = to_decimal(str(tipo.get("valor_maximo") or ""))
    if maximo is None:
        return
    tc = to_decimal(root.get("TipoCambio"))
    en_pesos = total_value * tc if tc is not None and tc > 0 else total_value
    conf = root.get("Confirmacion")
    if en_pesos > maximo:
        if conf is None:
            pesos = "" if en_pesos == total_value else f" ({en_pesos} MXN)"
            ctx.fail("CFDI40120", root, "Total", value=ctx.totales.total_text, expected=f"<= {maximo} o Confirmacion",
                     detail=f"el Total{pesos} supera el valor máximo {maximo} del TipoDeComprobante "
                            f"{ctx.tipo}: se requiere una clave de Confirmacion del PAC")
        return
    # A Pagos 2.0 CFDI (Total 0, XXX) needs a Confirmacion for its payments' TipoCambioP or Monto
    # (CRP20216, CRP20220): the Comprobante-level amounts cannot rule it out.
    if conf is not None and _tipo_cambio_en_rango(ctx) and NS_PAGOS20 not in ctx.complement_namespaces:
        tc = ("no tiene tipo de cambio fuera de rango" if ctx.moneda in _MONEDAS_SIN_TIPO_CAMBIO_VARIABLE
              else f"tiene el TipoCambio {root.get('TipoCambio')} dentro de su rango")
        ctx.fail("CFDI40127", root, "Confirmacion", value=conf,
                 detail=f"el Total no supera el valor máximo {maximo} del TipoDeComprobante {ctx.tipo} y la "
                        f"Moneda {ctx.moneda} {tc}: Confirmacion debe omitirse")


# -- Exportacion -------------------------------------------------------------------------------------
@rule("CFDI40122")
def exportacion_comercio_exterior(ctx: Context) -> None:
    if ctx.root.get("Exportacion") != "02":
        return
    # The Comercio Exterior versions in force at the validation's "as of" instant (1.1 until 2024-01-17).
    en_vigor = comercio_exterior_en_vigor(ctx.now)
    if en_vigor & ctx.complement_namespaces:
        return
    nombres = " o ".join(f"{vigencias.VIGENCIAS[ns].nombre} ({ns})" for ns in sorted(en_vigor))
    ctx.fail("CFDI40122", ctx.root, "Exportacion", value="02",
             detail=f"Exportacion 02 (definitiva con clave A1) requiere el complemento {nombres}")
