"""cfdi:Receptor — SAT's CFDI 4.0 matrix, codes CFDI40143-CFDI40161.

The kind of person comes from the RFC (12 characters moral, 13 física; the generic RFCs XAXX010101000,
nacional, and XEXX010101000, extranjero, are 13 characters and count as física, as SAT's catalogs do:
616 "Sin obligaciones fiscales" applies only to física).

Checked here: CFDI40146, CFDI40149, CFDI40151-CFDI40156, CFDI40158, CFDI40159 (generic RFCs), CFDI40161.
Reported by claves.py: CFDI40150 (c_Pais), CFDI40157 (c_RegimenFiscal), CFDI40160 (c_UsoCFDI).
With SAT's lists (`ctx.padron`; see emisor.py for how the "in the list" / "belongs to the RFC" pairs are
read): CFDI40143 (Rfc in l_RFC), CFDI40144/40145 (Nombre), CFDI40147/40148 (DomicilioFiscalReceptor), the
"RFC inscrito" half of CFDI40154, and T160: RegimenFiscalReceptor among the RFC's regímenes in l_RFC. SAT's
matrix has no code whose text says that (CFDI40159's validation is only the generic RFCs' 616), so it is
timbra's own.

CFDI40159 and Nómina: NOM11 (Nómina 1.2 matrix) requires RegimenFiscalReceptor 605 "aún y cuando el atributo
Comprobante.Receptor.Rfc tenga registrado el RFC genérico XAXX010101000" (payroll to a deceased worker, NOM10),
so in a CFDI with the Nómina complement XAXX010101000 takes 605, not 616.
"""
from __future__ import annotations

import re
from functools import lru_cache

from lxml import etree

from timbra.cfdi.document import COMERCIO_EXTERIOR
from timbra.cfdi.rfc import (
    FISICA,
    RFC_GENERICO_EXTRANJERO,
    RFC_GENERICO_NACIONAL,
    RFCS_GENERICOS,
    persona_de_rfc,
)
from timbra.cfdi.rules import Context, rule
from timbra.cfdi.rules.emisor import (
    aplica_a,
    check_regimen_persona,
    check_registrado,
    en_padron,
)
from timbra.sat.catalogs import collapse

NS_NOMINA12 = "http://www.sat.gob.mx/nomina12"
PUBLICO_EN_GENERAL = "PUBLICO EN GENERAL"
REGIMEN_SIN_OBLIGACIONES = "616"


def _rfc(ctx: Context, receptor: etree._Element) -> str:
    """The Receptor's Rfc, collapsed; read once per document (most receptor rules ask for it)."""
    got = ctx.cache.get("receptor.rfc")
    if got is None:
        got = ctx.cache["receptor.rfc"] = collapse(receptor.get("Rfc") or "")
    return got  # type: ignore[return-value]


def _personas(persona: str) -> str:
    return "físicas" if persona == FISICA else "morales"


@rule("CFDI40146")
def publico_en_general(ctx: Context) -> None:
    """CFDI40146: Nombre "PUBLICO EN GENERAL" exige el Rfc XAXX010101000."""
    rec = ctx.doc.receptor
    if rec is None:
        return
    nombre = rec.get("Nombre")
    if nombre is None or collapse(nombre) != PUBLICO_EN_GENERAL:
        return
    rfc = _rfc(ctx, rec)
    if rfc != RFC_GENERICO_NACIONAL:
        ctx.fail("CFDI40146", rec, "Rfc", value=rfc, expected=RFC_GENERICO_NACIONAL,
                 detail=f"el Nombre del receptor es \"{PUBLICO_EN_GENERAL}\" y el Rfc es {rfc}; "
                        f"debe ser el RFC genérico nacional {RFC_GENERICO_NACIONAL}")


@rule("CFDI40149")
def domicilio_fiscal_generico(ctx: Context) -> None:
    """CFDI40149: con un RFC genérico, DomicilioFiscalReceptor debe ser igual a LugarExpedicion."""
    rec = ctx.doc.receptor
    if rec is None:
        return
    rfc = _rfc(ctx, rec)
    if rfc not in RFCS_GENERICOS:
        return
    domicilio = rec.get("DomicilioFiscalReceptor")
    lugar = ctx.root.get("LugarExpedicion")
    if domicilio is None or lugar is None:
        return
    domicilio, lugar = collapse(domicilio), collapse(lugar)
    if domicilio != lugar:
        ctx.fail("CFDI40149", rec, "DomicilioFiscalReceptor", value=domicilio, expected=lugar,
                 detail=f"con el RFC genérico {rfc}, DomicilioFiscalReceptor ({domicilio}) debe ser igual a "
                        f"LugarExpedicion ({lugar})")


