"""Concepto rules of SAT's CFDI 4.0 matrix (Anexo 20): what c_ClaveProdServ requires, ValorUnitario,
Importe limits, Descuento, ObjetoImp against the Impuestos child, ACuentaTerceros, InformacionAduanera
and Parte.

Codes reported here: CFDI40163, CFDI40164, CFDI40166-CFDI40169, CFDI40171, CFDI40172, CFDI40188-CFDI40190,
CFDI40192, CFDI40193, CFDI40194, CFDI40195, CFDI40197-CFDI40200 and CFDI140223; with SAT's lists
(`ctx.padron`): CFDI40187 (a third party's RFC in l_LCO), CFDI40189/40190 and CFDI40192/40193 for a real
RFC (read as in emisor.py), and CFDI140224/140225 (the ISR withheld by a persona moral from a RESICO persona
física, by the "marca Retención" of l_RFC).
Elsewhere: catalog membership (CFDI40162, 40165, 40170, 40191, 40196) is claves.py's; the other concepto
taxes (CFDI40173-40186, CFDI140226, CFDI140227) are impuestos.py's.
"""
from __future__ import annotations

import re
import unicodedata
import weakref
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from decimal import Context as DecimalContext

from lxml import etree

from timbra.cfdi.document import COMERCIO_EXTERIOR, children_of, first_child
from timbra.cfdi.rfc import FISICA, MORAL, persona_de_rfc
from timbra.cfdi.rules import Context, decimals_of, needs_data, rule, to_decimal
from timbra.cfdi.rules.emisor import check_registrado, en_padron, padron_del_emisor
from timbra.sat.catalogs import Catalogs, collapse

# Exact arithmetic for the limits: t_Importe has up to 24 digits, a product up to 48; the default
# 28-digit context would round.
_DC = DecimalContext(prec=100)
_HALF = Decimal("0.5")
# Anexo 20 subtracts 10^-12 from each factor of the upper limit (it only matters for a product that exceeds
# a multiple of the Importe's last decimal by less than about 10^-12).
_EPS = Decimal("1E-12")
_STEPS = [Decimal(1).scaleb(-n) for n in range(0, 13)]

TIPOS_VALOR_UNITARIO_POSITIVO = frozenset({"I", "E", "N"})
# CFDI40171 / CFDI40172. 06, 07 and 08 are CFDI140226/140227's (impuestos.py): the matrix neither
# requires nor forbids the Impuestos node for them.
OBJETO_IMP_CON_IMPUESTOS = frozenset({"02"})
OBJETO_IMP_SIN_IMPUESTOS = frozenset({"01", "03", "04", "05"})

RFC_EXTRANJERO_INTERMEDIACION = "EXT990101NI1"
NOMBRE_EXTRANJERO_INTERMEDIACION = (
    "EXPEDICIÓN DE CFDI POR RESIDENTES EN MÉXICO QUE PRESTAN SERVICIOS DE INTERMEDIACIÓN ENTRE TERCEROS "
    "A OFERENTES DE BIENES Y SERVICIOS RESIDENTES EN EL EXTRANJERO")
REGIMEN_EXTRANJERO_INTERMEDIACION = "616"

# Pedimento rules (40195, 40200) also count Comercio Exterior 1.0.
COMERCIO_EXTERIOR_NS = COMERCIO_EXTERIOR | {"http://www.sat.gob.mx/ComercioExterior"}

ISR = "001"
IMPUESTO_IVA = "002"
IMPUESTO_IEPS = "003"


# -- amounts -----------------------------------------------------------------------------------------
def _step(decimals: int) -> Decimal:
    return _STEPS[decimals] if decimals < len(_STEPS) else Decimal(1).scaleb(-decimals)


def _limits(c: Decimal, dc: int, v: Decimal, dv: int, di: int) -> tuple[Decimal, Decimal]:
    half_c = _step(dc) * _HALF
    half_v = _step(dv) * _HALF
    q = _step(di)
    low = _DC.multiply(_DC.subtract(c, half_c), _DC.subtract(v, half_v))
    high = _DC.multiply(_DC.subtract(_DC.add(c, half_c), _EPS), _DC.subtract(_DC.add(v, half_v), _EPS))
    return (low.quantize(q, rounding=ROUND_DOWN, context=_DC),
            high.quantize(q, rounding=ROUND_CEILING, context=_DC))


