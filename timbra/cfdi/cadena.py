"""Cadena original: SAT's XSLT applied to the document (CFDI 3.3/4.0) or to the TFD 1.1.

A CFDI 4.0 without complements (nothing inside cfdi:Complemento or cfdi:ComplementoConcepto: most invoices)
has its cadena written directly, as cadenaoriginal_4_0.xslt writes it: the same nodes selected by the same
paths in the same order, "Requerido" (|value, also when absent) and "Opcional" (|value only when the
attribute exists) with XPath's normalize-space. It is 10-20x faster than running the XSLT (0.15 ms of a 3-concepto
stamp, 5 ms at 300 conceptos); the tests prove it equal to SAT's XSLT on every sample and on edge cases. Any
complement, and CFDI 3.3, take SAT's XSLT.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from operator import itemgetter

from lxml import etree

from timbra.sat.schemas import cadena_xslt

NS40 = "{http://www.sat.gob.mx/cfd/4}"
_XML_SPACE = re.compile(r"[ \t\r\n]+")

# (names in the XSLT's order, the "Opcional" ones, a getter of the "Requerido" ones' values from the list of
# all values, as a tuple)
_Spec = tuple[tuple[str, ...], frozenset[str], Callable[[list], tuple]]


def _spec(required: str, optional: str = "", order: str = "") -> _Spec:
    """Attributes in the XSLT's order (`order`, or the required ones then the optional ones)."""
    names = tuple((order or f"{required} {optional}").split())
    opt = frozenset(optional.split())
    positions = [i for i, n in enumerate(names) if n not in opt]
    if not positions:
        return names, opt, lambda values: ()
    getter = itemgetter(*positions)
    if len(positions) == 1:
        return names, opt, lambda values: (getter(values),)
    return names, opt, getter


# Each node's attributes in cadenaoriginal_4_0.xslt's order; `optional` are its "Opcional" ones.
_COMPROBANTE = _spec("Version Fecha NoCertificado SubTotal Moneda Total TipoDeComprobante Exportacion LugarExpedicion",
                     "Serie Folio FormaPago CondicionesDePago Descuento TipoCambio MetodoPago Confirmacion",
                     "Version Serie Folio Fecha FormaPago NoCertificado CondicionesDePago SubTotal Descuento Moneda "
                     "TipoCambio Total TipoDeComprobante Exportacion MetodoPago LugarExpedicion Confirmacion")
_INFORMACION_GLOBAL = _spec("Periodicidad Meses Año")
_EMISOR = _spec("Rfc Nombre RegimenFiscal", "FacAtrAdquirente")
_RECEPTOR = _spec("Rfc Nombre DomicilioFiscalReceptor RegimenFiscalReceptor UsoCFDI", "ResidenciaFiscal NumRegIdTrib",
                  "Rfc Nombre DomicilioFiscalReceptor ResidenciaFiscal NumRegIdTrib RegimenFiscalReceptor UsoCFDI")
_CONCEPTO = _spec("ClaveProdServ Cantidad ClaveUnidad Descripcion ValorUnitario Importe ObjetoImp",
                  "NoIdentificacion Unidad Descuento",
                  "ClaveProdServ NoIdentificacion Cantidad ClaveUnidad Unidad Descripcion ValorUnitario Importe "
                  "Descuento ObjetoImp")
_TRASLADO = _spec("Base Impuesto TipoFactor", "TasaOCuota Importe")
_RETENCION_CONCEPTO = _spec("Base Impuesto TipoFactor TasaOCuota Importe")
_A_CUENTA_TERCEROS = _spec("RfcACuentaTerceros NombreACuentaTerceros RegimenFiscalACuentaTerceros "
                           "DomicilioFiscalACuentaTerceros")
_PEDIMENTO = _spec("NumeroPedimento")
_CUENTA_PREDIAL = _spec("Numero")
_PARTE = _spec("ClaveProdServ Cantidad Descripcion", "NoIdentificacion Unidad ValorUnitario Importe",
               "ClaveProdServ NoIdentificacion Cantidad Unidad Descripcion ValorUnitario Importe")
_RETENCION = _spec("Impuesto Importe")
_TOTAL_RETENIDOS = _spec("", "TotalImpuestosRetenidos")
_TOTAL_TRASLADADOS = _spec("", "TotalImpuestosTrasladados")

_P = {local: f"{NS40}{local}" for local in (
    "InformacionGlobal", "CfdiRelacionados", "CfdiRelacionado", "Emisor", "Receptor", "Conceptos", "Concepto",
    "Impuestos", "Traslados", "Traslado", "Retenciones", "Retencion", "ACuentaTerceros", "InformacionAduanera",
    "CuentaPredial", "ComplementoConcepto", "Parte", "Complemento")}


_IMPUESTOS, _TRASLADOS, _RETENCIONES = _P["Impuestos"], _P["Traslados"], _P["Retenciones"]
_TRASLADO_TAG, _RETENCION_TAG = _P["Traslado"], _P["Retencion"]


def _grandchildren(el: etree._Element, *tags: str) -> list[etree._Element]:
    """el.findall("a/b[/c]") for tags a, b[, c] without ElementPath: the same nodes in the same order (each
    child's children in document order, child by child); plain loops, cheaper than lxml's tag matcher on a
    few children."""
    found = [el]
    for tag in tags:
        found = [x for parent in found for x in parent if x.tag == tag]
    return found


class _Complement(Exception):
    """The document has a complement: its cadena needs the complement's own templates (SAT's XSLT)."""