@rule("CFDI40151", "CFDI40152", "CFDI40153")
def residencia_fiscal(ctx: Context) -> None:
    """CFDI40151: con un RFC registrado o el genérico nacional no debe existir ResidenciaFiscal.
    CFDI40152: ResidenciaFiscal no puede ser MEX.
    CFDI40153: con el RFC genérico extranjero y comercio exterior, o con NumRegIdTrib, debe existir."""
    rec = ctx.doc.receptor
    if rec is None:
        return
    rfc = _rfc(ctx, rec)
    residencia = rec.get("ResidenciaFiscal")
    if residencia is not None:
        residencia = collapse(residencia)
        if rfc != RFC_GENERICO_EXTRANJERO:
            # Any RFC other than the generic foreign one is the generic national one or must be an RFC
            # registered with SAT (otherwise SAT answers CFDI40143): either way ResidenciaFiscal must not exist.
            tipo = "el RFC genérico nacional" if rfc == RFC_GENERICO_NACIONAL else "un RFC nacional"
            ctx.fail("CFDI40151", rec, "ResidenciaFiscal", value=residencia,
                     detail=f"el Rfc del receptor {rfc} es {tipo}; ResidenciaFiscal sólo se registra con el "
                            f"RFC genérico extranjero {RFC_GENERICO_EXTRANJERO}")
        if residencia == "MEX":
            ctx.fail("CFDI40152", rec, "ResidenciaFiscal", value=residencia,
                     detail="ResidenciaFiscal es el país de residencia en el extranjero; no puede ser MEX")
        return
    if rfc != RFC_GENERICO_EXTRANJERO:
        return
    if rec.get("NumRegIdTrib") is not None:
        why = "se registró NumRegIdTrib"
    elif ctx.complement_namespaces & COMERCIO_EXTERIOR:
        why = "el comprobante incluye el complemento de comercio exterior"
    else:
        return
    ctx.fail("CFDI40153", rec, "ResidenciaFiscal",
             detail=f"el Rfc del receptor es {RFC_GENERICO_EXTRANJERO} y {why}; falta ResidenciaFiscal "
                    "(clave de c_Pais)")


def clean_pattern(text: str) -> str:
    """A c_Pais pattern without the line break that phpcfdi's table keeps from SAT's spreadsheet
    inside MEX's pattern ("[0\\n-9A]")."""
    return text.replace("\\n", "").replace("\n", "").replace("\r", "").strip()


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    if not pattern:
        return None
    try:
        return re.compile(pattern)
    except re.error:
        return None