def importe_limits(cantidad: str, valor_unitario: str, importe: str) -> tuple[Decimal, Decimal] | None:
    """SAT's lower and upper limits of an Importe (Anexo 20, Concepto@Importe and Parte@Importe).

    LimInf = (Cantidad - 10^-dCant/2) × (ValorUnitario - 10^-dVU/2), truncated to the decimals of Importe;
    LimSup = (Cantidad + 10^-dCant/2 - 10^-12) × (ValorUnitario + 10^-dVU/2 - 10^-12), rounded up to them.
    None when a number is missing or malformed.
    """
    c = to_decimal(cantidad)
    v = to_decimal(valor_unitario)
    if c is None or v is None or to_decimal(importe) is None:
        return None
    return _limits(c, decimals_of(cantidad), v, decimals_of(valor_unitario), decimals_of(importe))


def product_rounded(c: Decimal, dc: int, v: Decimal, dv: int, imp: Decimal, di: int) -> bool:
    """The fast path of the limits: an Importe less than one unit of its last decimal away from
    Cantidad × ValorUnitario is that product rounded down or up, and both lie within the limits
    (LimInf <= product <= LimSup when Cantidad > 0, ValorUnitario >= 0 and each half-step exceeds the
    10^-12 of LimSup). False means "compute the limits", not "outside them"."""
    return (c > 0 and v >= 0 and dc < 12 and dv < 12
            and abs(_DC.subtract(imp, _DC.multiply(c, v))) < _step(di))


def _check_importe(ctx: Context, code: str, el: etree._Element, cantidad: str | None, c: Decimal | None,
                   valor: str | None, v: Decimal | None, importe: str | None = None,
                   imp: Decimal | None = None) -> None:
    """Importe (el's, or `importe` and its value `imp` when the caller read them) within its limits."""
    if importe is None:
        importe = el.get("Importe")
    if importe is None or c is None or v is None or cantidad is None or valor is None:
        return
    if imp is None:
        imp = to_decimal(importe)
    if imp is None:
        return
    dc, dv, di = decimals_of(cantidad), decimals_of(valor), decimals_of(importe)
    if product_rounded(c, dc, v, dv, imp, di):
        return
    low, high = _limits(c, dc, v, dv, di)
    if imp < low or imp > high:
        ctx.fail(code, el, "Importe", value=importe, expected=f"{low} .. {high}",
                 detail=f"Importe {importe} no está entre {low} y {high} "
                        f"(Cantidad {cantidad} × ValorUnitario {valor})")


@rule("CFDI40166", "CFDI40167", "CFDI40168", "CFDI40169")
def concepto_importes(ctx: Context) -> None:
    """ValorUnitario > 0 (I, E, N), Importe within its limits, Descuento's decimals and size."""
    positive = ctx.tipo in TIPOS_VALOR_UNITARIO_POSITIVO
    for f in ctx.conceptos.items:
        c = f.el
        valor, v, importe, descuento = f.valor_text, f.valor, f.importe_text, f.descuento_text
        if positive and v is not None and v <= 0:
            ctx.fail("CFDI40166", c, "ValorUnitario", value=valor, expected="> 0",
                     detail=f"ValorUnitario {valor} debe ser mayor que cero en un comprobante de tipo {ctx.tipo}")
        if importe is not None:
            _check_importe(ctx, "CFDI40167", c, f.cantidad_text, f.cantidad, valor, v, importe, f.importe)
        if descuento is None:
            continue
        d = f.descuento
        i = f.importe
        if d is None or i is None:
            continue
        dec_i = decimals_of(importe)
        dec_d = decimals_of(descuento)
        if dec_d > dec_i:
            ctx.fail("CFDI40168", c, "Descuento", value=descuento, expected=f"hasta {dec_i} decimales",
                     detail=f"Descuento {descuento} tiene {dec_d} decimales y el Importe {importe} "
                            f"del concepto tiene {dec_i}")
        if d > i:
            ctx.fail("CFDI40169", c, "Descuento", value=descuento, expected=f"<= {importe}",
                     detail=f"Descuento {descuento} es mayor que el Importe {importe} del concepto")


