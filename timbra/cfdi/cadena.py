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

from lxml import etree

from timbra.sat.schemas import cadena_xslt

NS40 = "{http://www.sat.gob.mx/cfd/4}"
_XML_SPACE = re.compile(r"[ \t\r\n]+")

# (attribute, required) in the XSLT's order, per node.
_COMPROBANTE = (("Version", True), ("Serie", False), ("Folio", False), ("Fecha", True), ("FormaPago", False),
                ("NoCertificado", True), ("CondicionesDePago", False), ("SubTotal", True), ("Descuento", False),
                ("Moneda", True), ("TipoCambio", False), ("Total", True), ("TipoDeComprobante", True),
                ("Exportacion", True), ("MetodoPago", False), ("LugarExpedicion", True), ("Confirmacion", False))
_INFORMACION_GLOBAL = (("Periodicidad", True), ("Meses", True), ("Año", True))
_EMISOR = (("Rfc", True), ("Nombre", True), ("RegimenFiscal", True), ("FacAtrAdquirente", False))
_RECEPTOR = (("Rfc", True), ("Nombre", True), ("DomicilioFiscalReceptor", True), ("ResidenciaFiscal", False),
             ("NumRegIdTrib", False), ("RegimenFiscalReceptor", True), ("UsoCFDI", True))
_CONCEPTO = (("ClaveProdServ", True), ("NoIdentificacion", False), ("Cantidad", True), ("ClaveUnidad", True),
             ("Unidad", False), ("Descripcion", True), ("ValorUnitario", True), ("Importe", True),
             ("Descuento", False), ("ObjetoImp", True))
_TRASLADO = (("Base", True), ("Impuesto", True), ("TipoFactor", True), ("TasaOCuota", False), ("Importe", False))
_RETENCION_CONCEPTO = (("Base", True), ("Impuesto", True), ("TipoFactor", True), ("TasaOCuota", True),
                       ("Importe", True))
_A_CUENTA_TERCEROS = (("RfcACuentaTerceros", True), ("NombreACuentaTerceros", True),
                      ("RegimenFiscalACuentaTerceros", True), ("DomicilioFiscalACuentaTerceros", True))
_PEDIMENTO = (("NumeroPedimento", True),)
_CUENTA_PREDIAL = (("Numero", True),)
_PARTE = (("ClaveProdServ", True), ("NoIdentificacion", False), ("Cantidad", True), ("Unidad", False),
          ("Descripcion", True), ("ValorUnitario", False), ("Importe", False))
_RETENCION = (("Impuesto", True), ("Importe", True))

_P = {local: f"{NS40}{local}" for local in (
    "InformacionGlobal", "CfdiRelacionados", "CfdiRelacionado", "Emisor", "Receptor", "Conceptos", "Concepto",
    "Impuestos", "Traslados", "Traslado", "Retenciones", "Retencion", "ACuentaTerceros", "InformacionAduanera",
    "CuentaPredial", "ComplementoConcepto", "Parte", "Complemento")}
_TRASLADOS_PATH = f"{_P['Impuestos']}/{_P['Traslados']}/{_P['Traslado']}"
_RETENCIONES_PATH = f"{_P['Impuestos']}/{_P['Retenciones']}/{_P['Retencion']}"


class _Complement(Exception):
    """The document has a complement: its cadena needs the complement's own templates (SAT's XSLT)."""


def normalize_space(value: str) -> str:
    """XPath's normalize-space: only XML's whitespace (space, tab, CR, LF), never NBSP and the like. On ASCII
    text str.split() splits on exactly those (XML 1.0 allows no other ASCII control character)."""
    if value.isascii():
        return " ".join(value.split())
    return _XML_SPACE.sub(" ", value).strip(" \t\r\n")


def _fields(el: etree._Element, spec: tuple[tuple[str, bool], ...], out: list[str]) -> None:
    get = el.get
    for attr, required in spec:
        v = get(attr)
        if v is None:
            if required:
                out.append("")
        else:
            out.append(normalize_space(v))


def _cadena40(root: etree._Element) -> str:
    """cadenaoriginal_4_0.xslt for a Comprobante without complements; _Complement when it has one."""
    p = _P
    out: list[str] = []
    _fields(root, _COMPROBANTE, out)
    for el in root.iterchildren(p["InformacionGlobal"]):
        _fields(el, _INFORMACION_GLOBAL, out)
    for rel in root.iterchildren(p["CfdiRelacionados"]):
        out.append(normalize_space(rel.get("TipoRelacion") or ""))
        for r in rel.iterchildren(p["CfdiRelacionado"]):
            out.append(normalize_space(r.get("UUID") or ""))
    for el in root.iterchildren(p["Emisor"]):
        _fields(el, _EMISOR, out)
    for el in root.iterchildren(p["Receptor"]):
        _fields(el, _RECEPTOR, out)
    for conceptos in root.iterchildren(p["Conceptos"]):
        for c in conceptos.iterchildren(p["Concepto"]):
            _fields(c, _CONCEPTO, out)
            for t in c.iterfind(_TRASLADOS_PATH):
                _fields(t, _TRASLADO, out)
            for r in c.iterfind(_RETENCIONES_PATH):
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
    for imp in root.iterchildren(p["Impuestos"]):
        for r in imp.iterfind(f"{p['Retenciones']}/{p['Retencion']}"):
            _fields(r, _RETENCION, out)
        _fields(imp, (("TotalImpuestosRetenidos", False),), out)
        for t in imp.iterfind(f"{p['Traslados']}/{p['Traslado']}"):
            _fields(t, _TRASLADO, out)
        _fields(imp, (("TotalImpuestosTrasladados", False),), out)
    for comp in root.iterchildren(p["Complemento"]):
        if any(isinstance(x.tag, str) for x in comp):
            raise _Complement
    return "||" + "|".join(out) + "||"


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