@rule("CFDI40154", "CFDI40155", "CFDI40156")
def num_reg_id_trib(ctx: Context) -> None:
    """CFDI40154: con el RFC genérico nacional no se registra NumRegIdTrib.
    CFDI40155: con el RFC genérico extranjero y comercio exterior debe existir NumRegIdTrib; sólo se
    registra con el RFC genérico extranjero.
    CFDI40156: NumRegIdTrib cumple el patrón del país de ResidenciaFiscal (c_Pais)."""
    rec = ctx.doc.receptor
    if rec is None:
        return
    rfc = _rfc(ctx, rec)
    num = rec.get("NumRegIdTrib")
    if num is None:
        if rfc == RFC_GENERICO_EXTRANJERO and ctx.complement_namespaces & COMERCIO_EXTERIOR:
            ctx.fail("CFDI40155", rec, "NumRegIdTrib",
                     detail=f"el Rfc del receptor es {RFC_GENERICO_EXTRANJERO} y el comprobante incluye el "
                            "complemento de comercio exterior; falta NumRegIdTrib")
        return
    num = collapse(num)
    if rfc == RFC_GENERICO_NACIONAL or num == RFC_GENERICO_NACIONAL:
        ctx.fail("CFDI40154", rec, "NumRegIdTrib", value=num,
                 detail=f"el {'Rfc del receptor' if rfc == RFC_GENERICO_NACIONAL else 'NumRegIdTrib'} es el "
                        f"RFC genérico nacional {RFC_GENERICO_NACIONAL}; NumRegIdTrib no debe registrarse")
    elif rfc != RFC_GENERICO_EXTRANJERO:
        ctx.fail("CFDI40155", rec, "NumRegIdTrib", value=num,
                 detail=f"el Rfc del receptor {rfc} es un RFC nacional; NumRegIdTrib sólo se registra con el "
                        f"RFC genérico extranjero {RFC_GENERICO_EXTRANJERO}")
    residencia = rec.get("ResidenciaFiscal")
    if residencia is None:  # CFDI40153
        return
    residencia = collapse(residencia)
    pais = ctx.catalogs.row("cfdi_40_paises", residencia) if ctx.catalogs.has_table("cfdi_40_paises") else None
    if pais is None:  # not in c_Pais: CFDI40150
        return
    patron = clean_pattern(str(pais.get("patron_identidad_tributaria") or ""))
    regex = _compiled(patron)
    if regex is not None and regex.fullmatch(num) is None:
        ctx.fail("CFDI40156", rec, "NumRegIdTrib", value=num, expected=patron,
                 detail=f"NumRegIdTrib {num!r} no cumple el formato de registro de identidad tributaria de "
                        f"{residencia} ({pais.get('texto', '')}) en c_Pais: {patron}")


@rule("CFDI40158")
def regimen_fiscal_receptor_persona(ctx: Context) -> None:
    """CFDI40158: RegimenFiscalReceptor debe corresponder con el tipo de persona del receptor."""
    rec = ctx.doc.receptor
    if rec is not None:
        check_regimen_persona(ctx, "CFDI40158", rec, "RegimenFiscalReceptor", "Rfc")


@rule("CFDI40159")
def regimen_fiscal_receptor_generico(ctx: Context) -> None:
    """CFDI40159: con un RFC genérico, RegimenFiscalReceptor debe ser 616 (Sin obligaciones fiscales); en
    nómina con XAXX010101000 es 605, como pide NOM11 (lo revisa el complemento)."""
    rec = ctx.doc.receptor
    if rec is None:
        return
    rfc = _rfc(ctx, rec)
    regimen = rec.get("RegimenFiscalReceptor")
    if rfc not in RFCS_GENERICOS or regimen is None:
        return
    regimen = collapse(regimen)
    if rfc == RFC_GENERICO_NACIONAL and NS_NOMINA12 in ctx.complement_namespaces:
        return  # NOM11 decides: 605 even with the generic RFC
    if regimen != REGIMEN_SIN_OBLIGACIONES:
        ctx.fail("CFDI40159", rec, "RegimenFiscalReceptor", value=regimen, expected=REGIMEN_SIN_OBLIGACIONES,
                 detail=f"con el RFC genérico {rfc} el régimen del receptor debe ser "
                        f"{REGIMEN_SIN_OBLIGACIONES} (Sin obligaciones fiscales)")


@rule("CFDI40143", "CFDI40144", "CFDI40145", "CFDI40147", "CFDI40148", "T160")
def receptor_en_padron(ctx: Context) -> None:
    """CFDI40143: un Rfc que no es genérico debe estar en la lista de RFC inscritos no cancelados.
    CFDI40144/40145: el Nombre debe estar en esa lista y ser el asociado al Rfc.
    CFDI40147/40148: el DomicilioFiscalReceptor, igual, con el código postal.
    T160: RegimenFiscalReceptor debe ser uno de los regímenes del Rfc en la lista."""
    rec = ctx.doc.receptor
    if rec is None or ctx.padron is None:
        return
    rfc = _rfc(ctx, rec)
    if rfc in RFCS_GENERICOS:
        return
    got = en_padron(ctx, rfc)
    if got is None:
        return
    padron, c = got
    if c is None:
        ctx.fail("CFDI40143", rec, "Rfc", value=rfc,
                 detail=f"el RFC {rfc} no está en la lista de RFC inscritos no cancelados del SAT; "
                        f"para un receptor sin RFC use {RFC_GENERICO_NACIONAL} o, si es extranjero, "
                        f"{RFC_GENERICO_EXTRANJERO}")
        return
    check_registrado(ctx, ("CFDI40144", "CFDI40145"), rec, "Nombre", c.nombre, rfc, "el Nombre del receptor",
                     padron.nombre_inscrito, padron)
    check_registrado(ctx, ("CFDI40147", "CFDI40148"), rec, "DomicilioFiscalReceptor", c.codigo_postal, rfc,
                     "el código postal", padron.codigo_postal_inscrito, padron)
    regimen = rec.get("RegimenFiscalReceptor")
    if regimen is None or not c.regimenes:
        return
    regimen = collapse(regimen)
    if regimen not in c.regimenes:
        expected = ", ".join(c.regimenes) if padron.datos_publicos else None
        ctx.fail("T160", rec, "RegimenFiscalReceptor", value=regimen, expected=expected,
                 detail=f"el régimen {regimen} no es uno de los regímenes del RFC {rfc} en la lista de RFC "
                        "inscritos no cancelados del SAT" + (f" ({expected})" if expected else ""))