# -- ObjetoImp ---------------------------------------------------------------------------------------
@rule("CFDI40171", "CFDI40172")
def objeto_imp_impuestos(ctx: Context) -> None:
    """ObjetoImp 02 needs the concepto's Impuestos node; 01, 03, 04 and 05 forbid it."""
    for f in ctx.conceptos.items:
        c, objeto = f.el, f.objeto_imp
        if objeto in OBJETO_IMP_CON_IMPUESTOS:
            if not f.impuestos_first:
                ctx.fail("CFDI40171", c, "ObjetoImp", value=objeto, expected="nodo Impuestos",
                         detail=f"ObjetoImp {objeto} exige el nodo Impuestos en el concepto y no existe")
        elif objeto in OBJETO_IMP_SIN_IMPUESTOS:
            if f.impuestos_first:
                ctx.fail("CFDI40172", c, "ObjetoImp", value=objeto, expected="sin nodo Impuestos",
                         detail=f"con ObjetoImp {objeto} el concepto no debe tener el nodo Impuestos")


# -- what c_ClaveProdServ requires -------------------------------------------------------------------
def _fold(text: str) -> str:
    """Lowercase, no accents, letters and digits only, without filler words: "Vehículo Usado" -> "vehiculousado"."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    words = re.findall(r"[a-z0-9]+", text)
    return "".join(w for w in words if w not in _FILLER)


_FILLER = frozenset({"complemento", "complementos", "concepto", "al", "a", "de", "del", "la", "las", "el", "los",
                     "para", "por", "en", "y", "e", "cfdi", "version", "v"})
_NONE = frozenset({"", "no", "na", "n/a", "ninguno", "ninguna", "-", "0"})

# The complement names SAT's c_ClaveProdServ may give in ComplementoQueDebeIncluir -> their namespaces
# (any version accepted). Names are matched by _fold(); a namespace URI in the column works as well.
_COMPLEMENT_NAMES: dict[str, tuple[str, ...]] = {
    "vehiculo usado": ("vehiculousado",),
    "venta de vehiculos": ("ventavehiculos",),
    "renovacion y sustitucion de vehiculos": ("renovacionysustitucionvehiculos",),
    "certificado de destruccion": ("certificadodestruccion",),
    "obras de arte plasticas y antiguedades": ("arteantiguedades",),
    "arte y antiguedades": ("arteantiguedades",),
    "servicios parciales de construccion": ("servicioparcialconstruccion",),
    "servicio parcial de construccion": ("servicioparcialconstruccion",),
    "instituciones educativas privadas": ("iedu",),
    "iedu": ("iedu",),
    "consumo de combustibles": ("ConsumoDeCombustibles11", "consumodecombustibles"),
    "estado de cuenta de combustibles": ("EstadoDeCuentaCombustible12", "EstadoDeCuentaCombustible", "ecc"),
    "estado de cuenta de combustibles de monederos electronicos": (
        "EstadoDeCuentaCombustible12", "EstadoDeCuentaCombustible", "ecc"),
    "notarios publicos": ("notariospublicos",),
    "leyendas fiscales": ("leyendasFiscales",),
    "divisas": ("divisas",),
    "donatarias": ("donat",),
    "ine": ("ine",),
    "instituto nacional electoral": ("ine",),
    "pago en especie": ("pagoenespecie",),
    "vales de despensa": ("valesdedespensa",),
    "aerolineas": ("aerolineas",),
    "turista pasajero extranjero": ("TuristaPasajeroExtranjero",),
    "comercio exterior": ("ComercioExterior20", "ComercioExterior11"),
    "carta porte": ("CartaPorte31", "CartaPorte30", "CartaPorte20"),
    "nomina": ("nomina12",),
    "recepcion de pagos": ("Pagos20",),
    "pagos": ("Pagos20",),
    "acreditamiento del ieps": ("acreditamiento",),
    "acreditamiento ieps": ("acreditamiento",),
    "spei": ("spei",),
    "detallista": ("detallista",),
    "registro fiscal": ("registrofiscal",),
    "personas fisicas integrantes de coordinados": ("pfic",),
    "pfic": ("pfic",),
    "impuestos locales": ("implocal",),
    "hidrocarburos y petroliferos": ("hidrocarburospetroliferos",),
    "gastos hidrocarburos": ("GastosHidrocarburos10",),
    "ingresos hidrocarburos": ("IngresosHidrocarburos10",),
}
COMPLEMENT_NAMESPACES: dict[str, frozenset[str]] = {
    _fold(name): frozenset(f"http://www.sat.gob.mx/{n}" for n in nss) for name, nss in _COMPLEMENT_NAMES.items()
}


def required_complements(cell: object) -> list[tuple[str, frozenset[str] | None]]:
    """The complements a ComplementoQueDebeIncluir cell names, each with the namespaces that satisfy it
    (None for a name this table does not know: it cannot be checked)."""
    text = "" if cell is None else str(cell).strip()
    if text.lower() in _NONE:
        return []
    out: list[tuple[str, frozenset[str] | None]] = []
    for part in re.split(r"[,;|\n]+", text):
        part = part.strip()
        if part.lower() in _NONE:
            continue
        if part.startswith(("http://", "https://")):
            out.append((part, frozenset({part})))
        else:
            out.append((part, COMPLEMENT_NAMESPACES.get(_fold(part))))
    return out


def _yes(cell: object) -> bool:
    """c_ClaveProdServ's Incluir* columns: our source holds 1 for "Sí"; SAT's XLS writes "Sí"."""
    return str(cell).strip().lower() in ("1", "sí", "si")


needs_data("CFDI40163", "c_ClaveProdServ, columna ComplementoQueDebeIncluir: vacía en todas las claves",
           lambda cats: any(r.get("ComplementoQueDebeIncluir") for r in cats.rows("c_ClaveProdServ")))
needs_data("CFDI40164", "c_ClaveProdServ, columna IncluirIEPSTrasladado: ninguna clave la marca",
           lambda cats: any(_yes(r.get("IncluirIEPSTrasladado")) for r in cats.rows("c_ClaveProdServ")),
           part="la mitad IEPS")


@rule("CFDI40163", "CFDI40164")
def clave_prod_serv_requisitos(ctx: Context) -> None:
    """The complements and transferred taxes that c_ClaveProdServ requires for a ClaveProdServ."""
    cats = ctx.catalogs
    seen: dict[str, tuple[list[tuple[str, frozenset[str] | None]], bool, bool] | None] = {}
    q_cc = ctx.q("ComplementoConcepto")
    for f in ctx.conceptos.items:
        c, clave = f.el, f.clave
        if clave is None:
            continue
        if clave not in seen:
            row = cats.clave_prod_serv(clave)
            if row is None:
                seen[clave] = None
            else:
                comps = required_complements(row.get("ComplementoQueDebeIncluir"))
                iva = _yes(row.get("IncluirIVATrasladado"))
                ieps = _yes(row.get("IncluirIEPSTrasladado"))
                seen[clave] = (comps, iva, ieps) if comps or iva or ieps else None
        need = seen[clave]
        if need is None:
            continue
        comps, iva, ieps = need
        if comps:
            present = set(ctx.complement_namespaces)
            cc = first_child(c, q_cc)
            if cc is not None:
                present.update(etree.QName(e).namespace for e in cc if isinstance(e.tag, str))
            for name, namespaces in comps:
                if namespaces is not None and not (namespaces & present):
                    ctx.fail("CFDI40163", c, "ClaveProdServ", value=clave, expected=name,
                             detail=f"la ClaveProdServ {clave} exige el complemento {name!r} "
                                    f"({', '.join(sorted(namespaces))}) y el comprobante no lo incluye")
        if iva or ieps:
            impuestos: set[str | None] = set()
            if f.traslados_groups <= 1:  # the one Traslados group (Context.conceptos reads the last one)
                impuestos.update(t.impuesto for t in f.traslados)
            else:
                ts = first_child(f.impuestos, ctx.q("Traslados"))
                impuestos.update(t.get("Impuesto", "") for t in children_of(ts, ctx.q("Traslado")))
            missing = [f"{name} ({code})" for name, needed, code in
                       (("IVA", iva, IMPUESTO_IVA), ("IEPS", ieps, IMPUESTO_IEPS)) if needed and code not in impuestos]
            if missing:
                which = " y ".join(missing)
                ctx.fail("CFDI40164", c, "ClaveProdServ", value=clave, expected=f"Traslado de {which}",
                         detail=f"según c_ClaveProdServ, la ClaveProdServ {clave} debe llevar el impuesto "
                                f"trasladado {which} en el nodo Impuestos del concepto")


# -- ACuentaTerceros ---------------------------------------------------------------------------------
@rule("CFDI40187", "CFDI40188", "CFDI40189", "CFDI40190", "CFDI40192", "CFDI40193", "CFDI140223")
def a_cuenta_terceros(ctx: Context) -> None:
    """The third party differs from Emisor and Receptor; EXT990101NI1 carries SAT's fixed name, régimen
    616 and LugarExpedicion as its domicilio; any other RFC is checked against SAT's lists."""
    nodes = list(ctx.root.iter(ctx.q("ACuentaTerceros")))
    if not nodes:
        return
    em = ctx.doc.emisor
    rec = ctx.doc.receptor
    rfc_emisor = (em.get("Rfc") or "").upper() if em is not None else ""
    rfc_receptor = (rec.get("Rfc") or "").upper() if rec is not None else ""
    lugar = ctx.root.get("LugarExpedicion")
    for t in nodes:
        rfc = t.get("RfcACuentaTerceros")
        if rfc is None:
            continue
        up = rfc.upper()
        if up and up in (rfc_emisor, rfc_receptor):
            quien = "Emisor" if up == rfc_emisor else "Receptor"
            ctx.fail("CFDI40188", t, "RfcACuentaTerceros", value=rfc,
                     expected=f"distinto de {rfc_emisor} y {rfc_receptor}",
                     detail=f"RfcACuentaTerceros {rfc} es el Rfc del {quien}")
        if up != RFC_EXTRANJERO_INTERMEDIACION:
            _tercero_en_padron(ctx, t, collapse(rfc))
            continue
        nombre = t.get("NombreACuentaTerceros")
        if nombre is not None and " ".join(nombre.split()) != NOMBRE_EXTRANJERO_INTERMEDIACION:
            ctx.fail("CFDI40189", t, "NombreACuentaTerceros", value=nombre,
                     expected=NOMBRE_EXTRANJERO_INTERMEDIACION,
                     detail=f"con RfcACuentaTerceros {RFC_EXTRANJERO_INTERMEDIACION} el nombre debe ser "
                            "la descripción que fija el SAT")
        regimen = t.get("RegimenFiscalACuentaTerceros")
        if regimen is not None and regimen != REGIMEN_EXTRANJERO_INTERMEDIACION:
            ctx.fail("CFDI140223", t, "RegimenFiscalACuentaTerceros", value=regimen,
                     expected=REGIMEN_EXTRANJERO_INTERMEDIACION,
                     detail=f"con RfcACuentaTerceros {RFC_EXTRANJERO_INTERMEDIACION} el régimen debe ser "
                            f"{REGIMEN_EXTRANJERO_INTERMEDIACION}, no {regimen}")
        domicilio = t.get("DomicilioFiscalACuentaTerceros")
        if domicilio is not None and lugar is not None and domicilio != lugar:
            ctx.fail("CFDI40193", t, "DomicilioFiscalACuentaTerceros", value=domicilio, expected=lugar,
                     detail=f"con RfcACuentaTerceros {RFC_EXTRANJERO_INTERMEDIACION} el domicilio fiscal "
                            f"debe ser el LugarExpedicion {lugar}, no {domicilio}")