def normalize_space(value: str) -> str:
    """XPath's normalize-space: only XML's whitespace (space, tab, CR, LF), never NBSP and the like. On ASCII
    text str.split() splits on exactly those (XML 1.0 allows no other ASCII control character)."""
    if value.isascii():
        return " ".join(value.split())
    return _XML_SPACE.sub(" ", value).strip(" \t\r\n")


def _fields(el: etree._Element, spec: _Spec, out: list[str]) -> None:
    """The node's fields as written (normalized once, at the end): Requerido -> "" when absent, Opcional ->
    nothing when absent."""
    names, optional, required = spec
    values = list(map(el.get, names))
    if None in values:
        if None not in required(values):  # only Opcional ones are absent: they write nothing
            values = [v for v in values if v is not None]
        else:
            values = [v if v is not None else "" for n, v in zip(names, values, strict=True)
                      if v is not None or n not in optional]
    out += values


def _only_traslados(c: etree._Element) -> list[etree._Element] | None:
    """The common Concepto, in one pass: its only child is Impuestos, holding only Traslados of childless
    Traslado nodes; their Traslado nodes in document order. None for any other shape."""
    if len(c) != 1 or c[0].tag != _IMPUESTOS:
        return None
    found = []
    for ts in c[0]:
        if ts.tag != _TRASLADOS:
            return None
        for t in ts:
            if t.tag != _TRASLADO_TAG or len(t):
                return None
            found.append(t)
    return found


def _concepto_children(c: etree._Element, out: list[str]) -> None:
    """A Concepto's nodes as the XSLT selects them, path by path."""
    p = _P
    for t in _grandchildren(c, _IMPUESTOS, _TRASLADOS, _TRASLADO_TAG):
        _fields(t, _TRASLADO, out)
    for r in _grandchildren(c, _IMPUESTOS, _RETENCIONES, _RETENCION_TAG):
        _fields(r, _RETENCION_CONCEPTO, out)
    for el in c.iterchildren(p["ACuentaTerceros"]):
        _fields(el, _A_CUENTA_TERCEROS, out)
    for el in c.iterchildren(p["InformacionAduanera"]):
        _fields(el, _PEDIMENTO, out)
    for el in c.iterchildren(p["CuentaPredial"]):
        _fields(el, _CUENTA_PREDIAL, out)
    for el in c.iterchildren(p["ComplementoConcepto"]):
        if any(isinstance(x.tag, str) for x in el):
            raise _Complement
    for parte in c.iterdescendants(p["Parte"]):
        _fields(parte, _PARTE, out)
        for el in parte.iterdescendants(p["InformacionAduanera"]):
            _fields(el, _PEDIMENTO, out)


def _cadena40(root: etree._Element) -> str:
    """cadenaoriginal_4_0.xslt for a Comprobante without complements; _Complement when it has one."""
    p = _P
    out: list[str] = []
    _fields(root, _COMPROBANTE, out)
    children: dict[object, list[etree._Element]] = {}  # the root's children by tag, in one pass
    for el in root:
        children.setdefault(el.tag, []).append(el)
    none: list[etree._Element] = []
    for el in children.get(p["InformacionGlobal"], none):
        _fields(el, _INFORMACION_GLOBAL, out)
    for rel in children.get(p["CfdiRelacionados"], none):
        out.append(rel.get("TipoRelacion") or "")
        for r in rel.iterchildren(p["CfdiRelacionado"]):
            out.append(r.get("UUID") or "")
    for el in children.get(p["Emisor"], none):
        _fields(el, _EMISOR, out)
    for el in children.get(p["Receptor"], none):
        _fields(el, _RECEPTOR, out)
    for conceptos in children.get(p["Conceptos"], none):
        for c in _grandchildren(conceptos, p["Concepto"]):
            _fields(c, _CONCEPTO, out)
            traslados = _only_traslados(c)
            if traslados is None:
                _concepto_children(c, out)
            else:
                for t in traslados:
                    _fields(t, _TRASLADO, out)
    for imp in children.get(p["Impuestos"], none):
        for r in _grandchildren(imp, _RETENCIONES, _RETENCION_TAG):
            _fields(r, _RETENCION, out)
        _fields(imp, _TOTAL_RETENIDOS, out)
        for t in _grandchildren(imp, _TRASLADOS, _TRASLADO_TAG):
            _fields(t, _TRASLADO, out)
        _fields(imp, _TOTAL_TRASLADADOS, out)
    for comp in children.get(p["Complemento"], none):
        if any(isinstance(x.tag, str) for x in comp):
            raise _Complement
    text = "|".join(out)
    if ("\t" in text or "\n" in text or "\r" in text or "  " in text or " |" in text or "| " in text
            or text[:1] == " " or text[-1:] == " "):  # some value has whitespace to normalize (seldom)
        text = "|".join(map(normalize_space, out))
    return "||" + text + "||"


def cadena_original(root: etree._Element, version: str) -> str:
    """The cadena original of a Comprobante (version "4.0" or "3.3")."""
    if version == "4.0" and root.tag == f"{NS40}Comprobante":
        try:
            return _cadena40(root)
        except _Complement:
            pass
    return cadena_xslt_of(root, version)


def cadena_xslt_of(root: etree._Element, version: str) -> str:
    """The cadena original by SAT's XSLT itself (every complement; the reference the fast path is tested
    against)."""
    return str(cadena_xslt(version)(root.getroottree()))


def cadena_tfd(tfd: etree._Element) -> str:
    """The cadena original of a TimbreFiscalDigital 1.1 element (on its own, as SAT defines it)."""
    return str(cadena_xslt("tfd1.1")(etree.ElementTree(tfd)))
