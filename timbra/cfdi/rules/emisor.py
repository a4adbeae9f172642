"""cfdi:Emisor — SAT's CFDI 4.0 matrix, codes CFDI40138-CFDI40142.

- CFDI40141: the RegimenFiscal must apply to the Emisor's kind of person (c_RegimenFiscal's columns
  "Física" / "Moral"); the kind of person comes from the RFC: 12 characters moral, 13 física.
- CFDI40140 (RegimenFiscal in c_RegimenFiscal) is reported by catalogos.py.
- CFDI40138, CFDI40139 (Nombre in SAT's list of RFCs and belonging to the RFC) and CFDI40142
  (FacAtrAdquirente operation number from SAT's validator service) need SAT's lists: not checked here.

The helpers `persona_de_rfc` and `regimen_row` are shared with receptor.py.
"""
from __future__ import annotations

from typing import Any

from lxml import etree

from timbra.cfdi.rules import Context, rule
from timbra.sat.catalogs import Catalogs, collapse

FISICA = "física"
MORAL = "moral"

RFC_GENERICO_NACIONAL = "XAXX010101000"
RFC_GENERICO_EXTRANJERO = "XEXX010101000"
RFCS_GENERICOS = frozenset({RFC_GENERICO_NACIONAL, RFC_GENERICO_EXTRANJERO})

# c_RegimenFiscal, CFDI 4.0 table first; codes that SAT's catCFDI still lists but the 4.0 table lacks
# (609, 628, 629, 630) come from the older table, which carries the same columns.
_REGIMEN_TABLES = ("cfdi_40_regimenes_fiscales", "cfdi_regimenes_fiscales")


def persona_de_rfc(rfc: str | None) -> str | None:
    """FISICA for a 13-character RFC (the generic ones included), MORAL for 12, None otherwise."""
    if not rfc:
        return None
    n = len(rfc)
    return FISICA if n == 13 else MORAL if n == 12 else None


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
    if row is None:  # not in c_RegimenFiscal: catalogos.py reports it
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