def _tercero_en_padron(ctx: Context, t: etree._Element, rfc: str) -> None:
    """CFDI40187: RfcACuentaTerceros en l_LCO. CFDI40189/40190: su nombre en la lista de RFC inscritos y el
    de su RFC. CFDI40192/40193: igual, su domicilio fiscal."""
    got = en_padron(ctx, rfc)
    if got is None:
        return
    padron, c = got
    if c is None or not c.puede_facturar:
        ctx.fail("CFDI40187", t, "RfcACuentaTerceros", value=rfc,
                 detail=f"el RFC {rfc} no está en la lista de contribuyentes con certificado vigente (l_LCO)")
    if c is None:
        return
    check_registrado(ctx, ("CFDI40189", "CFDI40190"), t, "NombreACuentaTerceros", c.nombre, rfc,
                     "el nombre del tercero", padron.nombre_inscrito, padron)
    check_registrado(ctx, ("CFDI40192", "CFDI40193"), t, "DomicilioFiscalACuentaTerceros", c.codigo_postal, rfc,
                     "el código postal del tercero", padron.codigo_postal_inscrito, padron)


# -- Retención de ISR a personas físicas del RESICO (CFDI140224, CFDI140225) ------------------------------
REGIMEN_RESICO = "626"
TASA_RETENCION_RESICO = Decimal("0.0125")


