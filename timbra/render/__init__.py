"""The representación impresa of a stamped CFDI: XML bytes in, PDF bytes out (pure, like timbra.cfdi).

    from timbra.render import Branding, render_pdf
    pdf = render_pdf(xml, cancelled=False, branding=Branding(logo=png, color="#1F4E79"))

model.py reads what the page shows (catalog keys with SAT's descriptions, amounts, taxes by rate, the
complements), words.py writes the total in Spanish words, qr.py makes SAT's verification QR, fonts.py embeds
the shipped DejaVu fonts, pdf.py lays the pages out.
"""
from __future__ import annotations

from timbra.cfdi.document import DEFAULT_MAX_BYTES, parse, parse_error
from timbra.codes import error
from timbra.render.pdf import Branding


def render_pdf(xml: bytes, *, cancelled: bool = False, branding: Branding | None = None,
               max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The PDF of a stamped CFDI 4.0 (or 3.3). 301 for bytes that are not a CFDI, T163 when it has no
    TimbreFiscalDigital (an unstamped document has no folio fiscal, no sellos of SAT, no QR)."""
    from timbra.render.model import read
    from timbra.render.pdf import Renderer

    doc = parse(xml, max_bytes=max_bytes)
    if doc.tfd is None or not doc.uuid:
        raise error("T163")
    try:
        invoice = read(doc, cancelled=cancelled)
        return Renderer(invoice, branding).render()
    except ValueError as exc:  # a value SAT's schema does not allow (a Total of 40 digits, a QR that cannot hold it)
        raise parse_error(f"el CFDI no se puede representar: {exc}") from None


__all__ = ["Branding", "render_pdf"]