@rule("CFDI40154")
def num_reg_id_trib_inscrito(ctx: Context) -> None:
    """CFDI40154: NumRegIdTrib no se registra cuando su valor es un RFC inscrito no cancelado (el caso del
    RFC genérico nacional lo reporta num_reg_id_trib)."""
    rec = ctx.doc.receptor
    padron = ctx.padron
    if rec is None or padron is None:
        return
    num = rec.get("NumRegIdTrib")
    if num is None:
        return
    num = collapse(num)
    if RFC_GENERICO_NACIONAL in (num, _rfc(ctx, rec)):
        return
    if padron.lookup(num) is not None:
        ctx.fail("CFDI40154", rec, "NumRegIdTrib", value=num,
                 detail=f"NumRegIdTrib {num} es un RFC inscrito no cancelado en el SAT: un receptor con RFC "
                        "se registra en el atributo Rfc, sin NumRegIdTrib")


def _lista(text: object) -> frozenset[str]:
    """A catalog cell listing codes ("601, 603"), as a set; remembered per cell (a few distinct ones)."""
    try:
        return _listas(text)
    except TypeError:  # an unhashable cell
        return _split_lista(text)


def _split_lista(text: object) -> frozenset[str]:
    return frozenset(p.strip() for p in str(text or "").split(",") if p.strip())


_listas = lru_cache(maxsize=1024)(_split_lista)


@rule("CFDI40161")
def uso_cfdi(ctx: Context) -> None:
    """CFDI40161: UsoCFDI debe aplicar al tipo de persona del receptor y a su RegimenFiscalReceptor."""
    rec = ctx.doc.receptor
    if rec is None:
        return
    uso = rec.get("UsoCFDI")
    if uso is None:
        return
    uso = collapse(uso)
    row = ctx.catalogs.uso_cfdi(uso)
    if row is None:  # not in c_UsoCFDI (CFDI40160) or without the CFDI 4.0 columns
        return
    rfc = _rfc(ctx, rec)
    persona = persona_de_rfc(rfc)
    regimen = collapse(rec.get("RegimenFiscalReceptor") or "")
    regimenes_validos = ctx.catalogs.cfdi("c_RegimenFiscal")
    if regimen and regimenes_validos and regimen not in regimenes_validos:
        regimen = ""  # not in c_RegimenFiscal: CFDI40157
    reasons = []
    if persona is not None and not aplica_a(row, persona):
        reasons.append(f"no aplica a personas {_personas(persona)} (el RFC {rfc} es de persona {persona})")
    if regimen and regimen not in _lista(row.get("regimenes_fiscales_receptores")):
        reasons.append(f"no aplica al régimen {regimen} del receptor")
    if not reasons:
        return
    usos = [str(r["id"]) for r in ctx.catalogs.rows("cfdi_40_usos_cfdi")
            if (persona is None or aplica_a(r, persona))
            and (not regimen or regimen in _lista(r.get("regimenes_fiscales_receptores")))]
    ctx.fail("CFDI40161", rec, "UsoCFDI", value=uso, expected=", ".join(usos) or None,
             detail=f"el UsoCFDI {uso} ({row.get('texto', '')}) " + " y ".join(reasons))