def _retenciones(c: etree._Element, q_imp: str, q_rs: str, q_r: str) -> list[etree._Element]:
    imp = first_child(c, q_imp)
    rs = first_child(imp, q_rs) if imp is not None else None
    return [] if rs is None else children_of(rs, q_r)


@rule("CFDI140224", "CFDI140225")
def retencion_isr_resico(ctx: Context) -> None:
    """With a persona física emisor in régimen 626 and a persona moral receptor, the emisor's "marca
    Retención" in l_RFC decides the concepto's ISR withholding: mark 1, no Retencion of ISR (001) may exist
    (CFDI140224); mark 2, each concepto must withhold ISR at 0.0125 (CFDI140225). Conceptos whose ObjetoImp
    forbids the Impuestos node (01, 03-05: CFDI40172) are left out."""
    em, rec = ctx.doc.emisor, ctx.doc.receptor
    if ctx.padron is None or em is None or rec is None or em.get("RegimenFiscal") != REGIMEN_RESICO:
        return
    rfc = collapse(em.get("Rfc") or "")
    if persona_de_rfc(rfc) != FISICA or persona_de_rfc(collapse(rec.get("Rfc") or "")) != MORAL:
        return
    got = padron_del_emisor(ctx)
    c = got[2] if got is not None else None
    if c is None or c.retencion not in (1, 2):
        return
    q_imp, q_rs, q_r = ctx.q("Impuestos"), ctx.q("Retenciones"), ctx.q("Retencion")
    for concepto in ctx.doc.conceptos:
        if concepto.get("ObjetoImp") in OBJETO_IMP_SIN_IMPUESTOS:
            continue
        retenciones = _retenciones(concepto, q_imp, q_rs, q_r)
        if c.retencion == 1:
            for r in retenciones:
                if r.get("Impuesto") == ISR:
                    ctx.fail("CFDI140224", r, "Impuesto", value=ISR, expected="distinto de 001 (ISR)",
                             detail=f"el RFC del emisor {rfc} tiene la marca de retención 1 en la lista de RFC "
                                    "inscritos: el concepto no lleva retención de ISR")
            continue
        if not any(r.get("Impuesto") == ISR and to_decimal(r.get("TasaOCuota")) == TASA_RETENCION_RESICO
                   for r in retenciones):
            found = ", ".join(f"{r.get('Impuesto')} {r.get('TasaOCuota')}" for r in retenciones) or None
            ctx.fail("CFDI140225", concepto, value=found, expected="Retencion de ISR (001) con TasaOCuota 0.012500",
                     detail=f"el RFC del emisor {rfc} tiene la marca de retención 2 en la lista de RFC inscritos y "
                            "el receptor es persona moral: el concepto debe retener ISR al 1.25%")


