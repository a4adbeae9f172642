"""SAT's expresión impresa of a stamped CFDI 3.3/4.0: the verification URL that the QR code of the
representación impresa carries and that SAT's status service (ConsultaCFDI) takes.

    https://verificacfdi.facturaelectronica.sat.gob.mx/default.aspx?id=UUID&re=RFC&rr=RFC&tt=TOTAL&fe=SELLO8

(Anexo 20, "representación impresa"; phpcfdi/cfdi-expresiones' Comprobante20170701): `tt` is the Total
with at most six decimals, trailing zeros dropped but one decimal kept (1000.0, 2010.01); the RFCs are
written as in XML (an '&' as '&amp;'); `fe` is the last eight characters of the Comprobante's Sello; the
UUID as the TimbreFiscalDigital writes it (phpcfdi and satcfdi do the same).
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from timbra.cfdi.amounts import round_half_up
from timbra.cfdi.document import Document

VERIFICA_CFDI = "https://verificacfdi.facturaelectronica.sat.gob.mx/default.aspx"


def format_total(total: str | Decimal) -> str:
    """`tt`: the Total with at most six decimals, trailing zeros trimmed, at least one decimal kept."""
    try:
        value = total if isinstance(total, Decimal) else Decimal(str(total).strip())
    except InvalidOperation:
        raise ValueError(f"Total is not a number: {total!r}") from None
    if not value.is_finite():
        raise ValueError(f"Total is not a number: {total!r}")
    if value.adjusted() >= 18:  # t_Importe: at most 18 integer digits
        raise ValueError(f"Total is out of range: {total!r}")
    text = f"{round_half_up(value, 6):f}"
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0") or "0"
    return f"{whole}.{frac}"


def rfc_xml(rfc: str) -> str:
    """An RFC as XML writes it: SAT's expression escapes the '&' some RFCs carry."""
    return rfc.strip().replace("&", "&amp;")


def verification_url(doc: Document) -> str:
    """The QR's URL for a stamped CFDI; ValueError when the document has no TimbreFiscalDigital."""
    uuid = doc.uuid
    if not uuid:
        raise ValueError("the CFDI has no TimbreFiscalDigital")
    emisor, receptor = doc.emisor, doc.receptor
    rfc_e = emisor.get("Rfc", "") if emisor is not None else ""
    rfc_r = receptor.get("Rfc", "") if receptor is not None else ""
    sello = doc.get("Sello") or ""
    return (f"{VERIFICA_CFDI}?id={uuid.strip()}&re={rfc_xml(rfc_e)}&rr={rfc_xml(rfc_r)}"
            f"&tt={format_total(doc.get('Total') or '0')}&fe={sello[-8:]}")
