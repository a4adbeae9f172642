"""cfdi:Emisor — SAT's CFDI 4.0 matrix, codes CFDI40138-CFDI40142, and 402 (the Emisor in l_LCO).

- CFDI40141: the RegimenFiscal must apply to the Emisor's kind of person (c_RegimenFiscal's columns
  "Física" / "Moral"); the kind of person comes from the RFC: 12 characters moral, 13 física.
- CFDI40140 (RegimenFiscal in c_RegimenFiscal) is reported by claves.py.
- With SAT's lists (`ctx.padron`, timbra.sat.padron): 402 (the Rfc in l_LCO), CFDI40138/CFDI40139 (the
  Nombre in l_RFC and the one of the Rfc) and CFDI40142 (FacAtrAdquirente given by SAT's service).

Reading of the "in the list" / "belongs to the RFC" pairs (CFDI40138/40139 here, CFDI40144/40145 and
40147/40148 in receptor.py, CFDI40189/40190 and 40192/40193 in conceptos.py): a value that differs from
the one registered for the RFC is reported once, with the first code when no RFC of l_RFC has that value
(a misspelt name) and with the second when it is another RFC's (a name or postal code mixed up).
An RFC the padrón does not know is reported by its own code (402, CFDI40143, CFDI40187) in a strict
padrón, and skipped by every padrón rule in a permissive one.

The helpers `regimen_row`, `en_padron` and `check_registrado` are shared with
receptor.py and conceptos.py.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

from timbra.cfdi.rfc import FISICA, persona_de_rfc
from timbra.cfdi.rules import Context, rule
from timbra.sat.catalogs import Catalogs, collapse
from timbra.sat.padron import Contribuyente, Padron

# c_RegimenFiscal, CFDI 4.0 table first; codes that SAT's catCFDI still lists but the 4.0 table lacks
# (609, 628, 629, 630) come from the older table, which carries the same columns.
_REGIMEN_TABLES = ("cfdi_40_regimenes_fiscales", "cfdi_regimenes_fiscales")


def flag(value: object) -> bool:
    """The catalog tables' boolean-ish columns hold 1 or ''."""
    return value not in (None, "", 0, "0", False)


def regimen_row(catalogs: Catalogs, code: str) -> dict[str, Any] | None:
    for table in _REGIMEN_TABLES:
        if catalogs.has_table(table):
            row = catalogs.row(table, code)
            if row is not None:
                return row
    return None


def aplica_a(row: dict[str, Any], persona: str) -> bool:
    return flag(row.get("aplica_fisica" if persona == FISICA else "aplica_moral"))


def regimenes_de(catalogs: Catalogs, persona: str, today: str = "") -> list[str]:
    """Every c_RegimenFiscal code in force on `today` (YYYY-MM-DD) that applies to `persona`
    (for the `expected` of a finding)."""
    codes = set()
    for table in reversed(_REGIMEN_TABLES):
        if catalogs.has_table(table):
            for row in catalogs.rows(table):
                code = str(row["id"])
                hasta = str(row.get("vigencia_hasta") or "")
                if aplica_a(row, persona) and not (hasta and today and hasta < today):
                    codes.add(code)
                else:
                    codes.discard(code)
    allowed = catalogs.cfdi("c_RegimenFiscal")
    return sorted(c for c in codes if not allowed or c in allowed)


def check_regimen_persona(ctx: Context, code: str, element: etree._Element, attr: str, rfc_attr: str) -> None:
    """The régimen in `attr` must apply to the person of the RFC in `rfc_attr` (CFDI40141 / CFDI40158)."""
    regimen = element.get(attr)
    rfc = collapse(element.get(rfc_attr) or "")
    persona = persona_de_rfc(rfc)
    if regimen is None or persona is None:
        return
    regimen = collapse(regimen)
    row = regimen_row(ctx.catalogs, regimen)
    if row is None:  # not in c_RegimenFiscal: claves.py reports it
        return
    if not aplica_a(row, persona):
        expected = ", ".join(regimenes_de(ctx.catalogs, persona, f"{ctx.now:%Y-%m-%d}"))
        ctx.fail(code, element, attr, value=regimen, expected=expected,
                 detail=f"el régimen {regimen} ({row.get('texto', '')}) no aplica a personas "
                        f"{'físicas' if persona == FISICA else 'morales'}; el RFC {rfc} tiene {len(rfc)} "
                        f"caracteres, es de persona {persona}")


@rule("CFDI40141")
def regimen_fiscal_persona(ctx: Context) -> None:
    """CFDI40141: El régimen fiscal debe corresponder con el tipo de persona del emisor."""
    emisor = ctx.doc.emisor
    if emisor is not None:
        check_regimen_persona(ctx, "CFDI40141", emisor, "RegimenFiscal", "Rfc")