# -- InformacionAduanera -----------------------------------------------------------------------------
# "YY  AA  PPPP  NNNNNNN": year of validation, aduana, patente, then the last digit of the year and a
# 6-digit consecutive per aduana.
_PEDIMENTO_RE = re.compile(r"(\d{2})  (\d{2})  (\d{4})  (\d)(\d{6})")
_NUM_PEDIMENTO_TABLE = "cfdi_40_numeros_pedimento_aduana"
_num_pedimento_cache: weakref.WeakKeyDictionary[Catalogs, dict[tuple[str, str, int], int]] = (
    weakref.WeakKeyDictionary())


_NUM_PEDIMENTO = "c_NumPedimentoAduana: sin tabla cfdi_40_numeros_pedimento_aduana"
for _code in ("CFDI40194", "CFDI40199"):  # CP174 (cartaporte31.py) shares the check
    needs_data(_code, _NUM_PEDIMENTO, lambda cats: cats.has_table(_NUM_PEDIMENTO_TABLE),
               part="el tope del consecutivo")


def pedimento_cantidades(cats: Catalogs) -> dict[tuple[str, str, int], int]:
    """c_NumPedimentoAduana: (aduana, patente, 2-digit ejercicio) -> highest consecutive; empty when the
    catalog data is missing (it is, in the current data: see SOURCES.md)."""
    got = _num_pedimento_cache.get(cats)
    if got is None:
        got = {}
        if cats.has_table(_NUM_PEDIMENTO_TABLE):
            for r in cats.rows(_NUM_PEDIMENTO_TABLE):
                try:
                    key = (str(r["aduana"]).zfill(2), str(r["patente"]).zfill(4), int(r["ejercicio"]) % 100)
                    got[key] = max(got.get(key, 0), int(r["cantidad"]))
                except (KeyError, TypeError, ValueError):
                    continue
        _num_pedimento_cache[cats] = got
    return got


