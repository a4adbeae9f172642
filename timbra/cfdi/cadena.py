"""Cadena original: SAT's XSLT applied to the document (CFDI 3.3/4.0) or to the TFD 1.1."""
from __future__ import annotations

from lxml import etree

from timbra.sat.schemas import cadena_xslt


def cadena_original(root: etree._Element, version: str) -> str:
    """The cadena original of a Comprobante (version "4.0" or "3.3")."""
    return str(cadena_xslt(version)(root.getroottree()))


def cadena_tfd(tfd: etree._Element) -> str:
    """The cadena original of a TimbreFiscalDigital 1.1 element (on its own, as SAT defines it)."""
    return str(cadena_xslt("tfd1.1")(etree.ElementTree(tfd)))
