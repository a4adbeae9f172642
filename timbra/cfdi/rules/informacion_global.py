"""SAT's CFDI 4.0 matrix for the InformacionGlobal node (CFDI40130-CFDI40136): the global invoice
(factura global) to the general public.

CFDI40131 (c_Periodicidad) and CFDI40133 (c_Meses) are catalog values, checked by claves.py; the
rules here skip a value outside its catalog so that it is reported once.

CFDI40136: the matrix of 2024-12-13 accepts the current year or up to 5 previous ones ("no es igual
al año en curso o no contiene un valor de hasta 5 ejercicios anteriores"). The current year is that of
the moment of validation (ctx.now) in the zone of LugarExpedicion, where the Fecha is written.
"""
from __future__ import annotations

from datetime import timezone

from timbra.cfdi.rules import Context, rule
from timbra.clock import MEXICO_CITY
from timbra.sat.catalogs import collapse

RFC_PUBLICO_GENERAL = "XAXX010101000"
NOMBRE_PUBLICO_GENERAL = "PUBLICO EN GENERAL"
PERIODICIDAD_BIMESTRAL = "05"
REGIMEN_RIF = "621"
MESES = frozenset(f"{m:02d}" for m in range(1, 13))
BIMESTRES = frozenset(f"{m:02d}" for m in range(13, 19))
ANOS_ANTERIORES = 5


@rule("CFDI40130")
def informacion_global_requerida(ctx: Context) -> None:
    """A Ingreso to RFC XAXX010101000 named PUBLICO EN GENERAL is a global invoice: it needs the node."""
    if ctx.tipo != "I":
        return
    rec = ctx.doc.receptor
    if rec is None or rec.get("Rfc") != RFC_PUBLICO_GENERAL:
        return
    if NOMBRE_PUBLICO_GENERAL not in collapse(rec.get("Nombre") or ""):
        return
    if ctx.doc.child("InformacionGlobal") is not None:
        return
    ctx.fail("CFDI40130", "InformacionGlobal",
             detail=f"un comprobante de Ingreso al Receptor {RFC_PUBLICO_GENERAL} \"{NOMBRE_PUBLICO_GENERAL}\" "
                    "es una factura global: debe incluir el nodo InformacionGlobal (Periodicidad, Meses, Año)")


def _current_year(ctx: Context) -> int:
    zone = ctx.catalogs.zone_for_postal_code(ctx.root.get("LugarExpedicion") or "") or MEXICO_CITY
    now = ctx.now if ctx.now.tzinfo else ctx.now.replace(tzinfo=timezone.utc)
    return now.astimezone(zone).year


@rule("CFDI40132", "CFDI40134", "CFDI40135", "CFDI40136")
def informacion_global(ctx: Context) -> None:
    ig = ctx.doc.child("InformacionGlobal")
    if ig is None:
        return
    periodicidad = ig.get("Periodicidad")
    known_periodicidad = periodicidad in ctx.catalogs.cfdi("c_Periodicidad")
    if periodicidad == PERIODICIDAD_BIMESTRAL:
        em = ctx.doc.emisor
        regimen = None if em is None else em.get("RegimenFiscal")
        if em is not None and regimen != REGIMEN_RIF:
            ctx.fail("CFDI40132", em, "RegimenFiscal", value=regimen, expected=REGIMEN_RIF,
                     detail=f"la Periodicidad 05 (bimestral) de InformacionGlobal solo aplica al régimen "
                            f"{REGIMEN_RIF} (Incorporación Fiscal); el Emisor tiene {regimen}")

    meses = ig.get("Meses")
    if known_periodicidad and meses in ctx.catalogs.cfdi("c_Meses"):
        if periodicidad == PERIODICIDAD_BIMESTRAL:
            if meses not in BIMESTRES:
                ctx.fail("CFDI40135", ig, "Meses", value=meses, expected="13 .. 18",
                         detail=f"con Periodicidad 05 (bimestral) Meses debe ser un bimestre (13 a 18), no {meses}")
        elif meses not in MESES:
            ctx.fail("CFDI40134", ig, "Meses", value=meses, expected="01 .. 12",
                     detail=f"con Periodicidad {periodicidad} Meses debe ser un mes (01 a 12), no el bimestre {meses}")

    text = ig.get("Año")
    if text is None:
        return
    try:
        year = int(text.strip())
    except ValueError:
        return  # the schema types Año as xs:short
    current = _current_year(ctx)
    first = current - ANOS_ANTERIORES
    if not first <= year <= current:
        ctx.fail("CFDI40136", ig, "Año", value=text, expected=f"{first} .. {current}",
                 detail=f"el Año {year} no es el año en curso ({current}) ni uno de los "
                        f"{ANOS_ANTERIORES} anteriores")