def pedimento_problems(ctx: Context, value: str) -> list[str]:
    """Why a NumeroPedimento is invalid (empty when it is valid), after SAT's rules (Anexo 20 and the
    Carta Porte matrix CP174, which spells them out): year of validation not after the current year,
    aduana in c_Aduana, patente in c_PatenteAduanal, consecutive between 1 and c_NumPedimentoAduana's
    cantidad for that aduana, patente and year."""
    m = _PEDIMENTO_RE.fullmatch(value)
    if m is None:
        return ["no tiene el formato 'AA  AD  PPPP  NNNNNNN' (año, aduana, patente y número, separados por "
                "dos espacios)"]
    yy, aduana, patente, _, consecutivo = m.groups()
    out: list[str] = []
    this_year = ctx.now.year % 100
    if int(yy) > this_year:
        out.append(f"el año de validación {yy} es posterior al año en curso ({this_year:02d})")
    cats = ctx.catalogs
    if cats.has_table("cfdi_40_aduanas") and cats.row("cfdi_40_aduanas", aduana) is None:
        out.append(f"la aduana {aduana} no está en el catálogo c_Aduana")
    if cats.has_table("cfdi_40_patentes_aduanales") and cats.row("cfdi_40_patentes_aduanales", patente) is None:
        out.append(f"la patente {patente} no está en el catálogo c_PatenteAduanal")
    n = int(consecutivo)
    if n < 1:
        out.append("la numeración progresiva debe ser al menos 000001")
    else:
        cantidad = pedimento_cantidades(cats).get((aduana, patente, int(yy)))
        if cantidad is not None and n > cantidad:
            out.append(f"la numeración progresiva {consecutivo} excede la cantidad {cantidad} de "
                       f"c_NumPedimentoAduana para la aduana {aduana}, patente {patente} y año {yy}")
    return out


@rule("CFDI40194", "CFDI40195", "CFDI40199", "CFDI40200")
def informacion_aduanera(ctx: Context) -> None:
    """NumeroPedimento of a concepto (40194/40195) or of a Parte (40199/40200)."""
    nodes = list(ctx.root.iter(ctx.q("InformacionAduanera")))
    if not nodes:
        return
    comercio_exterior = bool(COMERCIO_EXTERIOR_NS & ctx.complement_namespaces)
    q_parte = ctx.q("Parte")
    for ia in nodes:
        value = ia.get("NumeroPedimento")
        if value is None:
            continue
        parent = ia.getparent()
        en_parte = parent is not None and parent.tag == q_parte
        invalid, with_cce = ("CFDI40199", "CFDI40200") if en_parte else ("CFDI40194", "CFDI40195")
        if comercio_exterior:
            ctx.fail(with_cce, ia, "NumeroPedimento", value=value, expected="sin NumeroPedimento",
                     detail="el comprobante incluye el complemento de comercio exterior: el número de "
                            "pedimento va en ese complemento, no en InformacionAduanera")
        problems = pedimento_problems(ctx, value)
        if problems:
            ctx.fail(invalid, ia, "NumeroPedimento", value=value, detail="; ".join(problems))


# -- Parte -------------------------------------------------------------------------------------------
@rule("CFDI40197", "CFDI40198")
def partes(ctx: Context) -> None:
    """A Parte's ValorUnitario > 0 and its Importe within SAT's limits."""
    for p in ctx.root.iter(ctx.q("Parte")):
        valor = p.get("ValorUnitario")
        v = to_decimal(valor)
        if v is not None and v <= 0:
            ctx.fail("CFDI40197", p, "ValorUnitario", value=valor, expected="> 0",
                     detail=f"ValorUnitario {valor} de la parte debe ser mayor que cero")
        cantidad = p.get("Cantidad")
        _check_importe(ctx, "CFDI40198", p, cantidad, to_decimal(cantidad), valor, v)