# -- SAT's padrón ----------------------------------------------------------------------------------------
def en_padron(ctx: Context, rfc: str) -> tuple[Padron, Contribuyente | None] | None:
    """The padrón and what it knows of `rfc`; None when there is no padrón, or when it is permissive and
    does not know the RFC (every padrón rule then skips that RFC)."""
    padron = ctx.padron
    if padron is None or not rfc:
        return None
    c = padron.lookup(rfc)
    if c is None and padron.permissive:
        ctx.not_evaluated(f"padrón:{rfc}",
                          f"el padrón permisivo no conoce el RFC {rfc}: no se revisó contra las listas del SAT "
                          "(l_RFC, l_LCO)",
                          f"the permissive padrón does not know the RFC {rfc}: it was not checked against SAT's "
                          "lists (l_RFC, l_LCO)")
        return None
    return padron, c


def padron_del_emisor(ctx: Context) -> tuple[str, Padron, Contribuyente | None] | None:
    """(Rfc, padrón, what it knows of it) for the Comprobante's Emisor, by `en_padron`'s convention."""
    emisor = ctx.doc.emisor
    if emisor is None:
        return None
    rfc = collapse(emisor.get("Rfc") or "")
    got = en_padron(ctx, rfc)
    return None if got is None else (rfc, got[0], got[1])


def no_inscrito(ctx: Context, rfc: str | None) -> bool:
    """Whether SAT's list of RFCs (l_RFC) is known to lack `rfc`: False without a padrón, and with a
    permissive one that does not know the RFC (the padrón rules' convention, `en_padron`)."""
    got = en_padron(ctx, collapse(rfc or ""))
    return got is not None and got[1] is None


def check_registrado(ctx: Context, codes: tuple[str, str], element: etree._Element, attr: str,
                     registrado: str | None, rfc: str, que: str, inscrito: Callable[[str], bool],
                     padron: Padron) -> None:
    """`attr` must hold the value l_RFC registers for `rfc`: codes[0] when no RFC of the list has the value
    written, codes[1] when it is another RFC's. The registered value is shown only when the padrón's data
    is public (SAT's test RFCs); SAT's real lists are confidential."""
    value = element.get(attr)
    if value is None or registrado is None:
        return
    value = collapse(value)
    if value == collapse(registrado):
        return
    otro = inscrito(value)
    code = codes[1] if otro else codes[0]
    where = ("es el de otro RFC de la lista de RFC inscritos no cancelados del SAT" if otro
             else "no se encuentra en la lista de RFC inscritos no cancelados del SAT")
    detail = f"{que} {value!r} {where}; no es el registrado para el RFC {rfc}"
    expected = registrado if padron.datos_publicos else None
    if expected is not None:
        detail += f" ({expected!r})"
    ctx.fail(code, element, attr, value=value, expected=expected, detail=detail)


@rule("402", "CFDI40138", "CFDI40139")
def emisor_en_padron(ctx: Context) -> None:
    """402: el RFC del emisor debe estar en la lista de contribuyentes con CSD vigente (l_LCO).
    CFDI40138, CFDI40139: el Nombre del emisor debe estar en la lista de RFC inscritos no cancelados y ser
    el asociado a su Rfc."""
    got = padron_del_emisor(ctx)
    if got is None:
        return
    rfc, padron, c = got
    emisor = ctx.doc.emisor
    if c is None or not c.puede_facturar:
        why = ("no está en la lista de RFC inscritos no cancelados del SAT" if c is None
               else "no está en la lista de contribuyentes con certificado vigente (l_LCO)")
        ctx.fail("402", emisor, "Rfc", value=rfc, detail=f"el RFC del emisor {rfc} {why}")
    if c is not None:
        check_registrado(ctx, ("CFDI40138", "CFDI40139"), emisor, "Nombre", c.nombre, rfc, "el Nombre del emisor",
                         padron.nombre_inscrito, padron)


@rule("CFDI40142")
def fac_atr_adquirente(ctx: Context) -> None:
    """CFDI40142: FacAtrAdquirente debe ser el número de operación que dio el servicio del SAT para
    facturar a través del adquirente."""
    emisor = ctx.doc.emisor
    numero = emisor.get("FacAtrAdquirente") if emisor is not None else None
    got = padron_del_emisor(ctx) if numero is not None else None
    if got is None:
        return
    rfc, padron, _ = got
    if not padron.operacion_adquirente_valida(numero, rfc):
        ctx.fail("CFDI40142", emisor, "FacAtrAdquirente", value=numero,
                 detail=f"el número de operación {numero} no fue emitido por el servicio del SAT de facturación "
                        f"a través del adquirente para el RFC {rfc}")
